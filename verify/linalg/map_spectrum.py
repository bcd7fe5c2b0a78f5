"""Linear stability of the SAM map at a point, matrix-free (torch).

The SAM map x -> x - eta grad f(x + rho u(x)) has Jacobian J = I - eta A with
A = H(x+) (I + rho Du(x)) (the shifted Jacobian of :mod:`verify.core.sam`). Heavy-ball SAM,
m' = mu m + F(x), x' = x - eta m' with F(x) = grad f(x+), has the 2d x 2d Jacobian
[[I - eta A, -eta mu I], [A, mu I]]; on the span of (v, 0), (0, v) for an eigenvector v of A
(eigenvalue lam) it acts as [[1 - eta lam, -eta mu], [lam, mu]], so its eigenvalues are the roots of

    z^2 - (1 + mu - eta lam) z + mu = 0,

and one eigen-analysis of A serves both maps. The largest |1 - eta lam| and |z(lam)| come from the
extremes of the spectrum of A (leftmost real part, largest modulus): block Arnoldi finds those.

Symmetry directions V (translations that leave f unchanged everywhere, e.g. the MLP's of
:func:`verify.nn.point_check.symmetry_basis`) satisfy H(y) V = 0 at every y, hence A V = 0 and
V^T A = 0: A is zero on span V and maps into its complement, so the iteration runs on the
complement of V and loses only those exact zeros (the neutral directions along the set).
"""
from __future__ import annotations

import cmath
from dataclasses import dataclass, field

import numpy as np

from .. import progress
from ..core import sam
from ..core.operators import SamPoint
from .block_krylov import BlockKrylov, small_dense_blas
from ..errors import SamVerifyError
from .subspace import as_space


def heavy_ball_roots(lam: complex, eta: float, mu: float) -> tuple[complex, complex]:
    """The two eigenvalues of the heavy-ball SAM Jacobian belonging to the eigenvalue lam of A."""
    b = 1 + mu - eta * lam
    disc = cmath.sqrt(b * b - 4 * mu)
    return (b + disc) / 2, (b - disc) / 2


@dataclass
class MapSpectrum:
    eta: float
    momentum: float | None
    ritz: list                 # [(lam, residual)] Ritz values of A on the complement of V
    tol: float
    vectors: int
    deflated: int              # dim V
    history: list = field(default_factory=list)
    steady: bool = False       # the leftmost Ritz value did not move since the previous check
    k: int = 1                 # leading eigenvalues (of each map) whose Ritz values must converge
    full_passes: int = 0       # Gram-Schmidt passes over the whole basis (the memory-bound work)

    def converged_ritz(self):
        """Converged Ritz values, without those indistinguishable from 0 (kernel directions)."""
        return [(lam, r) for lam, r in self.ritz if r <= self.tol and abs(lam) > self.tol]

    def _leading(self, k: int | None) -> int:
        k = self.k if k is None else int(k)
        if k > self.k:
            raise SamVerifyError(f"only the {self.k} leading eigenvalue(s) of each map were certified "
                                 f"by this run; ask for k={k} when running it")
        return k

    def sam_eigs(self, k: int | None = None, converged_only: bool = True) -> list:
        """The k (default: all certified) eigenvalues 1 - eta lam of J of largest modulus, from
        converged Ritz values. Only the leading ``self.k`` are certified; the run keeps only a few
        Ritz values, so further ones would not be the next eigenvalues."""
        k = self._leading(k)
        src = self.converged_ritz() if converged_only else self.ritz
        z = [1 - self.eta * lam for lam, _ in src]
        return sorted(z, key=lambda v: -abs(v))[:k]

    def heavy_ball_eigs(self, k: int | None = None, converged_only: bool = True) -> list:
        """As :meth:`sam_eigs`, for the heavy-ball map (two roots per eigenvalue of A)."""
        k = self._leading(k)
        src = self.converged_ritz() if converged_only else self.ritz
        z = [r for lam, _ in src for r in heavy_ball_roots(lam, self.eta, self.momentum or 0.0)]
        return sorted(z, key=lambda v: -abs(v))[:k]

    @property
    def converged(self) -> bool:
        """The Ritz values that decide the spectral radii have converged: the leftmost, the one of
        largest modulus, and those maximizing |1 - eta lam| and the heavy-ball |z(lam)| among the
        Ritz values found (for a real spectrum these are the two ends; a complex eigenvalue near
        0 can set the heavy-ball radius without being either), and the leftmost stopped moving
        (``steady``)."""
        if not self.ritz:
            return False
        left = min(self.ritz, key=lambda t: t[0].real)
        big = max(self.ritz, key=lambda t: abs(t[0]))
        live = [t for t in self.ritz if abs(t[0]) > self.tol]
        decisive = [live[i] for i in _decisive(np.array([t[0] for t in live]), self.eta,
                                               self.momentum, self.k)] if live else []
        return self.steady and all(r <= self.tol for _, r in [left, big, *decisive])

    def as_dict(self) -> dict:
        c = lambda z: [float(np.real(z)), float(np.imag(z))]  # noqa: E731
        return {"eta": self.eta, "momentum": self.momentum, "tol": self.tol, "vectors": self.vectors,
                "steady": self.steady,
                "deflated": self.deflated, "converged": self.converged,
                "ritz": [{"lambda": c(lam), "residual": float(r)} for lam, r in self.ritz],
                "sam_eigs": [c(z) for z in self.sam_eigs()],
                "heavy_ball_eigs": [c(z) for z in self.heavy_ball_eigs()]}


def _decisive(lam: np.ndarray, eta: float, mu: float | None, k: int = 1) -> list:
    """Indices of the Ritz values that set the k leading eigenvalues: the k largest |1 - eta lam|
    (SAM map) and, with momentum, the k largest heavy-ball roots max |z(lam)| (the k largest roots
    come from at most k values of lam). With a complex spectrum these need not be the leftmost or
    the largest in modulus."""
    out = [int(i) for i in np.argsort(-np.abs(1 - eta * lam))[:k]]
    if mu is not None:
        top = [max(abs(r) for r in heavy_ball_roots(complex(z), eta, mu)) for z in lam]
        out += [int(i) for i in np.argsort(-np.asarray(top))[:k]]
    return list(dict.fromkeys(out))


def _extreme_ritz(T, run, want: int, tol: float, eta: float = 0.0, mu: float | None = None,
                  k: int = 1):
    """Ritz values of A with the smallest real part and the largest modulus, and those that set
    the spectral radii (:func:`_decisive`), with residuals; values below ``tol`` times the largest
    modulus count as the kernel and are skipped."""
    with small_dense_blas():
        lam, Y = np.linalg.eig(T)
    nonzero = np.abs(lam) > tol * np.abs(lam).max()
    left = [i for i in np.argsort(lam.real) if nonzero[i]][:want]
    big = list(np.argsort(-np.abs(lam))[:want])
    live = np.flatnonzero(nonzero)
    decisive = [int(live[i]) for i in _decisive(lam[live], eta, mu, k)] if eta and len(live) else []
    idx = list(dict.fromkeys(left + big + decisive))
    Yn = Y[:, idx] / np.linalg.norm(Y[:, idx], axis=0)
    res = run.residual_norms(Yn)
    return [(complex(lam[i]), float(r)) for i, r in zip(idx, res)]


def sam_map_spectrum(obj, x, rho, eta: float, momentum: float | None = None, ctx=None, grad=None,
                     symmetries=None, block: int = 1, max_vectors: int = 512, tol: float = 1e-8,
                     want: int = 2, check_every: int = 4, seed: int = 0, k: int = 1) -> MapSpectrum:
    """Extreme eigenvalues of A = H(x+)(I + rho Du) by block Arnoldi (on the complement of the
    orthonormal columns ``symmetries`` when given, or of a space of :mod:`verify.linalg.subspace`), and
    from them those of the SAM and heavy-ball SAM Jacobians. Converged means residual <= ``tol`` times the largest Ritz modulus for the
    Ritz values that set the ``k`` leading eigenvalues of each map (and the extremes)."""
    torch = ctx.torch
    point = SamPoint(obj, x, rho, ctx, grad)
    gr = point.gradient
    u = gr.u.reshape(1, -1)
    H = obj.hessian_rows(x, ctx)
    Hp = obj.hessian_rows(point.x_plus, ctx)
    c = point.rho / gr.norm
    V = as_space(symmetries, columns=True)     # columns (d, k), or a space of verify.linalg.subspace

    def apply(X):
        return Hp(sam.i_plus_rho_du_rows(X, H(X), u, c))

    gen = torch.Generator(device="cpu").manual_seed(seed)
    start = torch.randn(block, obj.dim, generator=gen, dtype=torch.float64).to(ctx.device, ctx.dtype)
    run = BlockKrylov(apply, start, max_vectors, constraints=V, seed=seed + 1,
                      range_respects_constraints=True)
    history = []
    with progress.bar(total=run.max_vectors, desc="Krylov: SAM map", unit="vec") as bar:
        run.on_products = bar.update
        return _iterate(run, history, check_every, block, want, tol, eta, momentum, k, V)


def _iterate(run, history, check_every, block, want, tol, eta, momentum, k, V):
    """Grow the Krylov space until the wanted Ritz values are steady (or the budget is spent)."""
    while True:
        run.extend(max(check_every, run.n // (8 * block)))   # x1.125: eig of T is O(n^3)
        ritz = _extreme_ritz(run.projected(), run, want, tol, eta, momentum, k)
        scale = max(abs(lam) for lam, _ in ritz)
        left = min(ritz, key=lambda t: t[0].real)[0]
        history.append({"vectors": run.n, "leftmost": [float(left.real), float(left.imag)],
                        "max_residual": max(r for _, r in ritz)})
        # a small residual says "an eigenvalue", not "the leftmost one": also ask that the ends
        # did not move since the previous, smaller space (Krylov cannot prove extremality)
        steady = run.exhausted or (len(history) > 1 and
                                   abs(complex(*history[-2]["leftmost"]) - left) <= tol * scale)
        spec = MapSpectrum(float(eta), momentum, ritz, tol * scale, run.products,
                           0 if V is None else V.dim, history, steady, int(k), run.full_passes)
        if spec.converged or run.full:
            return spec
