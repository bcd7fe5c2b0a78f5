"""Behaviour tests for the decisions of Thm 3.1 (the traced manifold of hallucinated minimizers), the
rho threshold and Thm 2.1 that mutation runs (tools/mutate.py, issue 14, helper mut31) showed no test
could fail. Each test checks a rule on both sides of its boundary, or a derived constant against an
independent computation, through certificates and claim ids."""
from __future__ import annotations

import math

import pytest
import sympy as sp

from theorems import thm_3_1
from verify import zoo
from verify.geometry.charts import Chart, zoo_chart
from verify.ctx import get_context
from verify.objectives.objective import SympyObjective

FP = get_context("float64")
MP = get_context("mpmath", dps=30)
ARB = get_context("arb", dps=30)
RING = zoo.get("ring")
RHO = sp.Rational(3, 2)            # ring: x* = (1, 0) has the hallucinated preimage x_h = (-1/2, 0)


# -- Thm 3.1: the rank of Hess f(x*) on Arb enclosures --------------------------------------------------
@pytest.mark.parametrize("m,verdict", [(1, "proved"), (0, "fail")])
def test_rank_of_the_hessian_needs_an_enclosure_strictly_above_zero(m, verdict):
    """Ring at x* = (1, 0): Hess f = diag(8, 0) exactly, so its singular values are the balls 8 and 0.
    Claiming m = 1 asks for one nonzero value (8: proved); claiming m = 0 asks for two, and the exact
    zero ball must not count as > 0."""
    cert = thm_3_1.certify(RING.objective, ("1", "0"), ("-1/2", "0"), ARB.scalar(RHO), ARB, m=m,
                           f_min=ARB.scalar(0))
    assert cert.claim("rank_M").verdict.value == verdict


def test_a_small_nonzero_singular_value_is_proved_nonzero():
    """The ring scaled by 1/32: Hess f(x*) = diag(1/4, 0); 1/4 is proved > 0 (the bound is 0, not 1).
    u and so x_h = (-1/2, 0) do not change under scaling."""
    f = SympyObjective("(x**2 + y**2 - 1)**2/32", "x,y")
    cert = thm_3_1.certify(f, ("1", "0"), ("-1/2", "0"), ARB.scalar(RHO), ARB, m=1, f_min=ARB.scalar(0))
    assert cert.claim("rank_M").verdict.value == "proved"
    assert cert.claim("nonsingular").passed and cert.claim("x_h_preimage").passed


def test_no_rank_claim_when_every_direction_is_claimed_null():
    """m = d = 2 on the ring: no singular value has to be nonzero, so there is no rank_M claim (the
    exact zero among them would fail it); the null enclosures are checked for all of them."""
    cert = thm_3_1.certify(RING.objective, ("1", "0"), ("-1/2", "0"), ARB.scalar(RHO), ARB, m=2,
                           f_min=ARB.scalar(0))
    ids = [c.id for c in cert.claims]
    assert "rank_M" not in ids and "null_enclosures" in ids
    assert not cert.claim("null_enclosures").passed          # 8 is not a null singular value


def test_a_non_analytic_f_fails_the_analytic_hypothesis_by_default():
    """Appendix D's f is C^1 (piecewise): by default Theorem 3.1's analyticity hypothesis is recorded
    as not met; only a caller that asks for the local check (analytic_required=False) gets the note."""
    obj = zoo.get("appendix_d").objective
    args = (obj, ("-1.55", "0"), ("1.25", "0"), FP.scalar(2.8), FP)
    strict = thm_3_1.certify(*args, n_steps=1)
    assert _hypothesis(strict, "analytic").met is False
    local = thm_3_1.certify(*args, n_steps=1, analytic_required=False)
    assert "analytic" not in [h.name for h in local.hypotheses] and "hypotheses_not_met" in local.objects


@pytest.mark.parametrize("svals,n,gap", [
    ([1.0, 0.5], 0, math.log10(2)),                   # the largest gap is reported even when small
    ([4.0, 2.0, 1.0], 0, math.log10(2)),
    ([1.0, 1e-7, 1e-14], 2, 7.0),                     # equal gaps: the first (larger values) decides
    ([5.0, 1e-3, 1e-12], 1, 9.0),
    ([1.0], 0, 0.0)])                                  # d = 1: no gap at all
def test_nullity_reports_the_largest_gap_and_counts_below_it(svals, n, gap):
    got_n, got_gap = thm_3_1.nullity(FP.vector(svals), FP, 6.0)
    assert got_n == n and got_gap == pytest.approx(gap, rel=1e-12, abs=1e-12)


# -- Thm 3.1: the claims along the trace compare the extreme over every traced point ---------------------
def _ring_trace(ctx, chart=None, f_min=0, n_steps=2):
    return thm_3_1.certify(RING.objective, ("1", "0"), ("-1/2", "0"), ctx.scalar(RHO), ctx,
                           chart=chart or zoo_chart(RING, ctx), f_min=ctx.scalar(f_min), half_width=0.6,
                           n_steps=n_steps, keep_trace=True)


def test_trace_claims_use_the_worst_traced_point():
    """Independently of the certificate: the largest residual, the smallest ||grad f(y)||, the largest
    ||grad f(y+)|| and |f(y+) - min f|, and the smallest sigma_min(I + rho Du(y)) over the traced points
    are the values the claims decide on (elliptic ring, x* = (3/2, 0), rho = 2, x_h = (-1/2, 0): the
    values differ from point to point)."""
    from verify import sam
    ell = zoo.get("elliptic_ring")
    rho = MP.scalar(2)
    cert = thm_3_1.certify(ell.objective, ("3/2", "0"), ("-1/2", "0"), rho, MP, chart=zoo_chart(ell, MP),
                           f_min=MP.scalar(0), half_width=0.6, n_steps=2, keep_trace=True)
    pts = cert.artifacts["trace"].points
    assert len(pts) == 5
    f = ell.objective
    plus = [sam.perturbed_point(f, p.y, rho, MP) for p in pts]
    res = [MP.norm(yp - p.x) for yp, p in zip(plus, pts)]
    grads = [MP.norm(f.grad(p.y, MP)) for p in pts]
    shifted = [MP.norm(f.grad(yp, MP)) for yp in plus]
    gaps = [abs(f.value(yp, MP)) for yp in plus]
    sig = [MP.to_list(MP.svdvals(thm_3_1.i_plus_rho_du(f, p.y, rho, MP)))[-1] for p in pts]
    native = lambda cid: cert.claim(cid).native_value  # noqa: E731
    assert native("trace_residual") == max(res)
    assert native("grad_nonzero") == min(grads)
    assert native("shifted_grad_zero") == max(shifted)
    assert abs(native("f_sam_is_min")) == max(gaps)
    assert native("DG_invertible") == min(sig)
    # the points differ, so each extreme is one particular point, not any point
    assert len({MP.to_float(g) for g in grads}) > 1


# -- Thm 3.1: the allowances along the trace, derived from the residual bound -----------------------------
def _allowances(ctx, hess_norm, f_scale=1.0):
    """Independent: r = 10^-(dps-5) (1e-12 in float64) at scale 1 (M is the unit circle),
    crit = 64 units of roundoff; Taylor at x on M with ||Hess f|| = 8 (f = (|x|^2 - 1)^2)."""
    r = 10.0 ** (-(ctx.dps - 5)) if ctx.dps >= 20 else 1e-12
    crit = 64 * float(ctx.eps)
    return crit + hess_norm * r, crit * r + hess_norm * r * r / 2 + 64 * float(ctx.eps) * f_scale


@pytest.mark.parametrize("ctx", [FP, MP], ids=["float64", "mpmath30"])
def test_trace_allowances_follow_the_residual_bound_and_the_hessian(ctx):
    cert = _ring_trace(ctx, n_steps=1)
    grad, value = _allowances(ctx, 8.0)
    got = cert.objects["trace_allowances"]
    assert float(got["grad"]) == pytest.approx(grad, rel=1e-3)
    assert float(got["value"]) == pytest.approx(value, rel=1e-3)
    assert float(cert.claim("f_sam_is_min").tolerance) == pytest.approx(value, rel=1e-9)
    assert float(cert.claim("shifted_grad_zero").bound) == pytest.approx(grad, rel=1e-9)


@pytest.mark.parametrize("factor,passes", [(0.5, True), (2.0, False)])
def test_f_sam_is_min_fails_once_the_minimum_is_off_by_more_than_its_allowance(factor, passes):
    """A stated min f shifted by half / twice the derived allowance (traced values are ~1e-60)."""
    _, value = _allowances(MP, 8.0)
    cert = _ring_trace(MP, f_min=MP.scalar(factor * value), n_steps=1)
    assert cert.claim("f_sam_is_min").passed is passes


def _scaled_ring_chart(ctx, s):
    """The unit circle scaled by s: off M by s - 1, where ||grad f|| = 4 s |s^2 - 1| ~ 8 (s - 1)."""
    ring = zoo_chart(RING, ctx)
    return Chart(1, lambda t: ring.phi(t) * s, lambda t: ring.dphi(t) * s, "scaled ring")


@pytest.mark.parametrize("factor,passes", [(0.5, True), (2.0, False)])
def test_shifted_gradient_fails_once_the_chart_leaves_M_by_more_than_its_allowance(factor, passes):
    """Tracing a circle of radius 1 + delta instead of M: grad f(y+) = grad f(x) ~ 8 delta, against the
    allowance 64 eps + 8 r; delta = factor x allowance / 8."""
    grad, _ = _allowances(MP, 8.0)
    s = 1 + MP.scalar(factor * grad / 8)
    cert = _ring_trace(MP, chart=_scaled_ring_chart(MP, s), n_steps=1)
    assert cert.claim("shifted_grad_zero").passed is passes


@pytest.mark.parametrize("ctx", [FP, MP], ids=["float64", "mpmath30"])
@pytest.mark.parametrize("units,passes", [(255, True), (256, True), (257, False), (260, False)])
def test_x_h_preimage_allows_256_units_of_roundoff(ctx, units, passes):
    """The ring of radius 1/2, x* = (1/2, 0), rho = 3/4: x_h = (-1/4 + k eps, 0) maps to (1/2 + k eps, 0)
    exactly (u = (1, 0); the spacing of floats in [1/2, 1) is eps), a residual of k units against
    256 units x max(1, ||x*||) = 256 units."""
    f = SympyObjective("(x**2 + y**2 - 1/4)**2", "x,y")
    x_h = ctx.vector([ctx.scalar(-0.25) + ctx.scalar(units) * ctx.eps, ctx.scalar(0)])
    cert = thm_3_1.certify(f, ("1/2", "0"), x_h, ctx.scalar(sp.Rational(3, 4)), ctx, m=1,
                           f_min=ctx.scalar(0), n_steps=1)
    assert cert.claim("x_h_preimage").passed is passes


@pytest.mark.parametrize("units,passes", [(3000, True), (5000, False)])
def test_chart_must_hit_x_star_within_4096_units_of_roundoff(units, passes):
    """A chart of the circle of radius 1 + k eps misses x* = (1, 0) by k eps (its nearest point); the
    allowance is 4096 units x max(1, ||x*||) = 4096 units."""
    s = 1 + MP.scalar(units) * MP.eps
    cert = thm_3_1.certify(RING.objective, ("1", "0"), ("-1/2", "0"), MP.scalar(RHO), MP,
                           chart=_scaled_ring_chart(MP, s), f_min=MP.scalar(0), n_steps=1)
    assert cert.claim("chart_hits_x_star").passed is passes


# -- Thm 3.1 on a zoo function whose minimizer is recorded to a few digits only ---------------------------
def test_certify_zoo_refines_the_first_recorded_minimizer():
    """tilted_ring records x* = (-1.02, 0) to 3 digits: certify_zoo refines it to the critical point
    Newton reaches from there (so x_star_critical holds at 30 digits), not to any other point."""
    zf = zoo.get("tilted_ring")
    cert = thm_3_1.certify_zoo("tilted_ring", "3/2", MP, n_steps=1)
    xs = [float(v) for v in cert.objects["x_star"]]
    assert xs == pytest.approx([-1.02, 0.0], abs=0.01) and xs != [-1.02, 0.0]
    assert cert.claim("x_star_critical").passed
    assert len(zf.minimizers) == 1


# -- Thm 3.1: the residual bound follows the digits -------------------------------------------------------
@pytest.mark.parametrize("dps", range(15, 61))
def test_residual_bound_is_five_digits_above_the_precision_and_at_most_1e12(dps):
    """Exact (no absolute allowance: pytest.approx's default 1e-12 would hide the float64 bound)."""
    ctx = get_context("mpmath", dps=dps)
    assert thm_3_1.residual_bound(ctx) == pytest.approx(min(1e-12, 10.0 ** (5 - dps)), rel=1e-12, abs=0)
    if dps > 15:     # never looser at more digits
        assert thm_3_1.residual_bound(ctx) <= thm_3_1.residual_bound(get_context("mpmath", dps=dps - 1))


def test_residual_bound_in_float64_and_torch_is_1e12():
    for ctx in (FP, get_context("torch", device="cpu")):
        assert thm_3_1.residual_bound(ctx) == pytest.approx(1e-12, rel=1e-12, abs=0)


# -- Thm 3.1: which dimension checks run, and which chart is traced ---------------------------------------
def test_a_wrong_dimension_claim_is_decided_on_the_hessian_gap():
    """Ring, m = 0 claimed where Hess f(x*) has nullity 1: dimension_of_M fails, while the gap check
    of the singular values (8 against 0) still runs and passes; no m = 0 nondegeneracy claim."""
    cert = thm_3_1.certify(RING.objective, ("1", "0"), ("-1/2", "0"), MP.scalar(RHO), MP, m=0,
                           f_min=MP.scalar(0), n_steps=1)
    ids = [c.id for c in cert.claims]
    assert not cert.claim("dimension_of_M").passed
    assert "dimension_gap_M" in ids and cert.claim("dimension_gap_M").passed
    assert "nondegenerate_M" not in ids


def _line_chart(ctx, x_star, direction):
    """A 1-D 'chart' through x_star along a straight line (not a set of minimizers)."""
    xs, v = ctx.vector(list(x_star)), ctx.vector(list(direction))
    return Chart(1, lambda t: xs + v * t[0], lambda t: ctx.stack([v]).T, "line")


def test_a_supplied_chart_is_traced_even_where_the_hessian_says_m_is_0():
    """tilted_ring: x* is an isolated minimizer (Hess f(x*) nonsingular). A line through x* claimed as
    a 1-D manifold of minimizers is traced as given, and the trace exposes it: grad f(y+) = grad f(x)
    is far from 0 along the line; the nondegeneracy of Hess f(x*) is decided, the gap is not."""
    zf = zoo.get("tilted_ring")
    xs = zf.critical("minimizers", 0, MP)
    x_h = thm_3_1.find_preimage(zf.objective, xs, MP.scalar(RHO), MP)
    cert = thm_3_1.certify(zf.objective, xs, x_h, MP.scalar(RHO), MP, chart=_line_chart(MP, xs, (0, 1)),
                           half_width=0.2, n_steps=1)
    ids = [c.id for c in cert.claims]
    assert cert.objects["dimension"] == 0 and not cert.claim("dimension_of_M").passed
    assert "dimension_gap_M" in ids and "nondegenerate_M" not in ids
    assert cert.objects["traced_points"] == 3 and not cert.claim("shifted_grad_zero").passed
    assert "isolated" not in ids


def test_without_a_chart_an_isolated_minimizer_is_checked_as_a_point():
    """tilted_ring without a chart: m = 0, the trace is the single point x_h and Lemma B.2's isolated
    claim decides (its Jacobian is nonsingular)."""
    zf = zoo.get("tilted_ring")
    xs = zf.critical("minimizers", 0, MP)
    x_h = thm_3_1.find_preimage(zf.objective, xs, MP.scalar(RHO), MP)
    cert = thm_3_1.certify(zf.objective, xs, x_h, MP.scalar(RHO), MP)
    assert cert.objects["traced_points"] == 1 and cert.objects["traced_dimension"] == 0
    assert cert.claim("nondegenerate_M").passed and cert.claim("isolated").passed
    assert cert.expected is True and cert.as_expected


@pytest.mark.parametrize("budget", [None, 4])
def test_trace_window_states_the_budget_only_when_one_is_given(budget):
    cert = _ring_trace(FP) if budget is None else thm_3_1.certify(
        RING.objective, ("1", "0"), ("-1/2", "0"), FP.scalar(RHO), FP, chart=zoo_chart(RING, FP),
        f_min=0, n_steps=2, max_points=budget)
    window = cert.objects["trace_window"]
    assert ("budget 4" in window) is (budget == 4) and "None" not in window
    assert cert.objects["traced_points"] == (5 if budget is None else 3)   # (2 k + 1) <= 4: k = 1


def test_singular_negative_control_fails_only_the_invertibility_hypothesis():
    """circle_max, x* = 0, rho = 6/5: x_h = (6/5, 0) is a true preimage (the whole circle r = rho maps to
    0), and I + rho Du(x_h) is singular there: the certificate refuses for that reason alone."""
    cert = thm_3_1.negative_control_singular(MP)
    assert cert.claim("x_h_preimage").passed and cert.claim("x_star_critical").passed
    assert not cert.claim("nonsingular").passed and cert.refused and not cert.expected
    assert [float(v) for v in cert.objects["x_h"]] == [1.2, 0.0]


def _hypothesis(cert, name):
    return next(h for h in cert.hypotheses if h.name == name)


@pytest.mark.parametrize("factor,met", [(2.0, True), (0.5, False)])
@pytest.mark.parametrize("ctx", [FP, MP], ids=["float64", "mpmath30"])
def test_seam_hypotheses_need_the_points_clear_of_the_seams_by_their_accuracy(ctx, factor, met):
    """A planted seam distance (a callable for piecewise f) of twice / half the clearance
    residual_bound x max(1, ||x*||) (x* = (1, 0): scale 1) decides both seam hypotheses."""
    clearance = thm_3_1.residual_bound(ctx)
    assert thm_3_1.seam_clearance(ctx, ctx.vector([3, 4])) == pytest.approx(5 * clearance, rel=1e-12, abs=0)
    cert = thm_3_1.certify(RING.objective, ("1", "0"), ("-1/2", "0"), ctx.scalar(RHO), ctx,
                           chart=zoo_chart(RING, ctx), f_min=ctx.scalar(0), n_steps=1,
                           seams=lambda p: factor * clearance)
    assert _hypothesis(cert, "C2 near the trace").met is met
    if met:
        assert _hypothesis(cert, "trace off the seams").met is True
        assert cert.objects["distance_to_seams"] == f"{factor * clearance:.4g}"


@pytest.mark.parametrize("factor,met", [(2.0, True), (0.5, False)])
def test_trace_hypothesis_needs_every_traced_point_clear_of_the_seams(factor, met):
    """Seams planted near the traced points off the axis only (x_h and x* lie on it, far from any)."""
    clearance = thm_3_1.residual_bound(MP)

    def seams(p):
        return 1.0 if abs(float(p[1])) < 1e-9 else factor * clearance
    cert = thm_3_1.certify(RING.objective, ("1", "0"), ("-1/2", "0"), MP.scalar(RHO), MP,
                           chart=zoo_chart(RING, MP), f_min=MP.scalar(0), n_steps=1, seams=seams)
    assert _hypothesis(cert, "C2 near the trace").met is True
    assert _hypothesis(cert, "trace off the seams").met is met


# -- rho threshold: the allowance of 'threshold >= distance to the maximizer' ------------------------------
from theorems import rho_threshold as R   # noqa: E402


def test_covering_radius_of_samples_on_a_circle_a_segment_and_a_grid():
    import numpy as np
    n = 36
    ang = 2 * np.pi * np.arange(n) / n
    circle = np.c_[np.cos(ang), np.sin(ang)]
    assert R.covering_radius(circle, (n,), periodic=True) == pytest.approx(math.sin(math.pi / n), rel=1e-12)
    # open: the wrap-around chord is not a neighbour; the largest step decides
    segment = np.array([[0.0, 0], [1, 0], [3, 0], [3.5, 0]])
    assert R.covering_radius(segment, (4,)) == pytest.approx(1.0)
    assert R.covering_radius(segment, (4,), periodic=True) == pytest.approx(1.75)
    grid = np.array([[0.3 * i, 0.4 * j] for i in range(3) for j in range(4)])
    assert R.covering_radius(grid, (3, 4)) == pytest.approx(0.25)      # half the cell diagonal 0.5
    assert R.covering_radius([], (0,)) == 0.0


def test_distance_sampling_error_is_the_covering_radii_of_both_sampled_sets():
    """circle_max: argmin f includes the circle r = sqrt 3 (720 cell centres over the chart domain,
    chord 2 sqrt 3 sin(pi/720)) and the maximizers are the unit circle (720 points, chord 2 sin(pi/720));
    double_well2 has recorded points only: no sampling error."""
    assert R.distance_sampling_error(zoo.get("circle_max"), FP, 720) == pytest.approx(
        (math.sqrt(3) + 1) * math.sin(math.pi / 720), rel=1e-9)
    assert R.distance_sampling_error(zoo.get("circle_max"), FP, 90) == pytest.approx(
        (math.sqrt(3) + 1) * math.sin(math.pi / 90), rel=1e-9)
    assert R.distance_sampling_error(zoo.get("double_well2"), FP) == 0.0


@pytest.mark.parametrize("beyond,passes", [(1e-6, True), (-1e-6, False)])
def test_threshold_below_the_distance_by_more_than_the_allowance_is_a_finding(monkeypatch, beyond, passes):
    """double_well2: the threshold (~1, a saddle) lies ~0.41 below the maximizer distance sqrt 2. A
    sampling error planted just above / below that gap flips the claim and the finding with it."""
    first = R.certify_example("double_well2", quick=True)
    claim = first.claim("exceeds_max_distance")
    base, width = claim.margin, float(claim.tolerance)      # no sampling error: the bracket width
    lo, hi = (float(v) for v in first.objects["threshold_bracket"])        # printed to 6 digits
    assert base < -0.4 and width == pytest.approx(hi - lo + 1e-9, rel=1e-2)
    monkeypatch.setattr(R, "distance_sampling_error", lambda *a, **k: -base + beyond)
    c = R.certify_example("double_well2", quick=True)
    assert c.claim("exceeds_max_distance").passed is passes
    assert float(c.claim("exceeds_max_distance").tolerance) == pytest.approx(width - base + beyond, rel=1e-12)
    assert bool(c.findings) is not passes


@pytest.mark.parametrize("rho", [1.5, 1.9, 1.25])
def test_grid_proposal_alone_finds_the_ring_preimage_inside_its_window(rho):
    """Ring, x* = (1, 0), no critical points (so no ray guesses): the grid point whose shift lands
    nearest to x* starts Newton, which reaches the preimage (1 - rho, 0) for 1 < rho < 2."""
    h = R.hallucinated_at(RING, rho, FP, [FP.vector([1.0, 0.0])], [], 41)
    assert h is not None
    y, xs, res, gn = h
    assert [float(v) for v in y] == pytest.approx([1 - rho, 0.0], abs=1e-9)
    assert res <= 1e-10 and gn == pytest.approx(4 * abs(1 - rho) * abs((1 - rho) ** 2 - 1), rel=1e-9)


@pytest.mark.parametrize("rho", [0.5, 0.95, 2.05, 2.5])
def test_no_ring_preimage_outside_its_window(rho):
    assert R.hallucinated_at(RING, rho, FP, [FP.vector([1.0, 0.0])], R.critical_points(RING, FP), 41) is None


def test_ray_guesses_find_the_preimage_next_to_a_saddle_that_the_grid_misses():
    """double_well2 at rho = 1.1, x* = (1, 1): the preimage lies next to the saddle (1, 0) at distance 1;
    the 41^2 grid alone misses it, the ray through the saddle finds it."""
    zf = zoo.get("double_well2")
    xs = [FP.vector([1.0, 1.0])]
    assert R.hallucinated_at(zf, 1.1, FP, xs, [], 41) is None
    h = R.hallucinated_at(zf, 1.1, FP, xs, R.critical_points(zf, FP), 41)
    assert h is not None and h[2] <= 1e-10 and h[3] > 1e-6


def test_preimage_allowance_is_newtons_stop_plus_one_evaluation():
    """float64: 64 eps max(1, ||y||) (the solver tier) + 16 eps (||y|| + rho) (the rounding tier)."""
    import numpy as np
    eps = float(FP.eps)
    for y, rho in (([0.3, -0.4], 1.5), ([3.0, 4.0], 0.25), ([0.0, 0.0, 0.0], 2.0)):
        ny = float(np.linalg.norm(y))
        assert R.preimage_allowance(y, rho) == pytest.approx(64 * eps * max(1.0, ny) + 16 * eps * (ny + rho),
                                                             rel=1e-12, abs=0)


@pytest.mark.parametrize("factor,passes", [(0.5, True), (2.0, False)])
def test_exhibited_preimage_fails_above_the_allowance(monkeypatch, factor, passes):
    """double_well2 (the search route): the residual reported for the exhibited y replaced by half / twice
    the allowance at that y flips the claim."""
    real = R.hallucinated_at

    def planted(zf, rho, *a, **k):
        h = real(zf, rho, *a, **k)
        return None if h is None else (h[0], h[1], factor * R.preimage_allowance(h[0], rho), h[3])
    monkeypatch.setattr(R, "hallucinated_at", planted)
    c = R.certify_example("double_well2", quick=True)
    assert c.claim("exhibited").passed is passes


def test_threshold_bracket_resolution_is_its_width_and_the_rounding_of_its_ends():
    """Ring (geometric route, no sampling error): the bracket [rho*, rho* (1 + 1e-9)] is recorded with
    every digit; 'threshold at the nearest critical point' allows its width plus half an ulp per end."""
    c = R.certify_example("ring", quick=True)
    lo, hi = (float(v) for v in c.objects["threshold_bracket"])
    width = hi - lo + (math.ulp(hi) + math.ulp(lo)) / 2
    assert hi == pytest.approx(lo * (1 + 1e-9), rel=1e-15)
    assert float(c.claim("threshold_at_nearest_critical_point").tolerance) == pytest.approx(width, rel=1e-12, abs=0)
    assert float(c.claim("exceeds_max_distance").tolerance) == pytest.approx(width, rel=1e-12, abs=0)
    assert c.claim("threshold_at_nearest_critical_point").passed


def test_nearest_point_of_the_elliptic_ring_to_its_maximizer_to_full_precision():
    """argmin f is the ellipse (3/2 cos t, sin t); its nearest point to the maximizer 0 is (0, +-1) at
    distance exactly 1: the golden-section search brings the distance to 50 digits."""
    mp = get_context("mpmath", dps=50)
    d, t, p = R.nearest_on_manifold(zoo.get("elliptic_ring"), mp.zeros(2), mp)
    assert abs(mp.to_float(d) - 1) < 1e-15
    assert abs(d - 1) <= 100 * mp.eps
    assert abs(abs(mp.to_float(t)) - math.pi / 2) < 1e-12


# -- Thm 2.1 -------------------------------------------------------------------------------------------------
from theorems import thm_2_1   # noqa: E402
from verify.errors import HypothesisError   # noqa: E402


@pytest.mark.parametrize("units,critical", [(1023.5, True), (1024.5, False)])
def test_critical_point_rules_allow_1024_units_of_roundoff(units, critical):
    """x_star of x^2 (and x_max of -x^2) at x = units eps / 2: ||grad f|| = units eps exactly in float64,
    against the derived tier (1024 units of roundoff x max(1, |f|))."""
    x = FP.vector([units * float(FP.eps) / 2])
    for expr, check in (("x**2", lambda o, c: thm_2_1.check_minimizer(o, x, FP, c, ((-1.0, 1.0),))),
                        ("-x**2", lambda o, c: thm_2_1.check_isolated_maximizer(o, x, FP, c))):
        cert = thm_2_1.new_certificate("boundary", FP)
        obj = SympyObjective(expr, "x")
        if critical:
            check(obj, cert)
            assert cert.hypotheses[0].met
        else:
            with pytest.raises(HypothesisError, match="not a critical point"):
                check(obj, cert)


def test_default_search_box_pads_by_the_distance_or_at_least_1():
    """No box given: the global-minimizer search runs on the points' bounding box padded by
    max(1, |x_star - x_max|) on every side."""
    near = thm_2_1.construct(RING.objective, ("1", "0"), ("0", "0"), FP, n_dirs=128, certify_claims=False)
    assert near.box == ((-1.0, 2.0), (-1.0, 1.0))
    f = SympyObjective("(x**2 + y**2 - 4)**2", "x,y")          # radius 2: |x_star - x_max| = 2
    far = thm_2_1.construct(f, ("2", "0"), ("0", "0"), FP, n_dirs=128, certify_claims=False)
    assert far.box == ((-2.0, 4.0), (-2.0, 2.0))


@pytest.mark.parametrize("eps,accepted", [("0", False), ("-0.1", False), ("0.1", True)])
def test_eps_must_be_strictly_positive(eps, accepted):
    """Ring, M - m = 1 - m > 0.1: eps = 0 (or below) is refused, eps = 0.1 accepted."""
    if accepted:
        con = thm_2_1.construct(RING.objective, ("1", "0"), ("0", "0"), FP, eps=eps, n_dirs=128,
                                certify_claims=False)
        assert next(h for h in con.certificate.hypotheses if h.name == "eps rule").met
    else:
        with pytest.raises(HypothesisError, match="eps"):
            thm_2_1.construct(RING.objective, ("1", "0"), ("0", "0"), FP, eps=eps, n_dirs=128)


# two tilted double wells with no symmetry through x_star and x_max: u(x_h) is no eigenvector of
# 2 I + lambda H(x_h), so the projector onto u^perp matters
TILTED = {2: ("(x**2-1)**2 + (y**2-1)**2 + x*y/10 + x**2*y/10", "x,y", [1, -1]),
          3: ("(x**2-1)**2 + (y**2-1)**2 + (z**2-1)**2 + x*y/10 + x**2*y/10 + y*z/15", "x,y,z", [1, -1, 1])}


@pytest.fixture(scope="module", params=[2, 3], ids=["d2", "d3"])
def tilted(request):
    from verify.core.solve import critical_point
    expr, names, guess = TILTED[request.param]
    f = SympyObjective(expr, names)
    xs = [repr(float(v)) for v in critical_point(f, FP.vector(guess), FP).x]
    return thm_2_1.construct(f, xs, ["0"] * f.dim, FP, n_dirs=256)


def test_second_order_value_is_the_top_eigenvalue_on_the_tangent_space(tilted):
    """Independent: an orthonormal basis T of grad f(x_h)^perp (scipy null_space), the largest
    eigenvalue of T^T (2 I + lambda H(x_h)) T (d = 3: the larger of two)."""
    import numpy as np
    from scipy.linalg import null_space
    from verify.core.sam import gradient
    f, x_h = tilted.objective, tilted.x_h
    A = 2 * np.eye(f.dim) + float(tilted.lam) * np.array(f.hess(x_h, FP), dtype=float)
    u = np.array(gradient(f, x_h, FP).u, dtype=float)
    assert np.linalg.norm(A @ u - (u @ A @ u) * u) > 0.1            # u is no eigenvector of A
    T = null_space(u[None, :])
    top = float(np.linalg.eigvalsh(T.T @ A @ T).max())
    assert float(tilted.certificate.objects["lambda_max_tangent"]) == pytest.approx(top, rel=1e-9)
    assert tilted.certificate.claim("farthest_second_order").passed


def test_moving_along_the_level_works_where_the_gradient_is_diagonal():
    """Ring with x_star = (1, 1)/sqrt 2: u(x_h) is along (1, 1), so (1, 1) is no tangent direction; the
    step along the tangent still leaves x_h and returns to the level set."""
    import numpy as np
    con = thm_2_1.construct(RING.objective, ("sqrt(2)/2", "sqrt(2)/2"), ("0", "0"), FP, n_dirs=128)
    y = thm_2_1.move_along_level(con)
    yf = np.array(thm_2_1.floats(y, FP))
    assert np.all(np.isfinite(yf)) and np.linalg.norm(yf - np.array(thm_2_1.floats(con.x_h, FP))) > 0.01
    assert abs(float(RING.objective.value(y, FP) - con.level)) <= 64 * float(FP.eps)


def test_every_theorem_reports_in_full_unless_asked_for_quick():
    """The report's interface (verify/report/build.py): report_certificates(quick=False, figdir=None)."""
    import inspect
    from theorems import REGISTRY
    for name, entry in REGISTRY.items():
        params = inspect.signature(entry.module.report_certificates).parameters
        assert params["quick"].default is False, name


def test_chart_grid_samples_the_cell_centres_of_the_chart_domain():
    """appendix_d's arc of minimizers over its chart domain |t| <= 0.6: 8 cell centres t = -0.6 + 0.15
    (k + 1/2), every one on argmin f (f = min f) and mirrored in pairs (the arc is symmetric in y)."""
    import numpy as np
    zf = zoo.get("appendix_d")
    pts, shape = R.chart_grid(zf, FP, 8)
    assert shape == (8,) and len(pts) == 8
    P = np.array([[float(v) for v in p] for p in pts])
    chart = zoo_chart(zf, FP)
    expected = [[float(v) for v in chart.phi(FP.vector([-0.6 + 0.15 * (k + 0.5)]))] for k in range(8)]
    assert P == pytest.approx(np.array(expected), abs=1e-15)
    assert P[:, 1] == pytest.approx(-P[::-1, 1], abs=1e-12)
    assert all(abs(float(zf.objective.value(FP.vector(list(p)), FP)) - float(zf.min_value)) < 1e-12 for p in P)


def test_geometric_route_applies_to_plane_curves_of_minimizers_with_a_chart_domain_only():
    """Every zoo function is answered (including those without an entry in EXAMPLES): the route needs
    d = 2, a 1-D argmin with a chart domain here, isolated critical points, no maximizer set."""
    got = {name: R.geometric_applies(z) for name, z in zoo.ZOO.items()}
    assert {name for name, ok in got.items() if ok} == {"appendix_d", "ring", "elliptic_ring"}
    assert got["parabola_well"] is False and got["circle_max"] is False and got["ring3"] is False


def _planted_search(monkeypatch, hit):
    """hallucinated_at replaced: ``hit(rho)`` says where the planted search 'finds' one (x* = (1, 1)
    of double_well2 as its image, a residual 0 and ||grad f|| = 1), elsewhere the real search."""
    real = R.hallucinated_at

    def search(zf, rho, ctx, *a, **k):
        if hit(rho):
            return ctx.vector([0.5, 0.5]), ctx.vector([1.0, 1.0]), 0.0, 1.0
        return real(zf, rho, ctx, *a, **k)
    monkeypatch.setattr(R, "hallucinated_at", search)


def test_scan_consistency_fails_when_the_scan_finds_one_below_the_geometric_threshold(monkeypatch):
    """Ring (geometric route, rho* = 1): a planted hit of the scan at rho = 0.5 contradicts rho*."""
    assert R.certify_example("ring", quick=True).claim("scan_consistent").passed
    _planted_search(monkeypatch, lambda rho: abs(rho - 0.5) < 1e-9)
    assert not R.certify_example("ring", quick=True).claim("scan_consistent").passed


def test_bisection_starts_at_zero_when_the_first_scanned_rho_already_has_one(monkeypatch):
    """The search route with a hit at every rho: the bracket starts at [0, step] and halves 6 times
    (quick) toward 0; the exhibited point and its image are the planted ones."""
    _planted_search(monkeypatch, lambda rho: True)
    c = R.certify_example("double_well2", quick=True)
    lo, hi = (float(v) for v in c.objects["threshold_bracket"])
    assert lo == 0.0 and hi == pytest.approx(0.1 / 64, rel=1e-5)
    assert c.objects["x_h"] == R.point_text(FP, FP.vector([0.5, 0.5]))
    assert c.objects["x_star"] == R.point_text(FP, FP.vector([1.0, 1.0]))


def test_registry_certify_of_the_rho_threshold_runs_the_full_search_by_default():
    import inspect
    assert inspect.signature(R.certify).parameters["quick"].default is False
    assert inspect.signature(R.certify_example).parameters["quick"].default is False
