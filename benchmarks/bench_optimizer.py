"""Step time of :class:`verify.nn.sam_optimizer.SAM` vs a minimal first_step/second_step wrapper,
measured in one run (goal: within 5 %, ratio <= 1.05).

The minimal wrapper below is the common davda54/sam pattern reduced to its arithmetic: save theta,
add rho g/(||g|| + 1e-12), restore, base step. Four settings, on minibatches of the digits MLP:

* plain: Linear-Tanh MLP, float32;
* BatchNorm: Linear-BatchNorm1d-Tanh layers; the wrapper uses the davda54/sam recipe (momentum 0
  on the BatchNorm layers during the second pass), ours its default (statistics saved and
  restored);
* amp: the plain MLP under bfloat16 autocast on the CPU (no GradScaler needed for bfloat16);
* amp_scaler: the same with a ``torch.amp.GradScaler`` (the float16 recipe; on the CPU it only
  adds the scaler's work): ours gets ``scaler=`` and the closure calls ``scaler.scale(loss)``;
  the wrapper makes the same scaler calls (``unscale_`` before its first step and before its base
  step, ``scaler.step`` on the base optimizer, ``update``).

Ours runs with its defaults (monitor on, ``step(closure)``), at two widths: a small MLP, where a
fixed per-step cost in Python shows most, and a wider one. Timing: ``--rounds`` rounds, each
running every optimizer for ``--steps`` steps, interleaved (ours, minimal, copy; then copy,
minimal, ours; ...: neither side always runs first on a shared machine); the ratio printed is the
median over rounds of ours / minimal within a round, with the spread of those per-round ratios
(quartiles), and likewise the difference ours - minimal in us per step. With one torch thread
(the default) the clock is the CPU time of the compute thread, which other processes on a shared
machine disturb far less than the wall time (but not fully: caches and memory bandwidth are
shared, so the 1-minute load average is printed for the run and for each line). A second,
identical copy of the minimal wrapper runs in the same rounds: its ratio to the first (ideally 1)
is the noise floor, printed beside. All start from the same weights and see the same batches; the
largest parameter difference between ours and the wrapper at the end checks that they do the same
arithmetic — not bit for bit: ours adds rho g/||g|| as one fused multiply-add with the factor in
float64 (``alpha`` of a foreach add), the wrapper rounds g * scale to float32 first, so float32
runs differ in the last bits (~1e-7 after the ~200 steps of a line) and bfloat16 autocast, which
rounds the weights to 8 bits for every matmul, magnifies that to ~1e-4.

    python benchmarks/bench_optimizer.py [--only amp] [--optimizer-only] [--steps 10] [--rounds 15]
                                         [--widths 256,1024] [--depth 2] [--batch 128] [--threads 1]
                                         [--json]

``--only`` takes settings separated by commas; a name also selects its ``_`` variants (``amp`` runs
amp and amp_scaler). A quiet-core measurement of the AMP lines:
``nice -n 0 python benchmarks/bench_optimizer.py --only amp --rounds 31``.

``--optimizer-only`` times the optimizers alone: after the warm-up every model is handed the same
stored gradients (of one batch) instead of running forward and backward passes, so the rounds
are ~5x shorter and the per-step difference ours - minimal (microseconds, printed with every
line) is the optimizer's fixed overhead without the noise of the passes — the number to trust
on a shared machine (use ``--steps 100``): a whole step's ratio is about 1 + that overhead / the
wrapper's whole step time. BatchNorm layers are found in the warm-up's real passes.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class MinimalSAM(torch.optim.Optimizer):
    """The minimal two-step SAM wrapper users write (no switching, monitor, AMP or DDP support)."""

    def __init__(self, params, base_optimizer, rho=0.05, **kwargs):
        super().__init__(params, dict(rho=rho, **kwargs))
        self.base_optimizer = base_optimizer(self.param_groups, **kwargs)
        self.param_groups = self.base_optimizer.param_groups

    @torch.no_grad()
    def first_step(self, zero_grad=False):
        grad_norm = torch.norm(torch.stack([p.grad.norm(2) for g in self.param_groups
                                            for p in g["params"] if p.grad is not None]), 2)
        for group in self.param_groups:
            scale = group["rho"] / (grad_norm + 1e-12)
            for p in group["params"]:
                if p.grad is None:
                    continue
                self.state[p]["old_p"] = p.data.clone()
                p.add_(p.grad * scale.to(p))
        if zero_grad:
            self.zero_grad()

    @torch.no_grad()
    def second_step(self, zero_grad=False, scaler=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                p.data = self.state[p]["old_p"]
        if scaler is not None:
            scaler.step(self.base_optimizer)
        else:
            self.base_optimizer.step()
        if zero_grad:
            self.zero_grad()


def _set_bn_momentum(model, saved=None):
    """davda54/sam's bypass: momentum 0 on the BatchNorm layers (returns the old momenta), or
    put ``saved`` back."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if saved is None:
        saved = [m.momentum for m in bns]
        for m in bns:
            m.momentum = 0
        return saved
    for m, mom in zip(bns, saved):
        m.momentum = mom


def build(width, depth, batchnorm, seed=0):
    torch.manual_seed(seed)
    layers, prev = [], 64
    for _ in range(depth):
        layers += [nn.Linear(prev, width)] + ([nn.BatchNorm1d(width)] if batchnorm else []) + [nn.Tanh()]
        prev = width
    layers.append(nn.Linear(prev, 10))
    return nn.Sequential(*layers)


SETTINGS = ("plain", "batchnorm", "amp", "amp_scaler")


def make_runners(setting, X, y, steps, batch, width, depth, rho=0.5, lr=0.01):
    """{"ours", "minimal", "minimal_copy"}: functions running ``steps`` steps each; the largest
    parameter difference ours - minimal; and a function switching every runner to the gradients
    of one batch handed back instead of forward and backward passes (``--optimizer-only``)."""
    from verify.nn.sam_optimizer import SAM
    batchnorm, amp = setting == "batchnorm", setting.startswith("amp")
    use_scaler = setting == "amp_scaler"
    gen = torch.Generator().manual_seed(1)
    batches = [torch.randint(0, X.shape[0], (batch,), generator=gen) for _ in range(steps)]
    # every model is a deep copy of one built model (the original's memory placement differs
    # from its copies', which alone moved the step time by ~10 % here)
    built = build(width, depth, batchnorm)
    ours_model, min_model = copy.deepcopy(built), copy.deepcopy(built)
    ours = SAM(ours_model.parameters(), torch.optim.SGD, rho=rho, lr=lr, momentum=0.9)

    def new_scaler():
        return torch.amp.GradScaler("cpu") if use_scaler else None
    ours_scaler = new_scaler()

    def loss_of(model, idx):
        if amp:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return F.cross_entropy(model(X[idx]), y[idx])
        return F.cross_entropy(model(X[idx]), y[idx])

    handed_back = {}      # id(model) -> (loss, gradients) once switched to --optimizer-only

    def forward_backward(model, idx, scaler):
        """The loss, after its (scaled) backward; after :func:`hand_back_gradients` the stored
        loss and copies of the stored gradients instead (copies: unscale_ works in place)."""
        if id(model) in handed_back:
            loss, grads = handed_back[id(model)]
            for p, g in zip(model.parameters(), grads):
                p.grad = g.clone()
            return loss
        loss = loss_of(model, idx)
        (scaler.scale(loss) if scaler is not None else loss).backward()
        return loss

    def hand_back_gradients():
        """From now on every model gets the gradients of the minimal wrapper's model on the first
        batch (the same for all, so the parameter difference still checks the arithmetic)."""
        for p in min_model.parameters():
            p.grad = None
        loss = forward_backward(min_model, batches[0], minimal_models[0][1]).detach()
        grads = [p.grad.detach().clone() for p in min_model.parameters()]
        for model in (ours_model, *(m for m, _ in minimal_models)):
            handed_back[id(model)] = (loss, grads)

    def run_ours():
        for idx in batches:
            def closure(idx=idx):
                ours.zero_grad()
                return forward_backward(ours_model, idx, ours_scaler)
            ours.step(closure, scaler=ours_scaler)
            if ours_scaler is not None:
                ours_scaler.update()

    def minimal_runner(model):
        minimal = MinimalSAM(model.parameters(), torch.optim.SGD, rho=rho, lr=lr, momentum=0.9)
        scaler = new_scaler()
        minimal_models.append((model, scaler))

        def run_minimal():
            for idx in batches:
                minimal.zero_grad()
                forward_backward(model, idx, scaler)
                if scaler is not None:
                    scaler.unscale_(minimal)
                minimal.first_step(zero_grad=True)
                saved = _set_bn_momentum(model) if batchnorm else None
                forward_backward(model, idx, scaler)
                if batchnorm:
                    _set_bn_momentum(model, saved)
                if scaler is not None:
                    scaler.unscale_(minimal.base_optimizer)
                minimal.second_step(zero_grad=True, scaler=scaler)
                if scaler is not None:
                    scaler.update()
        return run_minimal

    def max_param_diff():
        return max(float((a - b).detach().abs().max()) for a, b in zip(ours_model.parameters(),
                                                                       min_model.parameters()))
    minimal_models = []
    runners = {"ours": run_ours, "minimal": minimal_runner(min_model),
               "minimal_copy": minimal_runner(copy.deepcopy(min_model))}
    return runners, max_param_diff, hand_back_gradients


def interleaved_times(fns: dict, rounds: int, clock) -> dict:
    """Each function's time in every round; the order reverses from round to round (A B C, C B A,
    ...) so that neither side always runs first or right after the other."""
    times = {name: [] for name in fns}
    for r in range(rounds):
        for name, fn in (list(fns.items()) if r % 2 else list(fns.items())[::-1]):
            t0 = clock()
            fn()
            times[name].append(clock() - t0)
    return times


def quartiles(values: list) -> dict:
    """The median and the quartiles (the spread printed beside each median)."""
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else values * 3
    return {"median": statistics.median(values), "q1": q1, "q3": q3}


def bench(setting, X, y, steps, rounds, batch, width, depth, clock, optimizer_only=False):
    runners, diff, hand_back_gradients = make_runners(setting, X, y, steps, batch, width, depth)
    for fn in runners.values():       # warm-up (in --optimizer-only: BatchNorm layers found)
        fn()
    if optimizer_only:
        hand_back_gradients()
        for fn in runners.values():
            fn()
    times = interleaved_times(runners, rounds, clock)
    # per round: ours / minimal and ours - minimal (us per step), and the same for the A/A copy
    reference = times["minimal"]
    ours, floor = ({"ratio": quartiles([t / r for t, r in zip(times[name], reference)]),
                    "us": quartiles([1e6 * (t - r) / steps for t, r in zip(times[name], reference)])}
                   for name in ("ours", "minimal_copy"))
    row = {"setting": setting, "width": width, "optimizer_only": optimizer_only,
           "ours_ms_per_step": 1e3 * statistics.median(times["ours"]) / steps,
           "minimal_ms_per_step": 1e3 * statistics.median(times["minimal"]) / steps,
           "max_param_diff": diff(), "load_average_1min": os.getloadavg()[0]}
    for key, summary in (("ratio", ours["ratio"]), ("noise_floor_ratio", floor["ratio"]),
                         ("overhead_us", ours["us"]), ("noise_floor_us", floor["us"])):
        row.update({key: summary["median"], key + "_q1": summary["q1"], key + "_q3": summary["q3"]})
    return row


def selected_settings(only: str | None) -> list:
    """The settings named in ``--only`` (comma-separated; a name also selects its ``_`` variants);
    ValueError naming an unknown one."""
    if not only:
        return list(SETTINGS)
    names = [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in names if not any(s == n or s.startswith(n + "_") for s in SETTINGS)]
    if unknown or not names:
        raise ValueError(f"unknown setting(s) {', '.join(unknown) or repr(only)}; the settings are "
                         f"{', '.join(SETTINGS)}")
    return [s for s in SETTINGS if any(s == n or s.startswith(n + "_") for n in names)]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--widths", default="256,1024")
    p.add_argument("--depth", type=int, default=2)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--only", default=None, help=f"settings, comma-separated: {', '.join(SETTINGS)}")
    p.add_argument("--optimizer-only", action="store_true",
                   help="hand back one batch's gradients instead of forward and backward passes: "
                        "the optimizers' own cost per step, the fixed overhead in us")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    try:
        settings = selected_settings(args.only)
    except ValueError as exc:
        p.error(f"--only: {exc}")                  # one line, exit status 2
    threads_before = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        return report(args, settings)
    finally:
        torch.set_num_threads(threads_before)      # process-wide: leave a caller's setting alone


def report(args, settings) -> int:
    from verify.nn.data import load_digits
    X, y, _, _ = load_digits().tensors(dtype=torch.float32)
    # one torch thread computes in this thread: its CPU time is what the step costs
    clock, clock_name = ((time.thread_time, "CPU time of the compute thread") if args.threads == 1
                         else (time.perf_counter, "wall time"))
    widths = [int(w) for w in args.widths.split(",")]
    load_before = os.getloadavg()[0]
    rows = [bench(s, X, y, args.steps, args.rounds, args.batch, w, args.depth, clock,
                  args.optimizer_only) for w in widths for s in settings]
    load = {"load_average_1min_before": load_before, "load_average_1min_after": os.getloadavg()[0],
            "cores": os.cpu_count()}
    if args.json:
        print(json.dumps({"rows": rows, **load}, indent=2))
        return 0
    what = ("the optimizers alone (one batch's gradients handed back, no forward or backward)"
            if args.optimizer_only else "whole steps")
    print(f"SAM optimizer vs a minimal first_step/second_step wrapper, {what}: MLP "
          f"64-(width x {args.depth})-10, batch {args.batch}; {args.rounds} interleaved rounds of "
          f"{args.steps} steps; {args.threads} thread(s), {clock_name}; load average "
          f"{load['load_average_1min_before']:.1f} before, {load['load_average_1min_after']:.1f} "
          f"after, on {load['cores']} cores")
    goal = "" if args.optimizer_only else " (goal <= 1.05)"
    for r in rows:
        print(f"  width {r['width']:5d} {r['setting']:10s} ours {r['ours_ms_per_step']:7.3f} ms/step  "
              f"minimal {r['minimal_ms_per_step']:7.3f} ms/step  max |theta_ours - theta_minimal| "
              f"{r['max_param_diff']:.1e}  load {r['load_average_1min']:.1f}\n"
              f"      ratio {_spread(r, 'ratio', '.3f')}{goal}, ours - minimal "
              f"{_spread(r, 'overhead_us', '+.0f')} us/step;  noise floor (minimal vs its copy): "
              f"ratio {_spread(r, 'noise_floor_ratio', '.3f')}, "
              f"{_spread(r, 'noise_floor_us', '+.0f')} us/step")
    print("  medians over the rounds [quartiles] of the per-round ratio and difference; ms/step: "
          "the median round")
    return 0


def _spread(row: dict, key: str, fmt: str) -> str:
    return f"{row[key]:{fmt}} [{row[key + '_q1']:{fmt}}, {row[key + '_q3']:{fmt}}]"


if __name__ == "__main__":
    raise SystemExit(main())
