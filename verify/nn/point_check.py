"""Checks at one parameter vector theta of an MLP (e.g. where a SAM seed stalled).

Everything below is computed with the SAM operators of :mod:`verify.core.sam` on a
:class:`verify.objectives.torch_model.ModelObjective` in a :class:`verify.ctx.torch.TorchContext`; the
matrix-free numbers use Hessian-vector products only (through one linearization at a point,
about one gradient each), and :func:`cross_check_dense` recomputes each of them with dense linear
algebra on a small model.

What is computed (c = rho / ||grad f(theta)||, u = grad f / ||grad f||, P = I - u u^T,
H = Hessian of f at theta, H+ = Hessian at theta+ = theta + rho u, M = I + rho Du = I + c P H):

* the hallucination diagnostics (f, f_SAM, ||grad f||, ||grad f(theta+)||, GradRatio, LossGap);
* from one block Krylov space of the symmetric P H P (:mod:`verify.linalg.du_spectrum`): lambda_min(Du)
  and lambda_max(Du) (Du = P H / ||g|| has the real spectrum of P H P / ||g||), lambda_min(Sym Du)
  and 1 + rho lambda_min, the attraction hypothesis of Theorem 3.2 (Sym Du is P H P plus a
  rank-two term in span{u, P H u}), and sigma_min(M) with a certified residual (M is block lower
  triangular in the basis (u, complement)); max(0, 1 + rho lambda_min(Sym Du)) is a lower bound
  for sigma_min(M) (v^T M v <= ||M v|| for unit v);
* linear stability of the SAM map x -> x - eta grad f(x+), Jacobian J = I - eta H+ M, and of the
  heavy-ball map actually used in training, (x, m) -> (x - eta (mu m + F(x)), mu m + F(x)) with
  F(x) = grad f(x+), Jacobian [[I - eta A, -eta mu I], [A, mu I]] with A = H+ M: both from the
  extreme eigenvalues of A by block Arnoldi with the symmetry directions deflated
  (:mod:`verify.linalg.map_spectrum`);
* the nullity of H+ (dense, for d up to ``dense_limit``) next to the dimension of the MLP's continuous
  parameter symmetries (:func:`symmetry_basis`), and the matrix-free check that every symmetry
  direction lies in the null space of H+ (||H+ v|| for each);
* a local attraction test (Section 3.2 / Figure 4c): perturb by a random vector of norm 0.1, run
  N SAM steps, report where it ends;
* landscape planes of f and f_SAM through theta (filter-normalized random directions; the plane
  through theta, theta_0, theta_N), as arrays for plotting.

Continuous symmetries of a tanh MLP with softmax cross-entropy (derivation)
---------------------------------------------------------------------------
Let the network be z = W_L h_{L-1} + b_L with hidden layers h_l = s(W_l h_{l-1} + b_l), h_0 = x.
All symmetries below are *translations* of the parameter vector that leave the loss of every
training sample unchanged, so they hold at every theta and span a subspace V of the null space of
the Hessian everywhere (and of f_SAM's, since f(x + t) = f(x) for t in V implies u(x + t) = u(x)
and f_SAM(x + t) = f_SAM(x): the hallucinated set is itself invariant under V).

1. Softmax shift: softmax(z + c 1) = softmax(z) for any scalar c that may depend on the sample.
   Adding t 1 to b_L (1 direction) or 1 a^T to W_L (adds (a . h_{L-1}) 1 to z; a in R^{h_{L-1}},
   h_{L-1} directions) leaves every sample's loss unchanged: h_{L-1} + 1 directions.
2. Affine dependencies of the inputs: if X v + v0 1 = 0 on the training set (v in R^in, v0 a
   scalar), then W_1 += a v^T, b_1 += a v0 leaves W_1 x + b_1 unchanged on every sample: h_1
   directions per dependency, h_1 k for k = dim null [X 1]. A feature j that is constant c_j gives
   (v, v0) = (e_j, -c_j): scikit-learn's digits have 4 pixels (0, 24, 32, 39) that are 0 on every
   image of the fixed training split (with scalar normalization the constant -mean/std); subsets
   also have non-constant pixels that move together (e.g. pixels 48 and 56 on the first 400
   images), which a count of constant pixels alone misses.
3. Nothing else is continuous for tanh: tanh is odd and not positively homogeneous, so there is no
   rescaling symmetry between layers (that is a ReLU feature); permutations of hidden units and the
   sign flips (w_in, b, w_out) -> -(w_in, b, w_out) of a unit are discrete.

So dim V = h_{L-1} + 1 + h_1 k; for the 64-32-10 network on all of digits' training split
(k = 4): 32 + 1 + 32 * 4 = 161. The
nullity of H+ may exceed dim V where the critical point theta+ is degenerate for other reasons
(e.g. saturated or output-dead hidden units at a high-loss critical point); both numbers are
reported and the excess is reported as such, not explained away.
"""
from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, field

import numpy as np

from .. import progress
from ..core import iterate, sam
from ..core.operators import SamPoint
from ..ctx.torch import TorchContext
from ..errors import ConvergenceError, PrecisionError, SamVerifyError, ZeroGradientError
from ..linalg.block_krylov import small_dense_blas
from ..linalg.subspace import Space
from .threads import torch_threads


# -- counting proxy ------------------------------------------------------------------------------------
class Counting:
    """Wraps an objective and counts gradient / HVP / value evaluations made through it."""

    def __init__(self, obj):
        self._obj = obj
        self.counts = {"grad": 0, "hvp": 0, "value": 0, "hess": 0}

    def __getattr__(self, name):
        return getattr(self._obj, name)

    def grad(self, x, ctx):
        self.counts["grad"] += 1
        return self._obj.grad(x, ctx)

    def hvp(self, x, v, ctx):
        self.counts["hvp"] += 1
        return self._obj.hvp(x, v, ctx)

    def value(self, x, ctx):
        self.counts["value"] += 1
        return self._obj.value(x, ctx)

    def hess(self, x, ctx):
        self.counts["hess"] += 1
        return self._obj.hess(x, ctx)

    def hessian_rows(self, x, ctx):
        """HVPs through one linearization at x, counted per vector ("hvp", and "hvp_shared" for
        this route) and per call ("hvp_blocks"); the linearization costs about one gradient."""
        rows = self._obj.hessian_rows(x, ctx)
        self.counts["grad"] += 1

        def counted(V):
            self.counts["hvp"] += int(V.shape[0])
            self.counts["hvp_shared"] = self.counts.get("hvp_shared", 0) + int(V.shape[0])
            self.counts["hvp_blocks"] = self.counts.get("hvp_blocks", 0) + 1
            return rows(V)
        return counted

    def grad_equivalents(self, hvp_cost: float = 2.0, shared_hvp_cost: float = 1.0) -> float:
        """The count model: a lone double-backward HVP costs about two gradients on CPU (it redoes
        the forward and first backward pass); one through a shared linearization about one (the
        second backward only: 0.93 gradients measured at d = 9985 on 2 CPU cores).
        :attr:`PointCheck.extra` ``grad_equivalents_by_time`` measures the whole check instead."""
        c = self.counts
        shared = c.get("hvp_shared", 0)
        return (c["grad"] + hvp_cost * (c["hvp"] - shared) + shared_hvp_cost * shared
                + 0.5 * c["value"])


class SharedLinearizations:
    """Wraps an objective so that Hessian-vector products at the given points go through one
    linearization each (:meth:`hessian_rows`, about one gradient a product instead of two); at any
    other point, or for anything else, it is the objective itself. Lets the generic operators of
    :mod:`verify.core.sam` (which call ``obj.hvp``) run at the shared-linearization cost: the point is
    matched by value, since they recompute x+ = x + rho u from x."""

    def __init__(self, obj, points, ctx):
        self._obj = obj
        self._rows = [(p, obj.hessian_rows(p, ctx)) for p in points]

    def __getattr__(self, name):
        return getattr(self._obj, name)

    def hvp(self, x, v, ctx):
        for p, rows in self._rows:
            if x is p or (x.shape == p.shape and bool(ctx.torch.equal(x, p))):
                return rows(v.reshape(1, -1))[0]
        return self._obj.hvp(x, v, ctx)


def _point_for(obj, theta, ctx, rho=None, analytic: str | None = None, order2: str | None = None,
               float64: bool = False):
    """theta as a vector of ctx after the entry checks: its length and finiteness (an inf weight
    on a constant input can leave f finite: the loss would not tell), rho, the smoothness a
    check needs (``analytic``/``order2``: the name of the check, for the message) and, with
    ``float64``, double precision (the Krylov tolerances, 1e-8 relative, are out of float32's
    reach)."""
    if float64 and getattr(ctx, "dtype", None) is not None and ctx.dtype != ctx.torch.float64:
        raise PrecisionError(f"the checks at a point run in float64 (their residual tolerances are "
                             f"about 1e-8 relative); got {ctx.dtype}: build the objective and the "
                             f"context in float64")
    if analytic:
        obj.require_analytic(analytic)
    if order2:
        obj.require_order(2, order2)
    if rho is not None:
        sam.check_rho(rho, ctx)
    x = theta.to(device=ctx.device, dtype=ctx.dtype) if ctx.torch.is_tensor(theta) else theta
    return obj.point(x, ctx)


def _ctx_for(obj, ctx=None):
    if ctx is not None:
        return ctx
    return TorchContext(str(obj.device.type) if hasattr(obj, "device") else "cpu",
                        str(obj.dtype).replace("torch.", "") if hasattr(obj, "dtype") else "float64")


# -- matrix-free spectral quantities --------------------------------------------------------------
# All of them come from one block Krylov space of P H P (:mod:`verify.linalg.du_spectrum`) and one block
# Arnoldi run on H(x+)(I + rho Du) (:mod:`verify.linalg.map_spectrum`); the functions below are the
# single-quantity views of those runs that :func:`cross_check_dense` compares with dense algebra.
def du_spectrum(obj, theta, rho=None, ctx=None, tol: float = 1e-10, grad=None,
                max_vectors: int = 4000, block: int = 1):
    from ..linalg.du_spectrum import du_spectrum as run
    ctx = _ctx_for(obj, ctx)
    block = max(1, min(block, max_vectors))
    return run(obj, theta, rho, ctx, grad, block=block, tol=tol, max_vectors=max_vectors,
               want_sigma=rho is not None)


def lambda_min_sym_du(obj, theta, ctx=None, tol: float = 1e-10, grad=None):
    """(lambda_min((Du + Du^T)/2), the :class:`verify.linalg.du_spectrum.DuSpectrum` it came from)."""
    sp = du_spectrum(obj, theta, None, ctx, tol, grad)
    return float(sp.sym_du_min.value), sp


def du_spectrum_extremes(obj, theta, ctx=None, tol: float = 1e-10, grad=None) -> tuple[float, float]:
    """(lambda_min, lambda_max) of Du, through the symmetric P H P / ||g|| (same spectrum)."""
    sp = du_spectrum(obj, theta, None, ctx, tol, grad)
    return float(sp.du_min.value), float(sp.du_max.value)


def sigma_summary(sp, lower_bound: float | None = None) -> dict:
    """sigma_min(I + rho Du) from a :class:`DuSpectrum`: the Krylov estimate (the smallest singular
    value found; an upper bound on sigma_min whatever the convergence), its certified residual,
    and the lower bound max(0, 1 + rho lambda_min(Sym Du)) (v^T M v <= ||M v|| for unit v).

    The lower bound holds when lambda_min(Sym Du) is the smallest eigenvalue; a Ritz value is
    never below it, so the bound is given only when that Ritz value converged (and, as for any
    Krylov extreme, under the caveat that no smaller eigenvalue hides from the space). On the
    Krylov space itself estimate >= max(0, 1 + rho * Ritz value) always holds."""
    s = sp.sigma_min
    ok = s.converged and sp.converged      # a small residual, and the estimate stopped moving
    bound = None if lower_bound is None or not sp.sym_du_min.converged else max(0.0, float(lower_bound))
    return {"value": s.value if ok else None, "estimate": s.value, "residual": s.residual,
            "tol": s.tol, "converged": ok, "vectors": sp.vectors, "lower_bound": bound}


def sigma_min_i_plus_rho_du(obj, theta, rho, ctx=None, tol: float = 1e-10, grad=None,
                            max_products: int | None = None,
                            lower_bound: float | None = None) -> float | dict:
    """sigma_min(I + rho Du) from the Krylov space of P H P (see :mod:`verify.linalg.du_spectrum`).
    Without ``max_products`` it runs to convergence and returns the float; with it, at most that
    many Krylov vectors are used and :func:`sigma_summary`'s dict is returned."""
    sp = du_spectrum(obj, theta, rho, ctx, tol, grad,
                     max_vectors=max_products if max_products is not None else 4000)
    if max_products is None:
        if not (sp.sigma_min.converged and sp.converged):
            raise ConvergenceError(f"sigma_min(I + rho Du) did not converge in {sp.vectors} vectors "
                                   f"(residual {sp.sigma_min.residual:.2e})")
        return float(sp.sigma_min.value)
    return sigma_summary(sp, lower_bound)


def hessian_extremes(obj, theta, ctx=None, tol: float = 1e-10, maxiter: int = 3000) -> dict:
    """lambda_min and lambda_max of the Hessian of f at theta, matrix-free: ARPACK's Lanczos
    (``scipy.sparse.linalg.eigsh``, smallest and largest algebraic) on Hessian-vector products
    through one linearization at theta. Each comes with its residual ||H v - lambda v|| recomputed
    with a fresh product, so an eigenvalue of H lies within it whatever the convergence
    (``converged`` says whether ARPACK met ``tol``; otherwise its last Ritz pair is returned)."""
    from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh
    ctx = _ctx_for(obj, ctx)
    torch = ctx.torch
    x = _point_for(obj, theta, ctx, order2="the Hessian's extreme eigenvalues", float64=True)
    rows = obj.hessian_rows(x, ctx)

    def matvec(v):
        t = torch.as_tensor(np.asarray(v, dtype=np.float64).reshape(1, -1), dtype=ctx.dtype,
                            device=ctx.device)
        return rows(t)[0].detach().to("cpu", torch.float64).numpy()
    op = LinearOperator((obj.dim, obj.dim), matvec=matvec, dtype=np.float64)
    v0 = np.random.default_rng(0).standard_normal(obj.dim)
    out = {}
    for which, key in (("SA", "min"), ("LA", "max")):
        try:
            lam, vec = eigsh(op, k=1, which=which, tol=tol, maxiter=maxiter, v0=v0,
                             ncv=min(obj.dim, 40))     # the default 3 Lanczos vectors crawl
            converged = True
        except ArpackNoConvergence as exc:
            if not len(exc.eigenvalues):
                raise ConvergenceError(f"Lanczos found no Ritz pair for lambda_{key} of the Hessian "
                                       f"in {maxiter} iterations") from exc
            lam, vec, converged = exc.eigenvalues, exc.eigenvectors, False
        v = vec[:, 0] / np.linalg.norm(vec[:, 0])
        out[f"lambda_{key}"] = float(lam[0])
        out[f"residual_{key}"] = float(np.linalg.norm(matvec(v) - lam[0] * v))
        out[f"converged_{key}"] = converged
    return out


def dense_hessian(obj, x, ctx=None, chunk: int = 128):
    """The dense Hessian (for a :class:`ModelObjective`: assembled from HVPs in chunks)."""
    ctx = _ctx_for(obj, ctx)
    return obj.hess(x, ctx)


def sam_map_spectrum(obj, theta, rho, eta, ctx=None, momentum: float | None = None,
                     tol: float = 1e-10, grad=None, max_products: int = 4000, symmetries=None,
                     block: int = 1, k: int = 1):
    """:func:`verify.linalg.map_spectrum.sam_map_spectrum` with this module's defaults; ``k`` leading
    eigenvalues of each map are certified."""
    from ..linalg.map_spectrum import sam_map_spectrum as run
    ctx = _ctx_for(obj, ctx)
    block = max(1, min(block, max_products))
    return run(obj, theta, rho, eta, momentum, ctx, grad, symmetries, block=block,
               max_vectors=max_products, tol=tol, k=k)


def sam_map_eigs(obj, theta, rho, eta, ctx=None, k: int = 6, momentum: float | None = None,
                 tol: float = 1e-10, grad=None, max_products: int | None = None,
                 partial: list | None = None, symmetries=None) -> np.ndarray:
    """The k eigenvalues of largest modulus of the SAM-map Jacobian I - eta H+ (I + rho Du)
    (``momentum=None``) or of the heavy-ball SAM map's 2d x 2d Jacobian (``momentum=mu``), from the
    converged extreme Ritz values of A = H+ (I + rho Du) (:mod:`verify.linalg.map_spectrum`), sorted by
    decreasing modulus. The eigenvalue 1 of the kernel directions of A (neutral directions along
    the stalled set) is not included: Ritz values below ``tol`` times the largest are dropped, and
    ``symmetries`` (orthonormal columns of known kernel directions) are deflated. Raises when
    nothing converged and no ``max_products`` budget was given; with a budget, the status is
    appended to ``partial``."""
    sp = sam_map_spectrum(obj, theta, rho, eta, ctx, momentum, tol, grad,
                          max_products if max_products is not None else 4000, symmetries, k=k)
    if partial is not None:
        partial.append({"converged": sp.converged, "products": sp.vectors, "momentum": momentum})
    if not sp.converged and max_products is None:
        raise ConvergenceError(f"Arnoldi on the SAM map did not converge in {sp.vectors} vectors")
    eigs = sp.sam_eigs(k) if momentum is None else sp.heavy_ball_eigs(k)
    return np.array(eigs, dtype=complex)


# -- symmetries and nullity ----------------------------------------------------------------------
def input_affine_null_space(X, rtol: float | None = None):
    """Orthonormal rows (k, in + 1) spanning {(v, v0): X v + v0 1 = 0}, the affine dependencies of
    the training inputs (a constant feature j gives (e_j, -c_j); digits subsets also have pairs of
    pixels that move together). Rank by the singular values of [X 1] (via R of a QR, so the
    n x n factor of a tall matrix is never formed) with numpy's matrix_rank tolerance
    max(n, in + 1) eps s_max unless ``rtol`` is given: exact dependencies only, so that every
    direction is an exact symmetry."""
    import torch
    A = torch.cat([X.to(torch.float64), torch.ones(X.shape[0], 1, dtype=torch.float64,
                                                   device=X.device)], dim=1).cpu()
    n, m = A.shape
    R = torch.linalg.qr(A, mode="r")[1]
    _, sv, Vh = torch.linalg.svd(R, full_matrices=True)
    s = torch.zeros(m, dtype=torch.float64)
    s[:len(sv)] = sv
    tol = (rtol if rtol is not None else max(n, m) * torch.finfo(torch.float64).eps) * float(s.max())
    return Vh[s <= tol]


def _require_plain_mlp(obj, lin: list) -> None:
    """The derivation of the symmetries (module docstring) holds for an ``nn.Sequential`` whose
    first and last modules are Linear layers with biases, the last one's output fed to softmax
    cross-entropy; anything else (no bias, a squashing output, another loss) is refused rather
    than handed directions that are not symmetries."""
    import torch.nn as nn
    m = obj.model
    ok = (isinstance(m, nn.Sequential) and len(lin) >= 2 and isinstance(m[0], nn.Linear)
          and isinstance(m[-1], nn.Linear)
          and all(mod.bias is not None for mod in m if isinstance(mod, nn.Linear))
          and getattr(obj, "loss_name", "cross_entropy") == "cross_entropy")
    if not ok:
        raise SamVerifyError("the symmetry space is derived for nn.Sequential MLPs with at least one "
                             "hidden layer, Linear layers with biases first and last, and softmax "
                             "cross-entropy on the last layer's output; this model is not one")


class SymmetrySpace(Space):
    """The MLP's translation symmetries (module docstring) as a structured orthonormal space
    (:mod:`verify.linalg.subspace`): nothing of size dim V x d is stored.

    Directions, in this order: the softmax shift of b_L (1/sqrt(C) on every entry), one per column
    j of W_L (1/sqrt(C) down that column), then for each hidden unit i of the first layer one per
    orthonormal null row (v, v0) of [X 1], placed on (W_1[i, :], b_1[i]). Supports are disjoint
    across groups, so the set is orthonormal."""

    def __init__(self, obj, rtol: float | None = None):
        import torch
        import torch.nn as nn
        from ..objectives.torch_model import param_spec
        offsets, i = {}, 0
        for name, shape in param_spec(obj.model):
            offsets[name] = (i, shape)
            i += math.prod(shape)
        lin = [n for n, m in obj.model.named_modules() if isinstance(m, nn.Linear)]
        _require_plain_mlp(obj, lin)
        key = lambda mod, p: f"{mod}.{p}" if mod else p  # noqa: E731
        self.d = obj.dim
        self.o_bL, (self.C,) = offsets[key(lin[-1], "bias")]
        self.o_WL, (_, self.hL) = offsets[key(lin[-1], "weight")]
        self.o_W1, (self.h1, self.nin) = offsets[key(lin[0], "weight")]
        self.o_b1, _ = offsets[key(lin[0], "bias")]
        X = obj.X
        self.null = input_affine_null_space(X, rtol).to(obj.dtype).to(obj.device)   # (k, in + 1)
        self.constant_features = torch.nonzero(
            (X.max(dim=0).values - X.min(dim=0).values) <= 0).reshape(-1).tolist()
        self.dtype, self.device = obj.dtype, obj.device

    @property
    def k(self) -> int:
        return int(self.null.shape[0])

    @property
    def n_softmax(self) -> int:
        return self.hL + 1

    @property
    def dim(self) -> int:
        return self.n_softmax + self.h1 * self.k

    def _blocks(self, Z):
        """Views of rows Z (b, d): b_L (b, C), W_L (b, C, hL), W_1 (b, h1, in), b_1 (b, h1)."""
        b = Z.shape[0]
        # view, not reshape: combine() writes through these
        return (Z[:, self.o_bL:self.o_bL + self.C],
                Z[:, self.o_WL:self.o_WL + self.C * self.hL].view(b, self.C, self.hL),
                Z[:, self.o_W1:self.o_W1 + self.h1 * self.nin].view(b, self.h1, self.nin),
                Z[:, self.o_b1:self.o_b1 + self.h1])

    def coefficients(self, Z):
        import torch
        bL, WL, W1, b1 = self._blocks(Z)
        r = 1.0 / math.sqrt(self.C)
        first = torch.cat([W1, b1[:, :, None]], dim=2) @ self.null.T          # (b, h1, k)
        return torch.cat([r * bL.sum(1, keepdim=True), r * WL.sum(1), first.reshape(Z.shape[0], -1)], 1)

    def combine(self, C):
        import torch
        b = C.shape[0]
        out = torch.zeros(b, self.d, dtype=C.dtype, device=C.device)
        bL, WL, W1, b1 = self._blocks(out)
        r = 1.0 / math.sqrt(self.C)
        bL += r * C[:, :1]
        WL += r * C[:, None, 1:self.n_softmax]
        Y = C[:, self.n_softmax:].reshape(b, self.h1, self.k) @ self.null       # (b, h1, in + 1)
        W1 += Y[:, :, :self.nin]
        b1 += Y[:, :, self.nin]
        return out

    def dense_rows(self):
        """The directions as rows (dim, d); refused when they would not fit in memory."""
        from ..linalg.block_krylov import check_memory
        check_memory(self.dim, self.d, self.null.element_size(), "the dense symmetry basis",
                      "use the space itself (coefficients / combine / project, or probes=)")
        import torch
        return self.combine(torch.eye(self.dim, dtype=self.dtype, device=self.device))

    def info(self) -> dict:
        return {"softmax_shift": self.n_softmax, "input_dependencies": self.k,
                "input_directions": self.h1 * self.k,
                "constant_feature_indices": self.constant_features, "total": self.dim,
                "formula": f"h_(L-1) + 1 + h_1*k = {self.hL} + 1 + {self.h1}*{self.k} (k = dim "
                           f"null [X 1]; {len(self.constant_features)} constant features)"}


@functools.lru_cache(maxsize=4)
def symmetry_space(obj, rtol: float | None = None) -> SymmetrySpace:
    """The objective's :class:`SymmetrySpace`, built once per objective (the QR of [X 1] behind it
    takes seconds at MNIST size, and a check and its attraction test both need it)."""
    return SymmetrySpace(obj, rtol)


def symmetry_basis(obj, rtol: float | None = None):
    """Orthonormal basis (d x k torch tensor) of the translation symmetries of an MLP with softmax
    cross-entropy derived in the module docstring, plus the count by kind (dense: for small models;
    :func:`symmetry_space` is the same space without storing it)."""
    sp = SymmetrySpace(obj, rtol)
    return sp.dense_rows().T, sp.info()


def symmetry_residuals(obj, theta, V, ctx=None, probes: int | None = None, seed: int = 0) -> dict:
    """Matrix-free: max over symmetry directions v of ||H v||, and max |grad f . v|.

    ``V``: orthonormal columns (d, k) or a space of :mod:`verify.linalg.subspace` (e.g.
    :func:`symmetry_space`). With ``probes`` = p, H is applied to p Gaussian combinations V z
    instead of every direction: ``max_hv_norm`` is then max ||H V z|| / ||z||, which vanishes
    exactly when H V = 0 (almost surely for random z) at the cost of p products instead of dim V
    (666 at d = 1e4)."""
    import torch
    from ..linalg.subspace import as_space
    ctx = _ctx_for(obj, ctx)
    theta = _point_for(obj, theta, ctx)
    space = as_space(V, columns=True)
    g = obj.grad(theta, ctx)
    rows = obj.hessian_rows(theta, ctx)
    if probes is not None:
        gen = torch.Generator(device="cpu").manual_seed(seed)
        Z = torch.randn(probes, space.dim, generator=gen, dtype=torch.float64).to(ctx.device, ctx.dtype)
        directions = space.combine(Z / Z.norm(dim=1, keepdim=True))
    else:
        directions = space.dense_rows()
    hv = max(float(rows(directions[i:i + 64]).norm(dim=1).max()) for i in range(0, directions.shape[0], 64))
    return {"max_hv_norm": hv, "max_grad_dot": float(space.coefficients(g.reshape(1, -1)).abs().max()),
            "probes": probes, "directions": space.dim}


def hessian_nullity_dense(obj, theta, ctx=None, rel_tol: float = 1e-7) -> dict:
    """Numerical nullity of the dense Hessian: #{|lambda| <= rel_tol * max|lambda|}; also the
    eigenvalues either side of the threshold, the count below the largest relative gap in the
    small part of the spectrum (where the spectrum has no gap the nullity depends on the threshold;
    the numbers say so), and ``rounding_zeros``, the eigenvalues within 100 d eps max|lambda| of 0:
    exact null directions such as the symmetries must be among them."""
    ctx = _ctx_for(obj, ctx)
    H = dense_hessian(obj, theta, ctx)
    ev = ctx.eigvalsh(H).cpu().numpy()
    scale = float(np.abs(ev).max())
    a = np.sort(np.abs(ev))
    k = int((a <= rel_tol * scale).sum())
    # the numerical nullity is only meaningful at a spectral gap: find the largest ratio between
    # consecutive |eigenvalues| among those below 1e-3 * scale
    small = a[a <= 1e-3 * scale]
    gap_k, gap_ratio = None, None
    if len(small) >= 2:
        ratios = small[1:] / np.maximum(small[:-1], 1e-300)
        j = int(np.argmax(ratios))
        gap_k, gap_ratio = j + 1, float(ratios[j])
    # eigenvalues at rounding level: an exact null direction (a symmetry) lands within about
    # d eps ||H|| of 0 in a backward-stable eigensolver; 100x that is the stated tolerance
    floor = 100 * len(a) * np.finfo(np.float64).eps * scale
    return {"nullity": k, "threshold": rel_tol * scale, "largest_abs": scale,
            "rounding_zeros": int((a <= floor).sum()), "rounding_floor": floor,
            "nullity_at_largest_gap": gap_k, "largest_gap_ratio": gap_ratio,
            "last_below": float(a[k - 1]) if k else None, "first_above": float(a[k]) if k < len(a) else None,
            "n_negative": int((ev < -rel_tol * scale).sum())}


# -- the full check at one point -------------------------------------------------------------------
@dataclass
class PointCheck:
    rho: float
    eta: float
    momentum: float
    dim: int
    diagnostics: dict
    lambda_min_sym_du: float
    attraction_margin: float           # 1 + rho lambda_min(Sym Du)
    du_min: float
    du_max: float
    sigma_min: float | dict
    sam_map_eigs: list
    heavy_ball_eigs: list
    symmetry: dict
    symmetry_residuals: dict
    nullity: dict | None
    counts: dict
    grad_equivalents: float
    seconds: float
    seconds_per_grad: float
    verdict: str = ""
    extra: dict = field(default_factory=dict)
    # which matrix-free numbers met their residual tolerance; an unconverged one is an estimate
    converged: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        out = dict(self.__dict__)
        out["sam_map_eigs"] = [[float(np.real(z)), float(np.imag(z))] for z in self.sam_map_eigs]
        out["heavy_ball_eigs"] = [[float(np.real(z)), float(np.imag(z))] for z in self.heavy_ball_eigs]
        return out


def classify_point(diag: dict, stall_loss: float = 1.0, ratio_tol: float = 1e-2) -> str:
    """'hallucinated' (high loss, GradRatio small: the SAM direction vanished while grad f did not),
    'unstable' (GradRatio > 1: not near a stationary point of f_SAM — e.g. collapsing weights),
    'converged' (loss small) or 'other'."""
    from .train import classify
    return classify(diag["f"], diag["grad_ratio"], diag["grad_norm"], stall_loss, ratio_tol)


def check_point(obj, theta, rho, eta: float = 0.01, momentum: float = 0.9, ctx=None,
                dense_limit: int = 3000, tol: float = 1e-8, k_eigs: int = 1,
                with_map: bool = True, sigma_budget: int | None = 4000,
                map_tol: float = 1e-8, map_budget: int | None = 2000, block: int = 1,
                symmetry_probes: int | None = 4, threads: int | None = None) -> PointCheck:
    """All matrix-free checks at theta (nullity densely when d <= ``dense_limit``).

    Tolerances are relative residuals (``tol`` for the P H P run, ``map_tol`` for the Arnoldi
    run; see :mod:`verify.linalg.du_spectrum`, :mod:`verify.linalg.map_spectrum`). Budgets count Krylov vectors: ``sigma_budget`` for the one run on P H P that gives Du's
    extremes, lambda_min(Sym Du) and sigma_min(I + rho Du); ``map_budget`` for the one block
    Arnoldi run on H(x+)(I + rho Du) that gives both the SAM and the heavy-ball Jacobian
    eigenvalues (symmetry directions deflated); ``k_eigs`` leading eigenvalues of each map are
    certified (the first is the spectral radius; each further one needs its Ritz value converged
    too). ``threads``: torch threads for the check (default: the thread policy of
    :mod:`verify.nn.threads`, measured on a gradient at theta)."""
    ctx = _ctx_for(obj, ctx)
    theta = _point_for(obj, theta, ctx, rho, analytic="the checks of Theorems 3.1/3.2 at a point",
                       float64=True)
    n = check_threads(obj, theta, ctx, threads)
    with torch_threads(n), small_dense_blas():
        pc = _check_point(obj, theta, rho, eta, momentum, ctx, dense_limit, tol, k_eigs, with_map,
                          sigma_budget, map_tol, map_budget, block, symmetry_probes)
    pc.extra["torch_threads"] = n
    return pc


def check_threads(obj, theta, ctx, threads: int | None = None) -> int | None:
    """The torch threads of the check at theta by the thread policy (None on a GPU: not a CPU
    workload); the probe is one gradient, the unit the check's cost is counted in."""
    from .threads import threads_for
    if ctx.device.type != "cpu":
        return None
    key = ("gradient", obj.dim, tuple(obj.X.shape) if hasattr(obj, "X") else None)
    return threads_for(key, lambda: obj.grad(theta, ctx), threads)


def _check_point(obj, theta, rho, eta, momentum, ctx, dense_limit, tol, k_eigs, with_map,
                 sigma_budget, map_tol, map_budget, block, symmetry_probes) -> PointCheck:
    cobj = Counting(obj)
    t_grad = _seconds_per_grad(obj, theta, ctx)
    t0 = time.perf_counter()
    gr = sam.gradient(cobj, theta, ctx)
    d = sam.diagnostics(cobj, theta, rho, ctx, gr)
    diag = {"f": float(d.f), "f_sam": float(d.f_sam), "grad_norm": float(d.grad_norm),
            "shifted_grad_norm": float(d.shifted_grad_norm), "grad_ratio": float(d.grad_ratio),
            "loss_gap": float(d.loss_gap)}
    sp = du_spectrum(cobj, theta, rho, ctx, tol, gr, sigma_budget or 4000, block)
    lam = float(sp.sym_du_min.value)
    smin = sigma_summary(sp, 1 + rho * lam)
    du_hvps = cobj.counts["hvp"]
    V = symmetry_space(obj)
    sym = V.info()
    map_status: list = []
    ev, hb = [], []
    if with_map:
        ms = sam_map_spectrum(cobj, theta, rho, eta, ctx, momentum, map_tol, gr, map_budget or 2000,
                              V, block, k=k_eigs)
        map_status.append({"converged": ms.converged, "products": ms.vectors,
                           "deflated": ms.deflated, "history": ms.history})
        ev, hb = ms.sam_eigs(k_eigs), ms.heavy_ball_eigs(k_eigs)
    map_hvps = cobj.counts["hvp"] - du_hvps
    xp = d.x_plus
    res = symmetry_residuals(cobj, xp, V, ctx, probes=symmetry_probes)
    seconds = time.perf_counter() - t0
    counts = dict(cobj.counts)
    geq = cobj.grad_equivalents()
    nullity = hessian_nullity_dense(obj, xp, ctx) if obj.dim <= dense_limit else None
    return PointCheck(float(rho), float(eta), float(momentum), obj.dim, diag, lam, 1 + rho * lam,
                      float(sp.du_min.value), float(sp.du_max.value), smin, list(ev), list(hb), sym,
                      res, nullity, counts, geq, seconds, t_grad, classify_point(diag),
                      extra={"hvps_before_map": du_hvps, "hvps_map": map_hvps,
                             "map_status": map_status, "du_spectrum": sp.as_dict(),
                             "grad_equivalents_by_time": seconds / t_grad},
                      converged={"du_extremes": bool(sp.du_min.converged and sp.du_max.converged),
                                 "sym_du_min": bool(sp.sym_du_min.converged),
                                 "sigma_min": bool(smin["converged"]),
                                 "sam_map": bool(map_status[0]["converged"]) if map_status else None})


def _seconds_per_grad(obj, theta, ctx, reps: int = 20) -> float:
    """Best time of one gradient at theta over ``reps`` calls (after a warm-up): the cost unit.
    The best, not the median, because on a shared machine the slow calls measure the neighbours."""
    obj.grad(theta, ctx)
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        g = obj.grad(theta, ctx)
        float(g[0])                 # wait for the device
        times.append(time.perf_counter() - t)
    return min(times)


# -- dense cross-check -----------------------------------------------------------------------------
def cross_check_dense(obj, theta, rho, eta: float = 0.01, momentum: float = 0.9, ctx=None,
                      tol: float = 1e-10, seed: int = 0) -> dict:
    """Every matrix-free quantity next to its dense counterpart (``verify.core.sam`` dense forms):
    returns {name: (matrix_free, dense, relative difference)}. ``tol``: the Krylov runs' relative
    residual, 1e-10 (the goal is agreement to 1e-6; 1e-12 is below what rounding allows once a
    d ~ 700 Krylov space is used up: a residual of 3e-10 relative was the floor at one such point)."""
    import torch
    ctx = _ctx_for(obj, ctx)
    theta = _point_for(obj, theta, ctx, rho, order2="the dense cross-check (Hessians)", float64=True)
    point = SamPoint(obj, theta, rho, ctx)
    gr = point.gradient
    out = {}

    def put(name, mf, dn):
        mf, dn = float(mf), float(dn)
        out[name] = (mf, dn, abs(mf - dn) / max(abs(dn), 1e-300))

    J = point.du_dense
    I = ctx.eye(obj.dim)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    v = torch.randn(obj.dim, generator=gen, dtype=torch.float64).to(ctx.device, ctx.dtype)
    rel = lambda a, b: float((a - b).norm() / b.norm())  # noqa: E731
    out["du_matvec"] = (0.0, 0.0, rel(sam.du_matvec(obj, theta, v, ctx, gr), J @ v))
    out["du_rmatvec"] = (0.0, 0.0, rel(sam.du_rmatvec(obj, theta, v, ctx, gr), J.T @ v))
    Sj = sam.shifted_jacobian(obj, theta, rho, ctx)
    out["shifted_jacobian_matvec"] = (0.0, 0.0, rel(
        sam.shifted_jacobian_matvec(obj, theta, rho, v, ctx, gr), Sj @ v))
    out["shifted_jacobian_rmatvec"] = (0.0, 0.0, rel(
        sam.shifted_jacobian_rmatvec(obj, theta, rho, v, ctx, gr), Sj.T @ v))
    put("lambda_min_sym_du", lambda_min_sym_du(obj, theta, ctx, tol, gr)[0],
        ctx.eigvalsh((J + J.T) / 2)[0])
    lo, hi = du_spectrum_extremes(obj, theta, ctx, tol, gr)
    ev_du = torch.linalg.eigvals(J)
    put("du_lambda_min", lo, ev_du.real.min())
    put("du_lambda_max", hi, ev_du.real.max())
    out["du_max_imag"] = (0.0, float(ev_du.imag.abs().max()), 0.0)
    M = point.I_plus_rho_Du.dense()
    put("sigma_min", sigma_min_i_plus_rho_du(obj, theta, rho, ctx, tol, gr), ctx.svdvals(M)[-1])
    # the SAM map: Ritz values of A = H+ (I + rho Du) against its dense eigenvalues (the kernel,
    # |lambda| <= 1e-8 max|lambda|, excluded on both sides), and the heavy-ball root formula
    # against the eigenvalues of the dense 2d x 2d heavy-ball Jacobian
    from ..linalg.map_spectrum import heavy_ball_roots
    A = Sj
    ev_A = torch.linalg.eigvals(A).cpu().numpy()
    nz = ev_A[np.abs(ev_A) > 1e-8 * np.abs(ev_A).max()]
    ms = sam_map_spectrum(obj, theta, rho, eta, ctx, momentum, tol, gr)
    if not ms.converged:
        raise ConvergenceError("Arnoldi on the SAM map did not converge in the dense cross-check")
    lam_mf = [lam for lam, _ in ms.converged_ritz()]
    put("sam_map_A_leftmost_real", min(z.real for z in lam_mf), nz.real.min())
    put("sam_map_A_max_modulus", max(abs(z) for z in lam_mf), np.abs(nz).max())
    put("sam_map_spectral_radius", abs(ms.sam_eigs(1)[0]), np.abs(1 - eta * nz).max())
    put("heavy_ball_spectral_radius", abs(ms.heavy_ball_eigs(1)[0]),
        max(abs(r) for z in nz for r in heavy_ball_roots(complex(z), eta, momentum)))
    big = torch.cat([torch.cat([I - eta * A, -eta * momentum * I], 1),
                     torch.cat([A, momentum * I], 1)], 0)
    put("heavy_ball_root_formula", max(abs(r) for z in ev_A for r in heavy_ball_roots(complex(z), eta, momentum)),
        torch.linalg.eigvals(big).abs().max())
    return out


# -- local attraction test -----------------------------------------------------------------------
def sam_run(obj, theta, rho, steps: int, lr: float = 0.01, momentum: float = 0.9, ctx=None,
            record_every: int = 0):
    """Heavy-ball SAM from theta by the driver :func:`verify.core.iterate.iterates`; returns
    (final, path)."""
    ctx = _ctx_for(obj, ctx)
    x = theta.clone()
    path = [x.clone()]
    if steps <= 0:
        return x, path
    with ctx.torch.no_grad():
        run = iterate.iterates(obj, x, ctx, "sam", rho, lr, momentum)
        for _, st in zip(progress.bar(range(steps), desc="SAM steps (attraction test)", unit="step"), run):
            x = st.x_next
            if record_every and (st.k + 1) % record_every == 0:
                path.append(x.clone())
    return x, path


def distance_to_stationary_set(obj, x, rho, ctx=None, maxiter: int = 200, atol: float = 1e-10,
                               damping: float = 0.0, power_steps: int = 10) -> dict:
    """First-order (Gauss-Newton) estimate of the distance from x to the set {F = 0},
    F(x) = grad f(x + rho u(x)), the stationary set of the SAM iteration: the step delta minimizing
    ||F(x) + A delta||^2 + lam^2 ||delta||^2, A = H(x+)(I + rho Du), by LSMR on the matrix-free A and
    A^T (two HVPs per product, through one linearization at x and one at x+).

    ``damping`` = 0 gives the minimum-norm Gauss-Newton step. At a stalled point A is singular
    beyond the symmetry directions and its small singular values spread down to rounding, so LSMR
    on that problem does not converge in any affordable number of iterations. ``damping`` > 0 is the
    Levenberg-Marquardt step with lam = damping * sigma_hat, sigma_hat an estimate of ||A|| (power
    iteration on A^T A, ``power_steps`` steps): directions whose singular value is far below lam are
    not stepped along (their part of F stays in ``residual_after``), and the damped problem has
    condition number at most about 1/damping, so LSMR converges. The iterates lie in the range of
    A^T, orthogonal to the kernel of A and hence to the model's symmetry directions: the step is a
    distance in the quotient by them. Returns ||delta||, ||F(x)||, the relative residual
    ||F + A delta|| / ||F|| after the step, LSMR's iterations and ``products`` (HVPs), and
    ``converged`` (LSMR met its tolerance on the problem it solved)."""
    from scipy.sparse.linalg import LinearOperator, lsmr
    ctx = _ctx_for(obj, ctx)
    torch = ctx.torch
    point = SamPoint(obj, x, rho, ctx)
    gr, xp, F = point.gradient, point.x_plus, point.shifted_grad
    cobj = Counting(obj)
    sobj = SharedLinearizations(cobj, (x, xp), ctx)      # LSMR takes hundreds of products
    to_t = lambda v: torch.as_tensor(np.asarray(v, dtype=np.float64).reshape(-1), dtype=ctx.dtype,  # noqa: E731
                                     device=ctx.device)
    to_np = lambda t: t.detach().to("cpu", torch.float64).numpy()  # noqa: E731
    mv = lambda v: sam.shifted_jacobian_matvec(sobj, x, rho, v, ctx, gr)  # noqa: E731
    rmv = lambda v: sam.shifted_jacobian_rmatvec(sobj, x, rho, v, ctx, gr)  # noqa: E731
    op = LinearOperator((obj.dim, obj.dim), dtype=np.float64, matvec=lambda v: to_np(mv(to_t(v))),
                        rmatvec=lambda v: to_np(rmv(to_t(v))))
    lam = damping * _norm_estimate(mv, rmv, F, power_steps) if damping > 0 else 0.0
    b = -to_np(F)
    sol = lsmr(op, b, damp=lam, atol=atol, btol=atol, maxiter=maxiter)
    delta, istop, itn = sol[0], sol[1], sol[2]
    fnorm = float(np.linalg.norm(b))
    # LSMR's normr includes the damping term: the linear model's residual is recomputed
    after = float(np.linalg.norm(op.matvec(delta) - b)) / max(fnorm, 1e-300)
    # istop 1/2: a solution of the (damped) least-squares problem within atol; otherwise LSMR
    # stopped at maxiter (or on conditioning) and delta is a truncated, regularized estimate
    return {"distance_estimate": float(np.linalg.norm(delta)), "F_norm": fnorm,
            "relative_residual": float(sol[3] / max(fnorm, 1e-300)), "residual_after": after,
            "iterations": int(itn), "damping": float(damping), "lambda": float(lam),
            "products": cobj.counts["hvp"], "converged": istop in (1, 2)}


def _norm_estimate(mv, rmv, start, steps: int) -> float:
    """||A|| from below by ``steps`` power iterations on A^T A (start: any non-zero vector)."""
    v = start / start.norm()
    s = 0.0
    for _ in range(steps):
        w = rmv(mv(v))
        s = float(w.norm()) ** 0.5
        if s == 0.0:
            return 0.0
        v = w / w.norm()
    return s


def attraction_test(obj, theta_h, rho, radius: float = 0.1, steps: int = 1000, lr: float = 0.01,
                    momentum: float = 0.9, seed: int = 0, ctx=None, record_every: int = 10,
                    estimate_distance: bool = True, damping: float = 1e-2,
                    distance_maxiter: int = 1000) -> dict:
    """Perturb theta_h by a random vector of norm ``radius``, run ``steps`` SAM steps; report the
    distance back (full, and modulo the symmetry subspace V, along which the stalled set is
    invariant), the first-order distance from x_N to the stationary set of the SAM iteration
    (:func:`distance_to_stationary_set`, the Levenberg-Marquardt step with ``damping``: the
    undamped minimum-norm step does not converge at stalled points; at the stalled d = 9985
    benchmark point neither did damping 1e-3 in 500 iterations, while 1e-2 converged in 420, 1724
    HVPs), f and GradRatio at the end.
    A small final GradRatio with high loss means the run ended on (a point of) the stalled set
    again. ``seconds`` times the SAM run and the distance estimate separately."""
    import torch
    ctx = _ctx_for(obj, ctx)
    theta_h = _point_for(obj, theta_h, ctx, rho,
                         order2="the distance estimate of the attraction test (Hessians)"
                         if estimate_distance else None)
    if not (radius > 0 and math.isfinite(radius)) or steps < 0:
        raise SamVerifyError(f"the attraction test needs radius > 0 and steps >= 0, got {radius}, {steps}")
    gen = torch.Generator(device="cpu").manual_seed(seed)
    z = torch.randn(obj.dim, generator=gen, dtype=torch.float64).to(ctx.device, ctx.dtype)
    x0 = theta_h + radius * z / z.norm()
    t0 = time.perf_counter()
    xN, path = sam_run(obj, x0, rho, steps, lr, momentum, ctx, record_every)
    t_run = time.perf_counter() - t0
    V = symmetry_space(obj)
    perp = lambda v: v - V.project(v.reshape(1, -1))[0]  # noqa: E731
    dN = sam.diagnostics(obj, xN, rho, ctx)
    d0 = sam.diagnostics(obj, x0, rho, ctx)
    dh = sam.diagnostics(obj, theta_h, rho, ctx)
    t0 = time.perf_counter()
    dist_set = distance_to_stationary_set(obj, xN, rho, ctx, distance_maxiter, 1e-10, damping) \
        if estimate_distance else None
    t_dist = time.perf_counter() - t0
    return {"radius": radius, "steps": steps, "x0": x0, "xN": xN, "path": path,
            "distN_to_stationary_set": dist_set,
            "seconds": {"sam_steps": t_run, "distance": t_dist if estimate_distance else 0.0},
            "dist0": float((x0 - theta_h).norm()), "distN": float((xN - theta_h).norm()),
            "distN_mod_symmetry": float(perp(xN - theta_h).norm()),
            "f_h": float(dh.f), "f0": float(d0.f), "fN": float(dN.f),
            "grad_ratio_h": float(dh.grad_ratio), "grad_ratio0": float(d0.grad_ratio),
            "grad_ratioN": float(dN.grad_ratio), "grad_normN": float(dN.grad_norm)}


# -- landscape planes --------------------------------------------------------------------------------
def filter_normalized_direction(obj, theta, seed: int = 0):
    """A random direction scaled, row by row of every weight matrix ("filter"), to the norm of the
    same row of theta (Li et al. 2018); bias entries are set to 0."""
    import torch
    from ..objectives.torch_model import unflatten
    gen = torch.Generator(device="cpu").manual_seed(seed)
    z = torch.randn(obj.dim, generator=gen, dtype=torch.float64).to(theta.device, theta.dtype)
    Pz, Pt = unflatten(z, obj.spec), unflatten(theta, obj.spec)
    parts = []
    for (name, shape) in obj.spec:
        a, t = Pz[name], Pt[name]
        if len(shape) == 1:
            parts.append(torch.zeros_like(a).reshape(-1))
        else:
            a2, t2 = a.reshape(shape[0], -1), t.reshape(shape[0], -1)
            parts.append((a2 * (t2.norm(dim=1, keepdim=True) / (a2.norm(dim=1, keepdim=True) + 1e-12)))
                         .reshape(-1))
    return torch.cat(parts)


def landscape_plane(obj, origin, e1, e2, rho, span=(-1.0, 1.0), n: int = 21, ctx=None) -> dict:
    """f and f_SAM on origin + a e1 + b e2 for a, b in linspace(span, n) (arrays n x n, [b, a])."""
    ctx = _ctx_for(obj, ctx)
    origin = _point_for(obj, origin, ctx, rho)
    a = np.linspace(span[0], span[1], n)
    F = np.zeros((n, n))
    FS = np.zeros((n, n))
    with ctx.torch.no_grad():
        for i, bi in enumerate(a):
            for j, aj in enumerate(a):
                x = origin + float(aj) * e1 + float(bi) * e2
                F[i, j] = float(obj.value(x, ctx))
                try:
                    FS[i, j] = float(sam.sam_value(obj, x, rho, ctx))
                except ZeroGradientError:     # f_SAM undefined where grad f = 0: a hole, not an error
                    FS[i, j] = np.nan
    return {"alpha": a, "beta": a, "f": F, "f_sam": FS}


def random_planes(obj, theta, rho, n: int = 21, span=(-1.0, 1.0), seed: int = 0, ctx=None) -> dict:
    """Figure 4a/4b: f and f_SAM on the plane through theta spanned by two filter-normalized random
    directions."""
    e1 = filter_normalized_direction(obj, theta, seed)
    e2 = filter_normalized_direction(obj, theta, seed + 1)
    return landscape_plane(obj, theta, e1, e2, rho, span, n, ctx)


def trajectory_plane(obj, theta_h, x0, xN, path, rho, n: int = 21, margin: float = 0.3,
                     ctx=None) -> dict:
    """Figure 4c: f_SAM on the plane through theta_h, x0, xN (orthonormal e1 along x0 - theta_h,
    e2 from xN - theta_h), with the trajectory projected onto it."""
    e1 = x0 - theta_h
    e1 = e1 / e1.norm()
    w = xN - theta_h
    e2 = w - e1 * (e1 @ w)
    e2 = e2 / e2.norm() if float(e2.norm()) > 1e-12 else filter_normalized_direction(obj, theta_h)
    coords = np.array([[float((p - theta_h) @ e1), float((p - theta_h) @ e2)] for p in path])
    lo = float(min(coords.min(), 0.0)) - margin
    hi = float(max(coords.max(), 0.0)) + margin
    plane = landscape_plane(obj, theta_h, e1, e2, rho, (lo, hi), n, ctx)
    plane["trajectory"] = coords
    return plane
