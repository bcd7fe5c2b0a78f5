"""Full-batch SAM with heavy-ball momentum, many seeds at once.

The update for each seed (the paper's setting, Appendix C.1: lr 0.01, momentum 0.9, no weight
decay; PyTorch's SGD convention for momentum):

    g = grad f(theta),  theta+ = theta + rho g / ||g||,  w = grad f(theta+)
    m <- mu m + w,      theta <- theta - lr m

*Switching* (Section 4.2) uses plain heavy-ball GD (w = g) for the first ``switch_fraction`` of the
steps (default 10 %) and SAM afterwards; ``switch_fraction=0`` is SAM-only.

S seeds are trained at once: their parameter vectors are stacked into an (S, d) tensor and one step
costs two batched gradient evaluations of the full-batch loss, by the hand-written batched
backpropagation of :mod:`verify.nn.batched_mlp` where it supports the model (every activation of
:func:`verify.nn.mlp.build_mlp` but the tanh-approximated GELU), else by :func:`torch.func.vmap` of
:func:`torch.func.grad_and_value` (``BatchedProblem(..., explicit=False)`` forces the latter).
The perturbation and the diagnostics are the batched forms in :mod:`verify.core.sam`
(``perturbed_rows`` / ``diagnostics_rows``); :func:`check_against_core` re-derives one seed's
numbers with ``verify.core.sam.diagnostics``.

Logged per seed every ``log_every`` steps: train loss, train/test accuracy, ||grad f||,
||grad f(theta+)||, GradRatio = ||grad f(theta+)|| / ||grad f||, LossGap = f(theta+) - f(theta).
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .data import Dataset
from .threads import torch_threads
from ..errors import SamVerifyError
from ..core.sam import check_rho

LOG_KEYS = ("step", "loss", "train_acc", "test_acc", "grad_norm", "shifted_grad_norm",
            "grad_ratio", "loss_gap")


@dataclass
class TrainConfig:
    rho: float = 2.0
    lr: float = 0.01
    momentum: float = 0.9
    steps: int = 2000
    switch_fraction: float = 0.0      # 0: SAM-only; 0.1: the paper's switching strategy
    seeds: tuple = tuple(range(8))
    width: int | tuple = 32
    depth: int = 1
    activation: str = "tanh"
    dtype: str = "float32"
    device: str = "auto"
    log_every: int = 50
    eps: float = 1e-12                # guards ||g|| = 0 in the perturbation (as practical SAM does)

    def __post_init__(self):
        check_rho(self.rho, allow_zero=True)            # 0: plain heavy-ball GD
        if not 0 <= self.switch_fraction <= 1:
            raise SamVerifyError(f"switch_fraction must lie in [0, 1], got {self.switch_fraction}")
        self.seeds = tuple(int(s) for s in self.seeds)
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise SamVerifyError(f"lr must be a finite number > 0, got {self.lr}")
        if not 0 <= self.momentum < 1:
            raise SamVerifyError(f"momentum must lie in [0, 1), got {self.momentum}")
        if self.steps < 0 or not self.seeds or self.log_every < 1:
            raise SamVerifyError(f"need steps >= 0, at least one seed and log_every >= 1; got steps "
                                 f"{self.steps}, {len(self.seeds)} seeds, log_every {self.log_every}")
        if isinstance(self.width, list):
            self.width = tuple(self.width)

    @property
    def switch_step(self) -> int:
        return int(round(self.switch_fraction * self.steps))

    @property
    def mode(self) -> str:
        return "switching" if self.switch_fraction > 0 else "sam-only"


@dataclass
class TrainResult:
    config: TrainConfig
    theta: object            # (S, d) final parameters
    buf: object              # (S, d) momentum buffers
    step: int
    logs: dict               # key -> tensor (n_logs, S) (``step``: (n_logs,))
    data_name: str = "digits"
    normalization: str = "scalar"
    elapsed: float = 0.0
    extra: dict = field(default_factory=dict)

    def final(self) -> dict:
        """Last logged value per seed, as lists of floats; ``grad_ratio_tail`` is the median
        GradRatio over the last quarter of the logged steps (momentum makes single values noisy)."""
        out = {k: [float(v) for v in self.logs[k][-1]] for k in LOG_KEYS if k != "step"}
        n = len(self.logs["grad_ratio"])
        tail = self.logs["grad_ratio"][max(0, n - max(1, n // 4)):]
        out["grad_ratio_tail"] = [float(v) for v in tail.median(dim=0).values]
        return out

    def outcomes(self, stall_loss: float = 1.0, ratio_tol: float = 1e-2) -> list[str]:
        fin = self.final()
        return [classify(l, r, g, stall_loss, ratio_tol) for l, r, g in
                zip(fin["loss"], fin["grad_ratio_tail"], fin["grad_norm"])]

    def select(self, rows) -> "TrainResult":
        """The sub-result of some rows (seeds) of a batched run."""
        import torch
        idx = torch.as_tensor(list(rows), dtype=torch.long)
        logs = {k: (v if k == "step" else v[:, idx]) for k, v in self.logs.items()}
        cfg = TrainConfig(**{**asdict(self.config), "seeds": tuple(self.config.seeds[i] for i in rows)})
        extra = {k: ([v[i] for i in rows] if isinstance(v, list) else v) for k, v in self.extra.items()}
        if "rho_rows" in extra:
            cfg.rho = extra["rho_rows"][0]
        if "switch_rows" in extra and self.step:
            cfg.switch_fraction = extra["switch_rows"][0] / self.step
        return TrainResult(cfg, self.theta[idx], self.buf[idx], self.step, logs, self.data_name,
                           self.normalization, self.elapsed, extra)

    def summary(self, stall_loss: float = 1.0, ratio_tol: float = 1e-2) -> dict:
        return summarize_finals(self.final(), self.outcomes(stall_loss, ratio_tol), self.config.rho,
                                self.config.mode, self.step, self.elapsed)

    # -- checkpoints ----------------------------------------------------------------------------
    def save(self, path) -> Path:
        import torch
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"config": asdict(self.config), "theta": self.theta.cpu(), "buf": self.buf.cpu(),
                    "step": self.step, "logs": {k: v.cpu() for k, v in self.logs.items()},
                    "data_name": self.data_name, "normalization": self.normalization,
                    "elapsed": self.elapsed, "extra": self.extra, "format": "sam-verify-train-1"},
                   path)
        return path

    @classmethod
    def load(cls, path) -> "TrainResult":
        import torch
        path = Path(path)
        if not path.is_file():
            raise SamVerifyError(f"checkpoint {path} does not exist")
        try:
            # weights_only: a checkpoint is tensors and plain data; unpickling arbitrary objects
            # would run whatever code a crafted file carries
            blob = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:     # noqa: BLE001 - torch raises several types for bad files
            raise SamVerifyError(f"{path} is not a loadable sam-verify checkpoint ({type(exc).__name__}: "
                                 f"{str(exc).splitlines()[0][:200]})") from exc
        if not isinstance(blob, dict) or blob.get("format") != "sam-verify-train-1":
            raise SamVerifyError(f"{path} is not a sam-verify training checkpoint")
        cfg = dict(blob["config"])
        cfg["seeds"] = tuple(cfg["seeds"])
        return cls(TrainConfig(**cfg), blob["theta"], blob["buf"], blob["step"], blob["logs"],
                   blob["data_name"], blob["normalization"], blob["elapsed"], blob.get("extra", {}))


def summarize_finals(fin: dict, outs: list, rho: float, mode: str, steps: int, elapsed: float) -> dict:
    """The per-(mode, rho) summary of a sweep from its seeds' final numbers (``TrainResult.final``
    layout: key -> list over seeds) and outcomes."""
    S = len(outs)
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    return {
        "rho": rho, "mode": mode, "seeds": S, "steps": steps,
        "stalled_fraction": outs.count("hallucinated") / S,
        "outcomes": outs,
        "mean_train_loss": mean(fin["loss"]), "median_train_loss": sorted(fin["loss"])[S // 2],
        "mean_train_acc": mean(fin["train_acc"]), "mean_test_acc": mean(fin["test_acc"]),
        "min_train_acc": min(fin["train_acc"]),
        "median_grad_ratio": sorted(fin["grad_ratio_tail"])[S // 2],
        "final": fin, "elapsed_s": elapsed,
    }


def classify(loss: float, grad_ratio: float, grad_norm: float, stall_loss: float = 1.0,
             ratio_tol: float = 1e-2) -> str:
    """Outcome of one seed from its final numbers.

    * ``'converged'``: train loss < 0.05 (a true near-minimizer);
    * ``'hallucinated'``: loss > ``stall_loss`` while the SAM direction has (nearly) vanished,
      GradRatio <= ``ratio_tol`` with ||grad f|| not small — a stationary point of f_SAM that is not
      one of f;
    * ``'unstable'``: GradRatio > 1 with loss > ``stall_loss`` — the iterate is not near any
      stationary point of f_SAM (e.g. collapsing/oscillating weights under per-feature
      standardization), *not* a hallucinated minimizer;
    * ``'other'``: anything in between (still training, slow plateau, ...).
    """
    if not (math.isfinite(loss) and math.isfinite(grad_ratio)):
        return "diverged"
    if loss < 0.05:
        return "converged"
    if loss > stall_loss and grad_ratio <= ratio_tol and grad_norm > 1e-6:
        return "hallucinated"
    if loss > stall_loss and grad_ratio > 1.0:
        return "unstable"
    return "other"


# -- the batched trainer ------------------------------------------------------------------------------
class BatchedProblem:
    """A model family on a data set, evaluated on stacked parameter vectors (S, d).

    ``grad_and_value`` uses :class:`verify.nn.batched_mlp.BatchedMLP` (explicit batched backprop)
    when ``explicit`` and the model is supported, else the torch.func path; ``self.explicit``
    says which."""

    def __init__(self, data: Dataset, width=32, depth=1, activation="tanh", dtype="float32",
                 device="auto", explicit: bool = True):
        import torch
        from .batched_mlp import BatchedMLP
        from ..ctx.torch import resolve_device
        from ..objectives.torch_model import ModelObjective
        from .mlp import build_mlp
        self.torch = torch
        self.device = resolve_device(device)
        self.dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
        self.data, self.width, self.depth, self.activation = data, width, depth, activation
        Xtr, ytr, Xte, yte = data.tensors(self.device, self.dtype)
        self.model = build_mlp(data.n_features, width, depth, data.n_classes, activation)
        self.obj = ModelObjective(self.model, Xtr, ytr, dtype=self.dtype, device=self.device)
        self.Xte, self.yte = Xte, yte
        self.dim = self.obj.dim
        tf = torch.func
        self._vgv = tf.vmap(tf.grad_and_value(self.obj.fn))
        self._vlogits = tf.vmap(self.obj.logits_fn, in_dims=(0, None))
        self.explicit = explicit and BatchedMLP.supports(self.model)
        self._mlp = BatchedMLP(self.model, self.obj.X, self.obj.y) if self.explicit else None

    def init(self, seeds) -> "object":
        """Stacked PyTorch-default initializations, one per seed (``torch.manual_seed(seed)``)."""
        from .mlp import build_mlp
        from ..objectives.torch_model import flatten_params
        rows = []
        for s in seeds:
            m = build_mlp(self.data.n_features, self.width, self.depth, self.data.n_classes,
                          self.activation, seed=s)
            rows.append(flatten_params(m, self.dtype, self.device))
        return self.torch.stack(rows)

    def grad_and_value(self, theta):
        """(grad (S, d), loss (S,)) of the full-batch loss at each row of ``theta``."""
        return self._mlp.grad_and_value(theta) if self.explicit else self._vgv(theta)

    def accuracy(self, theta, X, y):
        with self.torch.no_grad():
            return (self._vlogits(theta, X).argmax(-1) == y).to(self.dtype).mean(-1)

    def objective(self, dtype="float64"):
        """The float64 single-vector objective of the same model and training data."""
        from ..objectives.torch_model import ModelObjective
        dt = getattr(self.torch, dtype)
        return ModelObjective(self.model, self.obj.X.to(dt), self.obj.y, dtype=dt,
                              device=self.device)


def train(data: Dataset, config: TrainConfig, resume: TrainResult | None = None,
          progress: bool = True, problem: BatchedProblem | None = None,
          init_theta=None, rho_rows=None, switch_rows=None, threads: int | None = None) -> TrainResult:
    """Train ``len(config.seeds)`` seeds at once; returns per-seed logs and final parameters.
    ``resume`` continues a checkpointed run up to ``config.steps``; ``init_theta`` (S, d) starts
    from given parameters instead of the seeds' initializations. ``rho_rows`` / ``switch_rows``
    (length S) give each row its own rho and switching step (used by :func:`sweep`). ``threads``:
    torch threads for the run (default: the thread policy of :mod:`verify.nn.threads`, measured on
    one batched gradient of these shapes)."""
    import torch
    from tqdm.auto import tqdm
    from ..core import sam
    prob = problem or BatchedProblem(data, config.width, config.depth, config.activation,
                                     config.dtype, config.device)
    S = len(config.seeds)
    if resume is not None:
        data.require_identity(resume.extra.get("data"), "resume")
        rho_rows = resume.extra.get("rho_rows", rho_rows) if rho_rows is None else rho_rows
        switch_rows = resume.extra.get("switch_rows", switch_rows) if switch_rows is None else switch_rows
        theta = resume.theta.to(prob.device, prob.dtype)
        buf = resume.buf.to(prob.device, prob.dtype)
        start, logs = resume.step, {k: list(v) for k, v in resume.logs.items()}
        elapsed0 = resume.elapsed
    else:
        theta = prob.init(config.seeds) if init_theta is None else \
            init_theta.to(prob.device, prob.dtype).clone()
        buf = torch.zeros_like(theta)
        start, logs, elapsed0 = 0, {k: [] for k in LOG_KEYS}, 0.0
    if theta.shape != (S, prob.dim):
        raise SamVerifyError(f"parameters have shape {tuple(theta.shape)}, expected {(S, prob.dim)}")
    rho, lr, mu, eps = config.rho, config.lr, config.momentum, config.eps
    Xtr, ytr = prob.obj.X, prob.obj.y
    rows = rho_rows is not None or switch_rows is not None
    rho_v = torch.as_tensor([rho] * S if rho_rows is None else list(rho_rows), dtype=prob.dtype,
                            device=prob.device)[:, None]
    sw_v = torch.as_tensor([config.switch_step] * S if switch_rows is None else list(switch_rows),
                           device=prob.device)

    def log(step, theta, g, f):
        w, fp = prob.grad_and_value(sam.perturbed_rows(theta, g, rho_v, eps))
        n, wn, ratio, gap = sam.diagnostics_rows(f, g, fp, w)
        vals = {"loss": f, "train_acc": prob.accuracy(theta, Xtr, ytr),
                "test_acc": prob.accuracy(theta, prob.Xte, prob.yte), "grad_norm": n,
                "shifted_grad_norm": wn, "grad_ratio": ratio, "loss_gap": gap}
        logs["step"].append(torch.tensor(step))
        for k, v in vals.items():
            logs[k].append(v.detach().to("cpu", torch.float64))

    n_threads = train_threads(prob, theta, threads)
    t0 = time.perf_counter()
    bar = tqdm(range(start, config.steps), disable=not progress, leave=False,
               desc=f"{config.mode} rho={rho:g} S={S}")
    with torch.no_grad(), torch_threads(n_threads):
        for k in bar:
            g, f = prob.grad_and_value(theta)
            if k % config.log_every == 0 and not (logs["step"] and int(logs["step"][-1]) == k):
                log(k, theta, g, f)          # (a resumed run logged its last step already)
            if rows:
                w, _ = prob.grad_and_value(sam.perturbed_rows(theta, g, rho_v, eps))
                w = torch.where(((sw_v <= k) & (rho_v[:, 0] > 0))[:, None], w, g)
            elif rho > 0 and k >= config.switch_step:
                w, _ = prob.grad_and_value(sam.perturbed_rows(theta, g, rho, eps))
            else:
                w = g
            buf.mul_(mu).add_(w)
            theta = theta - lr * buf
            if progress and k % max(1, config.log_every) == 0:
                bar.set_postfix(loss=f"{float(f.mean()):.3f}")
        if not (logs["step"] and int(logs["step"][-1]) == config.steps):    # (a no-op resume)
            g, f = prob.grad_and_value(theta)
            log(config.steps, theta, g, f)
    bar.close()
    out = {k: torch.stack(v) for k, v in logs.items()}
    extra = {"data": data.identity()}
    if rows:
        extra.update({"rho_rows": [float(r) for r in rho_v[:, 0]], "switch_rows": [int(s) for s in sw_v]})
    return TrainResult(config, theta, buf, config.steps, out, data.name, data.normalization,
                       elapsed0 + time.perf_counter() - t0, extra)


def train_threads(prob, theta, threads: int | None = None) -> int | None:
    """Torch threads for batched training of ``theta``'s rows by the thread policy (None on a GPU);
    the probe is one batched gradient, half a SAM step."""
    import torch
    from .threads import threads_for
    if prob.device.type != "cpu":
        return None
    key = ("batched gradient", tuple(theta.shape), tuple(prob.obj.X.shape), str(prob.dtype))
    with torch.no_grad():
        return threads_for(key, lambda: prob.grad_and_value(theta), threads)


def check_against_core(result: TrainResult, data: Dataset, seed_index: int = 0) -> dict:
    """Recompute the final logged diagnostics of one seed in float64 with :func:`verify.core.sam.diagnostics`
    (the core mathematics); returns both sets of numbers and their relative differences."""
    from ..core import sam
    from ..ctx.torch import TorchContext
    cfg = result.config
    prob = BatchedProblem(data, cfg.width, cfg.depth, cfg.activation, "float64", "cpu")
    obj = prob.objective()
    ctx = TorchContext("cpu", "float64")
    theta = result.theta[seed_index].to("cpu", obj.dtype)
    d = sam.diagnostics(obj, theta, cfg.rho, ctx)
    core = {"loss": float(d.f), "grad_norm": float(d.grad_norm),
            "shifted_grad_norm": float(d.shifted_grad_norm), "grad_ratio": float(d.grad_ratio),
            "loss_gap": float(d.loss_gap)}
    logged = {k: float(result.logs[k][-1][seed_index]) for k in core}
    rel = {k: abs(core[k] - logged[k]) / max(abs(core[k]), 1e-30) for k in core}
    return {"core": core, "logged": logged, "rel_diff": rel}


def sweep(data: Dataset, rhos, seeds=tuple(range(8)), steps: int = 2000,
          switch_fraction: float = 0.1, modes=("sam-only", "switching"), width=32, depth: int = 1,
          activation: str = "tanh", lr: float = 0.01, momentum: float = 0.9, dtype: str = "float32",
          device: str = "auto", log_every: int = 50, progress: bool = True,
          stall_loss: float = 1.0, ratio_tol: float = 1e-2, switch_rhos=None,
          row_chunk: int | None = None) -> dict:
    """The paper's rho sweep (Figure 5/8) at any scale: every (mode, rho, seed) is one row of a
    single batched run (same initialization per seed across rhos and modes). Returns
    ``{"rows": [summary per (mode, rho)], "transition_rho": ..., "result": TrainResult}``; the
    transition rho is the smallest rho of the grid at which at least half of the SAM-only seeds
    stalled at a hallucinated point; ``loss_transition_rho`` the smallest rho at which the SAM-only
    mean final loss exceeds ``stall_loss``. ``switch_rhos`` restricts the switching runs to fewer
    rhos (default: all). ``row_chunk`` trains the rows in chunks of that many (GPU memory at the
    paper's MNIST sizes)."""
    seeds = tuple(int(s) for s in seeds)
    rhos = [float(r) for r in rhos]
    rho_rows, sw_rows, groups, all_seeds = [], [], [], []
    sw = int(round(switch_fraction * steps))
    for mode in modes:
        for r in (rhos if mode != "switching" or switch_rhos is None else
                  [float(x) for x in switch_rhos]):
            start = len(rho_rows)
            for s in seeds:
                rho_rows.append(r)
                sw_rows.append(sw if mode == "switching" else 0)
                all_seeds.append(s)
            groups.append((mode, r, list(range(start, len(rho_rows)))))
    cfg = TrainConfig(rho=max(rhos), lr=lr, momentum=momentum, steps=steps, switch_fraction=0.0,
                      seeds=tuple(all_seeds), width=width, depth=depth, activation=activation,
                      dtype=dtype, device=device, log_every=log_every)
    prob = BatchedProblem(data, width, depth, activation, dtype, device)
    init = prob.init(seeds).repeat(len(groups), 1)
    chunk = int(row_chunk or len(rho_rows))
    parts = []
    for a in range(0, len(rho_rows), chunk):
        b = min(len(rho_rows), a + chunk)
        c = TrainConfig(**{**asdict(cfg), "seeds": cfg.seeds[a:b]})
        parts.append(train(data, c, progress=progress, problem=prob, init_theta=init[a:b],
                           rho_rows=rho_rows[a:b], switch_rows=sw_rows[a:b]))
    res = parts[0] if len(parts) == 1 else _concat(parts, cfg)
    rows = []
    for mode, r, idx in groups:
        sub = res.select(idx)
        summ = sub.summary(stall_loss, ratio_tol)
        summ["mode"], summ["rho"] = mode, r
        rows.append(summ)
    return {**sweep_transitions(rows, stall_loss), "ratio_tol": ratio_tol, "result": res,
            "elapsed_s": res.elapsed, "config": asdict(cfg), "data": data.name,
            "normalization": data.normalization}


def sweep_transitions(rows, stall_loss: float = 1.0) -> dict:
    """The transition rhos of a sweep's per-(mode, rho) summaries (see :func:`sweep`)."""
    sam_rows = sorted((x for x in rows if x["mode"] == "sam-only"), key=lambda x: x["rho"])
    stall = _transition(sam_rows, lambda x: x["stalled_fraction"] >= 0.5)
    loss = _transition(sam_rows, lambda x: x["mean_train_loss"] > stall_loss)
    return {"rows": rows, "transition_rho": stall["rho"], "loss_transition_rho": loss["rho"],
            "transition": stall, "loss_transition": loss, "stall_loss": stall_loss}


def sweep_rows(rhos, seeds, steps: int, switch_fraction: float = 0.1,
               modes=("sam-only", "switching"), switch_rhos=None) -> list[tuple]:
    """The (mode, rho, seed, switch step) rows of a sweep, in :func:`sweep`'s order."""
    sw = int(round(switch_fraction * steps))
    return [(mode, float(r), int(s), sw if mode == "switching" else 0)
            for mode in modes
            for r in (rhos if mode != "switching" or switch_rhos is None else switch_rhos)
            for s in seeds]


def train_rows(data: Dataset, rows, config: TrainConfig, progress: bool = False) -> TrainResult:
    """Train some (mode, rho, seed, switch step) rows of a sweep as one batched run; each row starts
    from its seed's initialization, as in :func:`sweep` (a row's result does not depend on where,
    or next to which rows, it runs beyond the batched arithmetic's rounding)."""
    prob = BatchedProblem(data, config.width, config.depth, config.activation, config.dtype,
                          config.device)
    cfg = TrainConfig(**{**asdict(config), "seeds": tuple(r[2] for r in rows)})
    return train(data, cfg, progress=progress, problem=prob, init_theta=prob.init(cfg.seeds),
                 rho_rows=[r[1] for r in rows], switch_rows=[r[3] for r in rows])


def _transition(rows, changed) -> dict:
    """Where ``changed`` first holds along the rho grid (rows sorted by rho): that rho, the bracket
    (previous grid rho, that rho] the change lies in (None below when the first grid point has
    changed already), and whether it holds at every larger rho (a grid point is a few seeds: a
    fraction that falls back says the grid or the seed count is too coarse)."""
    flags = [bool(changed(x)) for x in rows]
    if True not in flags:
        return {"rho": None, "bracket": None, "monotone": None}
    i = flags.index(True)
    return {"rho": rows[i]["rho"], "bracket": [rows[i - 1]["rho"] if i else None, rows[i]["rho"]],
            "monotone": all(flags[i:])}


def _concat(parts, cfg) -> TrainResult:
    import torch
    logs = {k: (parts[0].logs[k] if k == "step" else torch.cat([p.logs[k] for p in parts], 1))
            for k in parts[0].logs}
    # per-row lists concatenate; anything else (the data identity) is shared by the chunks
    extra = {k: sum((p.extra[k] for p in parts), []) if isinstance(v, list) else v
             for k, v in parts[0].extra.items()}
    return TrainResult(cfg, torch.cat([p.theta for p in parts]), torch.cat([p.buf for p in parts]),
                       parts[0].step, logs, parts[0].data_name, parts[0].normalization,
                       sum(p.elapsed for p in parts), extra)


def format_sweep(sw: dict) -> str:
    """A plain-text table: mode, rho, stalled fraction, mean/median final train loss, accuracies."""
    lines = [f"{'mode':10s} {'rho':>5s} {'stalled':>8s} {'loss(mean)':>10s} {'loss(med)':>9s} "
             f"{'train acc':>9s} {'test acc':>8s} {'GradRatio(med)':>14s}"]
    for x in sw["rows"]:
        lines.append(f"{x['mode']:10s} {x['rho']:5.2f} {x['stalled_fraction']:8.2f} "
                     f"{x['mean_train_loss']:10.4f} {x['median_train_loss']:9.4f} "
                     f"{x['mean_train_acc']:9.4f} {x['mean_test_acc']:8.4f} {x['median_grad_ratio']:14.2e}")
    def say(t):
        if not t or t["rho"] is None:
            return "none in the grid"
        lo, hi = t["bracket"]
        where = f"rho in ({lo:g}, {hi:g}]" if lo is not None else f"at or below the first grid rho {hi:g}"
        return where + ("" if t["monotone"] else ", NOT monotone above it (too few seeds or too coarse a grid)")
    lines.append(f"stalled = loss > {sw.get('stall_loss', 1.0):g} and tail GradRatio <= "
                 f"{sw.get('ratio_tol', 1e-2):g}; transition (>= half of SAM-only seeds stalled): "
                 f"{say(sw.get('transition'))}; SAM-only mean loss > {sw.get('stall_loss', 1.0):g}: "
                 f"{say(sw.get('loss_transition'))}")
    return "\n".join(lines)
