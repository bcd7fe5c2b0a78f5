"""Iterations in any context: GD, SAM (normalized), USAM (unnormalized, Kim et al.), heavy-ball
momentum, and switching (plain GD for a fraction of the steps, then SAM).

One step of each method moves along a *direction*:

* ``gd``:   grad f(x)
* ``sam``:  grad f(x + rho u(x))           (the practical, shifted gradient)
* ``usam``: grad f(x + rho grad f(x))

and, with momentum beta, ``v <- beta v + direction; x <- x - eta v`` (beta = 0 is the plain step).
Every step logs f, ||grad f(x)||, ||grad f(x+)||, GradRatio = ||grad f(x+)|| / ||grad f(x)|| and
LossGap = f(x+) - f(x) (x+ the SAM point for the given rho). The run stops at a fixed point when
||eta v|| <= tol (stated in the result), at a critical point of f where u is undefined, or when
the run diverges (non-finite values); ``stop_reason`` says which.

This module is the one iteration driver of the library (switching and momentum are coded here
only): :func:`iterates` yields the steps of one run in any context (the caller's loop is its
per-step hook: audit, record, stop), :func:`run` records a :class:`Trajectory` from it, and
:func:`run_batch` advances many float64 starts at once (the rows of an array; ``on_step`` hook),
which :mod:`verify.core.stochastic` uses for its noisy chains.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import sam
from .operators import SamPoint
from ..errors import NonFiniteError, SamVerifyError, ZeroGradientError

METHODS = ("gd", "sam", "usam")


@dataclass
class Trajectory:
    method: str
    rho: Any
    eta: float
    momentum: float
    switch_step: int
    xs: list = field(default_factory=list)          # iterates (native vectors), every record_every
    f: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)
    shifted_grad_norm: list = field(default_factory=list)
    grad_ratio: list = field(default_factory=list)
    loss_gap: list = field(default_factory=list)
    steps: int = 0
    stop_reason: str = "step budget exhausted"
    tol: float = 0.0

    @property
    def x(self):
        return self.xs[-1]

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("method", "eta", "momentum", "switch_step", "steps",
                                              "stop_reason", "tol", "f", "grad_norm",
                                              "shifted_grad_norm", "grad_ratio", "loss_gap")}


def _direction(obj, x, method: str, rho, ctx):
    """(the SamPoint at x for a "sam" step, else None; the step direction)."""
    if method == "gd":
        return None, obj.grad(x, ctx)
    if method == "sam":
        point = SamPoint(obj, x, rho, ctx)
        return point, point.shifted_grad
    if method == "usam":
        return None, obj.grad(sam.usam_point(obj, x, rho, ctx), ctx)
    raise SamVerifyError(f"unknown method {method!r}; use one of {METHODS}")


def active_method(k: int, method: str, switch_step: int) -> str:
    """Switching: plain GD for the steps k < switch_step, then ``method``."""
    return "gd" if k < switch_step else method


def heavy_ball(v, d, beta):
    """The momentum buffer after a step with direction d: beta v + d (d itself at the first step,
    v None, or without momentum, beta None)."""
    return d if v is None or beta is None else beta * v + d


@dataclass
class Step:
    """One step of a run, handed to the caller: the iterate x_k, the method active there, the
    SamPoint at x_k (``sam`` steps: grad f(x+), f(x+), ... cached), the direction and the next
    iterate x_{k+1} = x_k - eta v."""
    k: int
    x: Any
    method: str
    point: SamPoint | None
    direction: Any
    step: Any
    x_next: Any


def iterates(obj, x0, ctx, method: str = "sam", rho=None, eta: float = 0.01, momentum: float = 0.0,
             switch_step: int = 0):
    """The steps of a run from ``x0``, without end (the caller stops); ZeroGradientError where u is
    undefined at a SAM iterate, NonFiniteError where the direction is not finite."""
    x = obj.point(x0, ctx)
    eta_c, beta = ctx.scalar(eta), (ctx.scalar(momentum) if momentum else None)
    v, k = None, 0
    while True:
        active = active_method(k, method, switch_step)
        point, d = _direction(obj, x, active, rho, ctx)
        d = ctx.check_finite(d, "step direction")
        v = heavy_ball(v, d, beta)
        step = eta_c * v
        yield Step(k, x, active, point, d, step, x - step)
        x, k = x - step, k + 1


def run(obj, x0, ctx, method: str = "sam", rho=None, eta: float = 0.01, steps: int = 1000,
        momentum: float = 0.0, switch_fraction: float = 0.0, tol: float | None = None,
        record_every: int = 1) -> Trajectory:
    """Iterate from ``x0``. With ``switch_fraction > 0`` the first fraction of steps is plain GD."""
    if method not in METHODS:
        raise SamVerifyError(f"unknown method {method!r}; use one of {METHODS}")
    if method != "gd" or rho is not None:
        rho = sam.check_rho(rho, ctx)
    if not 0 <= switch_fraction < 1:
        raise SamVerifyError(f"switch_fraction must lie in [0, 1), got {switch_fraction}")
    if eta <= 0:
        raise SamVerifyError(f"step size eta must be > 0, got {eta}")
    x = obj.point(x0, ctx)
    tol = ctx.to_float(ctx.tol(1, tier="solver")) if tol is None else tol
    traj = Trajectory(method, rho, eta, momentum, int(switch_fraction * steps), tol=tol)
    run_steps = iterates(obj, x, ctx, method, rho, eta, momentum, traj.switch_step)
    for k in range(steps + 1):
        if k % record_every == 0 or k == steps:
            _record(traj, obj, x, rho, ctx)
        if k == steps:
            break
        try:
            st = next(run_steps)
        except ZeroGradientError:
            traj.stop_reason = f"critical point of f reached at step {k} (u undefined)"
            break
        except NonFiniteError:
            traj.stop_reason = f"diverged: non-finite values at step {k}"
            break
        x = st.x_next
        traj.steps = k + 1
        if ctx.to_float(ctx.norm(st.step)) <= tol:
            traj.stop_reason = f"fixed point: ||step|| <= {tol:.3g} at step {k + 1}"
            _record(traj, obj, x, rho, ctx)
            break
    return traj


# -- many starts at once (float64 numpy rows) --------------------------------------------------------
def batch_direction(grad, W, method: str, rho):
    """The noise-free step direction of ``method`` at every row of W; ``grad(W)`` is vectorised
    over rows. Where grad f = 0 a SAM row is not perturbed (practical implementations' convention)."""
    if method == "gd":
        return grad(W)
    if method in ("sam", "usam"):
        return grad(sam.perturbed_points_batch(W, grad(W), rho, method))
    raise SamVerifyError(f"unknown method {method!r}; use one of {METHODS}")


def run_batch(grad, W0, method: str = "sam", rho=0.0, eta: float = 0.01, steps: int = 100,
              momentum: float = 0.0, switch_step: int = 0, noise=None, on_step=None) -> np.ndarray:
    """Advance every row of ``W0`` (an (n, d) float array) ``steps`` times and return the last
    iterates. ``rho`` a number or a column of radii, one per row; ``noise(shape)`` (optional) is
    added to each direction before momentum; ``on_step(k, W)`` sees the iterates after step k.
    Overflow is not an error here: rows that blow up become inf / nan and the caller judges them."""
    W = np.array(W0, dtype=float, copy=True)
    V = None
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, steps + 1):
            D = batch_direction(grad, W, active_method(k - 1, method, switch_step), rho)
            if noise is not None:
                D = D + noise(W.shape)
            V = heavy_ball(V, D, momentum or None)
            W = W - eta * V
            if on_step is not None:
                on_step(k, W)
    return W


def _record(traj: Trajectory, obj, x, rho, ctx) -> None:
    traj.xs.append(x)
    try:
        _record_values(traj, obj, x, rho, ctx)
    except NonFiniteError:
        for name in ("f", "grad_norm", "shifted_grad_norm", "grad_ratio", "loss_gap"):
            series = getattr(traj, name)
            if len(series) < len(traj.xs) and (rho is not None or name in ("f", "grad_norm")):
                series.append(float("nan"))


def _record_values(traj: Trajectory, obj, x, rho, ctx) -> None:
    f = ctx.to_float(obj.value(x, ctx))
    traj.f.append(f)
    if rho is None:
        traj.grad_norm.append(ctx.to_float(ctx.norm(obj.grad(x, ctx))))
        return
    try:
        d = sam.diagnostics(obj, x, rho, ctx)
    except ZeroGradientError:
        for name in ("grad_norm", "shifted_grad_norm", "grad_ratio", "loss_gap"):
            getattr(traj, name).append(0.0 if name == "grad_norm" else float("nan"))
        return
    traj.grad_norm.append(ctx.to_float(d.grad_norm))
    traj.shifted_grad_norm.append(ctx.to_float(d.shifted_grad_norm))
    traj.grad_ratio.append(ctx.to_float(d.grad_ratio))
    traj.loss_gap.append(ctx.to_float(d.loss_gap))
