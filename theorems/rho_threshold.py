"""The rho threshold — the smallest radius at which hallucinated minimizers appear, against the
minimizer-to-maximizer distance that the proof of Theorem 2.1 points to.

Statement (own words). In the proof of Theorem 2.1 the radius is rho = |x_h - x*| with x_h the point
of a superlevel set around the maximizer x_max farthest from x*; since that set contains x_max, the
construction always has rho > |x* - x_max|. The paper reads this as: the perturbation radius must
exceed the distance between a minimizer and a maximizer (Sections 2.1 and 4.1).

What is measured here, for each example of the zoo. A point y is a hallucinated minimizer "of the
shifted type" when grad f(y) != 0 and y + rho u(y) lies in argmin f (then f_SAM(y) = min f, so y is
a global minimizer of f_SAM). For rho on a scan, such y are searched for every sampled x* in argmin f:
candidates come from a float64 grid (the grid point whose shift y + rho u(y) lands nearest to x*) and
from the ray construction (the point at distance rho from x* on the ray through each recorded critical
point), and each candidate is refined by Newton on y + rho u(y) = x* (Jacobian I + rho Du). The first
scanned rho with a solution, refined by bisection, gives a bracket [rho_lo, rho_hi] for the threshold.
Below rho_lo the search found nothing (evidence from a finite search, stated as such); at rho_hi a
solution is exhibited with its residual. The distance from argmin f to the nearest maximizer (and, for
comparison, to the nearest saddle) is reported next to it.

Near a nondegenerate critical point c, u takes every direction, so for rho slightly above |x* - c|
a hallucinated preimage of x* appears next to c — for a saddle as well as for a maximizer. Where a
saddle is closer to argmin f than any maximizer, hallucinated minimizers therefore appear below the
minimizer-to-maximizer distance.
"""
from __future__ import annotations

import itertools
import math
import pathlib

from verify import sam, zoo

from verify.geometry import superlevel
from verify.core.claims import boolean, compare
from verify.ctx import get_context
from verify.errors import SamVerifyError
from verify.core.results import Certificate

from . import thm_3_1 as t31

THEOREM = "rho threshold"
TITLE = "Smallest rho with hallucinated minimizers vs. the minimizer-maximizer distance of Theorem 2.1"
ORDER = 4.1
STATEMENT = ("The proof of Theorem 2.1 produces hallucinated minimizers only with rho > |x* - x_max|; "
             "measured: the smallest rho at which a point y with grad f(y) != 0 and y + rho u(y) in "
             "argmin f exists.")

# zoo examples: name -> (chart domain half-widths for argmin samples, scan upper end)
EXAMPLES = {
    "ring": (math.pi, 3.0),
    "elliptic_ring": (math.pi, 3.0),
    "tilted_ring": (None, 3.0),
    "circle_max": (math.pi, 3.0),
    "double_well2": (None, 3.0),
    "appendix_d": (0.6, 3.0),
    "ring3": ((math.pi, math.pi / 2), 2.5),
    "convex_lse": (None, 4.0),
}


def argmin_samples(zf, ctx, n: int):
    """Points of argmin f: recorded (global) minimizers plus samples of the parametrized manifold."""
    pts = [zf.critical("minimizers", i, ctx) for i in range(len(zf.minimizers))]
    dom = EXAMPLES.get(zf.name, (None,))[0]
    if zf.minimizer_manifold is not None and dom is not None:
        chart = t31.zoo_chart(zf, ctx)
        widths = dom if isinstance(dom, tuple) else (dom,) * chart.m
        per = n if chart.m == 1 else max(3, int(round(n ** 0.5)))
        axes = [[-w + 2 * w * (k + 0.5) / per for k in range(per)] for w in widths]
        for t in itertools.product(*axes):
            pts.append(chart.phi(ctx.vector(list(t))))
    if zf.min_value is not None:  # keep global minimizers only
        fm = float(zf.min_value)
        pts = [p for p in pts if abs(ctx.to_float(zf.objective.value(p, ctx)) - fm) < 1e-9]
    return pts


def critical_points(zf, ctx, set_samples: int = 24):
    """Recorded maximizers (points, or samples of a maximizer set) and saddles, as (kind, point)."""
    out = [("maximizer", zf.critical("maximizers", i, ctx)) for i in range(len(zf.maximizers))]
    if zf.maximizer_set is not None:
        import sympy as sp
        for k in range(set_samples):
            t = 2 * math.pi * k / set_samples
            out.append(("maximizer", ctx.vector([float(sp.N(c)) for c in zf.maximizer_set((t,))])))
    out += [("saddle", zf.critical("saddles", i, ctx)) for i in range(len(zf.saddles))]
    return out


def _grid_shift(obj, rho, box, n):
    """float64 grid proposal: grid points and their SAM points, as (d, N) arrays."""
    Y, Yp = superlevel.perturbed_points(obj, superlevel.grid_box(box, n), rho)
    return Y.T, Yp.T


def hallucinated_at(zf, rho: float, ctx, targets, crit, n_grid: int, grad_margin: float = 1e-6):
    """A hallucinated preimage (y, x*) at this rho, or None. See the module docstring."""
    import numpy as np
    obj = zf.objective
    Y, Yp = _grid_shift(obj, rho, zf.box, n_grid)
    for xs in targets:
        xsf = np.array([ctx.to_float(v) for v in ctx.to_list(xs)])
        guesses = []
        if Y.shape[1]:
            r = np.sqrt(((Yp - xsf[:, None]) ** 2).sum(axis=0))
            guesses.append(Y[:, int(np.argmin(r))])
        for _, c in crit:
            cf = np.array([ctx.to_float(v) for v in ctx.to_list(c)])
            dv = cf - xsf
            dn = float(np.linalg.norm(dv))
            if 0 < dn < rho:
                guesses.append(xsf + rho * dv / dn)
        for g in guesses:
            # cheap filter: only candidates whose shift already lands near x* go to Newton
            try:
                gv = ctx.vector([float(v) for v in g])
                r0 = ctx.to_float(ctx.norm(gv + rho * sam.unit_gradient(obj, gv, ctx) - xs))
            except (SamVerifyError, ArithmeticError, ValueError):
                continue
            if r0 > 0.25 * rho:
                continue
            try:
                y = t31.preimage(obj, xs, rho, ctx, gv, max_iter=25).x
                gn = ctx.to_float(ctx.norm(obj.grad(y, ctx)))
                res = ctx.to_float(ctx.norm(y + rho * sam.unit_gradient(obj, y, ctx) - xs))
            except (SamVerifyError, ArithmeticError, ValueError):
                continue
            if gn > grad_margin and res <= 1e-10:
                return y, xs, res, gn
    return None


def certify_example(name: str, ctx=None, quick: bool = False) -> Certificate:
    ctx = ctx or get_context("float64")
    zf = zoo.get(name)
    obj = zf.objective
    rho_max = EXAMPLES.get(name, (None, 3.0))[1]
    cert = Certificate(THEOREM, TITLE, f"{name}", STATEMENT, context=ctx.name,
                       precision=ctx.precision_label)
    targets = argmin_samples(zf, ctx, 8 if quick else 24)
    crit = critical_points(zf, ctx)
    n_grid = (41 if quick else 101) if obj.dim == 2 else (15 if quick else 31)
    # pointer distances (a maximizer set is sampled finely for the distance only)
    fine = critical_points(zf, ctx, 720) if zf.maximizer_set is not None else crit
    dense = argmin_samples(zf, ctx, 720) if zf.minimizer_manifold is not None else targets
    dmax = min((ctx.to_float(ctx.norm(x - c)) for x in dense for k, c in fine if k == "maximizer"),
               default=math.inf) if fine else math.inf
    dsad = min((ctx.to_float(ctx.norm(x - c)) for x in dense for k, c in crit if k == "saddle"),
               default=math.inf)
    cert.objects.update({"argmin samples": len(targets), "recorded critical points": len(crit),
                         "distance argmin f to nearest maximizer (Theorem 2.1 pointer)": f"{dmax:.6g}",
                         "distance argmin f to nearest saddle": f"{dsad:.6g}"})
    # scan
    step = 0.1 if quick else 0.05
    rhos = [step * k for k in range(1, int(round(rho_max / step)) + 1)]
    found = [(r, hallucinated_at(zf, r, ctx, targets, crit, n_grid)) for r in rhos]
    exists = [r for r, h in found if h is not None]
    cert.objects["scan"] = f"rho = {step:g} .. {rho_max:g} step {step:g}; grid {n_grid}^{obj.dim}"
    cert.objects["scanned rho with hallucinated minimizers"] = _intervals([r for r, _ in found],
                                                                           [h is not None for _, h in found])
    if not exists:
        cert.objects["threshold"] = f"none found for rho <= {rho_max:g}"
        cert.add(boolean("none_found", f"no hallucinated minimizer of the shifted type for rho <= {rho_max:g}"
                         " (finite search)", True, ctx,
                         "convex f: Proposition A.1 rules them out" if zf.convex else ""))
        if zf.convex:
            cert.add(boolean("convex_control", "f is convex (Proposition A.1: none can exist)", True, ctx))
        return cert.finish()
    hi = exists[0]
    lo = max([r for r, _ in found if r < hi], default=0.0)
    best = dict(found)[hi]
    for _ in range(6 if quick else 12):
        mid = 0.5 * (lo + hi)
        h = hallucinated_at(zf, mid, ctx, targets, crit, n_grid)
        if h is None:
            lo = mid
        else:
            hi, best = mid, h
    y, xs, res, gn = best
    cert.objects.update({"threshold bracket [rho_lo, rho_hi]": [f"{lo:.6g}", f"{hi:.6g}"],
                         "x_h at rho_hi": _pt(ctx, y), "x* it maps to": _pt(ctx, xs),
                         "||grad f(x_h)||": f"{gn:.3g}"})
    cert.add(compare("exhibited", f"at rho_hi = {hi:.6g} a hallucinated minimizer exists: "
                     "||y + rho u(y) - x*|| (Newton residual)", res, "<=", 1e-10, ctx,
                     note=f"||grad f(y)|| = {gn:.3g}"))
    cert.add(boolean("none_below", f"for rho <= rho_lo = {lo:.6g} the search found none", True, ctx,
                     "finite search: grid candidates and ray guesses refined by Newton"))
    nearest = "maximizer" if dmax <= dsad else "saddle"
    cert.objects["threshold vs pointer"] = (f"threshold in [{lo:.5g}, {hi:.5g}]; nearest maximizer at "
                                            f"{dmax:.5g}, nearest saddle at {dsad:.5g}")
    resolution = hi - lo + 1e-9
    if math.isfinite(dmax):
        c = cert.add(compare("exceeds_max_distance", "paper (Sec. 2.1, 4.1): rho must exceed the distance "
                             "from the minimizer to the maximizer — threshold >= that distance",
                             hi, ">=", dmax, ctx, tol=resolution + 1e-3))
        cert.add(compare("threshold_at_nearest_critical_point", f"the threshold equals the distance from "
                         f"argmin f to the nearest recorded critical point ({nearest})", hi, "==",
                         min(dmax, dsad), ctx, tol=resolution + 0.02 * max(1.0, min(dmax, dsad)),
                         note="within the bisection resolution plus 2% (argmin f is sampled)"))
        if not c.passed:
            cert.finding("Sections 2.1 and 4.1", "The perturbation radius must exceed the distance between "
                         "the minimizer and the maximizer for hallucinated minimizers to arise.",
                         f"On {name} a hallucinated minimizer exists at rho = {hi:.5g} < {dmax:.5g}, the "
                         f"distance from argmin f to the maximizer: y = {_pt(ctx, y)} has "
                         f"||grad f(y)|| = {gn:.3g} and y + rho u(y) = {_pt(ctx, xs)} in argmin f "
                         f"(residual {res:.1e}). It appears next to a saddle at distance {dsad:.5g}: near "
                         "any nondegenerate critical point u takes every direction. The statement holds "
                         "for the Theorem 2.1 construction, not as a necessary condition.")
    return cert.finish()


def _pt(ctx, x) -> str:
    return "(" + ", ".join(f"{ctx.to_float(v):.8g}" for v in ctx.to_list(x)) + ")"


def _intervals(rs, flags) -> str:
    out, start, prev = [], None, None
    for r, f in zip(rs, flags):
        if f and start is None:
            start = r
        if not f and start is not None:
            out.append(f"[{start:.3g}, {prev:.3g}]")
            start = None
        prev = r
    if start is not None:
        out.append(f"[{start:.3g}, {prev:.3g}]")
    return ", ".join(out) if out else "none"


def report_certificates(quick: bool = False, figdir: pathlib.Path | None = None) -> list[Certificate]:
    names = list(EXAMPLES) if not quick else ["ring", "tilted_ring", "double_well2", "circle_max",
                                              "appendix_d", "convex_lse"]
    certs = [certify_example(n, quick=quick) for n in names]
    if figdir is not None:
        _figure(certs, pathlib.Path(figdir))
    return certs


def _figure(certs, figdir):
    from verify.report import figures as FG
    figdir.mkdir(parents=True, exist_ok=True)
    fig, axes = FG.new_figure(1, 1, panel=(6.5, 4.2))
    ax = axes[0, 0]
    seen = set()

    def once(label):
        if label in seen:
            return None
        seen.add(label)
        return label
    for i, c in enumerate(certs):
        br = c.objects.get("threshold bracket [rho_lo, rho_hi]")
        dm = float(c.objects["distance argmin f to nearest maximizer (Theorem 2.1 pointer)"])
        ds = float(c.objects["distance argmin f to nearest saddle"])
        if br:
            ax.plot([i], [float(br[1])], "o", color="#d62728", label=once("measured threshold"))
        else:  # no threshold: said in words, not drawn as a value at rho = 0
            ax.annotate("none\nfound", (i, 0.5), xycoords=("data", "axes fraction"), ha="center",
                        va="center", fontsize=8, color="grey")
        if math.isfinite(dm):
            ax.plot([i], [dm], "_", ms=18, mew=2, color="#1f77b4", label=once("|x* - x_max|"))
        if math.isfinite(ds):
            ax.plot([i], [ds], "_", ms=18, mew=2, color="#2ca02c", label=once("|x* - saddle|"))
    ax.set_xticks(range(len(certs)))
    ax.set_xlim(-0.5, len(certs) - 0.5)
    ax.set_xticklabels([c.example for c in certs], rotation=30, fontsize=8)
    ax.set_ylabel("rho")
    ax.set_xlabel("example")
    ax.set_title("Smallest rho with hallucinated minimizers vs. distances to critical points", fontsize=9)
    ax.legend(fontsize=7)
    name = FG.save(fig, figdir / "rho_threshold.png")
    certs[0].figures.append(name)
