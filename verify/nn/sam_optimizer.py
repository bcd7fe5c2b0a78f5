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
proof; :mod:`verify.nn.point_check` does the checks at the point.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import torch

from ..errors import NonFiniteError, SamVerifyError
from ..core.sam import check_rho


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
    """Sharpness-aware minimization wrapping a base optimizer (default SGD).

    Two ways to drive it, with the same switching and monitor:

    * ``step(closure)``: the closure zeroes the gradients, computes the loss, calls backward and
      returns the loss (called twice in a SAM step, once in a plain step);
    * ``first_step`` / ``second_step`` around your own two forward-backward passes; pass the
      losses (``first_step(loss=...)``, ``second_step(loss=...)``) for the monitor. During the
      plain-GD phase ``first_step`` does not perturb, and ``second_step`` steps with the
      gradient of the second pass, taken at theta itself.
    """

    def __init__(self, params, base_optimizer=torch.optim.SGD, rho: float = 0.05,
                 switch_steps: int = 0, monitor: HallucinationMonitor | bool = True, eps: float = 1e-12,
                 **kwargs):
        check_rho(rho, allow_zero=True)          # rho = 0: plain steps
        if not (isinstance(switch_steps, int) and switch_steps >= 0):
            raise SamVerifyError(f"switch_steps must be an integer >= 0, got {switch_steps!r}")
        defaults = dict(rho=rho, **kwargs)
        super().__init__(params, defaults)
        self.base_optimizer = base_optimizer(self.param_groups, **kwargs)
        self.param_groups = self.base_optimizer.param_groups
        self.defaults.update(self.base_optimizer.defaults)
        for group in self.param_groups:
            check_rho(group["rho"], allow_zero=True)
        self.switch_steps = int(switch_steps)
        self.eps = eps
        self.steps_taken = 0
        self.monitor = monitor if isinstance(monitor, HallucinationMonitor) else (
            HallucinationMonitor() if monitor else None)
        self._pending = None          # (loss at theta, ||grad f(theta)||) between the two steps
        self._warned_no_loss = False

    def add_param_group(self, param_group):
        super().add_param_group(param_group)
        check_rho(self.param_groups[-1]["rho"], allow_zero=True)

    @property
    def in_gd_phase(self) -> bool:
        return self.steps_taken < self.switch_steps

    @property
    def _sam_active(self) -> bool:
        return not self.in_gd_phase and any(g["rho"] != 0 for g in self.param_groups)

    @torch.no_grad()
    def _grad_norm(self) -> torch.Tensor:
        norms = [p.grad.detach().norm(2) for g in self.param_groups for p in g["params"]
                 if p.grad is not None]
        if not norms:
            raise SamVerifyError("no parameter has a gradient: call loss.backward() first")
        n = torch.stack(norms).norm(2)
        if not torch.isfinite(n):
            raise NonFiniteError(f"the gradient norm is {float(n)}: NaN/inf in the gradients")
        return n

    @torch.no_grad()
    def first_step(self, zero_grad: bool = False, loss=None) -> torch.Tensor:
        """theta -> theta + rho grad / ||grad|| (remembering theta; no move during the plain-GD
        phase); returns ||grad f(theta)||."""
        if self._pending is not None:
            raise SamVerifyError("first_step called twice without second_step: the parameters "
                                 "are already perturbed (theta would be lost)")
        gnorm = self._grad_norm()
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p].pop("old_p", None)   # only this step's perturbed parameters return
        if self._sam_active:
            for group in self.param_groups:
                scale = group["rho"] / (gnorm + self.eps)
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    self.state[p]["old_p"] = p.detach().clone()
                    p.add_(p.grad * scale.to(p))
        self._pending = (None if loss is None else float(loss), float(gnorm))
        if zero_grad:
            self.zero_grad()
        return gnorm

    @torch.no_grad()
    def second_step(self, zero_grad: bool = False, loss=None) -> torch.Tensor:
        """Restore theta and step the base optimizer with the gradient of the second pass
        (grad f(theta+); grad f(theta) in the plain-GD phase); returns its norm."""
        if self._pending is None:
            raise SamVerifyError("second_step without first_step")
        wnorm = self._grad_norm()
        sam = False
        for group in self.param_groups:
            for p in group["params"]:
                old = self.state[p].pop("old_p", None)
                if old is not None:
                    p.copy_(old)
                    sam = True
        self.base_optimizer.step()
        loss0, gnorm = self._pending
        self._pending = None
        if sam and self.monitor is not None:
            if (loss0 is None or loss is None) and not self._warned_no_loss:
                warnings.warn("SAM monitor: pass loss= to first_step and second_step; without the "
                              "losses it records the gradient norms but cannot flag a stall",
                              stacklevel=2)
                self._warned_no_loss = True
            nan = float("nan")
            self.monitor.record(self.steps_taken, nan if loss0 is None else loss0,
                                nan if loss is None else float(loss), gnorm, float(wnorm))
        self.steps_taken += 1
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
        if not self._sam_active:
            self.base_optimizer.step()
            self.steps_taken += 1
            return loss
        self.first_step(zero_grad=True, loss=loss.detach())
        loss_plus = closure()
        self.second_step(loss=loss_plus.detach())
        return loss

    def state_dict(self):
        """SAM's counters and the base optimizer's state (momentum buffers): a reload continues
        the run exactly."""
        sd = super().state_dict()
        sd["sam_steps_taken"] = self.steps_taken
        sd["sam_switch_steps"] = self.switch_steps
        sd["base_optimizer"] = self.base_optimizer.state_dict()
        return sd

    def load_state_dict(self, state_dict):
        state_dict = dict(state_dict)
        self.steps_taken = state_dict.pop("sam_steps_taken", 0)
        self.switch_steps = state_dict.pop("sam_switch_steps", self.switch_steps)
        base = state_dict.pop("base_optimizer", None)
        super().load_state_dict(state_dict)
        if base is not None:
            self.base_optimizer.load_state_dict(base)
        else:
            # an older state dict without the base's state: its groups (lr, rho, ...) still count
            self.base_optimizer.param_groups = self.param_groups
        self.param_groups = self.base_optimizer.param_groups
        self._pending = None
