"""The spectral quantities of Du at one point from a single Krylov space (matrix-free, torch).

Notation: g = grad f(x), u = g/||g||, P = I - u u^T, H = Hessian of f at x, w = P H u,
c = rho/||g||, Du = P H/||g||, M = I + rho Du = I + c P H.

Every quantity the checks need is a Rayleigh-Ritz problem on span{u} + K, where K is one block
Krylov space of the symmetric P H P on the complement of u, started from w:

* Du has the real spectrum of P H P/||g|| (P H and (P H) P share their non-zero spectrum, and
  P H P u = 0), so its extremes are Ritz values of P H P on K (and 0).
* Sym Du = (P H + H P)/(2||g||) = (P H P + (w u^T + u w^T)/2)/||g||: P H P plus a rank-two term in
  span{u, w}, both in the space; its projection is [[0, (Q w)^T/2], [Q w/2, T]]/||g||.
* In the basis (u, complement) M is block lower triangular, [[1, 0], [c w, I + c P H P]]: its row
  u^T M = u^T. So ||M x|| for x = a u + Q^T y is the norm of a small matrix times (a, y), known
  from the Lanczos relation without further products, and the smallest singular value of that
  matrix is an upper bound on sigma_min(M) that decreases as K grows. Its left vector t gives the
  residual ||M^T t - sigma x|| with one more product: a singular value of M lies within that
  residual of the estimate.

This replaces Lanczos on M^T M (two products a step, and a spread of (1 + c lambda_max(H))^2): at a
stalled 64-32-10 digits network it needed about 375 products where ARPACK on M^T M needed 1600-2500.
The Krylov estimate of sigma_min is the smallest singular value *found*, with a certified residual;
like any Krylov method it cannot prove that no smaller one exists.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg
import scipy.sparse

from .. import progress
from ..core.operators import SamPoint
from .block_krylov import BlockKrylov, small_dense_blas
from ..errors import SamVerifyError


@dataclass
class RitzValue:
    value: float
    residual: float            # ||A x - value x|| (Ritz) or ||M^T t - sigma x|| (singular value)
    tol: float                 # the residual that counts as converged

    @property
    def converged(self) -> bool:
        return self.residual <= self.tol

    def as_dict(self) -> dict:
        return {"value": self.value, "residual": self.residual, "tol": self.tol,
                "converged": self.converged}


@dataclass
class DuSpectrum:
    rho: float
    grad_norm: float
    du_min: RitzValue
    du_max: RitzValue
    sym_du_min: RitzValue
    sigma_min: RitzValue | None
    vectors: int               # Krylov vectors (Hessian-vector products in the run)
    extra_products: int        # Hu and the sigma residual checks
    block: int
    converged: bool
    history: list = field(default_factory=list)
    full_passes: int = 0       # Gram-Schmidt passes over the whole basis (the memory-bound work)

    @property
    def products(self) -> int:
        return self.vectors + self.extra_products

    def as_dict(self) -> dict:
        out = {k: getattr(self, k) for k in ("rho", "grad_norm", "vectors", "extra_products",
                                             "block", "converged", "history", "full_passes")}
        for k in ("du_min", "du_max", "sym_du_min", "sigma_min"):
            v = getattr(self, k)
            out[k] = None if v is None else v.as_dict()
        out["products"] = self.products
        return out


def _rows(v):
    return v.reshape(1, -1)


class _Problem:
    """The Lanczos run on P H P and the projected problems built from it."""

    def __init__(self, obj, x, rho, ctx, grad, block, max_vectors, seed, reorth="partial", tol=1e-8):
        torch = ctx.torch
        # Du, its adjoint and I + rho Du are the core's operators at x (matrix-free, in blocks of
        # rows); the run is on P H P = ||g|| Du on the complement of u
        self.point = SamPoint(obj, x, rho, ctx, grad)
        self.gr = self.point.gradient
        self.norm = float(self.gr.norm)
        self.u = _rows(self.gr.u)
        self.Du = self.point.Du
        self.extra = 1
        self.w = self.norm * self.Du.matrows(self.u)     # P H u
        gen = torch.Generator(device="cpu").manual_seed(seed)
        start = torch.randn(block, obj.dim, generator=gen, dtype=torch.float64).to(ctx.device, ctx.dtype)
        if float(self.w.norm()) > 0:
            start[0] = self.w[0]
        self.run = BlockKrylov(lambda X: self.norm * self.Du.matrows(X), start, max_vectors,
                                constraints=self.u, seed=seed + 1, symmetric=True, reorth=reorth,
                                orth_level=tol / 10)

    def bandwidth(self) -> int:
        # block Lanczos: T is block tridiagonal, its sub-diagonal blocks triangular (or full after
        # a breakdown), so nothing lies beyond 2b - 1 diagonals but rounding. Near a breakdown
        # (a Krylov vector that is mostly rounding) more than rounding lands there: the run then
        # treats its projections as dense (the full projection is computed either way)
        return self.run.n if self.dense else 2 * self.run.b - 1

    dense = False

    def _banded(self, A, bw: int):
        """A with the rounding beyond ``bw`` diagonals dropped; when more than rounding lies
        there, the run switches to dense projections and A is returned whole."""
        if self.dense:
            return A
        try:
            return _drop_outside_band(A, bw)
        except NotBanded:
            self.dense = True
            return A

    def sym_T(self):
        """(T + T^T)/2 with the rounding beyond the band dropped (see :meth:`bandwidth`)."""
        if getattr(self, "_sym_n", None) != self.run.n:
            T = self.run.projected()
            S = self._banded((T + T.T) / 2, self.bandwidth())
            self._sym, self._sym_n = S, self.run.n
        return self._sym

    def ritz(self):
        """Ritz values and vectors of P H P at both ends of the spectrum (cached per run length)."""
        if getattr(self, "_ritz_n", None) != self.run.n:
            S, n = self.sym_T(), self.run.n
            lo, ylo = _band_eigh(S, self.bandwidth(), 0)
            hi, yhi = _band_eigh(S, self.bandwidth(), n - 1)
            self._ritz, self._ritz_n = (np.array([lo, hi]), np.column_stack([ylo, yhi])), n
        return self._ritz

    def scale(self) -> float:
        """An estimate of ||P H P|| (the largest Ritz value in modulus): the tolerance unit."""
        return float(np.abs(self.ritz()[0]).max())

    def du_extremes(self, tol):
        ev, Y = self.ritz()
        res = self.run.residual_norms(Y)
        t = tol * self.scale() / self.norm
        # P H P u = 0, so 0 is in the spectrum whatever the Ritz values on the complement are
        lo = RitzValue(min(0.0, ev[0] / self.norm), res[0] / self.norm, t)
        hi = RitzValue(max(0.0, ev[-1] / self.norm), res[1] / self.norm, t)
        return lo, hi

    def qw(self):
        """Q w, the coordinates of w = P H u in the basis (cached per run length)."""
        if getattr(self, "_qw_n", None) != self.run.n:
            self._qw = (self.run.basis() @ self.w[0]).detach().cpu().numpy()
            self._qw_n = self.run.n
        return self._qw

    def sym_du_min(self, tol):
        n = self.run.n
        qw = self.qw()
        K = np.zeros((n + 1, n + 1))
        K[1:, 1:] = self.sym_T()
        K[0, 1:] = K[1:, 0] = qw / 2       # w is the first Krylov vector: qw = ||w|| e_1
        bw = self.bandwidth() + 1
        ev0, y = _band_eigh(self._banded(K, bw), bw, 0)
        res = self.run.residual_norms(y[1:, None])[0]
        return RitzValue(ev0 / self.norm, res / self.norm, tol * self.scale() / self.norm)

    def m_coordinates(self):
        """R with M (a u + Q^T y) = [u; Q; Q_next]^T R (a, y) (the core's Krylov form of M)."""
        R = self.point.i_plus_rho_du_in_krylov_basis(self.qw(), self.run.projected(), self.run.B)
        return self._banded(R, 2 * self.run.b)

    def sigma_min(self, tol, ctx, prev: float | None = None, force: bool = False):
        """The smallest singular value of M on the space, with its certified residual (one more
        product and two passes over the basis). The residual is computed only when it can decide
        (``force``, or the value moved by at most the tolerance since ``prev``, the previous
        check's: the run stops only then); otherwise it is reported as inf, not computed."""
        R = self.m_coordinates()
        # the smallest right singular vector from the Gram matrix (a subset eigensolve, much
        # cheaper than a full SVD at n ~ 2000); sigma itself is then taken as ||R z||, which
        # does not square the rounding error
        Rs = scipy.sparse.csr_matrix(R)
        G = (Rs.T @ Rs).toarray()            # banded: R has at most 2b diagonals either side
        bw = G.shape[0] if self.dense else 4 * self.run.b
        z = _band_eigh(G, bw, 0)[1]
        Rz = R @ z
        sig = float(np.linalg.norm(Rz))
        t = Rz / sig if sig > 0 else Rz
        s_max = math.sqrt(max(_band_eigh(G, bw, G.shape[0] - 1)[0], 0.0))
        if not (force or (prev is not None and abs(prev - sig) <= tol * s_max)):
            return RitzValue(sig, math.inf, tol * s_max)
        n = self.run.n
        torch = ctx.torch
        Q = self.run.basis()
        as_t = lambda a: torch.as_tensor(a, dtype=ctx.dtype, device=ctx.device)  # noqa: E731
        x = as_t(z[0]) * self.u[0] + as_t(z[1:]) @ Q
        tv = as_t(t[0]) * self.u[0] + as_t(t[1:1 + n]) @ Q + as_t(t[1 + n:]) @ self.run.next_block()
        mt_t = self.point.I_plus_rho_Du.rmatrows(_rows(tv))[0]              # M^T t
        self.extra += 1
        res = float((mt_t - sig * x).norm())
        return RitzValue(sig, res, tol * s_max)


def du_spectrum(obj, x, rho=None, ctx=None, grad=None, block: int = 1, tol: float = 1e-8,
                max_vectors: int = 2000, check_every: int = 4, seed: int = 0,
                want_sigma: bool = True, reorth: str = "partial") -> DuSpectrum:
    """lambda_min/max(Du), lambda_min(Sym Du) and (with ``rho``) sigma_min(I + rho Du) at x.

    Residual tolerances are relative: ``tol`` times the estimated ||P H P||/||g|| for the
    eigenvalues, ``tol`` times the largest singular value of M for sigma_min. The run stops when all
    wanted residuals are below tolerance or after ``max_vectors`` Krylov vectors; ``converged``
    says which. Products are taken in blocks of ``block`` vectors; 1 is the default because
    sigma_min is an interior problem whose cost follows the degree of the Krylov polynomial (the
    number of blocks): at a stalled d = 9985 point blocks of 1, 2, 4, 8, 16 needed 425, 544, 1088,
    1400, 2240 vectors, and a vector in a block is not cheaper on CPU.

    ``reorth="partial"`` (with blocks of 1) keeps the Lanczos basis semi-orthogonal (full passes only
    when Simon's estimate of the lost orthogonality reaches ``tol`` / 10: sigma_min's residual is
    computed through the basis, and is accurate to about that level), which keeps every reported
    Ritz value and residual accurate (:meth:`BlockKrylov._partial_pass`); ``"full"``
    reorthogonalizes every vector against the whole basis."""
    if rho is not None and not (float(rho) > 0 and math.isfinite(float(rho))):
        raise SamVerifyError(f"rho must be a positive finite number, got {rho}")
    want_sigma = want_sigma and rho is not None
    ctx = ctx or _default_ctx(obj)
    pb = _Problem(obj, x, rho, ctx, grad, block, max_vectors, seed, reorth, tol)
    history = []
    with progress.bar(total=pb.run.max_vectors, desc="Krylov: Du spectrum", unit="vec") as bar:
        pb.run.on_products = bar.update
        return _iterate(pb, history, check_every, tol, ctx, want_sigma, block, rho)


def _iterate(pb, history, check_every, tol, ctx, want_sigma, block, rho):
    """Grow the Krylov space until every wanted quantity converged (or the budget is spent)."""
    while True:
        # check after check_every blocks, then whenever the space has grown by an eighth: each
        # check solves the small projected problems (their cost is bounded by a fixed fraction of
        # the products'); sigma's residual (a product) only where it can decide
        grow = max(check_every, (pb.run.n // 8) // block)
        pb.run.extend(grow)
        prev = history[-1]["sigma_min"] if history else None
        last = pb.run.full or pb.run.exhausted
        with small_dense_blas():
            lo, hi = pb.du_extremes(tol)
            sym = pb.sym_du_min(tol)
            sig = pb.sigma_min(tol, ctx, prev, force=last) if want_sigma else None
        history.append({"vectors": pb.run.n, "du_min": lo.value, "sym_du_min": sym.value,
                        "sigma_min": None if sig is None else sig.value,
                        "sigma_residual": None if sig is None or math.isinf(sig.residual) else sig.residual})
        done = all(r.converged for r in (lo, hi, sym) + ((sig,) if sig else ()))
        if sig is not None:
            # sigma_min is an interior problem for Krylov: a small residual certifies a singular
            # value, so also ask that the smallest one found did not move since the last check
            done = done and (pb.run.exhausted or (prev is not None and abs(prev - sig.value) <= sig.tol))
        if done or pb.run.full:
            return DuSpectrum(float(rho) if rho is not None else float("nan"), pb.norm, lo, hi, sym,
                              sig, pb.run.products, pb.extra, block, done, history,
                              pb.run.full_passes)


class NotBanded(SamVerifyError):
    pass


def _drop_outside_band(A, bw: int, rel: float = 1e-9):
    """A with the entries farther than ``bw`` from the diagonal set to 0. Full reorthogonalization
    leaves only rounding there; anything larger means the band assumption is wrong, and raises."""
    i, j = np.indices(A.shape)
    outside = np.abs(i - j) > bw
    dropped = float(np.abs(A[outside]).max()) if outside.any() else 0.0
    if dropped > rel * max(float(np.abs(A).max()), 1e-300):
        raise NotBanded(f"projected matrix is not banded ({dropped:.2e} beyond {bw} diagonals)")
    B = A.copy()
    B[outside] = 0.0
    return B


def _band_eigh(S, bw: int, index: int):
    """Eigenpair number ``index`` (ascending) of the symmetric banded S: LAPACK's banded solver,
    O(n bw^2) instead of the O(n^3) of a dense eigh (the block Lanczos matrix is banded)."""
    n = S.shape[0]
    bw = max(1, min(bw, n - 1))
    ab = np.zeros((bw + 1, n))
    for k in range(bw + 1):
        ab[bw - k, k:] = np.diagonal(S, k)
    lam = float(scipy.linalg.eig_banded(ab, lower=False, select="i", select_range=(index, index),
                                        eigvals_only=True)[0])
    # the eigenvector by inverse iteration with a banded solver (asking LAPACK for it would
    # build the n x n reduction matrix: O(n^3) again)
    shift = lam - 1e-10 * max(abs(lam), float(np.abs(ab).max()), 1e-300)
    full = np.zeros((2 * bw + 1, n))
    full[:bw + 1] = ab                                  # upper part in solve_banded's layout
    for k in range(1, bw + 1):
        full[bw + k, :n - k] = ab[bw - k, k:]           # the symmetric lower part
    full[bw] -= shift
    v = np.ones(n) / math.sqrt(n)
    for _ in range(3):
        v = scipy.linalg.solve_banded((bw, bw), full, v)
        v /= np.linalg.norm(v)
    return lam, v


def _default_ctx(obj):
    from ..ctx.torch import TorchContext
    return TorchContext(str(obj.device.type) if hasattr(obj, "device") else "cpu", "float64")
