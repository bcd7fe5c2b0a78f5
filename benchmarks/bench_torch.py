"""Benchmark of the torch path, printed in one run:

1. seed-steps per second of full-batch SAM for S seeds batched (:func:`verify.nn.train.train`, explicit
   backprop of :mod:`verify.nn.batched_mlp`; torch.func.vmap alongside) vs a per-seed loop with the
   conventional optimizer wrapper (:class:`verify.nn.sam_optimizer.SAM` over torch.optim.SGD) — goal
   >= 1.5x on 2 CPU cores, >= 10x on a GPU;
2. the achieved FLOP rate of a batched SAM step (matmul FLOPs of two forward+backward passes) as a
   fraction of the machine's measured rate for the same matmul calls alone (goal >= 70 %);
   each timing of 1. and 2. is the best of 3 repeats (the machine may be shared), and both are
   run with 1 torch thread and with every core, side by side, next to the choice of the thread
   policy (:mod:`verify.nn.threads`);
3. the cost of the full check at one point (:func:`verify.nn.point_check.check_point`: diagnostics,
   Du / Sym Du / sigma_min, the SAM-map eigenvalues, symmetry residuals) in gradient-equivalents
   at d ~ 1e4, by count and by time side by side (goal <= 1000 by time; the gradient timed right
   before and after the check, medians), and the check's time per product in HVP-equivalents
   (goal <= 1.3); the attraction test (1000 SAM steps, 2000 gradients by themselves, and the
   Levenberg-Marquardt distance to the stationary set) is timed beside it;
4. (``--sigma-routes``) sigma_min(I + rho Du) at a stalled d = 2410 point by the one Krylov space
   of P H P vs ARPACK's Lanczos on M^T M, in Hessian-vector products.

    python benchmarks/bench_torch.py [--device auto] [--seeds 16] [--steps 100] [--threads N]
                                     [--check-width 133] [--check-point stalled|early]
                                     [--theta FILE] [--save-theta FILE]
                                     [--skip-check] [--sigma-routes] [--json]
                                     [--widths 32,1333] [--train-steps 4000]

5. (``--widths``) only item 3's cost of the check (no attraction test) at a stalled point of each
   hidden width, with the load average before and after each.
"""
from __future__ import annotations

import argparse
import json
import time


def _sync(device):
    import torch
    if device.type == "cuda":
        torch.cuda.synchronize()


def _best_times(fns: dict, repeats: int) -> dict:
    """Best wall time of each function over ``repeats`` rounds that call them in turn (the machine
    may be shared: interleaving exposes every side to the same load, the minimum is the least
    disturbed run)."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def bench_training(data, S, steps, width, device, dtype="float32", repeats=3):
    import torch
    import torch.nn.functional as F
    from verify.nn.mlp import build_mlp
    from verify.nn.sam_optimizer import SAM
    from verify.nn.train import BatchedProblem, TrainConfig, train
    cfg = TrainConfig(rho=2.0, steps=steps, seeds=tuple(range(S)), width=width, dtype=dtype,
                      device=str(device), log_every=10 ** 9)
    probs, runs = {}, {}
    for name, explicit in (("batched", True), ("vmap", False)):
        prob = probs[name] = BatchedProblem(data, width, 1, "tanh", dtype, str(device),
                                            explicit=explicit)
        train(data, TrainConfig(**{**cfg.__dict__, "steps": 3}), progress=False, problem=prob)  # warm-up

        def run(prob=prob):
            train(data, cfg, progress=False, problem=prob)
            _sync(prob.device)
        runs[name] = run
    prob = probs["batched"]
    # per-seed loop with the optimizer wrapper
    Xtr, ytr = prob.obj.X, prob.obj.y
    opts = []
    for s in range(S):
        m = build_mlp(data.n_features, width, 1, data.n_classes, "tanh", seed=s).to(
            device=prob.device, dtype=prob.dtype)
        opt = SAM(m.parameters(), torch.optim.SGD, rho=2.0, lr=0.01, momentum=0.9, monitor=False)

        def closure(m=m, opt=opt):
            opt.zero_grad()
            loss = F.cross_entropy(m(Xtr), ytr)
            loss.backward()
            return loss
        opt.step(closure)                                              # warm-up
        opts.append((opt, closure))

    def loop():
        for opt, closure in opts:
            for _ in range(steps):
                opt.step(closure)
        _sync(prob.device)
    runs["loop"] = loop
    t = _best_times(runs, repeats)
    out = {"S": S, "steps": steps, "repeats": repeats}
    for name in runs:
        out[f"t_{name}_s"] = t[name]
        out[f"{name}_seed_steps_per_s"] = S * steps / t[name]
    out["speedup"] = t["loop"] / t["batched"]
    out["speedup_vmap"] = t["loop"] / t["vmap"]
    return out, prob


def bench_flops(prob, S, reps=30, repeats=3):
    """Matmul FLOPs of one batched SAM step (two explicit gradient evaluations, counted by
    ``BatchedMLP.flops``) vs exactly those matmul calls timed alone (``matmuls_only``)."""
    mlp = prob._mlp
    flops_step = 2 * mlp.flops(S)
    theta = prob.init(range(S))

    def steps():
        for _ in range(reps):
            g, _ = prob.grad_and_value(theta)
            w, _ = prob.grad_and_value(theta + 2.0 * g / g.norm(dim=1, keepdim=True))
        _sync(prob.device)

    def matmuls():
        for _ in range(2 * reps):
            mlp.grad_and_value(theta, matmuls_only=True)
        _sync(prob.device)
    _best_times({"step": steps, "mm": matmuls}, 1)                     # warm-up
    t = _best_times({"step": steps, "mm": matmuls}, repeats)
    t_step, t_mm = t["step"] / reps, t["mm"] / reps
    achieved, peak = flops_step / t_step, flops_step / t_mm
    return {"flops_per_step": flops_step, "step_s": t_step, "matmul_s": t_mm,
            "achieved_gflops": achieved / 1e9, "matmul_gflops_same_shapes": peak / 1e9,
            "fraction": achieved / peak}


def stalled_point(data, width, rho=3.0, steps=4000, seeds=4, device="cpu"):
    """Train ``seeds`` SAM-only seeds (float32, batched) and return the float64 parameters of the
    seed that stalled with the smallest GradRatio (or of seed 0 when none stalled)."""
    import torch
    from verify.nn.train import BatchedProblem, TrainConfig, train
    prob = BatchedProblem(data, width, 1, "tanh", "float32", str(device))
    cfg = TrainConfig(rho=rho, steps=steps, seeds=tuple(range(seeds)), width=width, dtype="float32",
                      device=str(device), log_every=10 ** 9)
    res = train(data, cfg, progress=False, problem=prob)
    fin = res.final()
    stalled = [i for i in range(seeds) if fin["loss"][i] > 1.0]
    i = min(stalled, key=lambda j: fin["grad_ratio"][j]) if stalled else 0
    return res.theta[i].to(torch.float64), {"seed": i, "loss": fin["loss"][i],
                                            "grad_ratio": fin["grad_ratio"][i], "stalled": bool(stalled)}


def unit_times(obj, theta, ctx, reps=10):
    """Median seconds of a gradient and of one Hessian-vector product through a shared
    linearization at theta, the two timed in turn (same load on both)."""
    import statistics
    import torch
    rows = obj.hessian_rows(theta, ctx)
    v = torch.randn(1, obj.dim, dtype=ctx.dtype, device=ctx.device)
    fns = {"grad": lambda: float(obj.grad(theta, ctx)[0]), "hvp": lambda: float(rows(v)[0, 0])}
    times = {k: [] for k in fns}
    for _ in range(reps + 1):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(t[1:]) for k, t in times.items()}


def bench_check(data, width, device, sigma_budget, map_budget, point="stalled", rho=3.0,
                theta_file=None, train_steps=4000, attraction=True):
    from verify.nn import point_check as mc
    from verify.nn.threads import torch_threads
    from verify.ctx.torch import TorchContext
    from verify.objectives.torch_model import mlp_objective
    ctx = TorchContext(str(device), "float64")
    obj, theta = mlp_objective(data, width, 1, "tanh", seed=0, device=ctx.device)
    if theta_file:                 # a point saved by an earlier run (--save-theta)
        import torch
        theta, where = torch.load(theta_file)
        theta = theta.to(ctx.device, ctx.dtype)
    elif point == "stalled":
        theta, where = stalled_point(data, width, rho, train_steps, device=device)
        where["train_steps"] = train_steps
        theta = theta.to(ctx.device)
    else:       # a point 100 SAM steps into training (not at initialization)
        theta, _ = mc.sam_run(obj, theta, rho, 100, ctx=ctx)
        where = {"seed": 0, "sam_steps": 100}
    n = mc.check_threads(obj, theta, ctx)
    with torch_threads(n):
        before = unit_times(obj, theta, ctx)
    pc = mc.check_point(obj, theta, rho, ctx=ctx, dense_limit=0, sigma_budget=sigma_budget,
                        map_budget=map_budget, with_map=map_budget > 0)
    with torch_threads(n):
        after = unit_times(obj, theta, ctx)
    at = _attraction(obj, theta, rho, ctx) if attraction else None
    t_grad = (before["grad"] + after["grad"]) / 2          # measured right before and after
    t_hvp = (before["hvp"] + after["hvp"]) / 2
    du = pc.extra["du_spectrum"]
    ms = pc.extra["map_status"][0] if pc.extra["map_status"] else {}
    c = pc.counts
    # the check's time over the time its products and gradients take alone: the overhead factor
    alone = c["grad"] * t_grad + c["hvp"] * t_hvp + 0.5 * c["value"] * t_grad
    out = {} if at is None else {
        "attraction_s": at["elapsed"], "attraction_grad_equivalents_by_time": at["elapsed"] / t_grad,
        "attraction_seconds": at["seconds"], "attraction_distance": at["distN_to_stationary_set"],
        "attraction_grad_ratioN": at["grad_ratioN"], "attraction_fN": at["fN"]}
    return {**out, "threads": n, "unit_times_before": before, "unit_times_after": after,
            "hvp_over_grad": t_hvp / t_grad, "per_product_hvp_equivalents": pc.seconds / alone,
            "d": obj.dim, "point": point, "where": where, "seconds": pc.seconds, "theta": theta,
            "seconds_per_grad": t_grad, "full_passes": du.get("full_passes"),
            "grad_equivalents_by_count": pc.grad_equivalents,
            "grad_equivalents_by_time": pc.seconds / t_grad, "counts": pc.counts,
            "du_vectors": du["vectors"], "du_converged": du["converged"],
            "map_vectors": ms.get("products"), "map_converged": ms.get("converged"),
            "hvps_before_map": pc.extra["hvps_before_map"], "hvps_map": pc.extra["hvps_map"],
            "sigma_min": pc.sigma_min, "lambda_min_sym_du": pc.lambda_min_sym_du,
            "heavy_ball_top": abs(pc.heavy_ball_eigs[0]) if pc.heavy_ball_eigs else None,
            "verdict": pc.verdict}


def _attraction(obj, theta, rho, ctx):
    """The attraction test timed as a separate item: 1000 SAM steps are 2000 gradients by themselves."""
    from verify.nn import point_check as mc
    from verify.nn.threads import torch_threads
    with torch_threads(mc.check_threads(obj, theta, ctx)):
        t0 = time.perf_counter()
        at = mc.attraction_test(obj, theta, rho, 0.1, 1000, ctx=ctx, record_every=0)
        return {**at, "elapsed": time.perf_counter() - t0}


def bench_check_widths(data, widths, device, sigma_budget, map_budget, train_steps, say, rho=3.0):
    """The check's cost (no attraction test) at a stalled point of each hidden width: per-product
    HVP-equivalents and gradient-equivalents by count and by time, with the load average."""
    import os
    rows = []
    for w in widths:
        load = os.getloadavg()[0]
        c = bench_check(data, w, device, sigma_budget, map_budget, rho=rho, train_steps=train_steps,
                        attraction=False)
        c.pop("theta", None)
        c["load_before"], c["load_after"] = load, os.getloadavg()[0]
        rows.append(c)
        say(f"    width {w}, d = {c['d']} ({c['where']}): {c['seconds']:.1f} s on {c['threads']} "
            f"thread(s), load {load:.1f}->{c['load_after']:.1f}: {c['per_product_hvp_equivalents']:.2f}"
            f" HVP-equivalents per product; gradient-equivalents {c['grad_equivalents_by_time']:.0f} by"
            f" time | {c['grad_equivalents_by_count']:.0f} by count ({c['counts']}; HVP "
            f"{c['hvp_over_grad']:.2f} gradients, gradient {1e3 * c['seconds_per_grad']:.1f} ms); P H P"
            f" {c['du_vectors']} vectors ({c['full_passes']} full reorthogonalization passes) converged"
            f" {c['du_converged']}, map {c['map_vectors']} "
            f"converged {c['map_converged']}")
    return rows


def bench_sigma_routes(data, width=32, rho=3.0, device="cpu", arpack_budget=4000):
    """sigma_min(I + rho Du) at a stalled point two ways, in Hessian-vector products: the one Krylov
    space of P H P (:mod:`verify.linalg.du_spectrum`) vs ARPACK's Lanczos on M^T M (two HVPs a product),
    the route it replaced."""
    import math
    import numpy as np
    from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh
    from verify import sam
    from verify.ctx.torch import TorchContext
    from verify.linalg.du_spectrum import du_spectrum
    from verify.objectives.torch_model import mlp_objective
    ctx = TorchContext(str(device), "float64")
    obj, _ = mlp_objective(data, width, 1, "tanh", seed=0, device=ctx.device)
    theta, where = stalled_point(data, width, rho, device=device)
    theta = theta.to(ctx.device)
    gr = sam.gradient(obj, theta, ctx)
    t0 = time.perf_counter()
    sp = du_spectrum(obj, theta, rho, ctx, gr, block=1, tol=1e-8, max_vectors=4000)
    t_krylov = time.perf_counter() - t0
    count = [0]

    def mtm(v):
        count[0] += 2
        if count[0] > arpack_budget:
            raise RuntimeError("budget")
        x = ctx.torch.as_tensor(np.asarray(v).reshape(-1), dtype=ctx.dtype, device=ctx.device)
        w = sam.i_plus_rho_du_matvec(obj, theta, rho, x, ctx, gr)
        return sam.i_plus_rho_du_rmatvec(obj, theta, rho, w, ctx, gr).cpu().numpy()
    t0 = time.perf_counter()
    try:
        val = eigsh(LinearOperator((obj.dim, obj.dim), matvec=mtm, dtype=np.float64), k=1,
                    which="SA", tol=1e-10, ncv=64, v0=np.ones(obj.dim))[0][0]
        arpack = math.sqrt(max(val, 0.0))
    except (RuntimeError, ArpackNoConvergence):
        arpack = None
    t_arpack = time.perf_counter() - t0
    return {"d": obj.dim, "where": where, "krylov_sigma": sp.sigma_min.value,
            "krylov_residual": sp.sigma_min.residual, "krylov_hvps": sp.products,
            "krylov_s": t_krylov, "arpack_sigma": arpack, "arpack_hvps": count[0],
            "arpack_s": t_arpack, "arpack_budget": arpack_budget}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="auto")
    p.add_argument("--seeds", type=int, default=16)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--check-width", type=int, default=133, help="133 gives d = 10,015 on digits")
    p.add_argument("--sigma-budget", type=int, default=4000,
                   help="Krylov vectors for the P H P run (Du, Sym Du, sigma_min)")
    p.add_argument("--map-budget", type=int, default=2000,
                   help="Krylov vectors for the SAM-map Arnoldi run; 0 skips it")
    p.add_argument("--check-point", choices=("stalled", "early"), default="stalled",
                   help="stalled: a SAM-only seed after 4000 steps at rho = 3 (trained first); "
                        "early: 100 SAM steps from initialization")
    p.add_argument("--theta", default=None,
                   help="check at the point saved in this file ((theta, info) by torch.save, e.g. "
                        "from --save-theta) instead of training one")
    p.add_argument("--save-theta", default=None, help="save the checked point to this file")
    p.add_argument("--skip-check", action="store_true")
    p.add_argument("--widths", default=None,
                   help="comma-separated hidden widths (32 -> d = 2410, 1333 -> d = 99,985): only the "
                        "check's cost at a stalled point of each (no training bench, no attraction test)")
    p.add_argument("--train-steps", type=int, default=4000,
                   help="SAM-only steps (4 seeds, float32) to reach the stalled point")
    p.add_argument("--rho", type=float, default=3.0, help="SAM radius of the training and the check")
    p.add_argument("--sigma-routes", action="store_true",
                   help="also compare sigma_min by the P H P Krylov space with ARPACK on M^T M (d = 2410)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    import torch
    from verify.ctx.torch import resolve_device
    from verify.nn.data import load_digits
    if args.threads:
        from verify.nn.threads import fix_threads
        fix_threads(args.threads)
    device = resolve_device(args.device)
    data = load_digits()
    out = {"device": str(device), "threads": torch.get_num_threads(),
           "cuda": torch.cuda.get_device_name(0) if device.type == "cuda" else None}
    say = (lambda *a, **k: None) if args.json else (lambda *a: print(*a, flush=True))
    say(f"device {out['device']} (torch threads {out['threads']})")
    if args.widths:
        say(f"[3'] the check's cost by width (budgets: P H P {args.sigma_budget}, map {args.map_budget}"
            f" vectors; stalled point after {args.train_steps} SAM steps at rho = {args.rho:g}):")
        out["widths"] = bench_check_widths(data, [int(w) for w in args.widths.split(",")], device,
                                           args.sigma_budget, args.map_budget, args.train_steps, say,
                                           args.rho)
        if args.json:
            print(json.dumps(out, indent=2, default=str))
        return 0
    from verify.nn.threads import candidates, torch_threads
    counts = (args.threads,) if args.threads else (candidates() if device.type == "cpu" else (None,))
    out["training"], out["flops"] = {}, {}
    for n in counts:                               # every thread setting, side by side
        with torch_threads(n):
            tr, prob = bench_training(data, args.seeds, args.steps, args.width, device)
            out["training"][n], out["flops"][n] = tr, bench_flops(prob, args.seeds)
    say(f"[1] S={args.seeds} seeds x {args.steps} SAM steps, 64-{args.width}-10 tanh, digits full batch "
        f"(best of {tr['repeats']}); goal {'10' if device.type == 'cuda' else '1.5'}x:")
    for n, tr in out["training"].items():
        say(f"    {n} thread(s): batched (explicit backprop) {tr['batched_seed_steps_per_s']:.0f} "
            f"seed-steps/s; per-seed loop with SAM optimizer {tr['loop_seed_steps_per_s']:.0f} "
            f"seed-steps/s; speedup {tr['speedup']:.2f}x; batched with vmap "
            f"{tr['vmap_seed_steps_per_s']:.0f} seed-steps/s ({tr['speedup_vmap']:.2f}x)")
    say("[2] SAM step vs the same matmuls alone (goal 70%):")
    for n, f in out["flops"].items():
        say(f"    {n} thread(s): {f['achieved_gflops']:.1f} GFLOP/s achieved vs "
            f"{f['matmul_gflops_same_shapes']:.1f} GFLOP/s for the matmuls alone: {100 * f['fraction']:.0f}%")
    if device.type == "cpu":
        from verify.nn.threads import policy_report
        from verify.nn.train import train_threads
        out["policy_training"] = train_threads(prob, prob.init(range(args.seeds)))
        say(f"    thread policy (verify.nn.threads, measured on one batched gradient): "
            f"{out['policy_training']} thread(s) for training; {policy_report()}")
    if not args.skip_check:
        out["check"] = c = bench_check(data, args.check_width, device, args.sigma_budget,
                                       args.map_budget, args.check_point, theta_file=args.theta,
                                       rho=args.rho, train_steps=args.train_steps)
        if args.save_theta:
            torch.save((c.pop("theta"), c["where"]), args.save_theta)
        c.pop("theta", None)
        sg = c["sigma_min"]
        ds = c["attraction_distance"]
        say(f"[3] full check at d = {c['d']} ({c['point']} point {c['where']} -> {c['verdict']}) on "
            f"{c['threads']} torch thread(s): {c['seconds']:.1f} s\n"
            f"    gradient-equivalents: {c['grad_equivalents_by_time']:.0f} by time | "
            f"{c['grad_equivalents_by_count']:.0f} by count (goal <= 1000 by time; {c['counts']}); "
            f"gradient {1e3 * c['seconds_per_grad']:.1f} ms, shared HVP {c['hvp_over_grad']:.2f} "
            f"gradients (medians, measured right before and after the check)\n"
            f"    per product: {c['per_product_hvp_equivalents']:.2f} HVP-equivalents (the check's time "
            f"over its products and gradients timed alone; goal <= 1.3); P H P run "
            f"{c['full_passes']} full reorthogonalization passes for {c['du_vectors']} vectors\n"
            f"    P H P run: {c['du_vectors']} vectors (converged {c['du_converged']}): sigma_min(I + rho Du)"
            f" = {sg['estimate']:.6g} +- {sg['residual']:.1e}, lambda_min(Sym Du) = "
            f"{c['lambda_min_sym_du']:.6g}\n"
            f"    SAM-map Arnoldi: {c['map_vectors']} vectors x 2 HVPs (converged {c['map_converged']}): "
            f"heavy-ball spectral radius {c['heavy_ball_top']}\n"
            f"    attraction test (not in the check): {c['attraction_s']:.1f} s = "
            f"{c['attraction_grad_equivalents_by_time']:.0f} gradient-equivalents by time "
            f"(1000 SAM steps {c['attraction_seconds']['sam_steps']:.1f} s, distance "
            f"{c['attraction_seconds']['distance']:.1f} s); GradRatio at the end "
            f"{c['attraction_grad_ratioN']:.2e}, f {c['attraction_fN']:.4g}; Levenberg-Marquardt "
            f"distance to the stationary set {ds['distance_estimate']:.3g} (damping {ds['damping']:g} "
            f"||A||, residual after {ds['residual_after']:.2g} of ||F||, {ds['iterations']} LSMR "
            f"iterations, {ds['products']} HVPs) converged {ds['converged']}")
    if args.sigma_routes:
        out["sigma_routes"] = r = bench_sigma_routes(data, device=device)
        say(f"[4] sigma_min(I + rho Du) at a stalled point, d = {r['d']}: one Krylov space of P H P "
            f"{r['krylov_sigma']:.9g} (+- {r['krylov_residual']:.1e}) in {r['krylov_hvps']} HVPs, "
            f"{r['krylov_s']:.1f} s; ARPACK on M^T M "
            + (f"{r['arpack_sigma']:.9g} in {r['arpack_hvps']} HVPs" if r["arpack_sigma"] is not None
               else f"not converged within {r['arpack_budget']} HVPs")
            + f", {r['arpack_s']:.1f} s: ratio {r['arpack_hvps'] / r['krylov_hvps']:.1f}x in HVPs")
    if args.json:
        print(json.dumps(out, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
