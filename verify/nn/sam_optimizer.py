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
    opt.monitor.suspected   # True once SAM has stalled at a high loss

``first_step`` moves every parameter to theta+ = theta + e, ``second_step`` restores theta and lets
the base optimizer step with the gradient found at theta+ — the practical SAM step of Foret et al.
and of the paper (with SGD + heavy-ball momentum as base: lr 0.01, momentum 0.9).

The perturbation e (references: Foret et al. 2021, *Sharpness-Aware Minimization for Efficiently
Improving Generalization*, eq. 2; Kwon et al. 2021, *ASAM: Adaptive Sharpness-Aware Minimization for
Scale-Invariant Learning of Deep Neural Networks*, Sec. 3-4):

* SAM: e = rho g / (||g|| + eps), the norm over all parameters of all groups, ``rho`` per group;
* ASAM (group option ``adaptive=True``): e = rho T^2 g / (||T g|| + eps) with the element-wise
  T = |w| + eta (Kwon et al.'s official code uses eta = 0.01; eta = 0, the default, is the
  ``adaptive=True`` of the common davda54/sam wrapper). A group with ``adaptive=False`` has T = 1,
  which is how Kwon et al.'s code treats biases; :func:`adaptive_param_groups` builds the two groups
  (weights scaled; biases and normalization-layer parameters not);
* the normalization: ``eps > 0`` (default 1e-12, as in the common wrappers) is a fixed guard —
  ||e|| = rho ||Tg|| / (||Tg|| + eps), less than rho by a relative eps / ||Tg||, so only visible when
  the gradient is near eps; ``eps = 0`` is Foret et al.'s exact normalization, ||e|| = rho (the map
  of :mod:`verify.core.sam`), and where the gradient is exactly 0 — its direction undefined — the
  step is a plain one (no perturbation).

What users of SAM wrappers run into, and what this optimizer does about it:

* **BatchNorm**: the perturbed forward pass runs in training mode and would update the running
  statistics a second time (``num_batches_tracked`` advancing by 2 a step). By default
  (``norm_stats="freeze"``) every normalization layer with running statistics (BatchNorm1d/2d/3d,
  SyncBatchNorm, InstanceNorm with ``track_running_stats``) that is forwarded between
  ``first_step`` and ``second_step`` has its running mean, variance and ``num_batches_tracked``
  saved before its forward and restored by ``second_step``: the statistics after a SAM step are
  exactly those of one plain step. Saving and restoring is chosen over setting momentum to 0 (the
  davda54/sam recipe) because it is exact (it also keeps ``num_batches_tracked``, the
  ``momentum=None`` cumulative average and statistics a NaN batch would poison through 0 * NaN) and
  needs no reference to the model: a global forward pre-hook, installed only during the first
  perturbed pass (and again whenever the set of perturbed parameters changes), finds the layers;
  the other steps save and restore the layers found directly, so a model without such layers pays
  nothing. ``norm_stats="update"`` keeps the wrappers' behaviour.
* **Mixed precision**: pass the ``torch.amp.GradScaler`` as ``scaler=`` to ``step`` (or to both
  ``first_step`` and ``second_step``), call ``scaler.scale(loss).backward()`` in the closure and
  ``scaler.update()`` after the step, as with any optimizer (do not call ``scaler.step(opt)``).
  The perturbation and the monitor use unscaled gradients (``scaler.unscale_``); when either pass
  has an inf/NaN gradient the step is skipped as a whole: theta is restored, the base optimizer does
  not step (its momentum is untouched) and the scaler lowers its scale in ``update()``. Skipped
  steps are counted in ``skipped_steps``, not in ``steps_taken``. bfloat16 autocast needs no scaler.
* **DistributedDataParallel**: run both backward passes through the DDP model as usual, the first
  one *not* under ``no_sync()``: DDP then averages the first-pass gradients once, so the gradient
  norm and the perturbation are the same on every rank, and the second pass is synchronized as
  usual. (The ``no_sync`` tip of some wrappers gives each rank its own perturbation.) With
  ``distributed=True`` the optimizer checks that every rank has the same gradient norm (one small
  all-gather a step, raising :class:`~verify.errors.SamVerifyError` when they differ) and gives the
  monitor the losses averaged over the ranks, so every rank flags the same step.

The monitor records, per SAM step, f(theta), f(theta+), ||grad f(theta)||, ||grad f(theta+)||,
GradRatio and LossGap, all of which the two closure calls of a SAM step already produce (no extra
gradient), on whatever batch the closure uses; see :class:`HallucinationMonitor` for the smoothed
estimates, the stall rules and the full-batch probe. It is a warning, not a proof;
:mod:`verify.nn.point_check` does the checks at the point.
"""
from __future__ import annotations

import collections
import math
import warnings
from dataclasses import dataclass, field

import torch

from ..errors import NonFiniteError, SamVerifyError
from ..core.sam import check_rho, perturbation_scale

NORM_STATS = ("freeze", "update")


@dataclass
class HallucinationMonitor:
    """Warns when SAM stalls at a high loss.

    Each SAM step gives f(theta), f(theta+), ||g|| = ||grad f(theta)|| and ||w|| = ||grad f(theta+)||
    on the step's batch. On minibatches these are noisy, so the decision uses exponential moving
    averages (factor ``smoothing``, bias-corrected; 0 uses the raw values, as full-batch runs may):
    the smoothed GradRatio EMA(||w||) / EMA(||g||) and LossGap EMA(f(theta+)) - EMA(f(theta)).
    A step counts towards a stall when the smoothed loss is above ``stall_loss`` and either

    * the smoothed GradRatio is <= ``ratio_tol`` (the paper's signature of a hallucinated
      minimizer: the SAM direction grad f(theta+) vanishes while grad f(theta) does not), or
    * the smoothed loss fell by less than a fraction ``progress_tol`` over the last ``patience``
      SAM steps (a plateau: on minibatches the stalled digits MLP sits at loss ~ ln 10 with
      GradRatio >> 1, where the first rule never fires);

    ``suspected`` becomes True after ``patience`` such steps in a row (``suspected_kind`` says which
    rule held at that step: "hallucination" or "plateau").

    The full-batch probe (:meth:`SAM.probe`, or ``probe_closure``/``probe_every`` of :class:`SAM`)
    measures the exact full-batch values; they go to ``probes``, and ``probe_patience`` probes in a
    row with the paper's signature (loss > ``stall_loss``, GradRatio <= ``ratio_tol``) also raise
    ``suspected`` (kind "hallucination (probe)").
    """

    stall_loss: float = 1.0
    ratio_tol: float = 1e-2
    patience: int = 50
    every: int = 1
    smoothing: float = 0.9
    progress_tol: float = 0.02
    probe_patience: int = 2
    history: list = field(default_factory=list)
    probes: list = field(default_factory=list)
    streak: int = 0
    probe_streak: int = 0
    suspected: bool = False
    suspected_at: int | None = None
    suspected_kind: str | None = None

    def __post_init__(self):
        if not 0.0 <= self.smoothing < 1.0:
            raise SamVerifyError(f"monitor smoothing must be in [0, 1), got {self.smoothing!r}")
        if not (isinstance(self.patience, int) and self.patience >= 1):
            raise SamVerifyError(f"monitor patience must be an integer >= 1, got {self.patience!r}")
        self._ema = dict.fromkeys(("loss", "loss_plus", "grad_norm", "shifted_grad_norm"), 0.0)
        self._weight = 0.0                     # 1 - smoothing^n: the bias correction
        self._recent_losses = collections.deque(maxlen=self.patience + 1)

    def _smooth(self, values: dict) -> dict:
        b = self.smoothing
        self._weight = b * self._weight + (1 - b)
        for k, v in values.items():
            self._ema[k] = b * self._ema[k] + (1 - b) * v
        return {k: v / self._weight for k, v in self._ema.items()}

    def record(self, step: int, loss: float, loss_plus: float, gnorm: float, wnorm: float) -> None:
        s = self._smooth({"loss": loss, "loss_plus": loss_plus, "grad_norm": gnorm,
                          "shifted_grad_norm": wnorm})
        ratio_s = _ratio(s["shifted_grad_norm"], s["grad_norm"])
        if step % self.every == 0:
            self.history.append({"step": step, "loss": loss, "loss_plus": loss_plus,
                                 "grad_norm": gnorm, "shifted_grad_norm": wnorm,
                                 "grad_ratio": _ratio(wnorm, gnorm), "loss_gap": loss_plus - loss,
                                 "smoothed_loss": s["loss"], "smoothed_grad_ratio": ratio_s,
                                 "smoothed_loss_gap": s["loss_plus"] - s["loss"]})
        self._recent_losses.append(s["loss"])
        high = s["loss"] > self.stall_loss
        vanished = high and ratio_s <= self.ratio_tol
        plateau = (high and len(self._recent_losses) > self.patience
                   and s["loss"] > (1 - self.progress_tol) * self._recent_losses[0])
        if vanished or plateau:
            self.streak += 1
            if self.streak >= self.patience:
                self._raise(step, "hallucination" if vanished else "plateau")
        else:
            self.streak = 0

    def record_probe(self, step: int, loss: float, loss_plus: float, gnorm: float,
                     wnorm: float) -> None:
        ratio = _ratio(wnorm, gnorm)
        self.probes.append({"step": step, "loss": loss, "loss_plus": loss_plus, "grad_norm": gnorm,
                            "shifted_grad_norm": wnorm, "grad_ratio": ratio,
                            "loss_gap": loss_plus - loss})
        if loss > self.stall_loss and ratio <= self.ratio_tol:
            self.probe_streak += 1
            if self.probe_streak >= self.probe_patience:
                self._raise(step, "hallucination (probe)")
        else:
            self.probe_streak = 0

    def _raise(self, step: int, kind: str) -> None:
        if not self.suspected:
            self.suspected, self.suspected_at, self.suspected_kind = True, step, kind

    @property
    def last(self) -> dict | None:
        return self.history[-1] if self.history else None


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else float("inf")


def adaptive_param_groups(model: torch.nn.Module, exclude_bias_and_norm: bool = True) -> list:
    """Parameter groups for ASAM: the weights with ``adaptive=True``; biases and the parameters of
    normalization layers (BatchNorm, LayerNorm, GroupNorm, ...) with ``adaptive=False`` (T = 1, as
    in Kwon et al.'s code) when ``exclude_bias_and_norm``, else with the weights. Give a group
    ``"rho": 0`` to leave it unperturbed altogether."""
    norm_types = tuple(getattr(torch.nn, name) for name in ("LayerNorm", "GroupNorm", "LocalResponseNorm",
                                                           "RMSNorm") if hasattr(torch.nn, name))
    norm_types += (torch.nn.modules.batchnorm._NormBase,)
    excluded = set()
    if exclude_bias_and_norm:
        for module in model.modules():
            for name, p in module.named_parameters(recurse=False):
                if isinstance(module, norm_types) or name == "bias":
                    excluded.add(p)
    params = list(model.parameters())
    groups = [{"params": [p for p in params if p not in excluded], "adaptive": True}]
    if excluded:
        groups.append({"params": [p for p in params if p in excluded], "adaptive": False})
    return [g for g in groups if g["params"]]


_STATS = ("running_mean", "running_var", "num_batches_tracked")


def _tracks_stats(module) -> bool:
    return isinstance(module, torch.nn.modules.batchnorm._NormBase) and module.track_running_stats


def _same_tensors(a, b) -> bool:
    return a is not None and len(a) == len(b) and all(x is y for x, y in zip(a, b))


class _NormStatsGuard:
    """Keeps the running statistics of normalization layers out of the perturbed pass: saved on
    ``start`` (or when a layer is forwarded), put back on ``restore``.

    Which layers: the first ``start`` (and any ``start`` whose ``key`` — the perturbed parameters —
    differs from the last one's) finds them with a global forward pre-hook during the pass (it
    records every layer with running statistics that is forwarded, in either mode, and saves
    those in training mode); later passes save and restore those layers directly, without the
    hook (a global hook sends every module of the model through torch's slow call path), with
    one foreach copy into buffers kept from pass to pass each way. A model without such layers
    then costs nothing, and a changed model is found again when the set of perturbed parameters
    changes. ``key=None`` always uses the hook (the probe)."""

    def __init__(self):
        self._handle = None
        self._saved = {}            # module -> its saved statistics (the hooked pass)
        self._known = None          # the layers found by the last hooked pass
        self._key = None            # the perturbed parameters of that pass
        self._known_stats = []      # the statistics saved directly (the later passes) ...
        self._known_backup = []     # ... and their copies

    @property
    def active(self) -> bool:
        return self._handle is not None

    def start(self, key=None) -> None:
        self.restore()
        if key is not None and _same_tensors(self._key, key):
            # fetched each pass: .to() / .double() replace a module's buffers
            self._known_stats = [getattr(m, name) for m in self._known if m.training
                                 for name in _STATS if getattr(m, name, None) is not None]
            self._known_backup = _copy_into_kept(self._known_backup, self._known_stats)
            return
        self._known, self._key = [], (list(key) if key is not None else None)
        self._handle = torch.nn.modules.module.register_module_forward_pre_hook(self._save)

    def _save(self, module, args) -> None:
        if _tracks_stats(module) and module not in self._saved:
            if self._key is not None:
                self._known.append(module)
            self._save_module(module)

    def _save_module(self, module) -> None:
        if module.training:
            self._saved[module] = [(name, getattr(module, name).detach().clone()) for name in _STATS
                                   if getattr(module, name, None) is not None]
        else:
            self._saved[module] = []      # seen, not saved: eval mode does not update it

    def restore(self) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None
        if self._known_stats:
            with torch.no_grad():
                torch._foreach_copy_(self._known_stats, self._known_backup)
            self._known_stats = []
        if self._saved:
            with torch.no_grad():
                for module, saved in self._saved.items():
                    for name, value in saved:
                        getattr(module, name).copy_(value)
            self._saved = {}


class SAM(torch.optim.Optimizer):
    """Sharpness-aware minimization wrapping a base optimizer (default SGD).

    Two ways to drive it, with the same switching and monitor:

    * ``step(closure)``: the closure zeroes the gradients, computes the loss, calls backward and
      returns the loss (called twice in a SAM step, once in a plain step);
    * ``first_step`` / ``second_step`` around your own two forward-backward passes (the calls of
      the davda54/sam wrapper); pass the losses (``first_step(loss=...)``,
      ``second_step(loss=...)``) for the monitor. During the plain-GD phase ``first_step`` does not
      perturb, and ``second_step`` steps with the gradient of the second pass, taken at theta
      itself.

    Options beyond the base optimizer's (see the module docstring for each one's reasoning):
    ``rho``, ``adaptive`` and ``eta`` (also per parameter group), ``eps`` (0: exact
    normalization), ``switch_steps``, ``monitor``, ``norm_stats`` ("freeze" / "update"),
    ``distributed`` / ``process_group`` (DDP checks), ``probe_closure`` / ``probe_every``
    (the monitor's full-batch probe).
    """

    def __init__(self, params, base_optimizer=torch.optim.SGD, rho: float = 0.05,
                 switch_steps: int = 0, monitor: HallucinationMonitor | bool = True, eps: float = 1e-12,
                 adaptive: bool = False, eta: float = 0.0, norm_stats: str = "freeze",
                 distributed: bool = False, process_group=None, probe_closure=None,
                 probe_every: int = 0, **kwargs):
        check_rho(rho, allow_zero=True)          # rho = 0: plain steps
        if not (isinstance(switch_steps, int) and switch_steps >= 0):
            raise SamVerifyError(f"switch_steps must be an integer >= 0, got {switch_steps!r}")
        if norm_stats not in NORM_STATS:
            raise SamVerifyError(f"norm_stats must be one of {NORM_STATS}, got {norm_stats!r}")
        _check_nonnegative("eps", eps)
        if not (isinstance(probe_every, int) and probe_every >= 0) or (probe_every and probe_closure is None):
            raise SamVerifyError(f"probe_every must be an integer >= 0 with a probe_closure, "
                                 f"got {probe_every!r}")
        defaults = dict(rho=rho, adaptive=bool(adaptive), eta=eta, **kwargs)
        super().__init__(params, defaults)
        self.base_optimizer = base_optimizer(self.param_groups, **kwargs)
        self.param_groups = self.base_optimizer.param_groups
        self.defaults.update(self.base_optimizer.defaults)
        for group in self.param_groups:
            _check_group(group)
        self.switch_steps = int(switch_steps)
        self.eps = float(eps)
        self.steps_taken = 0
        self.skipped_steps = 0
        self.monitor = monitor if isinstance(monitor, HallucinationMonitor) else (
            HallucinationMonitor() if monitor else None)
        self.norm_stats = norm_stats
        self.distributed = bool(distributed or process_group is not None)
        self.process_group = process_group
        self.probe_closure, self.probe_every = probe_closure, probe_every
        self._guard = _NormStatsGuard()
        self._saved = None            # the parameters perturbed in this step (theta in _backup)
        self._backup = []
        self._pending = None          # (loss at theta, ||grad f(theta)|| as a tensor and a float, skipped)
        self._warned_no_loss = False

    def add_param_group(self, param_group):
        super().add_param_group(param_group)
        _check_group(self.param_groups[-1])

    @property
    def in_gd_phase(self) -> bool:
        return self.steps_taken < self.switch_steps

    @property
    def _sam_active(self) -> bool:
        return not self.in_gd_phase and any(g["rho"] != 0 for g in self.param_groups)

    def _with_grads(self) -> list:
        """[(group, its parameters that have a gradient)], built once per pass and shared by the
        norm and the perturbation."""
        return [(group, [p for p in group["params"] if p.grad is not None])
                for group in self.param_groups]

    # no @torch.no_grad(): the callers hold it (a nested one costs ~10 us a call)
    def _grad_norms(self, groups: list, adaptive: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """(||g||, ||T g||) over the parameters of ``groups`` (from :meth:`_with_grads`; T = 1
        unless ``adaptive``)."""
        plain, scaled = [], []
        for group, params in groups:
            for p in params:
                plain.append(p.grad)
                if adaptive:
                    scaled.append(p.grad * _scaling(p, group) if group["adaptive"] else p.grad)
        if not plain:
            raise SamVerifyError("no parameter has a gradient: call loss.backward() first")
        gnorm = _total_norm(plain)
        return gnorm, (_total_norm(scaled) if adaptive else gnorm)

    def _unscale(self, scaler, key) -> None:
        if scaler is not None and scaler.is_enabled():
            scaler.unscale_(key)

    def _finite_or_skip(self, norm: float, scaler) -> bool:
        """True when the gradient norm (a Python float: the one read-back of it a step makes)
        is finite; with a scaler a non-finite one means "skip the step", without one it is an
        error."""
        if math.isfinite(norm):
            return True
        if scaler is None or not scaler.is_enabled():
            raise NonFiniteError(f"the gradient norm is {norm}: NaN/inf in the gradients "
                                 "(with float16 autocast pass scaler= to skip such steps)")
        return False

    def _perturb(self, groups: list, scaled_norm: float) -> None:
        """theta -> theta + rho T^2 g / (||T g|| + eps), remembering theta. The factor
        rho / (||T g|| + eps) is a Python float (``alpha`` of one foreach add: no scale tensor,
        no temporary e unless ASAM needs T^2 g)."""
        if self.eps == 0 and scaled_norm == 0:
            return                        # exact normalization of a zero gradient: no direction
        self._save_params([p for _, params in groups for p in params])
        for group, params in groups:
            if not params:
                continue
            # one foreach call per operation, not one kernel call per parameter
            grads = [p.grad for p in params]
            if group["adaptive"]:
                grads = torch._foreach_mul(grads, [_scaling(p, group).square_() for p in params])
            torch._foreach_add_(params, grads,
                                alpha=perturbation_scale(float(group["rho"]), scaled_norm, self.eps))

    def _save_params(self, params: list) -> None:
        """Copy theta into buffers kept from step to step (no per-parameter state look-up)."""
        self._backup = _copy_into_kept(self._backup, params)    # the callers hold no_grad
        self._saved = params

    def _forget_saved(self) -> None:
        """Drop the record of saved parameters: only this step's perturbed ones are restored."""
        self._saved = None

    def _restore(self) -> bool:
        params, self._saved = self._saved, None
        if params:
            torch._foreach_copy_(params, self._backup)  # in place: views and DDP buckets stay valid
        return bool(params)

    @torch.no_grad()
    def first_step(self, zero_grad: bool = False, loss=None, scaler=None) -> torch.Tensor:
        """theta -> theta + e (remembering theta; no move during the plain-GD phase or when the
        scaler finds inf/NaN gradients); returns ||grad f(theta)||."""
        if self._pending is not None:
            raise SamVerifyError("first_step called twice without second_step: the parameters "
                                 "are already perturbed (theta would be lost)")
        self._unscale(scaler, self)
        sam = self._sam_active
        adaptive = sam and any(g["adaptive"] for g in self.param_groups)
        groups = self._with_grads()
        gnorm, scaled_norm = self._grad_norms(groups, adaptive)
        # one read-back (one device sync on a GPU) for both norms
        gnorm_value, scaled_value = (torch.stack((gnorm, scaled_norm)).tolist() if adaptive
                                     else (gnorm.item(),) * 2)
        finite = self._finite_or_skip(gnorm_value + scaled_value, scaler)
        self._forget_saved()
        if sam and finite:
            self._perturb(groups, scaled_value)
        if self.norm_stats == "freeze":
            self._guard.start(self._saved if self._saved is not None else [])
        self._pending = (_detached(loss), gnorm, gnorm_value, not finite)
        if zero_grad:
            self.zero_grad()
        return gnorm

    @torch.no_grad()
    def second_step(self, zero_grad: bool = False, loss=None, scaler=None) -> torch.Tensor:
        """Restore theta and step the base optimizer with the gradient of the second pass
        (grad f(theta+); grad f(theta) in the plain-GD phase); returns its norm. With a scaler,
        an inf/NaN gradient in either pass skips the step (theta restored, no base step)."""
        if self._pending is None:
            raise SamVerifyError("second_step without first_step")
        loss0, gnorm, gnorm_value, skipped = self._pending
        self._pending = None
        self._guard.restore()
        sam = self._restore()                  # before anything can raise: theta comes back
        if not skipped:
            self._unscale(scaler, self.base_optimizer)
            wnorm = self._grad_norms(self._with_grads())[0]
            wnorm_value = wnorm.item()
            skipped = not self._finite_or_skip(wnorm_value, scaler)
        if skipped:
            self.skipped_steps += 1
            wnorm = torch.tensor(float("nan"))
        else:
            loss0, loss_plus = self._synchronized(gnorm, loss0, _detached(loss))
            self._base_step(scaler)
            if sam and self.monitor is not None:
                self._record(loss0, loss_plus, gnorm_value, wnorm_value)
            self.steps_taken += 1
            self._maybe_probe()
        if zero_grad:
            self.zero_grad()
        return wnorm

    def _base_step(self, scaler) -> None:
        if scaler is not None and scaler.is_enabled():
            scaler.step(self.base_optimizer)
        else:
            self.base_optimizer.step()

    def _record(self, loss0, loss_plus, gnorm, wnorm) -> None:
        if (loss0 is None or loss_plus is None) and not self._warned_no_loss:
            warnings.warn("SAM monitor: pass loss= to first_step and second_step; without the "
                          "losses it records the gradient norms but cannot flag a stall",
                          stacklevel=3)
            self._warned_no_loss = True
        nan = float("nan")
        self.monitor.record(self.steps_taken, nan if loss0 is None else float(loss0),
                            nan if loss_plus is None else float(loss_plus), gnorm, wnorm)

    def _synchronized(self, gnorm, loss0, loss_plus):
        """With ``distributed``: check that every rank has the gradient norm of this rank (the
        first backward synchronized) and return the losses averaged over the ranks."""
        if not self.distributed:
            return loss0, loss_plus
        import torch.distributed as dist
        if not dist.is_available() or not dist.is_initialized():
            raise SamVerifyError("SAM(distributed=True) needs an initialized torch.distributed "
                                 "process group")
        mine = torch.stack([_scalar64(v, gnorm.device) for v in (gnorm, loss0, loss_plus)])
        world = dist.get_world_size(self.process_group)
        every = [torch.empty_like(mine) for _ in range(world)]
        dist.all_gather(every, mine, group=self.process_group)
        every = torch.stack(every)
        norms = every[:, 0]
        # identical gradients give identical norms; allow the rounding of a differently ordered
        # reduction, sqrt(n) eps relative
        n = sum(p.grad.numel() for _, params in self._with_grads() for p in params)
        tol = math.sqrt(n) * torch.finfo(gnorm.dtype).eps * float(norms.abs().max())
        if float(norms.max() - norms.min()) > tol:
            raise SamVerifyError(f"the gradient norms of the first pass differ across ranks "
                                 f"({[float(x) for x in norms]}): the first backward was not "
                                 "synchronized (run it through the DDP model, not under no_sync()); "
                                 "the SAM perturbation must be the same on every rank")
        means = every[:, 1:].mean(dim=0)
        return (None if loss0 is None else means[0]), (None if loss_plus is None else means[1])

    def step(self, closure=None, scaler=None):
        """One step; ``closure`` must zero the gradients, compute the loss, call backward
        (``scaler.scale(loss).backward()`` with a scaler) and return the loss. During the first
        ``switch_steps`` steps this is a plain base step."""
        if closure is None:
            raise SamVerifyError("SAM.step needs a closure that re-evaluates the loss "
                                 "(two gradient evaluations per step); with a GradScaler call "
                                 "opt.step(closure, scaler=scaler), not scaler.step(opt)")
        with torch.enable_grad():
            loss = closure()
        if not self._sam_active:
            self._plain_step(scaler)
            return loss
        self.first_step(zero_grad=True, loss=loss, scaler=scaler)     # the steps detach it
        if self._pending[-1]:             # the scaler found inf/NaN: no second pass
            self.second_step(zero_grad=True, scaler=scaler)
            return loss
        with torch.enable_grad():
            loss_plus = closure()
        self.second_step(loss=loss_plus, scaler=scaler)
        return loss

    def _plain_step(self, scaler) -> None:
        self._unscale(scaler, self.base_optimizer)
        # without a scaler a plain step costs what the base optimizer's step costs, no norm
        if scaler is None or self._finite_or_skip(self._grad_norms(self._with_grads())[0].item(),
                                                  scaler):
            self._base_step(scaler)
            self.steps_taken += 1
            self._maybe_probe()
        else:
            self.skipped_steps += 1

    def _maybe_probe(self) -> None:
        if self.probe_every and self.steps_taken % self.probe_every == 0:
            self.probe(self.probe_closure)

    def probe(self, closure) -> dict:
        """The monitor's full-batch probe at the current theta, without moving it: f(theta),
        f(theta+), ||grad f(theta)|| and ||grad f(theta+)|| of ``closure`` (which zeroes the
        gradients, computes the loss on the full data, calls plain ``loss.backward()`` and returns
        the loss), with the perturbation of a step (rho, ASAM, eps). Costs two gradient evaluations;
        leaves the gradients zeroed and the normalization statistics as they were."""
        if self._pending is not None:
            raise SamVerifyError("probe between first_step and second_step: the parameters are "
                                 "perturbed")
        guard = _NormStatsGuard()
        guard.start()
        try:
            with torch.enable_grad():
                loss = closure()
            adaptive = any(g["adaptive"] for g in self.param_groups)
            with torch.no_grad():
                groups = self._with_grads()
                gnorm, scaled_norm = self._grad_norms(groups, adaptive)
                self._forget_saved()
                self._perturb(groups, float(scaled_norm))
            try:
                with torch.enable_grad():
                    loss_plus = closure()
                wnorm = self._grad_norms(self._with_grads())[0]
            finally:
                with torch.no_grad():
                    self._restore()
        finally:
            guard.restore()
        self.zero_grad()
        values = dict(loss=float(loss.detach()), loss_plus=float(loss_plus.detach()), gnorm=float(gnorm),
                      wnorm=float(wnorm))
        if self.monitor is not None:
            self.monitor.record_probe(self.steps_taken, **values)
        return values

    def state_dict(self):
        """SAM's counters and the base optimizer's state (momentum buffers): a reload continues
        the run exactly."""
        sd = super().state_dict()
        sd["sam_steps_taken"] = self.steps_taken
        sd["sam_skipped_steps"] = self.skipped_steps
        sd["sam_switch_steps"] = self.switch_steps
        sd["base_optimizer"] = self.base_optimizer.state_dict()
        return sd

    def load_state_dict(self, state_dict):
        state_dict = dict(state_dict)
        self.steps_taken = state_dict.pop("sam_steps_taken", 0)
        self.skipped_steps = state_dict.pop("sam_skipped_steps", 0)
        self.switch_steps = state_dict.pop("sam_switch_steps", self.switch_steps)
        base = state_dict.pop("base_optimizer", None)
        super().load_state_dict(state_dict)
        if base is not None:
            self.base_optimizer.load_state_dict(base)
        else:
            # an older state dict without the base's state: its groups (lr, rho, ...) still count
            self.base_optimizer.param_groups = self.param_groups
        self.param_groups = self.base_optimizer.param_groups
        self._guard.restore()
        self._pending = None


def _copy_into_kept(buffers: list, tensors: list) -> list:
    """``tensors`` copied into ``buffers`` by one foreach copy; new buffers only when the shapes,
    dtypes or devices changed (no allocation from step to step). Returns the buffers."""
    if not tensors:
        return []
    if not (len(buffers) == len(tensors) and all(
            b.shape == t.shape and b.dtype == t.dtype and b.device == t.device
            for b, t in zip(buffers, tensors))):
        buffers = [torch.empty_like(t, memory_format=torch.preserve_format) for t in tensors]
    torch._foreach_copy_(buffers, tensors)
    return buffers


def _total_norm(tensors: list) -> torch.Tensor:
    """The 2-norm of all tensors together (what torch.nn.utils.get_total_norm computes, without
    its per-device grouping, which costs as much again on a small model)."""
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(tensors)))


def _scalar64(value, device) -> torch.Tensor:
    """A float64 scalar tensor on ``device`` (NaN for a missing value) for a collective."""
    if value is None:
        return torch.tensor(float("nan"), dtype=torch.float64, device=device)
    return torch.as_tensor(value).detach().to(device, torch.float64).reshape(())


def _detached(loss):
    return loss.detach() if isinstance(loss, torch.Tensor) else loss


def _scaling(p: torch.Tensor, group: dict) -> torch.Tensor:
    """ASAM's element-wise T = |w| + eta (Kwon et al. 2021)."""
    return p.detach().abs().add_(group["eta"])


def _check_nonnegative(name: str, value) -> None:
    try:
        ok = math.isfinite(float(value)) and float(value) >= 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise SamVerifyError(f"{name} must be a finite number >= 0, got {value!r}")


def _check_group(group: dict) -> None:
    """Refuses a bad rho or eta; stores rho as a float (a string such as "1/4" is parsed once
    here, not on every step)."""
    group["rho"] = float(check_rho(group["rho"], allow_zero=True))
    _check_nonnegative("eta", group["eta"])
