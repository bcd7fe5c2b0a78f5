"""SAM with the conventional ``torch.optim`` interface, switching and a hallucination monitor.

    opt = SAM(model.parameters(), torch.optim.SGD, rho=2.0, lr=0.01, momentum=0.9,
              switch_steps=200)           # plain SGD for the first 200 steps, then SAM
    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(model(X), y)
        loss.backward()
        return loss
    for _ in range(steps):
        opt.step(closure)
    opt.monitor.suspected   # True once the SAM direction has vanished at a high loss

``first_step`` moves every parameter to theta+ = theta + rho g/||g|| (the norm is taken over all
parameters of all groups, with ``rho`` from each group), ``second_step`` restores theta and lets the
base optimizer step with the gradient found at theta+ — the practical SAM step of Foret et al. and
of the paper (with SGD + heavy-ball momentum as base: lr 0.01, momentum 0.9).

The monitor records, per SAM step, f(theta), f(theta+), ||grad f(theta)||, ||grad f(theta+)||,
GradRatio and LossGap, all of which the two closure calls of a SAM step already produce (no extra
cost). ``suspected`` becomes True when, for ``patience`` consecutive SAM steps, the loss stays above
``stall_loss`` while GradRatio <= ``ratio_tol``: the signature of an iterate stalling at a
hallucinated minimizer (a stationary point of f_SAM that is not one of f). It is a warning, not a
proof; :mod:`verify.mlp_check` does the checks at the point.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .errors import InvalidRhoError, SamVerifyError


@dataclass
class HallucinationMonitor:
    stall_loss: float = 1.0
    ratio_tol: float = 1e-2
    patience: int = 50
    every: int = 1
    history: list = field(default_factory=list)
    streak: int = 0
    suspected: bool = False
    suspected_at: int | None = None

    def record(self, step: int, loss: float, loss_plus: float, gnorm: float, wnorm: float) -> None:
        ratio = wnorm / gnorm if gnorm > 0 else float("inf")
        if step % self.every == 0:
            self.history.append({"step": step, "loss": loss, "loss_plus": loss_plus,
                                 "grad_norm": gnorm, "shifted_grad_norm": wnorm,
                                 "grad_ratio": ratio, "loss_gap": loss_plus - loss})
        if loss > self.stall_loss and ratio <= self.ratio_tol:
            self.streak += 1
            if self.streak >= self.patience and not self.suspected:
                self.suspected, self.suspected_at = True, step
        else:
            self.streak = 0

    @property
    def last(self) -> dict | None:
        return self.history[-1] if self.history else None


class SAM(torch.optim.Optimizer):
    """Sharpness-aware minimization wrapping a base optimizer (default SGD)."""

    def __init__(self, params, base_optimizer=torch.optim.SGD, rho: float = 0.05,
                 switch_steps: int = 0, monitor: HallucinationMonitor | bool = True, eps: float = 1e-12,
                 **kwargs):
        if not (rho >= 0):
            raise InvalidRhoError(f"rho must be >= 0, got {rho}")
        if switch_steps < 0:
            raise SamVerifyError(f"switch_steps must be >= 0, got {switch_steps}")
        defaults = dict(rho=rho, **kwargs)
        super().__init__(params, defaults)
        self.base_optimizer = base_optimizer(self.param_groups, **kwargs)
        self.param_groups = self.base_optimizer.param_groups
        self.defaults.update(self.base_optimizer.defaults)
        self.switch_steps = int(switch_steps)
        self.eps = eps
        self.steps_taken = 0
        self.monitor = monitor if isinstance(monitor, HallucinationMonitor) else (
            HallucinationMonitor() if monitor else None)
        self._last_grad_norm = None

    @property
    def in_gd_phase(self) -> bool:
        return self.steps_taken < self.switch_steps

    @torch.no_grad()
    def _grad_norm(self) -> torch.Tensor:
        norms = [p.grad.detach().norm(2) for g in self.param_groups for p in g["params"]
                 if p.grad is not None]
        if not norms:
            raise SamVerifyError("no parameter has a gradient: call loss.backward() first")
        return torch.stack(norms).norm(2)

    @torch.no_grad()
    def first_step(self, zero_grad: bool = False) -> torch.Tensor:
        """theta -> theta + rho grad / ||grad|| (remembering theta); returns ||grad f(theta)||."""
        gnorm = self._grad_norm()
        for group in self.param_groups:
            scale = group["rho"] / (gnorm + self.eps)
            for p in group["params"]:
                if p.grad is None:
                    continue
                self.state[p]["old_p"] = p.detach().clone()
                p.add_(p.grad * scale.to(p))
        self._last_grad_norm = gnorm
        if zero_grad:
            self.zero_grad()
        return gnorm

    @torch.no_grad()
    def second_step(self, zero_grad: bool = False) -> torch.Tensor:
        """Restore theta and step the base optimizer with grad f(theta+); returns ||grad f(theta+)||."""
        wnorm = self._grad_norm()
        for group in self.param_groups:
            for p in group["params"]:
                if "old_p" in self.state[p]:
                    p.copy_(self.state[p]["old_p"])
        self.base_optimizer.step()
        if zero_grad:
            self.zero_grad()
        return wnorm

    def step(self, closure=None):
        """One step; ``closure`` must zero the gradients, compute the loss, call backward and
        return the loss. During the first ``switch_steps`` steps this is a plain base step."""
        if closure is None:
            raise SamVerifyError("SAM.step needs a closure that re-evaluates the loss "
                                 "(two gradient evaluations per step)")
        closure = torch.enable_grad()(closure)
        loss = closure()
        if self.in_gd_phase or all(g["rho"] == 0 for g in self.param_groups):
            self.base_optimizer.step()
            self.steps_taken += 1
            return loss
        gnorm = self.first_step(zero_grad=True)
        loss_plus = closure()
        wnorm = self.second_step()
        if self.monitor is not None:
            self.monitor.record(self.steps_taken, float(loss.detach()), float(loss_plus.detach()), float(gnorm),
                                float(wnorm))
        self.steps_taken += 1
        return loss

    def state_dict(self):
        sd = super().state_dict()
        sd["sam_steps_taken"] = self.steps_taken
        sd["sam_switch_steps"] = self.switch_steps
        return sd

    def load_state_dict(self, state_dict):
        state_dict = dict(state_dict)
        self.steps_taken = state_dict.pop("sam_steps_taken", 0)
        self.switch_steps = state_dict.pop("sam_switch_steps", self.switch_steps)
        super().load_state_dict(state_dict)
        self.base_optimizer.param_groups = self.param_groups
