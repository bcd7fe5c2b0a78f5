"""``sam-verify mlp train|check|sweep``: full-batch SAM on MLPs (digits or MNIST), checks at a point.

    sam-verify mlp train --rho 2.5 --steps 3000 --seeds 8 [--switch 0.1] --out run.pt
    sam-verify mlp check --checkpoint run.pt [--seed-index 0] [--json]
    sam-verify mlp sweep --rhos 0.5,1,2,3 --seeds 8 --steps 2000 [--json]
    sam-verify mlp sweep --data mnist --mnist-dir ~/mnist --width 128 --steps 100000 --seeds 80 \
        --rhos 1.0,1.3,1.6,1.9 --row-chunk 80 --device cuda --out fig5/   # the paper's Figure 5 (GPU)
    sam-verify mlp sweep ... --out fig5/ --scheduler tcp://host:8786     # on a running Dask cluster

``mlp sweep`` runs its tasks (``--row-chunk`` rows each) on Dask (:mod:`verify.engine`): an embedded
LocalCluster by default, ``--workers 0`` serially here, ``--scheduler`` on an existing cluster;
``--out`` keeps one file per finished row and a re-run with it resumes.

``--device auto`` uses CUDA when present. Training is float32 by default, checks are float64.
"""
from __future__ import annotations

import json

from ..errors import SamVerifyError
from .common import engine_args, numbers_arg


def _model_args(p) -> None:
    p.add_argument("--data", default="digits", choices=["digits", "mnist"],
                   help="training data: scikit-learn's 8x8 digits (bundled) or MNIST from --mnist-dir")
    p.add_argument("--mnist-dir", default=None,
                   help="directory with the four MNIST IDX files, never downloaded (default: none; "
                        "required with --data mnist)")
    p.add_argument("--normalization", default="scalar", choices=["scalar", "per_feature", "none"],
                   help="input scaling: one scalar mean/std, per-feature standardization, or none")
    p.add_argument("--n-train", type=int, default=None,
                   help="use the first N training samples (default: all)")
    p.add_argument("--width", type=int, default=32, help="hidden units per layer")
    p.add_argument("--depth", type=int, default=1, help="number of hidden layers")
    p.add_argument("--activation", default="tanh", help="hidden activation (tanh is analytic)")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    p.add_argument("--threads", type=int, default=None,
                   help="torch intra-op threads (default: torch's choice; 1 is fastest on small "
                        "shared CPUs)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _train_args(p) -> None:
    p.add_argument("--steps", type=int, default=2000, help="full-batch training steps")
    p.add_argument("--seeds", type=int, default=8, help="number of seeds (0..S-1), trained at once")
    p.add_argument("--lr", type=float, default=0.01, help="learning rate eta")
    p.add_argument("--momentum", type=float, default=0.9, help="heavy-ball momentum")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"],
                   help="training precision (checks always run in float64)")
    p.add_argument("--log-every", type=int, default=50,
                   help="record loss, accuracy and GradRatio every this many steps")


def register(sub) -> None:
    p = sub.add_parser("mlp", help="full-batch SAM / switching on MLPs and checks at a point")
    s = p.add_subparsers(dest="mlp_command", required=True)
    t = s.add_parser("train", help="train S seeds at once (SAM-only or switching); save a checkpoint")
    _model_args(t)
    _train_args(t)
    t.add_argument("--rho", type=float, required=True, help="SAM perturbation radius rho (0: plain GD)")
    t.add_argument("--switch", type=float, default=0.0,
                   help="fraction of steps of plain GD before SAM (0 = SAM-only; paper: 0.1)")
    t.add_argument("--out", default=None, help="checkpoint path (.pt) (default: none, nothing saved)")
    t.add_argument("--resume", default=None, help="continue a checkpoint up to --steps (default: none, a fresh run)")
    t.set_defaults(run=run_train, defaults_of=t.get_default)
    c = s.add_parser("check", help="matrix-free checks at a trained seed's parameters")
    c.add_argument("--checkpoint", required=True, help="a checkpoint written by mlp train --out")
    c.add_argument("--seed-index", type=int, default=None,
                   help="row of the checkpoint (default: the stalled seed with smallest GradRatio)")
    c.add_argument("--rho", type=float, default=None, help="rho (default: the checkpoint's rho)")
    c.add_argument("--mnist-dir", default=None,
                   help="MNIST folder (default: the one recorded in the checkpoint)")
    c.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    c.add_argument("--dense-limit", type=int, default=3000, help="dense Hessian nullity up to this d")
    c.add_argument("--sigma-budget", type=int, default=4000,
                   help="max Krylov vectors of the one P H P run that gives Du's extremes, lambda_min(Sym Du) "
                        "and sigma_min(I + rho Du) (beyond it the unconverged estimates are reported)")
    c.add_argument("--map-budget", type=int, default=2000,
                   help="max Krylov vectors of the block Arnoldi run on H(x+)(I + rho Du) (SAM and "
                        "heavy-ball Jacobian eigenvalues); 0 skips it")
    c.add_argument("--eigs", type=int, default=1,
                   help="leading eigenvalues of the SAM and heavy-ball maps to certify (1: the radius)")
    c.add_argument("--attraction-steps", type=int, default=1000, help="0 skips the attraction test")
    c.add_argument("--threads", type=int, default=None,
                   help="torch intra-op threads (default: torch's choice)")
    c.add_argument("--json", action="store_true", help="print JSON")
    c.set_defaults(run=run_check)
    w = s.add_parser("sweep", help="SAM-only vs switching over a rho grid (tasks on Dask; --out resumes)")
    _model_args(w)
    _train_args(w)
    w.add_argument("--rhos", default="0.5,1.0,1.5,2.0,2.5,3.0", help="comma-separated rho grid")
    w.add_argument("--switch", type=float, default=0.1,
                   help="fraction of steps of plain GD before SAM in the switching runs")
    w.add_argument("--switch-rhos", default=None, help="rhos for the switching runs (default: --rhos)")
    w.add_argument("--row-chunk", type=int, default=None,
                   help="rows (mode, rho, seed) per task, trained as one batched run (default: "
                        "--seeds, one task per (mode, rho))")
    w.add_argument("--out", default=None,
                   help="folder for one JSON file per finished row; a re-run with the same folder "
                        "trains only the missing rows (default: none, nothing saved)")
    engine_args(w)
    w.set_defaults(run=run_sweep)


def _threads(args):
    if getattr(args, "threads", None):
        from ..nn.threads import fix_threads
        fix_threads(args.threads)


def _data_spec(args) -> dict:
    return {"data": args.data, "normalization": args.normalization, "mnist_dir": args.mnist_dir,
            "n_train": args.n_train}


def _data(args):
    from ..nn.sweep_tasks import load_data
    return load_data(_data_spec(args))


def _resumed_config(resume, given, args):
    """The checkpoint's configuration, run on to ``--steps``. A flag that differs from both its
    default and the checkpoint is refused (it would be ignored); the switching step stays where
    it was, in steps, not in fraction of the new length."""
    saved = resume.config
    requested_switch = resume.extra.get("switch_requested", saved.switch_fraction)
    pairs = {"rho": ("rho", saved.rho), "lr": ("lr", saved.lr), "momentum": ("momentum", saved.momentum),
             "switch": ("switch_fraction", requested_switch), "width": ("width", saved.width),
             "depth": ("depth", saved.depth), "activation": ("activation", saved.activation),
             "dtype": ("dtype", saved.dtype), "seeds": ("seeds", saved.seeds)}
    conflicts = []
    for flag, (field_, old) in pairs.items():
        new = getattr(given, field_)
        if new != old and (flag == "rho" or getattr(args, flag) != args.defaults_of(flag)):
            conflicts.append(f"--{flag} {getattr(args, flag)} (checkpoint: {old if flag != 'seeds' else len(old)})")
    if conflicts:
        raise SamVerifyError("--resume continues the checkpoint's run; these flags differ from it: "
                             + ", ".join(conflicts))
    if args.steps < resume.step:
        raise SamVerifyError(f"--steps {args.steps} is below the checkpoint's {resume.step} steps")
    switch_step = saved.switch_step
    saved.steps = args.steps
    saved.switch_fraction = switch_step / args.steps if args.steps else 0.0
    saved.device, saved.log_every = given.device, given.log_every     # where and how often: not the math
    return saved


def run_train(args) -> int:
    from ..nn.train import TrainConfig, TrainResult, train
    _threads(args)
    resume = TrainResult.load(args.resume) if args.resume else None
    if resume is not None:                                 # the checkpoint's data, unless told
        args.n_train = resume.extra.get("n_train") if args.n_train is None else args.n_train
        args.mnist_dir = args.mnist_dir or resume.extra.get("mnist_dir")
    data = _data(args)
    cfg = TrainConfig(rho=args.rho, lr=args.lr, momentum=args.momentum, steps=args.steps,
                      switch_fraction=args.switch, seeds=tuple(range(args.seeds)), width=args.width,
                      depth=args.depth, activation=args.activation, dtype=args.dtype,
                      device=args.device, log_every=args.log_every)
    if resume is not None:
        cfg = _resumed_config(resume, cfg, args)
    res = train(data, cfg, resume=resume, progress=not args.quiet)
    res.extra.update({"n_train": args.n_train, "mnist_dir": args.mnist_dir,
                      "switch_requested": resume.extra.get("switch_requested", args.switch)
                      if resume is not None else args.switch})
    if args.out:
        res.save(args.out)
    summ = res.summary()
    summ.pop("final")
    if args.json:
        print(json.dumps({**summ, "checkpoint": args.out, "final": res.final()}, indent=2))
    else:
        print(f"{cfg.mode} rho={cfg.rho} seeds={len(cfg.seeds)} steps={res.step} "
              f"({res.elapsed:.1f} s, {len(cfg.seeds) * (res.step) / max(res.elapsed, 1e-9):.0f} "
              f"seed-steps/s)")
        fin = res.final()
        for i, s in enumerate(cfg.seeds):
            print(f"  seed {s}: loss {fin['loss'][i]:.4f}  train acc {fin['train_acc'][i]:.4f}  "
                  f"test acc {fin['test_acc'][i]:.4f}  ||g|| {fin['grad_norm'][i]:.3e}  "
                  f"GradRatio {fin['grad_ratio_tail'][i]:.2e}  LossGap {fin['loss_gap'][i]:.3e}  "
                  f"-> {summ['outcomes'][i]}")
        print(f"stalled fraction {summ['stalled_fraction']:.2f}; mean test acc "
              f"{summ['mean_test_acc']:.4f}" + (f"; saved {args.out}" if args.out else ""))
    return 0


def run_check(args) -> int:
    import torch
    from ..nn import point_check as mc
    from ..ctx.torch import TorchContext
    from ..nn.data import load
    from ..objectives.torch_model import mlp_objective
    from ..nn.train import TrainResult
    _threads(args)
    res = TrainResult.load(args.checkpoint)
    cfg = res.config
    rho = args.rho if args.rho is not None else cfg.rho
    if args.seed_index is None:
        fin = res.final()
        cands = [i for i in range(len(cfg.seeds)) if fin["loss"][i] > 1.0]
        idx = min(cands, key=lambda i: fin["grad_ratio"][i]) if cands else 0
    else:
        idx = args.seed_index
    if not 0 <= idx < len(cfg.seeds):
        raise SamVerifyError(f"--seed-index {idx} is outside 0..{len(cfg.seeds) - 1}")
    recorded = res.extra.get("data") or {}
    n_train = recorded.get("n_train", res.extra.get("n_train"))
    data = load(res.data_name, res.normalization, args.mnist_dir or res.extra.get("mnist_dir"),
                **({"n_train": n_train} if res.data_name == "mnist" else {}))
    if res.data_name == "digits" and n_train is not None:
        data = data.subset(n_train)
    data.require_identity(recorded, f"mlp check of {args.checkpoint}")
    ctx = TorchContext(args.device, "float64")
    obj, _ = mlp_objective(data, cfg.width, cfg.depth, cfg.activation, device=ctx.device)
    obj.require_analytic("the checks of Theorems 3.1/3.2 (mlp check)")
    theta = res.theta[idx].to(ctx.device, torch.float64)
    pc = mc.check_point(obj, theta, rho, cfg.lr, cfg.momentum, ctx, dense_limit=args.dense_limit,
                        sigma_budget=args.sigma_budget, map_budget=args.map_budget,
                        with_map=args.map_budget > 0, k_eigs=args.eigs)
    out = pc.to_dict()
    out["seed_index"] = idx
    if args.attraction_steps:
        at = mc.attraction_test(obj, theta, rho, 0.1, args.attraction_steps, cfg.lr, cfg.momentum,
                                ctx=ctx, record_every=0)
        out["attraction"] = {k: v for k, v in at.items() if k not in ("x0", "xN", "path")}
    if args.json:
        print(json.dumps(out, indent=2, default=lambda o: str(o)))
        return 0
    D = pc.diagnostics
    print(f"seed index {idx} of {args.checkpoint}: d = {obj.dim}, rho = {rho} -> {pc.verdict}")
    print(f"  f = {D['f']:.6g}, f_SAM = {D['f_sam']:.6g}, ||grad f|| = {D['grad_norm']:.4e}, "
          f"||grad f(x+)|| = {D['shifted_grad_norm']:.4e}, GradRatio = {D['grad_ratio']:.3e}")
    ok = pc.converged
    flag = lambda name: "" if ok[name] else " [NOT converged: an estimate]"  # noqa: E731
    print(f"  lambda_min(Sym Du) = {pc.lambda_min_sym_du:.6g}; 1 + rho lambda_min = "
          f"{pc.attraction_margin:.6g}{flag('sym_du_min')}; Du spectrum in [{pc.du_min:.4g}, "
          f"{pc.du_max:.4g}]{flag('du_extremes')}")
    sg = pc.sigma_min
    print(f"  sigma_min(I + rho Du) = {sg['estimate']:.6g} (residual {sg['residual']:.1e}, "
          f"{'converged' if sg['converged'] else 'NOT converged: an upper bound'}, "
          f"{sg['vectors']} Krylov vectors); lower bound max(0, 1 + rho lambda_min) = "
          + (f"{sg['lower_bound']:.4g}" if sg["lower_bound"] is not None else "none (lambda_min not converged)"))
    if ok["sam_map"] is None:
        print("  SAM map: skipped (--map-budget 0)")
    elif not ok["sam_map"]:
        print(f"  SAM map: NOT converged in {pc.extra['map_status'][0]['products']} Krylov vectors "
              f"(raise --map-budget); no eigenvalue reported")
    else:
        print(f"  SAM map, leading |eig| ({args.eigs} certified): "
              f"{[round(float(abs(z)), 8) for z in pc.sam_map_eigs]}; heavy-ball: "
              f"{[round(float(abs(z)), 8) for z in pc.heavy_ball_eigs]}")
    print(f"  symmetry dimension {pc.symmetry['total']} ({pc.symmetry['formula']}); max ||H(x+) v|| "
          f"= {pc.symmetry_residuals['max_hv_norm']:.2e}")
    if pc.nullity:
        nl = pc.nullity
        print(f"  Hessian nullity at x+ (dense) = {nl['nullity']} below {nl['threshold']:.2e} (eigenvalues "
              f"either side {nl['last_below']:.2e} | {nl['first_above']:.2e}); at the largest relative "
              f"gap of the small spectrum (x{nl['largest_gap_ratio'] or 0:.3g}): {nl['nullity_at_largest_gap']}; "
              f"at rounding level (<= {nl['rounding_floor']:.1e}): {nl['rounding_zeros']}")
    else:
        print(f"  Hessian nullity at x+: not computed (d = {obj.dim} > --dense-limit {args.dense_limit})")
    print(f"  cost: {pc.counts} ~ {pc.grad_equivalents:.0f} gradient-equivalents by count (an HVP through a "
          f"shared linearization = 1, alone = 2), "
          f"{pc.extra['grad_equivalents_by_time']:.0f} by time; {pc.seconds:.1f} s")
    if "attraction" in out:
        a = out["attraction"]
        print(f"  attraction: |x0 - x_h| = {a['dist0']:.3g} -> |xN - x_h| = {a['distN']:.3g} "
              f"(mod symmetries {a['distN_mod_symmetry']:.3g}); f {a['fN']:.6g}, GradRatio "
              f"{a['grad_ratioN']:.3e}")
        ds = a.get("distN_to_stationary_set")
        if ds:
            print(f"  first-order distance from x_N to the SAM stationary set (Levenberg-Marquardt step, "
                  f"damping {ds['damping']:g} ||A||; residual after it {ds['residual_after']:.2g} of "
                  f"||F||, {ds['products']} HVPs): {ds['distance_estimate']:.3g} "
                  + ("(LSMR converged)" if ds["converged"] else
                     f"(LSMR NOT converged in {ds['iterations']} iterations, relative residual "
                     f"{ds['relative_residual']:.2g}: a truncated estimate)"))
    return 0


def run_sweep(args) -> int:
    import os
    from ..ctx.torch import resolve_device
    from ..engine import Engine
    from ..nn.sweep_tasks import run_sweep as run_tasks
    from ..nn.train import TrainConfig, format_sweep, sweep_rows
    try:  # the one number reader; reported as before, a SamVerifyError naming the list
        rhos = numbers_arg(args.rhos, "--rhos", low=0)
        switch_rhos = numbers_arg(args.switch_rhos, "--switch-rhos", low=0) if args.switch_rhos else None
    except SamVerifyError as exc:
        raise SamVerifyError(f"rho lists must be comma-separated numbers >= 0 ({exc})") from None
    if args.row_chunk is not None and args.row_chunk < 1:
        raise SamVerifyError(f"--row-chunk must be >= 1, got {args.row_chunk}")
    cfg = TrainConfig(rho=max(rhos), lr=args.lr, momentum=args.momentum, steps=args.steps,
                      seeds=tuple(range(args.seeds)), width=args.width, depth=args.depth,
                      activation=args.activation, dtype=args.dtype, device=args.device,
                      log_every=args.log_every)
    rows = sweep_rows(rhos, cfg.seeds, args.steps, args.switch, switch_rhos=switch_rhos)
    gpu = args.device == "cuda" or (args.device == "auto" and args.scheduler is None and args.workers != 0
                                    and str(resolve_device("auto")).startswith("cuda"))
    with Engine(args.workers, args.scheduler, threads=args.threads, gpu=gpu,
                progress=not args.quiet) as eng:
        sw = run_tasks(eng, _data_spec(args), rows, cfg, out=args.out,
                       row_chunk=args.row_chunk or args.seeds,
                       trace=os.environ.get("SAM_VERIFY_TASK_TRACE"))
    if args.json:
        keys = ("transition_rho", "loss_transition_rho", "transition", "loss_transition", "stall_loss",
                "ratio_tol", "elapsed_s", "data", "normalization", "failed", "missing", "reused", "out")
        print(json.dumps({"rows": sw["rows"], **{k: sw[k] for k in keys}}, indent=2))
    else:
        print(format_sweep(sw))
        print(f"({sw['elapsed_s']:.1f} s of training; {sw['reused']} rows read back from {sw['out']})"
              if sw["reused"] else f"({sw['elapsed_s']:.1f} s of training)")
        for key, err in sw["failed"].items():
            print(f"FAILED task {key}: {err.splitlines()[0]}")
    return 1 if sw["failed"] else 0
