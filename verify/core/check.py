"""Derivative checks that ship with the library: every operator against finite differences.

Users check their own objectives the way the library checks itself: each exact derivative, applied
to a few random directions v, is compared with a central finite difference of the quantity it
differentiates.

How the difference and its allowance follow from the precision:

* the stencil order p and step h come from the unit roundoff eps of the arithmetic the difference is
  taken in: p = 4 in float64-class precision and p = 8 beyond 100 bits, h = eps^(1/(p+1)) max(1, ||x||),
  so truncation (~h^p) and cancellation (~eps/h) balance;
* in mpmath the difference is taken at twice the working digits (high-order stencils amplify high
  derivatives, which for u = grad f/||grad f|| grow factorially), so the reference is far more accurate
  than the quantity under test;
* the truncation error is not assumed but estimated, Richardson-style, from the same stencil at 2h:
  |D(h) - D(2h)| / (2^p - 1);
* the allowance stated in each claim is ``10 * truncation estimate + 1e3 * (eps_ref/h + eps) *
  max(1, |reference|)``: the estimate with a safety factor, plus cancellation in the difference and
  roundoff of the working precision with three orders of margin.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any

import numpy as np

from . import sam
from .claims import compare


@dataclass
class Difference:
    """A central finite difference D(h) with its estimated truncation error and step."""
    value: Any
    truncation: Any
    h: Any
    order: int


@lru_cache(maxsize=None)
def central_weights(order: int) -> tuple[tuple[int, Fraction], ...]:
    """Exact weights of the central first-derivative stencil of even ``order``."""
    import sympy as sp
    m = order // 2
    nodes = list(range(-m, m + 1))
    w = sp.finite_diff_weights(1, nodes, 0)[1][-1]
    return tuple((k, Fraction(int(c.p), int(c.q))) for k, c in zip(nodes, w) if c != 0)


def reference_context(ctx):
    """The arithmetic the finite differences are taken in (``ctx.reference()``: twice the digits
    for mpmath, the context itself where precision is fixed or rigorous)."""
    return ctx.reference()


def fd_plan(ctx, x):
    """(order, step h, roundoff part of the allowance) for differences at x in ``ctx``."""
    ref = reference_context(ctx)
    order = 8 if ref.prec > 100 else 4
    scale = max(1.0, ctx.to_float(ctx.norm(x)))
    h = ref.scalar(ref.eps) ** (ref.scalar(1) / (order + 1)) * scale
    roundoff = 1000 * (ctx.scalar(ref.scalar(ref.eps) / h) + ctx.scalar(ctx.eps))
    return order, h, roundoff


def directional_fd(fun, x, v, ctx) -> Difference:
    """Central finite difference of ``fun`` (scalar or vector valued; written against a context,
    called with points of the reference context) at x along v, returned in ``ctx``."""
    ref = reference_context(ctx)
    order, h, _ = fd_plan(ctx, x)
    xr, vr = _convert(x, ref), _convert(v, ref)

    def stencil(step):
        total = None
        for k, w in central_weights(order):
            term = fun(xr + (step * k) * vr, ref) * ref.scalar(w)
            total = term if total is None else total + term
        return total / step

    d1, d2 = stencil(h), stencil(2 * h)
    trunc = _size(d1 - d2, ref) / (2 ** order - 1)
    if ref is not ctx:
        d1, trunc, h = _convert(d1, ctx), ctx.scalar(trunc), ctx.scalar(h)
    return Difference(d1, trunc, h, order)


def _size(v, ctx):
    return ctx.norm(v.reshape(-1)) if hasattr(v, "shape") and len(v.shape) else ctx.abs(v)


def _convert(v, ctx):
    return ctx.convert(v)


def fd_claim(cid, statement, exact, diff: Difference, x, ctx):
    """Claim: ``exact`` (a derivative) agrees with its finite difference ``diff`` within the allowance
    10 * truncation estimate + roundoff (see the module docstring)."""
    _, _, roundoff = fd_plan(ctx, x)
    err = _size(exact - diff.value, ctx)
    bound = 10 * diff.truncation + roundoff * max(1.0, ctx.to_float(_size(diff.value, ctx)))
    return compare(cid, statement, err, "<=", bound, ctx,
                   note=f"central difference of order {diff.order}, step {ctx.to_float(diff.h):.3g}; "
                        f"truncation estimated from steps h and 2h")


def _directions(obj, ctx, count: int, seed: int):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        d = rng.standard_normal(obj.dim)
        d = d / np.linalg.norm(d)
        out.append(ctx.vector([float(c) for c in d]))
    return out


def check_derivatives(obj, x, ctx, directions: int = 2, seed: int = 0) -> list:
    """f's gradient, Hessian-vector product, Hessian and third derivative vs finite differences."""
    x = obj.point(x, ctx)
    claims = []
    for i, v in enumerate(_directions(obj, ctx, directions, seed)):
        claims.append(fd_claim(f"grad.v[{i}]", "grad f . v equals the difference quotient of f",
                               obj.grad(x, ctx) @ v,
                               directional_fd(lambda y, c: obj.value(y, c), x, v, ctx), x, ctx))
        hv_fd = directional_fd(lambda y, c: obj.grad(y, c), x, v, ctx)
        claims.append(fd_claim(f"hvp[{i}]", "Hessian-vector product equals the difference of grad f",
                               obj.hvp(x, v, ctx), hv_fd, x, ctx))
        claims.append(fd_claim(f"hess[{i}]", "dense Hessian times v equals the difference of grad f",
                               obj.hess(x, ctx) @ v, hv_fd, x, ctx))
        try:
            t_exact = obj.d3v(x, v, ctx)
        except NotImplementedError:
            continue
        t_fd = directional_fd(lambda y, c: obj.hess(y, c), x, v, ctx)
        claims.append(fd_claim(f"d3v[{i}]", "third derivative along v equals the difference of the "
                               "Hessian", t_exact, t_fd, x, ctx))
    return claims


def check_sam_operators(obj, x, rho, ctx, directions: int = 2, seed: int = 0,
                        hessian: bool = True) -> list:
    """Every SAM operator of :mod:`verify.core.sam` against finite differences, and the matrix-free
    forms against the dense ones."""
    x = obj.point(x, ctx)
    rho = sam.check_rho(rho, ctx)
    # the same rho, carried exactly into the reference arithmetic
    rho_of = lambda c: rho if c is ctx else c.scalar(rho)  # noqa: E731
    claims = []
    for i, v in enumerate(_directions(obj, ctx, directions, seed)):
        claims.append(fd_claim(f"grad_f_sam.v[{i}]",
                               "exact gradient of f_SAM . v equals the difference quotient of f_SAM",
                               sam.sam_gradient(obj, x, rho, ctx) @ v,
                               directional_fd(lambda y, c: sam.sam_value(obj, y, rho_of(c), c), x, v,
                                              ctx), x, ctx))
        claims.append(fd_claim(f"Du.v[{i}]", "Du v equals the difference of u",
                               sam.du_matrix(obj, x, ctx) @ v,
                               directional_fd(lambda y, c: sam.unit_gradient(obj, y, c), x, v, ctx),
                               x, ctx))
        claims.append(fd_claim(f"DF.v[{i}]", "H(x+)(I + rho Du) v equals the difference of "
                               "grad f(x+)", sam.shifted_jacobian(obj, x, rho, ctx) @ v,
                               directional_fd(lambda y, c: sam.shifted_gradient(obj, y, rho_of(c), c),
                                              x, v, ctx), x, ctx))
        claims.append(_agree(f"Du.v matrix-free[{i}]", "matrix-free Du v equals dense Du v",
                             sam.du_matvec(obj, x, v, ctx), sam.du_matrix(obj, x, ctx) @ v, ctx))
        claims.append(_agree(f"DuT.v matrix-free[{i}]", "matrix-free Du^T v equals dense Du^T v",
                             sam.du_rmatvec(obj, x, v, ctx), sam.du_matrix(obj, x, ctx).T @ v, ctx))
        claims.append(_agree(f"DF.v matrix-free[{i}]", "matrix-free shifted Jacobian equals dense",
                             sam.shifted_jacobian_matvec(obj, x, rho, v, ctx),
                             sam.shifted_jacobian(obj, x, rho, ctx) @ v, ctx))
        if hessian:
            claims.append(_agree(f"hess_f_sam.v matrix-free[{i}]", "matrix-free Hessian of f_SAM "
                                 "times v equals the dense one",
                                 sam.sam_hessian_matvec(obj, x, rho, v, ctx),
                                 sam.sam_hessian(obj, x, rho, ctx) @ v, ctx))
            claims.append(fd_claim(f"hess_f_sam.v[{i}]", "exact Hessian of f_SAM times v equals the "
                                   "difference of the exact gradient of f_SAM",
                                   sam.sam_hessian(obj, x, rho, ctx) @ v,
                                   directional_fd(lambda y, c: sam.sam_gradient(obj, y, rho_of(c), c),
                                                  x, v, ctx), x, ctx))
    return claims


def _agree(cid, statement, a, b, ctx):
    """Two exact formulas for the same quantity agree to roundoff (the ``derived`` tier times the
    size)."""
    scale = max(1.0, ctx.to_float(_size(b, ctx)))
    return compare(cid, statement, _size(a - b, ctx), "<=", 0, ctx, tier="derived", scale=scale,
                   note="derived tier (1024 units of roundoff) times the size")
