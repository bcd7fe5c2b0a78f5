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
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import sam
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


def direction(obj, x, method: str, rho, ctx):
    if method == "gd":
        return obj.grad(x, ctx)
    if method == "sam":
        return sam.shifted_gradient(obj, x, rho, ctx)
    if method == "usam":
        return obj.grad(sam.usam_point(obj, x, rho, ctx), ctx)
    raise SamVerifyError(f"unknown method {method!r}; use one of {METHODS}")


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
    v = None
    eta_c, beta = ctx.scalar(eta), ctx.scalar(momentum)
    for k in range(steps + 1):
        if k % record_every == 0 or k == steps:
            _record(traj, obj, x, rho, ctx)
        if k == steps:
            break
        active = "gd" if k < traj.switch_step else method
        try:
            d = ctx.check_finite(direction(obj, x, active, rho, ctx), "step direction")
        except ZeroGradientError:
            traj.stop_reason = f"critical point of f reached at step {k} (u undefined)"
            break
        except NonFiniteError:
            traj.stop_reason = f"diverged: non-finite values at step {k}"
            break
        v = d if v is None or momentum == 0 else beta * v + d
        step = eta_c * v
        x = x - step
        traj.steps = k + 1
        if ctx.to_float(ctx.norm(step)) <= tol:
            traj.stop_reason = f"fixed point: ||step|| <= {tol:.3g} at step {k + 1}"
            _record(traj, obj, x, rho, ctx)
            break
    return traj


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
