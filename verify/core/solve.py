"""Newton's method in any context, with a stated stopping tolerance.

``newton(residual, jacobian, x0, ctx)`` iterates x <- x - J(x)^{-1} r(x) until ||r(x)|| <= tol
(default: the context's ``tol`` scaled by max(1, ||x||)) and raises :class:`ConvergenceError`
naming the last residual otherwise. Used for critical points, the Lagrange system of Theorem 2.1 and
the continuation of Theorem 3.1.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..errors import ConvergenceError


@dataclass
class NewtonResult:
    x: Any
    residual: Any
    iterations: int
    tol: Any


def newton(residual: Callable, jacobian: Callable, x0, ctx, tol=None, max_iter: int = 100,
           what: str = "Newton") -> NewtonResult:
    x = x0
    r = residual(x)
    rn = ctx.norm(r)
    for k in range(max_iter):
        scale = max(1.0, ctx.to_float(ctx.norm(x)))
        target = tol if tol is not None else ctx.tol(scale, units=64)
        if ctx.to_float(rn) <= ctx.to_float(target):
            return NewtonResult(x, rn, k, target)
        step = ctx.solve(jacobian(x), r)
        # damp the step until the residual decreases (keeps Newton inside the basin it started in)
        t = ctx.scalar(1)
        for _ in range(30):
            trial = x - t * step
            r_trial = residual(trial)
            rn_trial = ctx.norm(r_trial)
            if ctx.to_float(rn_trial) < ctx.to_float(rn) or ctx.to_float(rn) == 0:
                break
            t = t / 2
        x, r, rn = trial, r_trial, rn_trial
    scale = max(1.0, ctx.to_float(ctx.norm(x)))
    target = tol if tol is not None else ctx.tol(scale, units=64)
    if ctx.to_float(rn) <= ctx.to_float(target):
        return NewtonResult(x, rn, max_iter, target)
    raise ConvergenceError(f"{what} did not converge in {max_iter} steps: residual "
                           f"{ctx.to_float(rn):.3e} > tolerance {ctx.to_float(target):.3e}"
                           + _conditioning_hint(jacobian, x, ctx))


def _conditioning_hint(jacobian, x, ctx) -> str:
    """Why Newton may have stalled: a (nearly) singular Jacobian means the solution is not isolated
    (a continuum of solutions) and Newton converges only linearly, if at all."""
    try:
        s = ctx.svdvals(jacobian(x))
        ratio = ctx.to_float(s[-1]) / max(ctx.to_float(s[0]), 1e-300)
    except Exception:  # the hint is optional: never mask the convergence error itself
        return ""
    if ratio < ctx.to_float(ctx.scalar(ctx.eps) ** (ctx.scalar(1) / 2)):
        return (f"; the Jacobian at the last iterate is nearly singular (sigma_min/sigma_max = "
                f"{ratio:.2e}), so the solution is likely not isolated")
    return f"; Jacobian sigma_min/sigma_max = {ratio:.2e} at the last iterate"


def critical_point(obj, x0, ctx, tol=None, max_iter: int = 100):
    """Solve grad f(x) = 0 from x0 by Newton with the exact Hessian."""
    x0 = obj.point(x0, ctx)
    return newton(lambda x: obj.grad(x, ctx), lambda x: obj.hess(x, ctx), x0, ctx, tol, max_iter,
                  what=f"critical-point Newton on {obj.name}")
