"""The SAM mathematics, written once against an arithmetic context.

Notation (d = dimension, g = grad f(x), H = Hessian of f at x, n = ||g||):

* ``u(x) = g / n`` — undefined where g = 0 (:class:`ZeroGradientError`);
* ``x+ = x + rho u(x)``, ``f_SAM(x) = f(x+)``, the shifted gradient ``grad f(x+)``;
* ``Du(x)``, the Jacobian of u with entries d u_i / d x_j, equals ``P H / n`` with
  ``P = I - u u^T`` (P on the left: differentiate g/n and use d n = u^T H);
* the exact gradient of f_SAM is ``(I + rho Du)^T grad f(x+)`` — the transpose, because the chain
  rule contracts the gradient with the Jacobian's rows; ``Du^T = H P / n`` differs from Du unless
  H commutes with P. The paper writes ``(I + rho grad u) grad f(x+)`` and calls grad u the
  Jacobian, which drops the transpose (a finding of ``theorems/core_checks.py``, settled against
  finite differences of f_SAM);
* the Jacobian of the shifted-gradient map F(x) = grad f(x+) is ``H(x+) (I + rho Du(x))``;
* the Hessian of f_SAM is ``(I + rho Du)^T H(x+) (I + rho Du) + rho Hess(w . u)(x)`` with
  w = grad f(x+) held fixed, where, with a = P w / n,
  ``Hess(w . u) = T[a] - (u.w) H Du / n - ((H u)(Du^T w)^T + (Du^T w)(H u)^T) / n``
  and T[a] the third derivative of f contracted with a.

Matrix-free forms (``*_matvec``) use only Hessian-vector products, for large d.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from ..errors import ExpressionError, InvalidRhoError, NonFiniteError, ZeroGradientError
from ..objectives.expr import constant
from ..objectives.parse import parse_number


def check_rho(rho, ctx=None, allow_zero: bool = False):
    """rho as a scalar of ctx (``ctx.convert``: a decimal string or Fraction exactly, a Python float
    at its exact binary value), refused unless finite and > 0 (``allow_zero``: >= 0, where rho = 0
    means plain gradient descent, as in training)."""
    if isinstance(rho, str):  # the whitelist number parser: '1.2', '6/5', 'sqrt(2)' (exact)
        try:
            exact = parse_number(rho, "rho")
        except (ExpressionError, NonFiniteError) as exc:
            raise InvalidRhoError(str(exc)) from None
        rho = Fraction(int(exact.p), int(exact.q)) if exact.is_Rational else exact
    try:
        value = float(rho)
    except (TypeError, ValueError, ZeroDivisionError) as exc:
        raise InvalidRhoError(f"rho must be a number, got {rho!r}") from exc
    if not (value > 0 or (allow_zero and value == 0)) or value == float("inf"):
        raise InvalidRhoError(f"rho must be a finite number {'>=' if allow_zero else '>'} 0, got {rho!r}")
    if ctx is None:
        return rho
    if hasattr(rho, "is_number") and not rho.is_Rational:  # an exact irrational such as sqrt(2)
        return constant(rho, ctx)
    return ctx.convert(rho)  # a Fraction exactly, a float at its binary value, native values as they are


@dataclass
class Gradient:
    """grad f(x), its norm and its direction u(x)."""
    g: Any
    norm: Any
    u: Any


def gradient(obj, x, ctx) -> Gradient:
    g = ctx.check_finite(obj.grad(x, ctx), "grad f(x)")
    n = ctx.norm(g)
    if ctx.is_zero_possible(n):
        where = "cannot be excluded" if ctx.rigorous else "holds"
        raise ZeroGradientError(f"grad f(x) = 0 {where} at x = {_show(x, ctx)}: u(x) = grad f/||grad f|| "
                                f"is undefined there")
    return Gradient(g, n, g / n)


def unit_gradient(obj, x, ctx):
    return gradient(obj, x, ctx).u


def perturbed_point(obj, x, rho, ctx):
    """x+ = x + rho u(x)."""
    return x + check_rho(rho, ctx) * unit_gradient(obj, x, ctx)


def usam_point(obj, x, rho, ctx):
    """The unnormalized perturbation of USAM (Kim et al.): x + rho grad f(x)."""
    return x + check_rho(rho, ctx) * ctx.check_finite(obj.grad(x, ctx), "grad f(x)")


def usam_jacobian(obj, x, rho, ctx):
    """Jacobian of the USAM direction w -> grad f(w + rho grad f(w)): H(w+)(I + rho H(w))."""
    H = obj.hess(x, ctx)
    return obj.hess(usam_point(obj, x, rho, ctx), ctx) @ (ctx.eye(obj.dim) + check_rho(rho, ctx) * H)


def sam_value(obj, x, rho, ctx):
    """f_SAM(x) = f(x + rho u(x))."""
    return ctx.check_finite(obj.value(perturbed_point(obj, x, rho, ctx), ctx), "f_SAM(x) = f(x+)")


def shifted_gradient(obj, x, rho, ctx):
    """grad f(x+): the direction the practical SAM step uses."""
    return obj.grad(perturbed_point(obj, x, rho, ctx), ctx)


def du_matrix(obj, x, ctx, grad: Gradient | None = None):
    """Jacobian of u: Du = (I - u u^T) H / ||g||."""
    gr = grad or gradient(obj, x, ctx)
    H = obj.hess(x, ctx)
    return (H - ctx.outer(gr.u, gr.u @ H)) / gr.norm


def sym_du(obj, x, ctx):
    J = du_matrix(obj, x, ctx)
    return (J + J.T) / 2


def sam_gradient(obj, x, rho, ctx):
    """Exact gradient of f_SAM: (I + rho Du)^T grad f(x+)."""
    rho = check_rho(rho, ctx)
    gr = gradient(obj, x, ctx)
    w = obj.grad(x + rho * gr.u, ctx)
    return w + rho * du_rmatvec(obj, x, w, ctx, gr)


def shifted_jacobian(obj, x, rho, ctx):
    """Jacobian of F(x) = grad f(x+): H(x+) (I + rho Du(x))."""
    rho = check_rho(rho, ctx)
    gr = gradient(obj, x, ctx)
    J = du_matrix(obj, x, ctx, gr)
    return obj.hess(x + rho * gr.u, ctx) @ (ctx.eye(obj.dim) + rho * J)


def sam_map_jacobian(obj, x, rho, eta, ctx):
    """Jacobian of the SAM step x -> x - eta grad f(x+): I - eta H(x+)(I + rho Du)."""
    return ctx.eye(obj.dim) - ctx.scalar(eta) * shifted_jacobian(obj, x, rho, ctx)


def sam_hessian(obj, x, rho, ctx):
    """Exact Hessian of f_SAM (needs third derivatives of f)."""
    rho = check_rho(rho, ctx)
    gr = gradient(obj, x, ctx)
    H = obj.hess(x, ctx)
    J = (H - ctx.outer(gr.u, gr.u @ H)) / gr.norm
    xp = x + rho * gr.u
    w = obj.grad(xp, ctx)
    A = ctx.eye(obj.dim) + rho * J
    Pw = w - gr.u * (gr.u @ w)
    JTw = H @ Pw / gr.norm
    Hu = H @ gr.u
    hess_wu = (obj.d3v(x, Pw / gr.norm, ctx) - (gr.u @ w) * (H @ J) / gr.norm
               - (ctx.outer(Hu, JTw) + ctx.outer(JTw, Hu)) / gr.norm)
    return A.T @ obj.hess(xp, ctx) @ A + rho * hess_wu


# -- matrix-free operators ---------------------------------------------------------------------------
def du_matvec(obj, x, v, ctx, grad: Gradient | None = None):
    """Du v = (Hv - u (u . Hv)) / n, one Hessian-vector product."""
    gr = grad or gradient(obj, x, ctx)
    Hv = obj.hvp(x, v, ctx)
    return (Hv - gr.u * (gr.u @ Hv)) / gr.norm


def du_rmatvec(obj, x, v, ctx, grad: Gradient | None = None):
    """Du^T v = H (v - u (u . v)) / n, one Hessian-vector product."""
    gr = grad or gradient(obj, x, ctx)
    return obj.hvp(x, v - gr.u * (gr.u @ v), ctx) / gr.norm


def sym_du_matvec(obj, x, v, ctx, grad: Gradient | None = None):
    """Sym(Du) v = (Du v + Du^T v)/2, two Hessian-vector products."""
    gr = grad or gradient(obj, x, ctx)
    return (du_matvec(obj, x, v, ctx, gr) + du_rmatvec(obj, x, v, ctx, gr)) / 2


def shifted_jacobian_matvec(obj, x, rho, v, ctx, grad: Gradient | None = None):
    """H(x+)(I + rho Du) v, two Hessian-vector products."""
    rho = check_rho(rho, ctx)
    gr = grad or gradient(obj, x, ctx)
    return obj.hvp(x + rho * gr.u, v + rho * du_matvec(obj, x, v, ctx, gr), ctx)


def shifted_jacobian_rmatvec(obj, x, rho, v, ctx, grad: Gradient | None = None):
    """(I + rho Du)^T H(x+) v, two Hessian-vector products."""
    rho = check_rho(rho, ctx)
    gr = grad or gradient(obj, x, ctx)
    w = obj.hvp(x + rho * gr.u, v, ctx)
    return w + rho * du_rmatvec(obj, x, w, ctx, gr)


def sam_hessian_matvec(obj, x, rho, v, ctx, grad: Gradient | None = None):
    """Hessian of f_SAM times v without forming a matrix (Hessian-vector products and one
    third-derivative contraction T[a] v); the dense formula is :func:`sam_hessian`."""
    rho = check_rho(rho, ctx)
    gr = grad or gradient(obj, x, ctx)
    xp = x + rho * gr.u
    w = obj.grad(xp, ctx)
    Av = v + rho * du_matvec(obj, x, v, ctx, gr)
    z = obj.hvp(xp, Av, ctx)
    first = z + rho * du_rmatvec(obj, x, z, ctx, gr)
    a = (w - gr.u * (gr.u @ w)) / gr.norm
    JTw = obj.hvp(x, a, ctx)
    Hu = obj.hvp(x, gr.u, ctx)
    hess_wu_v = (obj.d3vv(x, a, v, ctx) - (gr.u @ w) * obj.hvp(x, du_matvec(obj, x, v, ctx, gr), ctx)
                 / gr.norm - (Hu * (JTw @ v) + JTw * (Hu @ v)) / gr.norm)
    return first + rho * hess_wu_v


def i_plus_rho_du_matvec(obj, x, rho, v, ctx, grad: Gradient | None = None):
    """(I + rho Du) v."""
    return v + check_rho(rho, ctx) * du_matvec(obj, x, v, ctx, grad)


def i_plus_rho_du_rows(X, HX, u, c):
    """(I + rho Du) applied to each row of X at once (block Krylov code), from the rows HX of H X,
    the unit gradient as a row u of shape (1, d) and c = rho / ||g||: X + c P (H X) row by row."""
    return X + c * (HX - (HX @ u.T) @ u)


def i_plus_rho_du_rmatvec(obj, x, rho, v, ctx, grad: Gradient | None = None):
    """(I + rho Du)^T v."""
    return v + check_rho(rho, ctx) * du_rmatvec(obj, x, v, ctx, grad)


# -- diagnostics -------------------------------------------------------------------------------------
@dataclass
class SamDiagnostics:
    """The numbers the paper logs: f, ||grad f(x)||, ||grad f(x+)||, GradRatio, LossGap."""
    f: Any
    f_sam: Any
    grad_norm: Any
    shifted_grad_norm: Any
    grad_ratio: Any
    loss_gap: Any
    x_plus: Any


def diagnostics(obj, x, rho, ctx, grad: Gradient | None = None) -> SamDiagnostics:
    """``grad``: the :class:`Gradient` at x when the caller has it already."""
    rho = check_rho(rho, ctx)
    gr = grad or gradient(obj, x, ctx)
    xp = x + rho * gr.u
    f, fp = obj.value(x, ctx), obj.value(xp, ctx)
    wn = ctx.norm(obj.grad(xp, ctx))
    for name, val in (("f(x)", f), ("f(x+)", fp), ("||grad f(x+)||", wn)):
        ctx.check_finite(val, name)
    return SamDiagnostics(f, fp, gr.norm, wn, wn / gr.norm, fp - f, xp)


# -- batched rows (many points at once; torch tensors of shape (S, d)) -------------------------------
def perturbation_scale(rho, grad_norm, eps: float = 0.0):
    """The factor c with x+ = x + c g: rho / (||g|| + eps) (``eps`` guards ||g|| = 0 as practical
    SAM implementations do; eps = 0 is the exact u = g / ||g||). The one formula behind the torch
    trainer (:func:`perturbed_rows`) and the ``SAM`` optimizer of :mod:`verify.nn.sam_optimizer`."""
    return rho / (grad_norm + eps)


def perturbed_rows(X, G, rho, eps: float = 0.0):
    """x+ = x + rho g / ||g|| for each row of X with its gradient row of G (rho a scalar or an
    (S, 1) column); ``eps`` guards ||g|| = 0 as practical SAM implementations do. The batched form
    of :func:`perturbed_point`, for training many seeds at once (no decisions, so it works under
    torch.func.vmap and on GPU without synchronization)."""
    return X + G * perturbation_scale(rho, G.norm(dim=-1, keepdim=True), eps)


def perturbed_points_batch(X, G, rho, method: str = "sam", undefined: float = 0.0):
    """Many points at once in float64 numpy: the rows of X (any leading shape, coordinates on the
    last axis) with their gradient rows G. ``"sam"``: x+ = x + rho g / ||g||, where g = 0 (or is not
    finite) the direction is ``undefined`` — 0 as practical implementations do, or nan to mark the
    row; ``"usam"``: x + rho g (Kim et al.). ``rho`` a number or an array broadcasting to the rows
    (one radius per row). The numpy form of :func:`perturbed_point` / :func:`usam_point`."""
    if method == "usam":
        return X + rho * G
    # the run loops call this once a step on a few rows: ||g|| as np.linalg.norm computes it (the
    # same bits) without its checks, and the masking only where some g = 0 (or is not finite)
    norm = np.sqrt(np.add.reduce(G * G, axis=-1, keepdims=True))
    defined = norm > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        U = G / norm
    if not defined.all():
        U = np.where(defined, U, undefined)
    return X + rho * U


def diagnostics_rows(f, G, f_plus, W):
    """Batched :func:`diagnostics` numbers from values and gradients already evaluated at x and
    x+: (||g||, ||grad f(x+)||, GradRatio, LossGap) per row."""
    gn, wn = G.norm(dim=-1), W.norm(dim=-1)
    return gn, wn, wn / gn, f_plus - f


# -- float64 rows (numpy arrays of shape (k, d): many points at once) ---------------------------------
def unit_gradient_rows(G):
    """(u, ||g||) for each row g of G: the rows of :func:`gradient`; a row with g = 0 comes back
    NaN (u undefined), for the caller to refuse."""
    n = np.linalg.norm(G, axis=1)
    with np.errstate(all="ignore"):
        return G / n[:, None], n


def i_plus_rho_du_batch(G, H, rho):
    """The matrices I + rho Du with Du = (I - u u^T) H / ||g|| (:func:`du_matrix`) for each row g of G and its
    Hessian H (k, d, d)."""
    u, n = unit_gradient_rows(G)
    with np.errstate(all="ignore"):
        Du = (H - u[:, :, None] * np.einsum("kj,kji->ki", u, H)[:, None, :]) / n[:, None, None]
    return np.eye(G.shape[1]) + rho * Du


def _show(x, ctx) -> str:
    try:
        return "(" + ", ".join(f"{ctx.to_float(v):.6g}" for v in ctx.to_list(x)) + ")"
    except (TypeError, ValueError, NonFiniteError):
        return str(x)
