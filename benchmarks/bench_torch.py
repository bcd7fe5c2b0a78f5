"""Benchmark of the torch path, printed in one run:

1. seed-steps per second of full-batch SAM for S seeds batched with torch.func.vmap
   (:func:`verify.train.train`) vs a per-seed loop with the conventional optimizer wrapper
   (:class:`verify.sam_optimizer.SAM` over torch.optim.SGD) — goal >= 1.5x on 2 CPU cores,
   >= 10x on a GPU;
2. the achieved FLOP rate of a batched SAM step (matmul FLOPs of two forward+backward passes) as a
   fraction of the machine's measured rate for the same matmuls alone (goal >= 50 %);
3. the cost of the full check at one point (:func:`verify.mlp_check.check_point`) in
   gradient-equivalents and seconds at d ~ 1e4 (goal <= 1500 and < 30 s on 2 cores).

    python benchmarks/bench_torch.py [--device auto] [--seeds 16] [--steps 100] [--threads N]
                                     [--check-width 133] [--skip-check] [--json]
"""
from __future__ import annotations

import argparse
import json
import time


def _sync(device):
    import torch
    if device.type == "cuda":
        torch.cuda.synchronize()


def bench_training(data, S, steps, width, device, dtype="float32"):
    import torch
    import torch.nn.functional as F
    from verify.mlp import build_mlp
    from verify.sam_optimizer import SAM
    from verify.train import BatchedProblem, TrainConfig, train
    prob = BatchedProblem(data, width, 1, "tanh", dtype, str(device))
    cfg = TrainConfig(rho=2.0, steps=steps, seeds=tuple(range(S)), width=width, dtype=dtype,
                      device=str(device), log_every=10 ** 9)
    train(data, TrainConfig(**{**cfg.__dict__, "steps": 3}), progress=False, problem=prob)  # warm-up
    _sync(prob.device)
    t0 = time.perf_counter()
    train(data, cfg, progress=False, problem=prob)
    _sync(prob.device)
    t_batched = time.perf_counter() - t0
    # per-seed loop with the optimizer wrapper
    Xtr, ytr = prob.obj.X, prob.obj.y
    t_loop = 0.0
    for s in range(S):
        m = build_mlp(data.n_features, width, 1, data.n_classes, "tanh", seed=s).to(
            device=prob.device, dtype=prob.dtype)
        opt = SAM(m.parameters(), torch.optim.SGD, rho=2.0, lr=0.01, momentum=0.9, monitor=False)

        def closure():
            opt.zero_grad()
            loss = F.cross_entropy(m(Xtr), ytr)
            loss.backward()
            return loss
        opt.step(closure)
        _sync(prob.device)
        t0 = time.perf_counter()
        for _ in range(steps):
            opt.step(closure)
        _sync(prob.device)
        t_loop += time.perf_counter() - t0
    return {"S": S, "steps": steps, "batched_seed_steps_per_s": S * steps / t_batched,
            "loop_seed_steps_per_s": S * steps / t_loop, "speedup": t_loop / t_batched,
            "t_batched_s": t_batched, "t_loop_s": t_loop}, prob


def bench_flops(prob, S, reps=30):
    """Matmul FLOPs of one batched SAM step vs the same matmuls timed alone."""
    import torch
    n, fin = prob.obj.X.shape
    h = prob.width
    C = prob.data.n_classes
    # per gradient: forward 2n(fin h + h C); backward dW1 2n fin h, dW2 2n h C, dH 2n h C
    flops_grad = 2 * n * (fin * h + h * C) + 2 * n * fin * h + 4 * n * h * C
    flops_step = 2 * flops_grad * S
    theta = prob.init(range(S))
    for _ in range(3):
        g, _ = prob.grad_and_value(theta)
    _sync(prob.device)
    t0 = time.perf_counter()
    for _ in range(reps):
        g, _ = prob.grad_and_value(theta)
        nrm = g.norm(dim=1, keepdim=True)
        w, _ = prob.grad_and_value(theta + 2.0 * g / nrm)
    _sync(prob.device)
    t_step = (time.perf_counter() - t0) / reps
    dt = prob.dtype
    X = prob.obj.X.expand(S, n, fin)
    W1 = torch.randn(S, fin, h, dtype=dt, device=prob.device)
    W2 = torch.randn(S, h, C, dtype=dt, device=prob.device)
    H = torch.randn(S, n, h, dtype=dt, device=prob.device)
    Z = torch.randn(S, n, C, dtype=dt, device=prob.device)

    def mm():
        torch.bmm(X, W1)
        torch.bmm(H, W2)
        torch.bmm(X.transpose(1, 2), H)
        torch.bmm(H.transpose(1, 2), Z)
        torch.bmm(Z, W2.transpose(1, 2))
    for _ in range(3):
        mm()
    _sync(prob.device)
    t0 = time.perf_counter()
    for _ in range(reps):
        mm()
        mm()
    _sync(prob.device)
    t_mm = (time.perf_counter() - t0) / reps
    achieved, peak = flops_step / t_step, flops_step / t_mm
    return {"flops_per_step": flops_step, "step_s": t_step, "achieved_gflops": achieved / 1e9,
            "matmul_gflops_same_shapes": peak / 1e9, "fraction": achieved / peak}


def bench_check(data, width, device, sigma_budget, map_budget, sam_steps=100):
    from verify import mlp_check as mc
    from verify.ctx_torch import TorchContext
    from verify.torch_model import mlp_objective
    ctx = TorchContext(str(device), "float64")
    obj, theta = mlp_objective(data, width, 1, "tanh", seed=0, device=ctx.device)
    # a point a few hundred SAM steps into training at rho = 2.5 (not at initialization)
    theta, _ = mc.sam_run(obj, theta, 2.5, sam_steps, ctx=ctx)
    t0 = time.perf_counter()
    pc = mc.check_point(obj, theta, 2.5, ctx=ctx, dense_limit=0, sigma_budget=sigma_budget,
                        map_budget=map_budget, map_tol=1e-6, with_map=map_budget > 0)
    total = time.perf_counter() - t0
    return {"d": obj.dim, "seconds": pc.seconds, "seconds_incl_timing": total,
            "seconds_per_grad": pc.seconds_per_grad,
            "grad_equivalents_by_count": pc.grad_equivalents,
            "grad_equivalents_by_time": pc.seconds / pc.seconds_per_grad, "counts": pc.counts,
            "hvps_before_map": pc.extra["hvps_before_map"], "hvps_map": pc.extra["hvps_map"],
            "sigma_min": pc.sigma_min, "lambda_min_sym_du": pc.lambda_min_sym_du,
            "map_status": pc.extra["map_status"]}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="auto")
    p.add_argument("--seeds", type=int, default=16)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--check-width", type=int, default=133, help="133 gives d = 10,015 on digits")
    p.add_argument("--sigma-budget", type=int, default=300)
    p.add_argument("--map-budget", type=int, default=200, help="0 skips the SAM-map eigensolves")
    p.add_argument("--skip-check", action="store_true")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    import torch
    from verify.ctx_torch import resolve_device
    from verify.data import load_digits
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    data = load_digits()
    out = {"device": str(device), "threads": torch.get_num_threads(),
           "cuda": torch.cuda.get_device_name(0) if device.type == "cuda" else None}
    say = (lambda *a, **k: None) if args.json else (lambda *a: print(*a, flush=True))
    say(f"device {out['device']} (torch threads {out['threads']})")
    tr, prob = bench_training(data, args.seeds, args.steps, args.width, device)
    out["training"] = tr
    say(f"[1] S={tr['S']} seeds x {tr['steps']} SAM steps, 64-{args.width}-10 tanh, digits full batch:\n"
        f"    batched (vmap) {tr['batched_seed_steps_per_s']:.0f} seed-steps/s; per-seed loop with "
        f"SAM optimizer {tr['loop_seed_steps_per_s']:.0f} seed-steps/s; speedup {tr['speedup']:.2f}x "
        f"(goal {'10' if device.type == 'cuda' else '1.5'}x)")
    out["flops"] = f = bench_flops(prob, args.seeds)
    say(f"[2] SAM step: {f['achieved_gflops']:.1f} GFLOP/s achieved vs {f['matmul_gflops_same_shapes']:.1f} "
        f"GFLOP/s for the same matmuls alone: {100 * f['fraction']:.0f}% (goal 50%)")
    if not args.skip_check:
        out["check"] = c = bench_check(data, args.check_width, device, args.sigma_budget,
                                       args.map_budget)
        say(f"[3] full check at d = {c['d']}: {c['seconds']:.1f} s, {c['grad_equivalents_by_time']:.0f} "
            f"gradient-equivalents by time ({c['grad_equivalents_by_count']:.0f} by count: {c['counts']}); "
            f"HVPs before the SAM-map eigensolves {c['hvps_before_map']}, in them {c['hvps_map']} "
            f"({c['map_status']}); sigma_min with a budget of {args.sigma_budget} M^T M products -> "
            f"{c['sigma_min']} (goal <= 1500, < 30 s)")
    if args.json:
        print(json.dumps(out, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
