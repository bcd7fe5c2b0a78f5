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
minimal, ours; ...: neither side always runs first on a shared machine); the ratio printed is the median over rounds of ours /
minimal within a round, with the spread of those per-round ratios (quartiles). With one torch thread
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

    python benchmarks/bench_optimizer.py [--only amp] [--steps 10] [--rounds 15] [--widths 256,1024]
                                         [--depth 2] [--batch 128] [--threads 1] [--json]

``--only`` takes settings separated by commas; a name also selects its ``_`` variants (``amp`` runs
amp and amp_scaler). A quiet-core measurement of the AMP lines:
``nice -n 0 python benchmarks/bench_optimizer.py --only amp --rounds 31``.
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
    from verify.nn.sam_optimizer import SAM
    batchnorm, amp, use_scaler = setting == "batchnorm", setting.startswith("amp"), setting == "amp_scaler"
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

    def backward(loss, scaler):
        (scaler.scale(loss) if scaler is not None else loss).backward()

    def loss_of(model, idx):
        if amp:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return F.cross_entropy(model(X[idx]), y[idx])
        return F.cross_entropy(model(X[idx]), y[idx])

    def run_ours():
        for idx in batches:
            def closure(idx=idx):
                ours.zero_grad()
                loss = loss_of(ours_model, idx)
                backward(loss, ours_scaler)
                return loss
            ours.step(closure, scaler=ours_scaler)
            if ours_scaler is not None:
                ours_scaler.update()

    def minimal_runner(model):
        minimal = MinimalSAM(model.parameters(), torch.optim.SGD, rho=rho, lr=lr, momentum=0.9)
        scaler = new_scaler()

        def run_minimal():
            for idx in batches:
                minimal.zero_grad()
                backward(loss_of(model, idx), scaler)
                if scaler is not None:
                    scaler.unscale_(minimal)
                minimal.first_step(zero_grad=True)
                saved = _set_bn_momentum(model) if batchnorm else None
                backward(loss_of(model, idx), scaler)
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
    return {"ours": run_ours, "minimal": minimal_runner(min_model),
            "minimal_copy": minimal_runner(copy.deepcopy(min_model))}, max_param_diff


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


def ratio_summary(times: list, reference: list) -> dict:
    """The median and the quartiles of the per-round ratios time / reference time."""
    ratios = sorted(t / r for t, r in zip(times, reference))
    q1, _, q3 = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
    return {"median": statistics.median(ratios), "q1": q1, "q3": q3}


def bench(setting, X, y, steps, rounds, batch, width, depth, clock):
    runners, diff = make_runners(setting, X, y, steps, batch, width, depth)
    for fn in runners.values():                                           # warm-up
        fn()
    times = interleaved_times(runners, rounds, clock)
    ours = ratio_summary(times["ours"], times["minimal"])
    floor = ratio_summary(times["minimal_copy"], times["minimal"])
    return {"setting": setting, "width": width,
            "ours_ms_per_step": 1e3 * statistics.median(times["ours"]) / steps,
            "minimal_ms_per_step": 1e3 * statistics.median(times["minimal"]) / steps,
            "ratio": ours["median"], "ratio_q1": ours["q1"], "ratio_q3": ours["q3"],
            "noise_floor_ratio": floor["median"], "noise_floor_q1": floor["q1"],
            "noise_floor_q3": floor["q3"], "max_param_diff": diff(),
            "load_average_1min": os.getloadavg()[0]}


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
    rows = [bench(s, X, y, args.steps, args.rounds, args.batch, w, args.depth, clock)
            for w in widths for s in settings]
    load = {"load_average_1min_before": load_before, "load_average_1min_after": os.getloadavg()[0],
            "cores": os.cpu_count()}
    if args.json:
        print(json.dumps({"rows": rows, **load}, indent=2))
        return 0
    print(f"SAM optimizer vs a minimal first_step/second_step wrapper: MLP 64-(width x {args.depth})-10, "
          f"batch {args.batch}; median over {args.rounds} rounds of {args.steps} steps; "
          f"{args.threads} thread(s), {clock_name}; load average {load['load_average_1min_before']:.1f} "
          f"before, {load['load_average_1min_after']:.1f} after, on {load['cores']} cores")
    for r in rows:
        print(f"  width {r['width']:5d} {r['setting']:10s} ours {r['ours_ms_per_step']:7.3f} ms/step  minimal "
              f"{r['minimal_ms_per_step']:7.3f} ms/step  ratio {r['ratio']:.3f} "
              f"[{r['ratio_q1']:.3f}, {r['ratio_q3']:.3f}] (goal <= 1.05; noise floor: minimal vs "
              f"its copy {r['noise_floor_ratio']:.3f} [{r['noise_floor_q1']:.3f}, "
              f"{r['noise_floor_q3']:.3f}])  max |theta_ours - theta_minimal| "
              f"{r['max_param_diff']:.1e}  load {r['load_average_1min']:.1f}")
    print("  ratio: median of the per-round ratios [quartiles]; ms/step: median rounds")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
