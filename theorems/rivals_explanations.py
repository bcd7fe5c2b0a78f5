"""Three explanations, side by side: where SAM stops on each zoo function, and which explanation
accounts for it — a hallucinated minimizer (the main paper), a saddle or maximum that attracts SAM
(Kim et al. 2023), or a stable minimum of f (Zhou et al. 2025, flatter than GD's).

What each explanation predicts about where SAM stops:

* hallucinated minimizer (main paper): at a point x that is not a critical point of f
  (grad f(x) != 0) while the step vanishes, grad f(x + rho u(x)) = 0;
* saddle attractor (Kim): at a critical point of f with a negative Hessian eigenvalue (a saddle or a
  maximum), attracting because lambda + rho lambda^2 > 0 (for normalized SAM the effective radius
  rho / ||grad f|| grows without bound near it);
* stable flat minimum (Zhou): at a minimizer of f, one that SAM's stability condition allows — flatter
  (smaller largest Hessian eigenvalue) than the one GD reaches from the same start.

Construction. For each zoo function, normalized SAM (rho = 0.5 and 1.5) and GD run from 16 seeded
starts in the middle half of the function's box (one array per method, verify.core.stochastic),
eta = 2e-3, 8000 steps. Each SAM end point is refined by Newton to the nearer of a critical point of
f and a fixed point of the SAM step (grad f(x + rho u(x)) = 0); the refined point is classified
exactly (verify.core.classify): hallucinated or SAM-stationary (main paper), saddle or maximizer of f
(Kim), minimizer of f (Zhou). An end more than 0.05 from its refined point is 'not settled'; runs
that diverge or whose refinement fails are 'unresolved'.

Claim per function: for some radius of the sweep at least half of the runs stopped — their end lies
within 0.05 of the refined point (only those are classified; the class describes where the run
stopped, not a nearby point). Negative control: the
same with 5 steps — the runs have not settled and the claim fails.

The stalled points of the digits MLP (Section 4). Section 4's sweep (theorems.mlp_check, trained
once per process; heavy-ball SAM, lr 0.01, momentum 0.9; quick: 64-16-10 on 400 images, 1000 steps;
full: 64-32-10 on the training split, 4000 steps) at its largest rho, 3, gives two points: the SAM-only
seed that stalled (loss > 1, smallest GradRatio) and, as the control, the switching seed with the
lowest loss. Each is re-run in float64 (a few hundred SAM steps) and measured matrix-free
(verify.nn.point_check): f, ||grad f||, GradRatio, the extreme Hessian eigenvalues of f (Lanczos,
residuals stated), Theorem 3.2's margin and the heavy-ball SAM map's spectral radius; then SAM is
run on from it, and what it does (stays within 1 % of the loss, or not) is the observation. Each
explanation's hypotheses are evaluated there — hallucinated minimizer: ||grad f|| >= 1e-3 (f not
stationary) and GradRatio <= 1e-2 (SAM stationary); saddle attractor: ||grad f|| <= 1e-3, a negative
Hessian eigenvalue lambda with lambda + rho_eff lambda^2 > 0, rho_eff = rho / ||grad f|| (normalized
SAM as Kim's unnormalized one); stable flat minimum: ||grad f|| <= 1e-3, H positive semidefinite,
lambda_max(H) <= 2 (1 + mu) / eta (linear stability of the heavy-ball step at a minimum, the rho = 0
end of Zhou's bound) — and an explanation accounts for the point when its hypotheses hold and SAM
stays. Claim: at the stalled point the main paper's explanation accounts for it and the two others'
hypotheses fail. Negative control: the same claims at the switching point (a point where SAM keeps
descending, on its way to the interpolating infimum of the cross-entropy) fail: it is not called
hallucinated.
"""
from __future__ import annotations

import functools
import math
import pathlib

import numpy as np
import sympy as sp

from verify import zoo
from verify.core import sam
from verify.core import stochastic as st
from verify.core.claims import boolean, compare
from verify.core.classify import classify
from verify.core.results import Certificate, object_key, renamed_keyword
from verify.core.solve import critical_point, newton
from verify.ctx import get_context

from ._rivals import float_certificate
from verify.errors import SamVerifyError

THEOREM = "Three explanations"
TITLE = "Where SAM stops on each zoo function: hallucinated minimizer, saddle attractor, or flat minimum"
ORDER = 7.2

RHOS, ETA, STEPS, STARTS, SEED = (0.5, 1.5), 2e-3, 8000, 16, 1515
SETTLED = 0.05
EXPLANATION = {"hallucinated_minimizer": "main paper", "sam_stationary": "main paper",
               "critical_point": "Kim", "minimizer": "Zhou"}


@functools.lru_cache(maxsize=None)
@functools.lru_cache(maxsize=None)
def vector_gradient(name: str):
    obj = zoo.get(name).objective
    parts = sp.lambdify(obj.symbols, [sp.diff(obj.expr, s) for s in obj.symbols], "numpy")

    def grad(W):
        return np.stack([np.asarray(p, float) * np.ones(len(W)) for p in parts(*W.T)], axis=1)
    return grad


def starts(name: str) -> np.ndarray:
    box = np.asarray(zoo.get(name).box, float)
    centre, half = box.mean(axis=1), (box[:, 1] - box[:, 0]) / 4
    return centre + half * st.rng(SEED).uniform(-1, 1, (STARTS, len(box)))


def refine(obj, x_end, rho, fp):
    """The nearest of two Newton solutions started at the run's end — a critical point of f, or a
    fixed point of the SAM step (grad f(x + rho u(x)) = 0) — or None when both fail. Normalized SAM
    zig-zags across a minimizer of f (u flips sign there), so an end next to a minimizer is refined
    to it, and an end at a hallucinated point to the SAM fixed point."""
    x0 = obj.point([float(v) for v in x_end], fp)
    found = []
    for solve in (lambda: critical_point(obj, x0, fp).x,
                  lambda: newton(lambda x: sam.shifted_gradient(obj, x, rho, fp),
                                 lambda x: sam.shifted_jacobian(obj, x, rho, fp), x0, fp,
                                 what="SAM fixed point").x):
        try:
            x = solve()
        except (SamVerifyError, np.linalg.LinAlgError):
            continue
        found.append((float(np.linalg.norm(np.asarray(x, float) - np.asarray(x_end, float))), x))
    return min(found, key=lambda t: t[0])[1] if found else None


def sharpness(obj, x, fp) -> float:
    return float(np.max(np.asarray(fp.eigvalsh(obj.hess(x, fp)), float)))


def survey(name: str, rho: float, steps: int = STEPS) -> dict:
    obj, fp = zoo.get(name).objective, get_context("float64")
    W0 = starts(name)
    # GD is the SAM step with rho = 0 (x+ = x): both sets of runs in one batch, one radius a row
    radii = np.repeat([rho, 0.0], len(W0))[:, None]
    both = st.run_chains(vector_gradient(name), np.vstack([W0, W0]), "sam", radii, ETA, steps).W
    ends, gd_ends = both[:len(W0)], both[len(W0):]
    rows = []
    for x_end, g_end in zip(ends, gd_ends):
        if not np.all(np.isfinite(x_end)):
            rows.append({"kind": "unresolved", "why": "diverged"})
            continue
        x = refine(obj, x_end, rho, fp)
        if x is None:
            rows.append({"kind": "unresolved", "why": "refinement failed"})
            continue
        moved = float(np.linalg.norm(np.asarray(x, float) - x_end))
        if moved > SETTLED:
            rows.append({"kind": "not settled", "moved": moved, "x": x_end.tolist()})
            continue
        c = classify(obj, x, rho, fp)
        row = {"kind": c.kind, "subkind": c.subkind, "moved": moved, "x": np.asarray(x, float).tolist()}
        if c.kind == "minimizer" and np.all(np.isfinite(g_end)):
            row["flatter than GD"] = sharpness(obj, x, fp) <= sharpness(obj, obj.point(
                g_end.tolist(), fp), fp) + 1e-9
        rows.append(row)
    return {"rows": rows, "name": name}


def counts(s: dict) -> dict:
    out = {k: 0 for k in ("main paper", "Kim", "Zhou", "not settled", "unresolved")}
    for r in s["rows"]:
        out[EXPLANATION.get(r["kind"], r["kind"] if r["kind"] in out else "unresolved")] += 1
    out["flatter than GD"] = sum(1 for r in s["rows"] if r.get("flatter than GD"))
    return out


@renamed_keyword("name")
def certify(objective: str, rhos=RHOS, steps: int = STEPS, expected: bool = True) -> Certificate:
    """The normalized-SAM survey of the zoo function named ``objective``, classified by explanation."""
    fp = get_context("float64")
    label = (f"{objective}: normalized SAM, rho in {list(rhos)}, eta = {ETA}, {steps} steps, {STARTS} "
             f"starts (seed {SEED})")
    cert = float_certificate(THEOREM, TITLE, label, __doc__.split("\n\n")[1], expected)
    best = 0.0
    for rho in rhos:
        s = survey(objective, rho, steps)
        settled = [r for r in s["rows"] if r["kind"] not in ("unresolved", "not settled")]
        best = max(best, len(settled) / len(s["rows"]))
        cert.add_object(ends_key(rho), counts(s), label=f"rho = {rho}: ends by explanation")
        cert.add_object(object_key(f"end_points_rho_{rho}"), {
            "columns": ["class", "point (refined when settled)", "distance to it"],
            "rows": [[r["kind"] + (f" ({r['subkind']})" if r.get("subkind") else ""),
                      str(np.round(r.get("x", []), 6).tolist()), f"{r.get('moved', float('nan')):.2e}"]
                     for r in s["rows"]]}, label=f"rho = {rho}: end points")
    cert.add(compare("settled", f"for some radius of the sweep at least half of the runs stopped "
                     f"within {steps} steps: their end lies within {SETTLED} of a critical point of f "
                     f"or a fixed point of the SAM step (best fraction)", best, ">=", 0.5, fp))
    return cert.finish()


def ends_key(rho) -> str:
    """The object key of the runs' ends by explanation at radius ``rho`` (``ends_rho_0_5``)."""
    return object_key(f"ends_rho_{rho}")


def summary(certs, rhos=RHOS, mlp=()) -> Certificate:
    fp = get_context("float64")
    cert = Certificate(THEOREM, TITLE, "all surveyed zoo functions", statement=__doc__.split("\n\n")[1],
                       context=fp.name, precision=fp.precision_label)
    rows = []
    for c in certs:
        for rho in rhos:
            k = c.objects[ends_key(rho)]
            rows.append([c.example.split(":")[0], repr(rho), str(k["main paper"]), str(k["Kim"]),
                         str(k["Zhou"]), str(k["flatter than GD"]),
                         str(k["not settled"] + k["unresolved"])])
    for c in mlp:                     # the digits-MLP points: one point each
        if "accounts" in c.objects:
            a = c.objects["accounts"]
            rows.append([c.example, repr(c.objects["rho"])] +
                        [str(int(a[k])) for k in (HALLUCINATED, KIM, ZHOU)] + ["-", "0"])
    cert.add_object("where_sam_stops", {"columns": ["function", "rho", "hallucinated / SAM-stationary "
                                                   "(main paper)", "saddle or maximum (Kim)",
                                                   "minimizer (Zhou)", "of which flatter than GD",
                                                   "not settled / unresolved"], "rows": rows},
                    label="where SAM stops")
    cert.add_object("left_out", LEFT_OUT, label="left out")
    cert.add(compare("functions surveyed", "every zoo function not left out (with its reason) was "
                     "surveyed", len(certs), "==", len(surveyed()), fp, tol=0))
    return cert.finish()


LEFT_OUT = {"kim_saddle": "unbounded below: every run leaves the box",
            "beale": "gradients of order 1e3 in the box: one step size for all functions does not "
                     "let normalized SAM settle; the Kim Cases section runs it with its own"}


def surveyed() -> list[str]:
    return [n for n in zoo.ZOO if n not in LEFT_OUT]


# -- the stalled points of the digits MLP (Section 4) ---------------------------------------------
MLP_QUICK = dict(polish=100, follow=200, sigma_budget=300, map_budget=300)
MLP_FULL = dict(polish=1000, follow=1000, sigma_budget=2000, map_budget=1000)
MLP_STATEMENT = __doc__.split("\n\n")[-1]
LR, MOMENTUM = 0.01, 0.9           # the heavy-ball SAM of the training (theorems.mlp_check)
STAYS = 0.01                       # SAM "stays" when f moves by at most 1 % over the follow-up run
HALLUCINATED, KIM, ZHOU = ("hallucinated minimizer (main paper)", "saddle attractor (Kim)",
                           "stable flat minimum (Zhou)")


def mlp_points(quick: bool) -> tuple:
    """(data, config, {"stalled SAM-only seed": (row, theta), "switching seed": (row, theta)}) from
    Section 4's sweep (theorems.mlp_check, trained once per process) at its largest rho: the
    SAM-only seed that stalled with the smallest GradRatio (None when none stalled) and the
    switching seed with the lowest final loss."""
    import torch
    from . import mlp_check as mc
    cfg = dict(mc.QUICK if quick else mc.FULL)
    cfg["rho"] = rho = max(cfg["rhos"])
    cfg.update(MLP_QUICK if quick else MLP_FULL)
    data, sw = mc.shared_sweep(quick)
    res = sw["result"]
    idx, theta = mc.stalled_point(sw, rho)
    switching = [i for i, (r, s) in enumerate(zip(res.extra["rho_rows"], res.extra["switch_rows"]))
                 if r == rho and s > 0]
    best = min(switching, key=lambda i: float(res.logs["loss"][-1][i]))
    return data, cfg, {"stalled SAM-only seed": None if idx is None else (idx, theta),
                       "switching seed": (best, res.theta[best].to(torch.float64))}


def measure_point(obj, theta, cfg: dict, ctx) -> dict:
    """The evidence at one trained point ``theta``, already re-run in float64 (``polish`` SAM
    steps, :func:`theorems.mlp_check.polished`): the SAM diagnostics, the Hessian's extreme
    eigenvalues, Theorem 3.2's margin and the heavy-ball map's spectral radius
    (verify.nn.point_check), and what ``follow`` more SAM steps do."""
    from verify.nn import point_check as pc
    rho = cfg["rho"]
    chk = pc.check_point(obj, theta, rho, LR, MOMENTUM, ctx=ctx, dense_limit=0, map_tol=1e-6,
                         sigma_budget=cfg["sigma_budget"], map_budget=cfg["map_budget"],
                         symmetry_probes=None)
    ev = dict(chk.diagnostics)
    ev.update(pc.hessian_extremes(obj, theta, ctx))
    ev["train_accuracy"] = float(obj.accuracy(theta))
    ev["theorem_3_2_margin"] = chk.attraction_margin
    ev["heavy_ball_radius"] = abs(chk.heavy_ball_eigs[0]) if chk.heavy_ball_eigs else None
    end, _ = pc.sam_run(obj, theta, rho, cfg["follow"], LR, MOMENTUM, ctx=ctx)
    d_end = sam.diagnostics(obj, end, rho, ctx)
    ev.update({"follow_steps": cfg["follow"], "f_end": float(d_end.f),
               "grad_norm_end": float(d_end.grad_norm), "grad_ratio_end": float(d_end.grad_ratio),
               "distance_moved": float((end - theta).norm())})
    return ev


def psd_tolerance(ev: dict) -> float:
    """How far below 0 lambda_min(H) may lie and H still count as positive semidefinite: the
    Lanczos residual (an eigenvalue of H lies within it) or 1e-8 |lambda_max| (100 x the Lanczos
    tolerance), whichever is larger."""
    return max(ev["residual_min"], 1e-8 * abs(ev["lambda_max"]))


def explanations(ev: dict, rho: float) -> dict:
    """Each explanation's hypotheses (name -> holds), its prediction and whether it accounts for
    the point (every hypothesis holds and SAM stays) at the measured point ``ev``."""
    from .mlp_check import GRAD_TOL, RATIO_TOL
    g, lo, hi = ev["grad_norm"], ev["lambda_min"], ev["lambda_max"]
    stays = abs(ev["f_end"] - ev["f"]) <= STAYS * ev["f"]
    critical = g <= GRAD_TOL
    negative = lo < -psd_tolerance(ev)
    rho_eff = rho / g if g > 0 else math.inf
    out = {
        HALLUCINATED: {f"grad f != 0 (||grad f|| >= {GRAD_TOL:g})": g >= GRAD_TOL,
                       f"SAM stationary (GradRatio <= {RATIO_TOL:g})": ev["grad_ratio"] <= RATIO_TOL},
        KIM: {f"critical point of f (||grad f|| <= {GRAD_TOL:g})": critical,
              "a negative Hessian eigenvalue": negative,
              "attracting: lambda_min + rho_eff lambda_min^2 > 0, rho_eff = rho / ||grad f||":
                  negative and lo + rho_eff * lo * lo > 0},
        ZHOU: {f"critical point of f (||grad f|| <= {GRAD_TOL:g})": critical,
               "H positive semidefinite": not negative,
               f"lambda_max(H) <= 2 (1 + mu) / eta = {2 * (1 + MOMENTUM) / LR:g}":
                   hi <= 2 * (1 + MOMENTUM) / LR},
    }
    return {name: {"hypotheses": hyp, "predicts": "SAM stays at the point", "SAM stays": stays,
                   "accounts": all(hyp.values()) and stays} for name, hyp in out.items()}


def _cell(e: dict) -> str:
    failed = [k for k, v in e["hypotheses"].items() if not v]
    if failed:
        return "hypotheses fail: " + "; ".join(failed)
    return "accounts for it" if e["accounts"] else "hypotheses hold, but SAM does not stay"


def mlp_table(points: dict, rho: float) -> dict:
    cols = ["point", "f", "||grad f||", "GradRatio", "lambda_min(H)", "lambda_max(H)",
            "what SAM does next", HALLUCINATED, KIM, ZHOU]
    rows = []
    for label, ev in points.items():
        ex = explanations(ev, rho)
        moved = "stays" if ex[HALLUCINATED]["SAM stays"] else "moves on"
        rows.append([label, f"{ev['f']:.6g}", f"{ev['grad_norm']:.3e}", f"{ev['grad_ratio']:.3e}",
                     f"{ev['lambda_min']:.4g}", f"{ev['lambda_max']:.4g}",
                     f"{moved}: f {ev['f']:.5g} -> {ev['f_end']:.5g} in {ev['follow_steps']} steps"]
                    + [_cell(ex[k]) for k in (HALLUCINATED, KIM, ZHOU)])
    return {"columns": cols, "rows": rows}


def certify_mlp_point(label: str, ev: dict, cfg: dict, table: dict, expected: bool = True) -> Certificate:
    """The main paper's explanation at one MLP point, the rivals' hypotheses checked to fail."""
    from .mlp_check import GRAD_TOL, RATIO_TOL
    fp = get_context("float64")
    example = (f"digits MLP 64-{cfg['width']}-10 tanh (n_train {cfg['n_train'] or 'all'}), rho = "
               f"{cfg['rho']}, {cfg['steps']} steps (+{cfg['polish']} in float64): {label}")
    cert = float_certificate(THEOREM, "The digits MLP's stalled point (Section 4): which explanation "
                             "accounts for it", example, MLP_STATEMENT, expected)
    ex = explanations(ev, cfg["rho"])
    cert.add_object("explanations_table", table, label="three explanations at the digits-MLP points")
    cert.add_object("evidence", ev)
    cert.add_object("hypotheses", {k: e["hypotheses"] for k, e in ex.items()})
    cert.add_object("psd_tolerance", psd_tolerance(ev), label="psd tolerance")
    cert.add_object("accounts", {k: e["accounts"] for k, e in ex.items()})
    cert.add_object("rho", cfg["rho"])
    cert.add(compare("grad_not_zero", "||grad f(x)||: f is not stationary", ev["grad_norm"], ">=",
                     GRAD_TOL, fp))
    cert.add(compare("sam_stationary", "GradRatio ||grad f(x+)|| / ||grad f(x)||: the SAM step "
                     "vanishes", ev["grad_ratio"], "<=", RATIO_TOL, fp))
    cert.add(compare("sam_stays", f"|f after {ev['follow_steps']} more SAM steps - f| / f: SAM stays "
                     "at the point's loss", abs(ev["f_end"] - ev["f"]) / ev["f"], "<=", STAYS, fp))
    for name, claim_id in ((KIM, "kim_hypotheses_fail"), (ZHOU, "zhou_hypotheses_fail")):
        failed = [k for k, v in ex[name]["hypotheses"].items() if not v]
        cert.add(boolean(claim_id, f"{name}: some hypothesis fails at the point", bool(failed), fp,
                         evidence="fails: " + ("; ".join(failed) or "none")))
    return cert.finish()


def mlp_certificates(quick: bool = False) -> list:
    """The stalled point (claims expected to hold) and the switching point (negative control)."""
    from verify.ctx.torch import TorchContext
    from verify.objectives.torch_model import mlp_objective
    from . import mlp_check as mc
    mc.use_thread_setting()
    ctx = TorchContext("cpu", "float64")
    data, cfg, found = mlp_points(quick)
    obj, _ = mlp_objective(data, cfg["width"], 1, "tanh", seed=0)
    if found["stalled SAM-only seed"] is None:
        cert = float_certificate(THEOREM, "The digits MLP's stalled point (Section 4)", "digits MLP",
                                 MLP_STATEMENT)
        return [cert.refuse(f"no SAM-only seed stalled at rho = {cfg['rho']} in {cfg['steps']} steps")]
    _, sw = mc.shared_sweep(quick)
    points = {f"{label} (row {i})": measure_point(obj, mc.polished(data, sw, i, cfg["polish"], cfg["width"]),
                                                  cfg, ctx)
              for label, (i, _) in found.items()}
    table = mlp_table(points, cfg["rho"])
    (stalled, ev_s), (switching, ev_w) = points.items()
    return [certify_mlp_point(stalled, ev_s, cfg, table),
            certify_mlp_point(switching, ev_w, cfg, table, expected=False)]


def report_certificates(quick: bool = False, figdir: pathlib.Path | None = None) -> list:
    if quick:
        names, rhos, steps = ["ring", "tilted_ring", "double_well2"], (1.5,), STEPS
    else:
        names, rhos, steps = surveyed(), RHOS, STEPS
    certs = [certify(n, rhos, steps) for n in names]
    mlp = mlp_certificates(quick)
    out = certs + [certify(names[0], rhos, steps=5, expected=False)] + mlp
    if not quick:
        out.append(summary(certs, rhos, mlp))
    return out


# -- uniform entry point (theorems.REGISTRY) --------------------------------------------------------
EXAMPLES = ("ring", "tilted_ring", "double_well2")  # the quick survey; the full one: surveyed()
