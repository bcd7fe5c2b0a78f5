"""Block Krylov (Arnoldi; Lanczos for a symmetric operator) with full reorthogonalization, on
torch tensors (CPU or GPU).

The operator is given by block products ``apply(X)`` on rows: X is (b, d), the
result (b, d) holds the products of the operator with each row. b = 1 is plain Arnoldi/Lanczos;
larger blocks find clustered eigenvalues more reliably and may pay on a GPU, but for an interior
eigenvalue the cost follows the number of blocks (the degree of the Krylov polynomial).

After n vectors the run satisfies, up to rounding, the Arnoldi relation

    A Q_n^T = Q_n^T T_n + Q_next^T B E^T

where Q_n (n, d) has orthonormal rows, T_n = Q_n A Q_n^T (n, n; block Hessenberg, and block
tridiagonal up to rounding when A is symmetric; full reorthogonalization keeps all its coefficients), Q_next (b, d) is the next block and B (b, b)
its coefficient, E the last b columns of the identity. A Ritz pair (theta, Q_n^T y) therefore has
residual norm ||B y_last||, with y_last the last b entries of y: that is how callers certify
convergence without another product.

Rows can be confined to the orthogonal complement of given ``constraints`` (orthonormal rows, or
a space of :mod:`verify.linalg.subspace`), e.g.
the unit gradient u when the operator is P H P. A run told that its operator is ``symmetric``
reorthogonalizes as block Lanczos does (against the last two blocks, then once against all), which
halves the memory-bound part of a step; the Arnoldi relation above holds either way.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from ..errors import SamVerifyError
from .subspace import as_space


@functools.lru_cache(maxsize=1)
def _blas_controller():
    # scanning the loaded libraries reads /proc/self/maps: about 3 ms, paid once instead of at
    # every convergence check
    from threadpoolctl import ThreadpoolController
    return ThreadpoolController()


def small_dense_blas():
    """A context in which numpy/scipy's BLAS runs on one thread: the projected problems are small
    (n ~ 2000), and on a loaded 2-core machine a multithreaded LAPACK eig ran 10x slower than a
    single-threaded one."""
    return _blas_controller().limit(limits=1, user_api="blas")


def check_memory(rows: int, d: int, itemsize: int, what: str = "a Krylov basis",
                  remedy: str = "lower the budget (e.g. --sigma-budget / --map-budget)") -> None:
    """Dense storage of ``rows`` vectors of length d: refuse it when it would not fit, with the
    numbers, instead of failing inside the allocator (SAM_VERIFY_KRYLOV_MAX_GB, default 8)."""
    import os
    limit = float(os.environ.get("SAM_VERIFY_KRYLOV_MAX_GB", "8")) * 2 ** 30
    need = rows * d * itemsize
    if need > limit:
        raise SamVerifyError(
            f"{what} of {rows} vectors of length {d} needs {need / 2 ** 30:.1f} GiB, above "
            f"the limit of {limit / 2 ** 30:.1f} GiB (SAM_VERIFY_KRYLOV_MAX_GB); {remedy} "
            f"or raise the limit")


_BREAKDOWN = 1e-10        # what Gram-Schmidt leaves of A q, relative, below which the space is used up


class BlockKrylov:
    def __init__(self, apply, start, max_vectors: int, constraints=None, seed: int = 0,
                 range_respects_constraints: bool = False, symmetric: bool = False,
                 reorth: str = "full", orth_level: float | None = None):
        import torch
        self.torch = torch
        # symmetric: the operator is (on the constrained space) symmetric, which the cheaper
        # reorthogonalization of :meth:`_gram_schmidt` relies on
        self.symmetric = bool(symmetric)
        if reorth not in ("full", "partial"):
            raise SamVerifyError(f"reorth must be 'full' or 'partial', got {reorth!r}")
        # partial: Simon's partial reorthogonalization (:class:`_Semiorthogonality`), for the
        # symmetric single-vector (Lanczos) run; Arnoldi (non-symmetric) keeps two full passes: a
        # second pass only where the first cancelled (the DGKS test) was tried on the SAM-map run
        # and every step cancelled (its Krylov vectors converge), so it saved nothing
        self.partial = reorth == "partial" and self.symmetric and int(start.shape[0]) == 1
        self.full_passes = 0             # full passes over the basis (the memory-bound work)
        self.apply = apply
        self.C = as_space(constraints)        # rows, or a structured space (verify.linalg.subspace)
        # when the operator maps into the complement of the constraints (as A = H+ M does for the
        # symmetry directions), projecting the start block is enough: later blocks only carry
        # rounding there, which the operator annihilates again
        self._project_every_block = not range_respects_constraints
        d = start.shape[1]
        self.b = int(start.shape[0])
        if max_vectors < self.b:
            raise SamVerifyError(f"max_vectors ({max_vectors}) is smaller than the block size {self.b}")
        self.space_dim = d - (0 if self.C is None else self.C.dim)
        self.max_vectors = int(min(max_vectors, self.space_dim))
        self.max_vectors -= self.max_vectors % self.b
        self.gen = torch.Generator(device="cpu").manual_seed(seed)
        check_memory(self.max_vectors + self.b, d, start.element_size())
        # empty, not zeros: rows are written before they are read, and zero-filling a budget's
        # worth of rows (320 MB at d = 1e4) cost more than the products of a short run
        self.Q = torch.empty(self.max_vectors + self.b, d, dtype=start.dtype, device=start.device)
        self.T = np.zeros((self.max_vectors + self.b, self.max_vectors))
        self.n = 0                       # vectors whose products have been taken
        self.products = 0
        self.on_products = None  # called with the number of new products (e.g. a progress bar)
        self.B = np.zeros((self.b, self.b))
        self.Q[:self.b] = self._orthonormal_block(start.clone(), 0)
        eps = float(np.finfo(np.float64).eps)
        # orth_level: the loss of orthogonality allowed (default sqrt(eps), semi-orthogonality); a
        # caller whose numbers are explicit residuals through the basis asks for less
        level = min(np.sqrt(eps), orth_level) if orth_level else np.sqrt(eps)
        self.omega = _Semiorthogonality(eps, d, level) if self.partial else None

    # -- orthogonalization ------------------------------------------------------------------------
    def _project_constraints(self, Z):
        if self.C is not None:
            Z -= self.C.project(Z)
        return Z

    def _gram_schmidt(self, Z, upto: int, krylov: bool = True) -> np.ndarray:
        """Block classical Gram-Schmidt of Z (in place) against rows [0, upto), twice; returns the
        summed coefficients (upto, b).

        For a symmetric operator the first pass runs against the last two blocks only: in exact
        arithmetic A q_k has no component along older rows (block Lanczos), so a full first pass
        computes rounding there; the full second pass removes that rounding. That halves the
        memory-bound work at the same orthogonality. A third, full pass follows when the full one
        still cancelled more than 1 - 1/sqrt(2) of the norm (the Kahan-Parlett/DGKS test).
        ``krylov=False`` (rows that are not operator images, e.g. random fill): two full passes."""
        coef = np.zeros((upto, Z.shape[0]))
        if self._project_every_block or upto == 0:
            self._project_constraints(Z)     # the rows of Q satisfy the constraints already
        if not upto:
            return coef
        first = max(0, upto - 2 * self.b) if self.symmetric and krylov else 0
        if self.partial and krylov:
            return self._partial_pass(Z, first, upto, coef)
        self._project_rows(Z, first, upto, coef)
        before = float(Z.norm())
        self._project_rows(Z, 0, upto, coef)
        if first and float(Z.norm()) < before / np.sqrt(2):
            self._project_rows(Z, 0, upto, coef)
        return coef

    def _partial_pass(self, Z, first: int, upto: int, coef: np.ndarray) -> np.ndarray:
        """Lanczos with partial reorthogonalization: the three-term step (twice, against the last
        two rows), then a full pass only when the estimated loss of orthogonality to an older row
        exceeds the run's level (:class:`_Semiorthogonality`). Semi-orthogonality is what the
        reported numbers need: the computed T_n is then the projection of the operator on an orthonormal
        basis of the Krylov space up to O(eps ||A||) (Simon 1984), so Ritz values and the residuals
        read from the Lanczos relation keep full accuracy; a residual computed explicitly through
        the basis (sigma_min's) is accurate only to about the orthogonality level, relative, so such
        a caller sets ``orth_level`` below its tolerance. The full pass's coefficients on older
        rows are rounding (O(sqrt eps)) and are not kept in T, which stays exactly banded."""
        self._project_rows(Z, first, upto, coef)
        self._project_rows(Z, first, upto, coef)
        s = upto - 1                                  # the row whose product Z is
        beta = float(Z.norm())
        T = self.T
        if self.omega.needs_full(T, s, coef[s, 0], beta):
            far = np.zeros_like(coef)
            self._project_rows(Z, 0, upto, far)
            self._project_rows(Z, 0, upto, far)
            coef[first:upto] += far[first:upto]
            self.omega.reset()
        return coef

    def _project_rows(self, Z, lo: int, hi: int, coef: np.ndarray) -> None:
        """Z -= (Z Q_k^T) Q_k for the rows k in [lo, hi), the coefficients added to coef."""
        Qk = self.Q[lo:hi]
        self.full_passes += lo == 0 and hi > 2 * self.b
        h = Qk @ Z.T
        Z -= h.T @ Qk
        coef[lo:hi] += h.detach().cpu().numpy()

    def _cholesky_qr(self, Z, floor: float = 0.0):
        """Rows of Z made orthonormal by Cholesky QR twice (two small Gram matrices and triangular
        solves: matrix-matrix work that stays fast with few threads, unlike a tall QR); None when
        Z is numerically rank deficient, or a row's norm is at most ``floor``."""
        torch = self.torch
        if Z.shape[0] == 1:                  # a single row: normalize (twice, as below)
            for _ in range(2):
                nz = float(Z.norm())
                if not nz > max(floor, 0.0) or not np.isfinite(nz):
                    return None
                Z = Z / nz
            return Z
        for _ in range(2):
            G = Z @ Z.T
            L, info = torch.linalg.cholesky_ex(G)
            dg = L.diagonal()
            if int(info) or float(dg.min()) <= max(1e-7 * float(dg.max()), floor):
                return None
            Z = torch.linalg.solve_triangular(L, Z, upper=False)
        return Z

    def _orthonormal_block(self, Z, upto: int, projected: bool = False, ref: float = 0.0):
        """Orthonormal rows spanning Z modulo rows [0, upto) and the constraints (``projected``:
        Z is already orthogonal to them); directions that Z lacks are filled with random ones:
        rank deficiency within the block, and breakdown, where Gram-Schmidt left at most 1e-10 of
        ``ref`` (the norm of the operator's image before it): what remains is rounding, and
        normalizing it would put a vector that is not orthogonal into the basis."""
        torch = self.torch
        if not projected:
            self._gram_schmidt(Z, upto)
        floor = _BREAKDOWN * ref
        fast = self._cholesky_qr(Z, floor)
        if fast is not None:
            return fast
        q, r = torch.linalg.qr(Z.T)
        scale = float(r.abs().max()) if r.numel() else 0.0
        weak = torch.nonzero(r.diagonal().abs() <= max(1e-10 * max(scale, 1e-300), floor)).reshape(-1)
        if len(weak):
            fill = torch.randn(len(weak), Z.shape[1], generator=self.gen, dtype=torch.float64)
            q = q.T.clone()
            q[weak] = fill.to(Z.device, Z.dtype)
            self._project_constraints(q)     # random rows: always off the constraints
            for _ in range(2):
                self._gram_schmidt(q, upto, krylov=False)
                q = torch.linalg.qr(q.T)[0].T
            return q
        return q.T

    # -- the run ----------------------------------------------------------------------------------
    @property
    def full(self) -> bool:
        return self.n >= self.max_vectors

    @property
    def exhausted(self) -> bool:
        """The basis spans the whole space: Ritz values are then exact eigenvalues."""
        return self.n >= self.space_dim

    def extend(self, blocks: int = 1) -> None:
        """Take the products of ``blocks`` more blocks (fewer when ``max_vectors`` is reached)."""
        for _ in range(blocks):
            if self.full:
                return
            s, b = self.n, self.b
            Z = self.apply(self.Q[s:s + b]).clone()
            self.products += b
            if self.on_products is not None:
                self.on_products(b)
            ref = float(Z.norm(dim=1).max())
            if not np.isfinite(ref):          # a NaN/inf entry makes its row's norm NaN/inf
                raise SamVerifyError("the operator returned NaN/inf in the Krylov iteration")
            coef = self._gram_schmidt(Z, s + b)
            Qn = self._orthonormal_block(Z.clone(), s + b, projected=True, ref=ref)
            Bn = Qn @ Z.T                                   # Z = Qn^T Bn after the projection
            self.Q[s + b:s + 2 * b] = Qn
            self.T[:s + b, s:s + b] = coef
            self.T[s + b:s + 2 * b, s:s + b] = Bn.detach().cpu().numpy()
            self.B = Bn.detach().cpu().numpy()
            self.n = s + b

    # -- projected quantities ---------------------------------------------------------------------
    def basis(self):
        """Q_n (n, d): the orthonormal rows whose products have been taken."""
        return self.Q[:self.n]

    def next_block(self):
        return self.Q[self.n:self.n + self.b]

    def projected(self) -> np.ndarray:
        """T_n = Q_n A Q_n^T as computed (not symmetrized)."""
        return self.T[:self.n, :self.n]

    def residual_norms(self, Y: np.ndarray) -> np.ndarray:
        """||A x - theta x|| for Ritz vectors x = Q_n^T y (columns of Y, complex allowed) of T_n."""
        return np.linalg.norm(self.B @ Y[self.n - self.b:self.n], axis=0)


class _Semiorthogonality:
    """Simon's recurrence for omega_k ~ q_{j+1} . q_k in single-vector Lanczos (Simon 1984,
    "The Lanczos algorithm with partial reorthogonalization"): it follows the three-term
    recurrence the rounding errors obey, from alpha = T[k, k] and beta = T[k+1, k], at O(n) a step.
    When some |omega_k| exceeds ``level`` (sqrt(eps) for semi-orthogonality) the new vector and
    the next one are orthogonalized against the whole basis (the next too, since the recurrence
    couples two consecutive vectors)."""

    def __init__(self, eps: float, d: int, level: float):
        self.eps, self.d, self.level = eps, d, level
        self.prev = np.zeros(0)                   # omega for q_{j-1}: (j,)
        self.cur = np.ones(1)                     # omega for q_j: (j + 1,), last entry 1
        self.again = False
        self.anorm = 0.0

    def needs_full(self, T: np.ndarray, j: int, alpha_j: float, beta_next: float) -> bool:
        """Advance to q_{j+1} (its norm before normalization is ``beta_next``); True when a full
        pass is due."""
        eps = self.eps
        alpha = np.append(np.diagonal(T)[:j], alpha_j)                    # alpha_0..alpha_j
        beta = np.concatenate([[0.0], np.diagonal(T, -1)[:j]])             # beta_0 = 0, beta_k = T[k, k-1]
        self.anorm = max(self.anorm, abs(alpha_j) + beta[-1] + beta_next)
        new = np.empty(j + 2)
        if j:
            k = np.arange(j)
            w = self.cur
            t = beta[k + 1] * w[k + 1] + (alpha[k] - alpha_j) * w[k] - beta[j] * self.prev[k]
            t[1:] += beta[k[1:]] * w[k[1:] - 1]
            # the recurrence's own rounding, with the sign that makes it grow (Simon's bound)
            t += np.sign(t) * eps * self.anorm
            new[:j] = t / max(beta_next, 1e-300)
        new[j] = eps * math.sqrt(self.d) * self.anorm / max(beta_next, 1e-300)
        new[j + 1] = 1.0
        self.prev, self.cur = self.cur, new
        # near a breakdown (beta_next at rounding level of ||A||) the recurrence divides by noise
        weak = beta_next <= 1e-6 * self.anorm
        due = self.again or weak or bool(j and np.abs(new[:j]).max() > self.level)
        self.again = due and not self.again
        return due

    def reset(self) -> None:
        """After a full pass the new vector is orthogonal to the basis to rounding."""
        self.cur[:-1] = self.eps
