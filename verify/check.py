"""Derivative checks that ship with the library: every operator against finite differences.

Users check their own objectives the way the library checks itself: each exact derivative, applied
to a few random directions v, is compared with a central finite difference of the quantity it
differentiates. The stencil order p and step h follow from the unit roundoff eps of the arithmetic
the difference is taken in: p = 4 in float64-class precision and p = 8 beyond 100 bits,
h = eps^(1/(p+1)) * max(1, ||x||), so truncation (~h^p) and cancellation (~eps/h) balance.

In mpmath the difference quotient is taken at twice the working digits (high-order stencils
amplify high derivatives, which for u = grad f/||grad f|| grow factorially), so the reference is far
more accurate than the quantity under test. The allowance stated in each claim is
``1e3 * (h^p + eps_ref/h + eps) * max(1, |reference|)``: the difference's own error plus the
working precision's roundoff, with three orders of margin for derivative magnitudes.
"""
from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np

from . import sam
from .claims import compare


@lru_cache(maxsize=None)
def central_weights(order: int) -> tuple[tuple[int, Fraction], ...]:
    """Exact weights of the central first-derivative stencil of even ``order``."""
    import sympy as sp
    m = order // 2
    nodes = list(range(-m, m + 1))
    w = sp.finite_diff_weights(1, nodes, 0)[1][-1]
    return tuple((k, Fraction(int(c.p), int(c.q))) for k, c in zip(nodes, w) if c != 0)


def reference_context(ctx):
    """The arithmetic the finite differences are taken in: twice the digits for mpmath."""
    if ctx.name == "mpmath":
        from .ctx_mp import MPContext
        return MPContext(2 * ctx.dps)
    return ctx


def fd_plan(ctx, x):
    ref = reference_context(ctx)
    order = 8 if ref.prec > 100 else 4
    scale = max(1.0, ctx.to_float(ctx.norm(x)))
    h = ref.scalar(ref.eps) ** (ref.scalar(1) / (order + 1)) * scale
    allowance = 1000 * (ctx.scalar(h ** order + ref.scalar(ref.eps) / h) + ctx.scalar(ctx.eps))
    return order, h, allowance


def directional_fd(fun, x, v, ctx):
    """Central finite difference of ``fun`` (scalar or vector valued; written against ``ctx``,
    called with points of the reference context) at x along v, returned in ``ctx``."""
    ref = reference_context(ctx)
    order, h, _ = fd_plan(ctx, x)
    xr, vr = _convert(x, ref), _convert(v, ref)
    total = None
    for k, w in central_weights(order):
        term = fun(xr + (h * k) * vr, ref) * ref.scalar(w)
        total = term if total is None else total + term
    result = total / h
    return _convert(result, ctx) if ref is not ctx else result


def _convert(v, ctx):
    if hasattr(v, "shape") and len(v.shape):
        flat = [ctx.scalar(e) for e in np.asarray(v, dtype=object).reshape(-1)]
        return np.array(flat, dtype=object).reshape(v.shape) if ctx.name == "mpmath" else v
    return ctx.scalar(v)


def _directions(obj, ctx, count: int, seed: int):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        d = rng.standard_normal(obj.dim)
        d = d / np.linalg.norm(d)
        out.append(ctx.vector([repr(float(c)) if ctx.name == "mpmath" else float(c) for c in d]))
    return out


def _claim(cid, statement, exact, approx, x, ctx):
    _, _, allowance = fd_plan(ctx, x)
    err = ctx.norm(exact - approx) if hasattr(exact, "shape") and len(exact.shape) else \
        ctx.abs(exact - approx)
    ref = ctx.norm(approx) if hasattr(approx, "shape") and len(approx.shape) else ctx.abs(approx)
    bound = allowance * max(1.0, ctx.to_float(ref))
    return compare(cid, statement, err, "<=", bound, ctx,
                   note="central finite difference, order and step from the precision")


def check_derivatives(obj, x, ctx, directions: int = 2, seed: int = 0) -> list:
    """f's gradient, Hessian-vector product, Hessian and third derivative vs finite differences."""
    x = obj.point(x, ctx)
    claims = []
    for i, v in enumerate(_directions(obj, ctx, directions, seed)):
        claims.append(_claim(f"grad.v[{i}]", "grad f . v equals the difference quotient of f",
                             obj.grad(x, ctx) @ v, directional_fd(lambda y, c: obj.value(y, c), x, v, ctx),
                             x, ctx))
        hv_fd = directional_fd(lambda y, c: obj.grad(y, c), x, v, ctx)
        claims.append(_claim(f"hvp[{i}]", "Hessian-vector product equals the difference of grad f",
                             obj.hvp(x, v, ctx), hv_fd, x, ctx))
        claims.append(_claim(f"hess[{i}]", "dense Hessian times v equals the difference of grad f",
                             obj.hess(x, ctx) @ v, hv_fd, x, ctx))
        try:
            t_exact = obj.d3v(x, v, ctx)
        except NotImplementedError:
            continue
        t_fd = directional_fd(lambda y, c: obj.hess(y, c), x, v, ctx)
        claims.append(_claim(f"d3v[{i}]", "third derivative along v equals the difference of the "
                             "Hessian", _flat(t_exact, ctx), _flat(t_fd, ctx), x, ctx))
    return claims


def check_sam_operators(obj, x, rho, ctx, directions: int = 2, seed: int = 0,
                        hessian: bool = True) -> list:
    """Every SAM operator of :mod:`verify.sam` against finite differences, and the matrix-free
    forms against the dense ones."""
    x = obj.point(x, ctx)
    rho_in = rho
    rho = sam.check_rho(rho, ctx)
    rho_of = lambda c: sam.check_rho(rho_in, c) if c is not ctx else rho  # noqa: E731
    claims = []
    for i, v in enumerate(_directions(obj, ctx, directions, seed)):
        claims.append(_claim(f"grad_f_sam.v[{i}]",
                             "exact gradient of f_SAM . v equals the difference quotient of f_SAM",
                             sam.sam_gradient(obj, x, rho, ctx) @ v,
                             directional_fd(lambda y, c: sam.sam_value(obj, y, rho_of(c), c), x, v, ctx),
                             x, ctx))
        claims.append(_claim(f"Du.v[{i}]", "Du v equals the difference of u",
                             sam.du_matrix(obj, x, ctx) @ v,
                             directional_fd(lambda y, c: sam.unit_gradient(obj, y, c), x, v, ctx),
                             x, ctx))
        claims.append(_claim(f"DF.v[{i}]", "H(x+)(I + rho Du) v equals the difference of "
                             "grad f(x+)", sam.shifted_jacobian(obj, x, rho, ctx) @ v,
                             directional_fd(lambda y, c: sam.shifted_gradient(obj, y, rho_of(c), c), x, v,
                                            ctx), x, ctx))
        claims.append(_claim(f"Du.v matrix-free[{i}]", "matrix-free Du v equals dense Du v",
                             sam.du_matvec(obj, x, v, ctx), sam.du_matrix(obj, x, ctx) @ v, x, ctx))
        claims.append(_claim(f"DuT.v matrix-free[{i}]", "matrix-free Du^T v equals dense Du^T v",
                             sam.du_rmatvec(obj, x, v, ctx), sam.du_matrix(obj, x, ctx).T @ v, x, ctx))
        claims.append(_claim(f"DF.v matrix-free[{i}]", "matrix-free shifted Jacobian equals dense",
                             sam.shifted_jacobian_matvec(obj, x, rho, v, ctx),
                             sam.shifted_jacobian(obj, x, rho, ctx) @ v, x, ctx))
        if hessian:
            claims.append(_claim(f"hess_f_sam.v matrix-free[{i}]", "matrix-free Hessian of f_SAM "
                                 "times v equals the dense one",
                                 sam.sam_hessian_matvec(obj, x, rho, v, ctx),
                                 sam.sam_hessian(obj, x, rho, ctx) @ v, x, ctx))
            claims.append(_claim(f"hess_f_sam.v[{i}]", "exact Hessian of f_SAM times v equals the "
                                 "difference of the exact gradient of f_SAM",
                                 sam.sam_hessian(obj, x, rho, ctx) @ v,
                                 directional_fd(lambda y, c: sam.sam_gradient(obj, y, rho_of(c), c), x, v,
                                                ctx), x, ctx))
    return claims


def _flat(M, ctx):
    return M.reshape(-1)
