"""Theorem 3.1 — hallucinated minimizers inherit the dimension of the minimizer manifold.

Statement (own words). Take f as in Theorem 2.2 (real-analytic, with a global minimizer and a bounded
local maximizer set) and suppose a piece M of the minimizer set is a smooth m-dimensional manifold
through x*. Let x_h, rho be the hallucinated minimizer and radius produced by the existence proof, so
that x_h + rho u(x_h) = x* with u = grad f / ||grad f||. If the d x d matrix I + rho Du(x_h) is
invertible, then near x_h the hallucinated minimizers contain an m-dimensional smooth manifold.

Why (proof of Appendix B.1, restated). The map y -> y + rho u(y) has Jacobian I + rho Du(y). When it
is invertible at x_h, the implicit function theorem gives a local inverse G near x* with G(x*) = x_h
and DG = (I + rho Du)^-1. Every y = G(x) with x in M satisfies y + rho u(y) = x in argmin f, so
f_SAM(y) = min f: y is a (global) minimizer of f_SAM with grad f(y) != 0. G is a diffeomorphism, so
G(M near x*) is again an m-manifold.

What this module checks, in the context it is given (every claim states its tolerance):

* hypotheses — analyticity (declared smoothness of the objective), x_h + rho u(x_h) = x*,
  sigma_min(I + rho Du(x_h)) above a stated margin (the theorem refuses when it is not);
* m measured as the nullity of Hess f(x*) (singular values with a stated gap), checked against the
  rank of a parametrization of M where the zoo records one;
* G(M near x*) traced by continuation: x moves along M, y solves y + rho u(y) = x by Newton with
  Jacobian I + rho Du(y), predictor y + DG dx. Claims: every traced y has grad f(y) != 0,
  grad f(y+) = 0 and f(y+) = min f (y+ on M), residuals below the stated bound;
* the traced set has dimension m: the tangent map DG Dphi has rank m (its singular values), it lies
  in the kernel of the Jacobian of F(y) = grad f(y+), and that Jacobian has nullity exactly m;
* DG = (I + rho Du)^-1 exists along the whole trace (sigma_min above the margin).
"""
from __future__ import annotations

import math
import pathlib
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import sympy as sp

from verify import sam

from verify.geometry import superlevel
from verify.geometry.charts import Chart, chart_parameter, zoo_chart  # noqa: F401 (re-exported)
from verify.core.claims import boolean, compare
from verify.ctx import get_context
from verify.errors import ConvergenceError, SamVerifyError, ZeroGradientError
from verify.core.results import Certificate, renamed_keyword
from verify.core.operators import SamPoint
from verify.core.solve import newton, newton_batch, solve_columns
from verify import zoo

THEOREM = "Thm 3.1"
TITLE = "Hallucinated minimizers form a manifold of the dimension of the minimizer manifold"
ORDER = 3.1
STATEMENT = ("If the minimizer set contains an m-dimensional manifold M through x* and "
             "I + rho Du(x_h) is invertible at the hallucinated minimizer x_h with x_h + rho u(x_h) = x*, "
             "then the hallucinated minimizers near x_h contain an m-dimensional manifold, the image "
             "of M under the local inverse G of y -> y + rho u(y).")


# ------------------------------------------------------------------------------------------------
# small helpers written against the context API
# ------------------------------------------------------------------------------------------------

def _log10(v: float) -> float:
    return math.log10(v) if v > 0 else -math.inf


def small(claim_id: str, statement: str, vec, tol, ctx, note: str = ""):
    """||vec|| <= tol: with the allowance tol in a point arithmetic; in an interval arithmetic the
    squared norm is bounded by tol^2 on its enclosure (no square root of a ball containing 0)."""
    if ctx.rigorous:
        sq = ctx.scalar(0)
        for x in ctx.to_list(vec):
            sq = sq + x * x
        return compare(claim_id, statement + " (squared norm <= tol^2 on the enclosure)", sq, "<=",
                       tol * tol, ctx, note=note)
    return compare(claim_id, statement, ctx.norm(vec), "<=", 0, ctx, tol=tol, note=note)


def i_plus_rho_du(obj, y, rho, ctx):
    """The Jacobian of y -> y + rho u(y)."""
    return SamPoint(obj, y, rho, ctx).I_plus_rho_Du.dense()


def preimage_residual(obj, y, rho, x, ctx):
    """y + rho u(y) - x."""
    return sam.perturbed_point(obj, y, rho, ctx) - x


def preimage(obj, x, rho, ctx, guess, tol=None, max_iter: int = 60):
    """Solve y + rho u(y) = x by Newton (Jacobian I + rho Du(y)) from ``guess``."""
    rho = sam.check_rho(rho, ctx)
    y0 = obj.point(guess, ctx) if not _native(guess, ctx) else guess
    return newton(lambda y: preimage_residual(obj, y, rho, x, ctx),
                  lambda y: i_plus_rho_du(obj, y, rho, ctx), y0, ctx, tol=tol, max_iter=max_iter,
                  what="preimage Newton for y + rho u(y) = x")


def preimages(obj, X, rho, Y0, tol=None, max_iter: int = 60) -> list:
    """:func:`preimage` for many targets at once, in float64: y_i + rho u(y_i) = x_i from Y0[i]
    (X, Y0: arrays (n, d)), all rows in one vectorized Newton (:func:`newton_batch`, the same
    iteration and stopping rule per row). Returns a NewtonResult or ConvergenceError a row (a row
    that meets grad f = 0 stops with an error, as :func:`preimage` raises there)."""
    fctx = get_context("float64")
    rho = fctx.to_float(sam.check_rho(rho, fctx))
    X = np.atleast_2d(np.asarray(X, dtype=float))

    def residual(Y, rows):
        return sam.perturbed_points_batch(Y, superlevel.grads(obj, Y), rho, undefined=np.nan) - X[rows]

    def jacobian(Y, rows):
        return sam.i_plus_rho_du_batch(superlevel.grads(obj, Y), superlevel.hessians(obj, Y), rho)
    return newton_batch(residual, jacobian, np.atleast_2d(np.asarray(Y0, dtype=float)), fctx, tol=tol,
                        max_iter=max_iter, what="preimage Newton for y + rho u(y) = x")


def _native(v, ctx) -> bool:
    return ctx.is_native(v)


def find_preimage(obj, x_star, rho, ctx, guess=None, box=None, grid: int = 81):
    """A hallucinated preimage y of x_star (y + rho u(y) = x_star) in ``ctx``.

    Without a guess, a float64 grid over ``box`` proposes the point of smallest residual (2-D and 3-D
    only); Newton then refines it in float64 and again in ``ctx``."""
    fctx = get_context("float64")
    xs_f = fctx.vector([ctx.to_float(v) for v in ctx.to_list(x_star)]) if _native(x_star, ctx) else \
        obj.point(x_star, fctx)
    if guess is None:
        guess = _grid_guess(obj, xs_f, float(rho), box or ((-3, 3),) * obj.dim, grid)
    y_f = preimage(obj, xs_f, float(rho), fctx, fctx.vector([float(g) for g in guess])).x
    xs = x_star if _native(x_star, ctx) else obj.point(x_star, ctx)
    return preimage(obj, xs, rho, ctx, ctx.vector([float(v) for v in y_f])).x


def _grid_guess(obj, x_star, rho, box, n):
    """float64 grid search for y with y + rho u(y) closest to x_star (a proposal; Newton decides)."""
    Y, Yp = superlevel.perturbed_points(obj, superlevel.grid_box(box, n), rho)
    return Y[int(superlevel.min_distance(Yp, [x_star]).argmin())]


def nullity(svals, ctx, gap_orders: float):
    """Nullity from singular values (descending): the count below the largest gap between consecutive
    values, if that gap spans at least ``gap_orders`` decades; exact zeros are floored at eps * s_max.
    Returns (nullity, measured gap in decades)."""
    s = [ctx.to_float(v) for v in ctx.to_list(svals)]
    smax = max(s[0], 1e-300)
    floor = ctx.eps * smax * 1e-3
    logs = [_log10(max(v, floor)) for v in s]
    best, where = 0.0, len(s)
    for i in range(len(s) - 1):
        g = logs[i] - logs[i + 1]
        if g > best:
            best, where = g, i + 1
    # also a gap between s_min and the floor of the arithmetic counts as "no null direction"
    if best < gap_orders:
        return 0, best
    return len(s) - where, best


def required_gap(ctx) -> float:
    """Decades of separation demanded between null and non-null singular values."""
    return 10.0 if ctx.dps >= 30 else 6.0


def seam_clearance(ctx, x) -> float:
    """How far from a seam of a piecewise f (where it is not C^2) a computed point must lie for f to
    be C^2 on a neighbourhood of it: the accuracy the traced points are held to,
    residual_bound x max(1, ||x||). Off the seams every piece is smooth, so any larger distance
    gives such a neighbourhood."""
    return residual_bound(ctx) * max(1.0, ctx.to_float(ctx.norm(x)))


def residual_bound(ctx) -> float:
    """Bound on traced residuals: 10^-(dps-5), five digits of head room (1e-25 at 30 digits), and
    never looser than float64's 1e-12 (~10^4 units of roundoff); it decreases with the digits."""
    return min(1e-12, 10.0 ** (5 - ctx.dps))


# ------------------------------------------------------------------------------------------------
# charts of the minimizer manifold
# ------------------------------------------------------------------------------------------------
# Chart, zoo_chart and chart_parameter live in the engine (verify.geometry.charts).


# ------------------------------------------------------------------------------------------------
# continuation of G along M
# ------------------------------------------------------------------------------------------------
@dataclass
class TracePoint:
    t: Any           # chart parameter
    x: Any           # point of M
    y: Any           # hallucinated preimage G(x)
    residual: Any    # ||y + rho u(y) - x||
    newton_steps: int


@dataclass
class Trace:
    points: list[TracePoint] = field(default_factory=list)
    stopped: str = ""  # why continuation stopped early, if it did


def trace_manifold(obj, rho, chart: Chart, t_star, y_star, ctx, offsets: Sequence[Sequence[float]],
                   tol=None, progress: bool = False) -> Trace:
    """Continuation of y = G(phi(t)) over t = t_star + offset. ``offsets`` are visited in the order
    given; each is predicted from the nearest already-traced parameter by y + DG (phi(t) - phi(t'))
    and corrected by Newton with Jacobian I + rho Du(y). ``progress``: a tqdm bar on stderr even outside a
    report (shown only on a terminal)."""
    from verify import progress as bars
    rho = sam.check_rho(rho, ctx)
    tr = Trace()
    done: list[tuple[list[float], TracePoint]] = []
    for off in bars.bar(offsets, desc="tracing G(M)", unit="pt", force=progress):
        t = t_star + ctx.vector([ctx.scalar(o) for o in off])
        x = chart.phi(t)
        if done:
            near = min(done, key=lambda p: sum((a - b) ** 2 for a, b in zip(p[0], off)))[1]
            try:
                A = i_plus_rho_du(obj, near.y, rho, ctx)
                guess = near.y + ctx.solve(A, x - near.x)
            except (SamVerifyError, ZeroDivisionError, ArithmeticError) as exc:
                tr.stopped = f"predictor failed at offset {list(off)}: {exc}"
                break
        else:
            guess = y_star
        try:
            res = preimage(obj, x, rho, ctx, guess, tol=tol, max_iter=40)
        except (ConvergenceError, ZeroGradientError, ArithmeticError) as exc:
            tr.stopped = f"Newton failed at offset {list(off)}: {exc}"
            break
        p = TracePoint(t, x, res.x, res.residual, res.iterations)
        tr.points.append(p)
        done.append(([float(o) for o in off], p))
    return tr


DEFAULT_MAX_POINTS = 1000  # traced points of G(M) unless the caller asks for more (--max-points)


def steps_within(m: int, n: int, max_points: int | None) -> int:
    """The number of steps per side, at most n, whose grid (2 k + 1)^m fits in ``max_points``
    (at least 1: the centre and its nearest neighbours)."""
    if m == 0 or max_points is None:
        return n
    k = n
    while k > 1 and (2 * k + 1) ** m > max_points:
        k -= 1
    return k


def symmetric_offsets(m: int, half_width: float, n: int,
                      max_points: int | None = None) -> list[list[float]]:
    """Parameter offsets on a symmetric grid of step half_width / n, ordered outward from 0
    (continuation order). With ``max_points`` the grid keeps its step and shrinks its window to
    (2 k + 1)^m <= max_points points, and is cut to the first max_points (nearest) offsets."""
    import itertools
    if m == 0:
        return [[]]
    h = half_width / n
    k = steps_within(m, n, max_points)
    steps = sorted(itertools.product(range(-k, k + 1), repeat=m), key=lambda s: (max(map(abs, s)),
                                                                                  sum(map(abs, s))))
    offs = [[h * j for j in ks] for ks in steps]
    return offs if max_points is None else offs[:max(1, max_points)]


# ------------------------------------------------------------------------------------------------
# the certificate
# ------------------------------------------------------------------------------------------------
@renamed_keyword("obj")
def certify(objective, x_star, x_h, rho, ctx, *, chart: Chart | None = None, m: int | None = None,
            half_width: float = 0.5, n_steps: int = 8, example: str = "", f_min=None,
            sigma_margin: float = 1e-6, seams: Callable | None = None, expected: bool = True,
            keep_trace: bool = False, analytic_required: bool = True, max_points: int | None = None,
            progress: bool = False) -> Certificate:
    """Check Theorem 3.1 at (x*, x_h, rho) in ``ctx``.

    ``chart`` parametrizes M near x* (else M is walked along the kernel of Hess f); ``m`` is the
    dimension claimed by whoever supplied the example (else taken from the chart); ``half_width`` and
    ``n_steps`` set the traced parameter window t* +- half_width in n_steps steps per side;
    ``seams(y)`` may return the distance of y to the places where f is not C^2 (piecewise examples).

    The parts below each record their hypotheses and objects and return their claims: the
    hypotheses at x* and x_h, the dimension of M at x*, then (in a point arithmetic) the trace of
    G(M) and the claims along it."""
    obj = objective
    cert = Certificate(THEOREM, TITLE, example or obj.name, STATEMENT, context=ctx.name,
                       precision=ctx.precision_label, expected=expected)
    rho = sam.check_rho(rho, ctx)
    x_star = obj.point(x_star, ctx) if not _native(x_star, ctx) else x_star
    x_h = obj.point(x_h, ctx) if not _native(x_h, ctx) else x_h
    d = obj.dim
    cert.objects.update({"rho": ctx.to_str(rho), "x_star": [ctx.to_str(v) for v in ctx.to_list(x_star)],
                         "x_h": [ctx.to_str(v) for v in ctx.to_list(x_h)], "d": d})
    cert.claims += _hypothesis_claims(cert, obj, x_star, x_h, ctx, seams, analytic_required)
    try:
        claims, refusal = _preimage_claims(cert, obj, x_star, x_h, rho, ctx, sigma_margin)
    except ZeroGradientError as exc:
        return cert.refuse(f"x_h is not a hallucinated minimizer: {exc}")
    cert.claims += claims
    if refusal:
        return cert.refuse(refusal)
    claims, m_hess = _dimension_claims(cert, obj, x_star, ctx, chart, m, sigma_margin)
    cert.claims += claims
    if ctx.rigorous:
        cert.add_object("trace", "not run in a rigorous context: the continuation is a point computation "
                                 "(run it in mpmath); here the hypotheses at x_h are decided on enclosures")
        return cert.finish()
    if chart is None and m_hess == 0:
        chart = Chart(0, lambda t: x_star, None, "isolated point")  # M = {x*}: G(M) = {x_h}
    elif chart is None:
        chart = kernel_chart(obj, x_star, ctx, m_hess)
    tr, claims = _trace(cert, obj, x_star, x_h, rho, ctx, chart, half_width, n_steps, max_points, progress)
    cert.claims += claims
    if not tr.points:
        return cert.finish()
    fm = obj.value(x_star, ctx) if f_min is None else f_min
    stats = _trace_statistics(obj, rho, ctx, chart, tr, fm, seams)
    cert.claims += _trace_claims(cert, ctx, chart, tr, stats, sigma_margin)
    if chart.m == 0:
        return cert.finish()
    if seams is not None:
        seam_min = stats["seam_min"]
        cert.add_object("distance_to_seams", f"{seam_min:.4g}")
        cert.hypothesis("trace off the seams", "every traced y and y+ stays off the places where f is "
                        "not C^2", seam_min > seam_clearance(ctx, x_star),
                        f"smallest distance {seam_min:.4g} > {seam_clearance(ctx, x_star):.1e}")
    if keep_trace:
        cert.artifacts["trace"] = tr  # for figures (never serialized)
    return cert.finish()


def _hypothesis_claims(cert, obj, x_star, x_h, ctx, seams, analytic_required) -> list:
    """The smoothness hypotheses, and x* critical."""
    if analytic_required or obj.is_analytic:
        cert.hypothesis("analytic", "f is real-analytic (assumption of Theorem 2.2)", obj.is_analytic,
                        f"declared smoothness of {obj.name}: {obj.smoothness}")
    else:
        cert.add_object("hypotheses_not_met",
            f"f is not real-analytic (declared {obj.smoothness}), so Theorem 3.1 does not apply as "
            "stated; the certificate checks its conclusion directly, under the local hypotheses the "
            "implicit-function argument uses (f C^2 near x_h and x*, checked below)")
    if seams is not None:
        cert.hypothesis("C2 near the trace", "f is C^2 on a neighbourhood of x_h and of x* (the "
                        "argument needs Du and the implicit function theorem there)",
                        min(seams(x_h), seams(x_star)) > seam_clearance(ctx, x_star),
                        f"distance of x_h to the nearest seam {seams(x_h):.4g}, of x* {seams(x_star):.4g} "
                        f"(> {seam_clearance(ctx, x_star):.1e})")
    g_star = obj.grad(x_star, ctx)
    return [small("x_star_critical", "x* is a critical point of f (it lies on the minimizer set)",
                  g_star, ctx.tol(max(1.0, ctx.to_float(ctx.norm(x_star))), 64), ctx)]


def _preimage_claims(cert, obj, x_star, x_h, rho, ctx, sigma_margin) -> tuple[list, str]:
    """x_h maps to x*, and I + rho Du(x_h) is nonsingular (the hypothesis of the implicit function
    theorem); with the reason to refuse when it is not. Raises ZeroGradientError where grad f(x_h) = 0."""
    at_h = SamPoint(obj, x_h, rho, ctx)
    r_h = at_h.x_plus - x_star
    claims = [small("x_h_preimage", "x_h + rho u(x_h) = x* (x_h is the hallucinated minimizer of x*)",
                    r_h, ctx.tol(max(1.0, ctx.to_float(ctx.norm(x_star))), 256), ctx)]
    A_h = at_h.I_plus_rho_Du.dense()
    sv_h = ctx.svdvals(A_h)
    smin_h, smax_h = ctx.to_list(sv_h)[-1], ctx.to_list(sv_h)[0]
    cert.add_object("sigma_I_plus_rho_Du_x_h", [ctx.to_str(v) for v in ctx.to_list(sv_h)],
                    label="singular values of I + rho Du(x_h)")
    margin = sigma_margin * max(1.0, ctx.to_float(smax_h))
    nonsing = compare(
        "nonsingular", "I + rho Du(x_h) is nonsingular: sigma_min exceeds the margin "
        f"{sigma_margin:g} * max(1, sigma_max)", smin_h, ">", margin, ctx,
        note="hypothesis of Theorem 3.1")
    claims.append(nonsing)
    cert.hypothesis("I + rho Du(x_h) nonsingular", "I + rho Du(x_h) is invertible",
                    nonsing.passed,
                    f"sigma_min = {ctx.to_float(smin_h):.6g}, sigma_max = {ctx.to_float(smax_h):.6g}")
    if not nonsing.passed:
        return claims, (f"I + rho Du(x_h) is singular to within the margin: sigma_min = "
                        f"{ctx.to_float(smin_h):.3e} <= {margin:.1e}; the implicit function theorem "
                        f"gives no local inverse G, so Theorem 3.1 says nothing here")
    return claims, ""


def _dimension_claims(cert, obj, x_star, ctx, chart, m, sigma_margin) -> tuple[list, int]:
    """The dimension m of M at x*: the nullity of Hess f(x*) against the claimed m (and the chart's
    rank); returns the claims and the measured nullity."""
    claims = []
    gap_req = required_gap(ctx)
    sv_H = ctx.svdvals(obj.hess(x_star, ctx))
    m_hess, gap_H = nullity(sv_H, ctx, gap_req)
    cert.add_object("sigma_hess_x_star", [ctx.to_str(v) for v in ctx.to_list(sv_H)],
                    label="singular values of H(x*)")
    cert.add_object("dimension", m_hess, label="nullity of H(x*) (the dimension m of M)")
    cert.add_object("hess_null_gap_decades", round(gap_H, 2),
                    label="gap between the null and the other singular values of H(x*), decades")
    if chart is None and m is None:
        m_claim = m_hess
        cert.hypothesis("M is an m-manifold", "a smooth m-manifold of minimizers passes through x*",
                        True, f"no parametrization supplied: m taken as the nullity {m_hess} of Hess f(x*)"
                        " (Morse-Bott reading); M is walked along the kernel")
    else:
        m_claim = chart.m if m is None else m
        if chart is not None:
            t0 = chart_parameter(chart, x_star, ctx)
            sv_c = ctx.svdvals(chart.dphi(t0))
            claims.append(compare("chart_rank", f"the parametrization {chart.source} has rank m = "
                                  f"{chart.m} at x* (smallest singular value of Dphi)",
                                  ctx.to_list(sv_c)[-1], ">", sigma_margin, ctx))
            claims.append(small("chart_hits_x_star", "phi(t*) = x*", chart.phi(t0) - x_star,
                                ctx.tol(max(1.0, ctx.to_float(ctx.norm(x_star))), 4096), ctx))
    claims.append(boolean("dimension_of_M", f"m measured as the nullity of Hess f(x*) equals the manifold "
                          f"dimension {m_claim}", m_hess == m_claim, ctx,
                          f"nullity {m_hess}, manifold {m_claim}"))
    if ctx.rigorous:
        svl = ctx.to_list(sv_H)
        k = len(svl) - m_claim
        if k > 0:
            claims.append(compare("rank_M", f"the {k} largest singular values of Hess f(x*) are nonzero "
                                  "(enclosure of the smallest of them above 0)", svl[k - 1], ">", 0, ctx))
        claims.append(boolean("null_enclosures", f"the {m_claim} smallest singular-value enclosures "
                              "contain 0 (consistent with nullity m; enclosures cannot prove a zero)",
                              all(ctx.is_zero_possible(v) for v in svl[k:]), ctx))
    elif m_hess == 0 and m_claim == 0:
        svl = ctx.to_list(sv_H)
        claims.append(compare("nondegenerate_M", "m = 0: Hess f(x*) is nonsingular (sigma_min / sigma_max)",
                              ctx.to_float(svl[-1]) / max(1e-300, ctx.to_float(svl[0])), ">",
                              sigma_margin, ctx))
    else:
        claims.append(compare("dimension_gap_M", f"null and non-null singular values of Hess f(x*) are "
                              f"separated by at least {gap_req:g} decades", gap_H, ">=", gap_req, ctx))
    return claims, m_hess


def _trace(cert, obj, x_star, x_h, rho, ctx, chart, half_width, n_steps, max_points, progress):
    """The continuation of G(M) from x_h over the parameter window; returns it and its claim."""
    t_star = chart_parameter(chart, x_star, ctx) if chart.source not in ("kernel walk", "isolated point") \
        else ctx.zeros(chart.m)
    offs = symmetric_offsets(chart.m, half_width, n_steps, max_points)
    tr = trace_manifold(obj, rho, chart, t_star, x_h, ctx, offs, progress=progress)
    k = steps_within(chart.m, n_steps, max_points)
    cert.add_object("trace_window", f"t* +- {half_width * k / n_steps:g} in {k} steps of "
                                    f"{half_width / n_steps:g} per side ({len(offs)} points asked"
                                    + (f", budget {max_points})" if max_points is not None else ")"))
    cert.add_object("traced_points", len(tr.points))
    return tr, [boolean("trace_complete", "continuation reached every requested point of M", not tr.stopped
                        and len(tr.points) == len(offs), ctx, tr.stopped)]


def _trace_row(obj, rho, ctx, chart, p, fm, gap_req, seams) -> dict:
    """What the claims compare at one traced point: native values where a claim decides on them."""
    at = SamPoint(obj, p.y, rho, ctx)
    yp = at.x_plus
    A = at.I_plus_rho_Du.dense()
    H = obj.hess(yp, ctx)
    JF = H @ A                                   # Jacobian of F(y) = grad f(y+)
    svF = ctx.svdvals(JF)
    nF, gF = nullity(svF, ctx, gap_req)
    svF = ctx.to_list(svF)
    row = dict(res=ctx.norm(yp - p.x), g=at.grad_norm, w=ctx.norm(obj.grad(yp, ctx)),
               fgap=obj.value(yp, ctx) - fm, sig=ctx.to_list(ctx.svdvals(A))[-1],
               hess=ctx.to_float(ctx.to_list(ctx.svdvals(H))[0]), nul_ok=nF == chart.m, gap_F=gF,
               tan_res=0.0, tsig=math.inf, sig_F=math.inf,
               seam=math.inf if seams is None else min(seams(p.y), seams(yp)))
    if chart.m:
        T = solve_columns(ctx, A, chart.dphi(p.t))
        svT = ctx.to_list(ctx.svdvals(T))
        row["tan_res"] = ctx.to_float(_max_col_norm(ctx, JF @ T)) / max(1e-300, ctx.to_float(svT[0]))
        row["tsig"] = ctx.to_float(svT[-1]) / max(1e-300, ctx.to_float(svT[0]))
    else:
        row["sig_F"] = ctx.to_float(svF[-1]) / max(1e-300, ctx.to_float(svF[0]))
    return row


def _trace_statistics(obj, rho, ctx, chart, tr, fm, seams) -> dict:
    """The extremes along the trace that the claims compare, chosen on the native values (a float64
    rounding could tie two mpmath values on either side of a bound), with them in ``worst``."""
    gap_req = required_gap(ctx)
    rows = [_trace_row(obj, rho, ctx, chart, p, fm, gap_req, seams) for p in tr.points]

    def column(key):
        return [r[key] for r in rows]
    worst = dict(res=max(column("res")), w=max(column("w")), fgap=max(column("fgap"), key=abs),
                 g=min(column("g")), sig=min(column("sig")))
    f = ctx.to_float
    return dict(max_res=f(worst["res"]), min_g=f(worst["g"]), max_w=f(worst["w"]), min_sig=f(worst["sig"]),
                max_hess=max(column("hess")), max_tan_res=max(column("tan_res")),
                min_tan_sig=min(column("tsig")), nul_ok=all(column("nul_ok")),
                min_gap_F=min(column("gap_F")), seam_min=min(column("seam")),
                min_sig_F=min(column("sig_F")), f_scale=max(1.0, abs(ctx.to_float(fm))), worst=worst)


def trace_allowances(ctx, r, max_hess, scale, f_scale) -> dict:
    """What the traced equations allow, derived by Taylor at the point x of M that y+ should hit,
    from the residual bound r on ||y+ - x||, the largest ||Hess f(y+)|| H of the trace and the
    tolerance crit = 64 units of roundoff x ``scale`` to which grad f(x) = 0 (as x* is accepted):
    ||grad f(y+)|| <= crit + H r, and |f(y+) - min f| <= crit r + H r^2 / 2 plus the rounding of
    f, 64 units of roundoff x ``f_scale`` (max(1, |min f|))."""
    crit = ctx.to_float(ctx.tol(scale, 64))
    return dict(grad=crit + max_hess * r,
                value=crit * r + max_hess * r * r / 2 + ctx.to_float(ctx.tol(f_scale, 64)))


def _trace_claims(cert, ctx, chart, tr, stats, sigma_margin) -> list:
    """The conclusions of Theorem 3.1 along the trace: G(M) solves the preimage equation, consists
    of global minimizers of f_SAM, and is an m-manifold (its tangent maps into the kernel of DF)."""
    gap_req, rbound, worst = required_gap(ctx), residual_bound(ctx), stats["worst"]
    scale = max(1.0, max(ctx.to_float(ctx.norm(p.x)) for p in tr.points))
    allow = trace_allowances(ctx, rbound * scale, stats["max_hess"], scale, stats["f_scale"])
    cert.add_object("trace_allowances", {k: f"{v:.3e}" for k, v in allow.items()},
                    label="allowances of the trace claims (grad f(y+), f(y+) - min f)")
    claims = [
        compare("trace_residual", "every traced y solves y + rho u(y) = x with x on M",
                worst["res"], "<=", rbound * scale, ctx, note=f"bound 10^-(dps-5) x max(1,||x||) "
                f"({rbound * scale:.1e})"),
        compare("grad_nonzero", "grad f(y) != 0 at every traced y (smallest ||grad f(y)||)",
                worst["g"], ">", sigma_margin, ctx),
        compare("shifted_grad_zero", "grad f(y+) = 0 at every traced y (largest ||grad f(y+)||)",
                worst["w"], "<=", allow["grad"], ctx,
                note="allowance = 64 units of roundoff x max(1, ||x||) (grad f on M) + max ||Hess f(y+)|| "
                f"x the residual bound ({allow['grad']:.1e})"),
        compare("f_sam_is_min", "f_SAM(y) = f(y+) = min f at every traced y, so y is a global "
                "minimizer of f_SAM (largest |f(y+) - min f|)", worst["fgap"], "==", 0, ctx,
                tol=allow["value"], note="allowance: Taylor at x on M with the residual bound r, "
                f"64 units of roundoff (r + 1 for f) + max ||Hess f(y+)|| r^2 / 2 ({allow['value']:.1e})"),
        compare("DG_invertible", "I + rho Du(y) stays invertible along the trace, so DG = "
                "(I + rho Du)^-1 exists (smallest sigma_min)", worst["sig"], ">", sigma_margin,
                ctx)]
    if chart.m == 0:
        claims.append(compare("isolated", "m = 0: the Jacobian H(x_h+)(I + rho Du(x_h)) of F(y) = "
                              "grad f(y+) is invertible, so x_h is an isolated zero (sigma_min / "
                              "sigma_max)", stats["min_sig_F"], ">", sigma_margin, ctx, note="Lemma B.2"))
        cert.objects.update({"traced_max_residual": f"{stats['max_res']:.3e}", "traced_dimension": 0})
        return claims
    claims += [
        compare("tangent_rank", f"the tangent map DG Dphi of the traced set has rank m = {chart.m}"
                " (smallest sigma_min/sigma_max along the trace)", stats["min_tan_sig"], ">",
                sigma_margin, ctx),
        compare("tangent_in_kernel", "the tangent vectors DG Dphi lie in the kernel of the "
                "Jacobian H(y+)(I + rho Du(y)) of F(y) = grad f(y+) (largest relative ||DF T||)",
                stats["max_tan_res"], "<=", 0, ctx, tol=rbound * 1e3 * scale),
        boolean("traced_dimension", f"the Jacobian of F has nullity exactly m = {chart.m} at every "
                f"traced y (gap >= {gap_req:g} decades)", stats["nul_ok"], ctx,
                f"smallest gap {stats['min_gap_F']:.1f} decades"),
        compare("traced_dimension_gap", f"null and non-null singular values of DF separated by at "
                f"least {gap_req:g} decades along the whole trace", stats["min_gap_F"], ">=", gap_req, ctx)]
    cert.objects.update({"traced_max_residual": f"{stats['max_res']:.3e}",
                         "traced_min_grad_norm": f"{stats['min_g']:.6g}",
                         "traced_max_shifted_grad": f"{stats['max_w']:.3e}",
                         "traced_min_sigma_I_plus_rho_Du": f"{stats['min_sig']:.6g}",
                         "traced_dimension": chart.m if stats["nul_ok"] else "mismatch",
                         "traced_min_nullity_gap_decades": round(stats["min_gap_F"], 2)})
    return claims


def _max_col_norm(ctx, M):
    return max((ctx.norm(M[:, j]) for j in range(M.shape[1])), key=lambda v: ctx.to_float(v))


def kernel_chart(obj, x_star, ctx, m: int) -> Chart:
    """M walked without a parametrization: phi(t) = the critical point reached from x* + N t by
    Newton corrections in the non-null directions (N = null eigenvectors of Hess f(x*))."""
    vals, vecs = ctx.eigh(obj.hess(x_star, ctx))
    order = sorted(range(obj.dim), key=lambda i: abs(ctx.to_float(vals[i])))
    N = ctx.stack([vecs[:, i] for i in order[:m]]).T

    def phi(t):
        x = x_star + N @ t
        for _ in range(60):
            g = obj.grad(x, ctx)
            if ctx.to_float(ctx.norm(g)) <= ctx.tol(max(1.0, ctx.to_float(ctx.norm(x))), 16):
                break
            H = obj.hess(x, ctx)
            x = x - ctx.solve(H + N @ N.T, g)  # min-norm step: H^+ g for g in range(H)
        return x

    def dphi(t):
        x = phi(t)
        H = obj.hess(x, ctx)
        # tangent of M: the kernel of H, obtained as (I - H^+ H) N = solve(H + N N^T, N N^T N)
        return solve_columns(ctx, H + N @ N.T, N @ (N.T @ N))
    return Chart(m, phi, dphi, "kernel walk")


# ------------------------------------------------------------------------------------------------
# entry points
# ------------------------------------------------------------------------------------------------
def certify_zoo(name: str, rho, ctx, x_star=None, guess=None, half_width: float = 0.5,
                n_steps: int = 8, **kw) -> Certificate:
    """Theorem 3.1 on a zoo function: x* is the first recorded minimizer (or ``x_star``); x_h is
    obtained by Newton on y + rho u(y) = x* from ``guess`` (or a float64 grid proposal)."""
    zf = zoo.get(name)
    obj = zf.objective
    xs = obj.point(x_star if x_star is not None else zf.minimizers[0], ctx)
    if not zf.exact_critical and x_star is None:
        xs = zf.critical("minimizers", 0, ctx)
    rho_c = sam.check_rho(rho, ctx)
    x_h = find_preimage(obj, xs, rho_c, ctx, guess=guess, box=zf.box)
    chart = zoo_chart(zf, ctx)
    fm = ctx.scalar(zf.min_value) if zf.min_value is not None else None
    return certify(obj, xs, x_h, rho_c, ctx, chart=chart, half_width=half_width, n_steps=n_steps,
                   example=kw.pop("example", f"{name}, rho = {rho}"), f_min=fm, **kw)


def certify_construction(construction, max_points: int | None = DEFAULT_MAX_POINTS,
                         progress: bool = False) -> Certificate:
    """Theorem 3.1 on a Section 2 construction (fields objective, ctx, x_star, x_h, rho, ...),
    tracing at most ``max_points`` points of G(M). The measured dimension is in
    ``cert.objects['dimension']``."""
    obj, ctx = construction.objective, construction.ctx
    zf = zoo.ZOO.get(getattr(obj, "name", ""))
    chart = zoo_chart(zf, ctx) if zf is not None and zf.minimizer_manifold is not None else None
    seams = appendix_d_seams if getattr(obj, "name", "") == "appendix_d" else None
    fm = ctx.scalar(zf.min_value) if zf is not None and zf.min_value is not None else None
    return certify(obj, construction.x_star, construction.x_h, construction.rho, ctx, chart=chart,
                   example=f"Section 2 construction on {obj.name}", f_min=fm, seams=seams,
                   half_width=0.3 if seams else 0.5, analytic_required=seams is None,
                   max_points=max_points, progress=progress)


def construction_chart(obj, x_star, ctx) -> Chart | None:
    """A chart of the minimizer manifold through x*: the zoo's parametrization where it records one,
    else the kernel walk when Hess f(x*) has null directions (m = its nullity), else None (m = 0)."""
    zf = zoo.ZOO.get(getattr(obj, "name", ""))
    if zf is not None and zf.minimizer_manifold is not None:
        return zoo_chart(zf, ctx)
    m, _ = nullity(ctx.svdvals(obj.hess(x_star, ctx)), ctx, required_gap(ctx))
    return kernel_chart(obj, x_star, ctx, m) if m else None


def appendix_d_seams(p) -> float:
    """Distance (max-norm, float) of a point to the lines x = -1, x = 0, |y| = 0.6, |y| = 5.6 where
    the Appendix D function switches formula (f is C^1, not C^2, there)."""
    vals = [float(v) for v in
            (p.tolist() if hasattr(p, "tolist") else list(p))]
    x, y = vals[0], vals[1]
    return min(abs(x + 1), abs(x), abs(abs(y) - 0.6), abs(abs(y) - 5.6))


# examples used by the report: (zoo name, rho, guess for x_h, dps, half width)
EXAMPLES = [
    ("ring", "3/2", ("-0.5", "0"), 30, 3.0),
    ("elliptic_ring", "2", ("-0.5", "0"), 30, 1.2),
    ("ring3", "3/2", ("-0.5", "0", "0"), 30, 0.8),
]


def negative_control_singular(ctx, rho="6/5") -> Certificate:
    """circle_max with the isolated minimizer x* = 0: every point of the circle r = rho (1 < rho <
    sqrt 3) satisfies y + rho u(y) = 0, so the preimage of a 0-dimensional M is a whole circle, and
    I + rho Du(x_h) = I - P (P the tangential projector) is singular. Theorem 3.1 must refuse."""
    zf = zoo.get("circle_max")
    obj = zf.objective
    r = sam.check_rho(sp.Rational(rho), ctx)
    x_h = ctx.vector([r, ctx.scalar(0)])
    cert = certify(obj, ctx.zeros(2), x_h, r, ctx, m=0, example="negative control: circle_max, "
                   f"x* = 0 (isolated minimizer), rho = {rho}: I + rho Du(x_h) singular",
                   f_min=ctx.scalar(0), expected=False)
    cert.add_object("note", "the whole circle r = rho maps to x* = 0 under y -> y + rho u(y): the "
                            "hallucinated set has dimension 1 > m = 0, which the invertibility "
                            "hypothesis is there to exclude")
    return cert


def rigorous_hypotheses(dps: int = 30) -> list[Certificate]:
    """The hypotheses at x_h decided on Arb enclosures where x_h is exact: ring (x* = (1, 0),
    rho = 3/2, x_h = (-1/2, 0)) and elliptic ring (x* = (3/2, 0), rho = 2, x_h = (-1/2, 0))."""
    out = []
    for name, rho, xh in (("ring", sp.Rational(3, 2), ("-1/2", "0")), ("elliptic_ring", sp.Rational(2),
                                                                        ("-1/2", "0"))):
        ctx = get_context("arb", dps=dps)
        zf = zoo.get(name)
        out.append(certify(zf.objective, zf.minimizers[0], xh, ctx.scalar(rho), ctx,
                           chart=zoo_chart(zf, ctx), f_min=ctx.scalar(0),
                           example=f"{name}, rho = {rho}, exact x_h = {xh}: hypotheses proved on Arb balls"))
    return out


def report_certificates(quick: bool = False, figdir: pathlib.Path | None = None) -> list[Certificate]:
    certs = []
    dps = 30
    for name, rho, guess, _, hw in EXAMPLES:
        ctx = get_context("mpmath", dps=dps)
        n = 4 if quick else 12
        certs.append(certify_zoo(name, sp.Rational(rho), ctx,
                                 guess=[float(sp.Rational(g)) for g in guess], half_width=hw,
                                 n_steps=n if name != "ring3" else (2 if quick else 4),
                                 example=f"{name}, rho = {rho}, x_h traced from x* = "
                                 f"{zoo.get(name).minimizers[0]}"))
    certs.append(negative_control_singular(get_context("mpmath", dps=dps)))
    certs.extend(rigorous_hypotheses())
    if figdir is not None:
        _figure(certs[0], figdir, quick)
    return certs


def _figure(cert, figdir, quick):
    """Ring: M, the traced hallucinated circle G(M) and the map lines y -> y+."""
    import time
    import numpy as np
    from verify.report import figures as FG
    started = time.perf_counter()
    figdir = pathlib.Path(figdir)
    figdir.mkdir(parents=True, exist_ok=True)
    ctx = get_context("float64")
    zf = zoo.get("ring")
    obj = zf.objective
    chart = zoo_chart(zf, ctx)
    xs = obj.point(zf.minimizers[0], ctx)
    y0 = find_preimage(obj, xs, 1.5, ctx, guess=(-0.5, 0.0))
    tr = trace_manifold(obj, 1.5, chart, chart_parameter(chart, xs, ctx), y0, ctx,
                        symmetric_offsets(1, 3.0, 30 if not quick else 10))
    pts = sorted(tr.points, key=lambda p: float(p.t[0]))
    fig, axes = FG.new_figure(1, 1, panel=(5.6, 5.4))
    ax = axes[0, 0]
    th = np.linspace(0, 2 * np.pi, 200)
    ax.plot(np.cos(th), np.sin(th), "k-", lw=1, label="M (minimizers)")
    Y = np.array([p.y for p in pts])
    X = np.array([p.x for p in pts])
    ax.plot(Y[:, 0], Y[:, 1], "m.-", label="traced G(M): hallucinated minimizers")
    for i in range(0, len(pts), max(1, len(pts) // 12)):
        ax.annotate("", X[i], Y[i], arrowprops=dict(arrowstyle="->", color="0.6", lw=0.7))
    ax.plot([0], [0], "r^", label="maximizer")
    ax.set_aspect("equal")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.legend(loc="upper right", fontsize=7)
    ax.set_title("Thm 3.1 on the ring, rho = 1.5:\ny -> y + rho u(y) maps G(M) onto M", fontsize=10)
    cert.figures.append(FG.save(fig, figdir / "thm_3_1_ring_trace.png", started))
