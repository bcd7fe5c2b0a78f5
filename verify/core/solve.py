"""Newton's method in any context, with a stated stopping tolerance.

``newton(residual, jacobian, x0, ctx)`` iterates x <- x - J(x)^{-1} r(x) until ||r(x)|| <= tol
(default: the context's ``solver`` tolerance tier scaled by max(1, ||x||)) and raises :class:`ConvergenceError`
naming the last residual otherwise. Used for critical points, the Lagrange system of Theorem 2.1 and
the continuation of Theorem 3.1.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..errors import ConvergenceError


@dataclass
class NewtonResult:
    x: Any
    residual: Any
    iterations: int
    tol: Any


def newton(residual: Callable, jacobian: Callable, x0, ctx, tol=None, max_iter: int = 100,
           what: str = "Newton", require_isolated: bool = False) -> NewtonResult:
    """``require_isolated``: also refuse a solution at which the Jacobian is numerically singular
    (sigma_min/sigma_max below the ``sampling`` tier), i.e. one of a continuum of solutions. Whether
    Newton happens to converge onto such a continuum depends on rounding; this makes it a decision."""
    with ctx.working():  # every step at the context's own precision
        res = _newton(residual, jacobian, x0, ctx, tol, max_iter, what)
        if require_isolated:
            ratio = _conditioning(jacobian, res.x, ctx)
            if ratio is not None and ratio < ctx.to_float(ctx.tol(tier="sampling")):
                raise ConvergenceError(f"{what} converged to a point where the Jacobian is nearly "
                                       f"singular (sigma_min/sigma_max = {ratio:.2e}): the solution "
                                       f"is not isolated")
        return res


def _newton(residual, jacobian, x0, ctx, tol, max_iter, what) -> NewtonResult:
    x = x0
    r = residual(x)
    rn = ctx.norm(r)
    for k in range(max_iter):
        scale = max(1.0, ctx.to_float(ctx.norm(x)))
        target = tol if tol is not None else ctx.tol(scale, tier="solver")
        if ctx.to_float(rn) <= ctx.to_float(target):
            return NewtonResult(x, rn, k, target)
        step = ctx.solve(jacobian(x), r)
        # damp the step until the residual decreases (keeps Newton inside the basin it started in)
        t = ctx.scalar(1)
        for _ in range(30):
            trial = ctx.midpoint(x - t * step)  # intervals: steer by midpoints
            r_trial = residual(trial)
            rn_trial = ctx.norm(r_trial)
            if ctx.to_float(rn_trial) < ctx.to_float(rn) or ctx.to_float(rn) == 0:
                break
            t = t / 2
        x, r, rn = trial, r_trial, rn_trial
    scale = max(1.0, ctx.to_float(ctx.norm(x)))
    target = tol if tol is not None else ctx.tol(scale, tier="solver")
    if ctx.to_float(rn) <= ctx.to_float(target):
        return NewtonResult(x, rn, max_iter, target)
    raise ConvergenceError(f"{what} did not converge in {max_iter} steps: residual "
                           f"{ctx.to_float(rn):.3e} > tolerance {ctx.to_float(target):.3e}"
                           + _conditioning_hint(jacobian, x, ctx))


def _conditioning(jacobian, x, ctx) -> float | None:
    """sigma_min / sigma_max of the Jacobian at x, or None where it cannot be computed."""
    try:
        s = ctx.svdvals(jacobian(x))
        return ctx.to_float(s[-1]) / max(ctx.to_float(s[0]), 1e-300)
    except Exception:  # the conditioning is a diagnosis: never mask the caller's own outcome
        return None


def _conditioning_hint(jacobian, x, ctx) -> str:
    """Why Newton may have stalled: a (nearly) singular Jacobian means the solution is not isolated
    (a continuum of solutions) and Newton converges only linearly, if at all."""
    ratio = _conditioning(jacobian, x, ctx)
    if ratio is None:
        return ""
    if ratio < ctx.to_float(ctx.tol(tier="sampling")):
        return (f"; the Jacobian at the last iterate is nearly singular (sigma_min/sigma_max = "
                f"{ratio:.2e}), so the solution is likely not isolated")
    return f"; Jacobian sigma_min/sigma_max = {ratio:.2e} at the last iterate"


def critical_point(obj, x0, ctx, tol=None, max_iter: int = 100):
    """Solve grad f(x) = 0 from x0 by Newton with the exact Hessian."""
    x0 = obj.point(x0, ctx)
    return newton(lambda x: obj.grad(x, ctx), lambda x: obj.hess(x, ctx), x0, ctx, tol, max_iter,
                  what=f"critical-point Newton on {obj.name}")


def solve_columns(ctx, A, B):
    """A^{-1} B column by column in the context's arithmetic (B a d x k matrix)."""
    cols = [ctx.solve(A, B[:, j]) for j in range(B.shape[1])]
    return ctx.stack(cols).T


def newton_batch(residual: Callable, jacobian: Callable, X0, ctx, tol=None, max_iter: int = 100,
                 what: str = "Newton") -> list:
    """:func:`newton` on n independent systems at once, in float64 (``ctx`` a float64 context).

    ``X0`` is (n, d); ``residual(X, rows)`` gives the (k, d) residuals of the systems ``rows`` (an
    index array) at their points X (k, d), ``jacobian(X, rows)`` their (k, d, d) Jacobians; both are
    asked only for the rows still iterating. Each row follows :func:`newton`'s iteration (a step
    damped by halving until its residual decreases) and its stopping rule (||r|| <= tol, default
    the ``solver`` tier times max(1, ||x||)); a row whose residual is not finite stops with an
    error. Returns one :class:`NewtonResult` or :class:`ConvergenceError` a row."""
    X = np.array(X0, dtype=float, copy=True)
    active = np.arange(X.shape[0])
    with np.errstate(all="ignore"):
        R = residual(X, active)
        rn = np.linalg.norm(R, axis=1)
        out: list = [None] * X.shape[0]
        for k in range(max_iter + 1):
            active = _settle(out, active, X, rn, k, ctx, tol, what)
            if not active.size or k == max_iter:
                break
            step = _newton_steps(jacobian(X[active], active), R[active])
            singular = ~np.isfinite(step).all(axis=1)
            for i in active[singular]:
                out[i] = ConvergenceError(f"{what}: the Jacobian is singular at {X[i].tolist()}")
            active, step = active[~singular], step[~singular]
            _damped_steps(residual, X, R, rn, active, step)
    for i in active:
        out[i] = ConvergenceError(f"{what} did not converge in {max_iter} steps: residual "
                                  f"{rn[i]:.3e} > tolerance {_target(X[i], ctx, tol):.3e}")
    return out


def _newton_steps(J, R):
    """J^-1 r for each row; rows whose Jacobian is exactly singular (or not finite) get NaN."""
    try:
        return np.linalg.solve(J, R[..., None])[..., 0]
    except np.linalg.LinAlgError:  # one singular matrix fails the whole stack: solve one by one
        steps = np.full(R.shape, np.nan)
        for j in range(len(R)):
            try:
                steps[j] = np.linalg.solve(J[j], R[j])
            except np.linalg.LinAlgError:
                pass
        return steps


def _target(x, ctx, tol) -> float:
    return ctx.to_float(tol if tol is not None else
                        ctx.tol(max(1.0, float(np.linalg.norm(x))), tier="solver"))


def _settle(out: list, rows, X, rn, k: int, ctx, tol, what: str):
    """Close the rows that meet their tolerance at iteration k (or whose residual is not finite);
    return the others."""
    limit = np.array([_target(X[i], ctx, tol) for i in rows])
    finite = np.isfinite(rn[rows])
    for i, lim in zip(rows[rn[rows] <= limit], limit[rn[rows] <= limit]):
        out[i] = NewtonResult(X[i].copy(), float(rn[i]), k, lim)
    for i in rows[~finite]:
        out[i] = ConvergenceError(f"{what}: the residual is not finite at {X[i].tolist()} "
                                  f"(after {k} steps)")
    return rows[(rn[rows] > limit) & finite]


def _damped_steps(residual, X, R, rn, rows, step) -> None:
    """X[rows] <- X[rows] - t step for the first t = 1, 1/2, ... (30 tries) that lowers the row's
    residual (the last try otherwise), as :func:`newton` does; R and rn follow. In place."""
    t = np.ones(len(rows))
    pending = np.ones(len(rows), dtype=bool)
    trial, r_trial, rn_trial = X[rows].copy(), R[rows].copy(), rn[rows].copy()
    for _ in range(30):
        idx = np.flatnonzero(pending)
        if not idx.size:
            break
        trial[idx] = X[rows[idx]] - t[idx, None] * step[idx]
        r_trial[idx] = residual(trial[idx], rows[idx])
        rn_trial[idx] = np.linalg.norm(r_trial[idx], axis=1)
        better = (rn_trial[idx] < rn[rows[idx]]) | (rn[rows[idx]] == 0)
        t[idx[~better]] /= 2
        pending[idx[better]] = False
    X[rows], R[rows], rn[rows] = trial, r_trial, rn_trial
