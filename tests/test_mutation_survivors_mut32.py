"""Theorem 3.2's audit, rule by rule, on both sides of each boundary (issue 14, mut32).

Covered: how a run is read (converged, attracting, the initial window, the rates against the
prediction, the 'observed' verdict), the descent audit's allowance and resolution, the proof's constants
and start point, the exact criterion (mu > 0, = 0, < 0), the default step, H_stationary's allowance in
float64 and mpmath, the start direction, and d(x, H) near a traced circle.

How a SAM run is read (converged, attracting, the initial window and its rate) is checked on scripted
distance traces: an isolated H = {x_h} whose ``distance`` returns a given trace, so a run can be made
to end nearer while its tail grows, to stall, or to sit exactly on a window edge. The descent audit's
resolution rule is checked on a 1-D quadratic where every quantity of one SAM step is a dyadic rational,
so an excess can be planted exactly one unit of roundoff either side of the allowance. The proof's
constants are checked against the closed-form maximum of ||grad f|| for f = |x|^2 / 2 in d = 1..4."""
from __future__ import annotations

import io
import math
import sys

import pytest

from theorems import thm_3_2
from verify import zoo
from verify.ctx import get_context
from verify.geometry.charts import Chart
from verify.objectives.objective import SympyObjective

FP = get_context("float64")
D0 = 0.01          # d(x_0, H) of every scripted trace; all values stay below 2 delta = 0.2


class ScriptedH(thm_3_2.HSet):
    """H = {x_h} whose distance reads the k-th value of a script at the k-th call (then the last)."""

    def __init__(self, H: thm_3_2.HSet, script: list):
        super().__init__(H.obj, H.rho, H.ctx, H.points, 0)
        self.script, self.calls = list(script), 0

    def distance(self, x, hint=None):
        value = self.script[min(self.calls, len(self.script) - 1)]
        self.calls += 1
        return self.ctx.scalar(value)


@pytest.fixture(scope="module")
def cos_H():
    """f = -cos(pi x), x* = 0, rho = 1.1: x_h = 1.1, where SAM with eta = 0.05 contracts (rate 0.507)."""
    return thm_3_2.isolated_H(SympyObjective("-cos(pi*x)", "x"), FP.vector([0.0]), 1.1, FP, guess=(1.1,))


def _read(H, script):
    """The certificate's reading of a run whose distances are ``script`` (the linearization at x_h
    predicts contraction: |1 - eta mu| = 0.507)."""
    cert = thm_3_2.certify(ScriptedH(H, script), 0.1, steps=len(script), quick=True, offset=1e-3,
                           eta=0.05, analytic_required=False)
    initial = cert.objects["initial_rate"].split(" vs ")[0]
    return cert, initial, cert.claim("exact_matches_observed").passed


def _geometric(start, rate, n):
    return [start * rate ** k for k in range(n)]


# -- converged: d(x_N, H) <= 1e-8 d(x_0, H) -----------------------------------------------------------
@pytest.mark.parametrize("ratio,converged", [(1e-9, True), (1e-8 * (1 - 1e-9), True), (1e-7, False),
                                             (1e-3, False), (0.2, False)])
def test_converged_means_eight_decades_of_contraction(cos_H, ratio, converged):
    """A trace that drops at once below d_0/4 (no initial window) and ends at ratio x d_0: the observed
    verdict, the 'converges' claim and the exact criterion's match all follow d_N <= 1e-8 d_0."""
    cert, initial, matches = _read(cos_H, [D0, D0 * ratio, D0 * ratio])
    assert initial == "n/a"
    assert cert.objects["observed"].startswith("converged") is converged
    assert cert.claim("converges").passed is converged
    assert matches is converged          # too short for a tail rate: only convergence shows attraction


def test_a_run_started_on_H_has_converged(cos_H):
    """d(x_0, H) = 0: the run stops before its first step; 0 <= 1e-8 x 0, so it has converged."""
    cert, initial, matches = _read(cos_H, [0.0])
    assert cert.objects["sam_steps"] == 0 and cert.objects["observed"] == "converged to H"
    assert cert.claim("converges").passed and matches


# -- attracting: converged, or a contracting tail that ends nearer than it started ----------------------
@pytest.mark.parametrize("script,attracting", [
    ([D0, D0 / 10] + _geometric(D0 / 10, 0.5, 6), True),      # tail rate 1/2, ends nearer
    ([D0, D0 / 10] + _geometric(D0 / 10, 0.9, 8), True),      # tail rate 0.9
    ([D0, D0 / 10] + _geometric(D0 / 10, 1.2, 8), False),     # ends nearer, but the tail grows (1 < 1.2 < 2)
    ([D0, D0 / 10] + _geometric(D0 / 10, 1.9, 4), False),     # ends nearer, tail rate just under 2
    ([D0, D0 / 10] + [D0 / 10] * 6, False),                   # stalled: tail rate exactly 1
    ([D0, D0 / 10, 8 * D0, 4 * D0, 2 * D0, D0], False),       # contracting tail, but back exactly at d_0
    ([D0, D0 / 10, 8 * D0, 4 * D0, 2 * D0, 1.5 * D0], False),  # contracting tail, ends farther
    ([D0, D0 / 10, 8 * D0, 4 * D0, 2 * D0, 0.9 * D0], True),  # contracting tail, ends just nearer
])
def test_attracting_needs_a_tail_rate_below_one_and_an_end_nearer_than_the_start(cos_H, script, attracting):
    """No initial window (the first step leaves (d_0/4, 4 d_0)): the exact criterion, which predicts
    contraction, matches the run exactly when the run attracts."""
    cert, initial, matches = _read(cos_H, script)
    assert initial == "n/a" and not cert.claim("converges").passed
    assert matches is attracting
    observed = cert.objects["observed"]
    if script[-1] > D0:
        assert observed == "repelled from H"
    else:
        assert observed.startswith("contracting towards H") is attracting
        assert observed.startswith("stalled") is (not attracting)


# -- the initial window: the first steps with d_0/4 < d_k < 4 d_0, at most 12 ---------------------------
@pytest.mark.parametrize("script,rate", [
    ([D0, D0 / 4, D0 / 4, D0 / 4, D0 / 8], None),            # d_1 = d_0/4 exactly: outside
    ([D0, D0 / 4.5] + [D0 / 4.5] * 4, None),                  # between d_0/5 and d_0/4: outside
    ([D0, 4 * D0, 4 * D0, 4 * D0, 4 * D0, 4 * D0], None),     # d_1 = 4 d_0 exactly: outside
    ([D0, 4.5 * D0, 4.5 * D0, 4.5 * D0, 4.5 * D0], None),     # between 4 d_0 and 5 d_0: outside
    ([D0, D0 / 2, D0 / 10, D0 / 20, D0 / 40, D0 / 80], None),  # one step inside: no rate
    ([D0, D0 / 2, 0.4 * D0, D0 / 20, D0 / 40, D0 / 80], math.sqrt(0.4)),  # two steps inside
    ([D0, D0 / 3.9, D0 / 3.9, D0 / 100, D0 / 200, D0 / 400], (1 / 3.9) ** 0.5),  # just inside d_0/4
    ([D0, 3.9 * D0, 3.9 * D0, D0 / 100, D0 / 200, D0 / 400], 3.9 ** 0.5),        # just inside 4 d_0
    ([D0] + [0.9 * D0] * 12 + [1.5 * D0] * 3 + [D0 / 10], 0.9 ** (1 / 12)),    # capped at 12 steps
])
def test_initial_rate_is_read_over_the_window_near_x_h(cos_H, script, rate):
    cert, initial, matches = _read(cos_H, script)
    if rate is None:
        assert initial == "n/a"
    else:
        assert float(initial) == pytest.approx(rate, rel=1e-5)
        assert matches is (rate < 1)     # the prediction at x_h (contraction) against the window's rate


def test_twelve_steps_inside_the_window_decide_even_if_the_run_then_grows(cos_H):
    """The cap decides the verdict: over the first 12 steps the run contracts (0.9 per window), the
    13th value (1.5 d_0) would turn the window's rate above 1."""
    _, initial, matches = _read(cos_H, [D0] + [0.9 * D0] * 12 + [1.5 * D0] * 3)
    assert float(initial) < 1 and matches


@pytest.mark.parametrize("script,observed", [
    ([D0] * 13 + [D0 * 1e-9], "converged to H"),                              # initial rate exactly 1
    ([D0, 1.5 * D0, 2.25 * D0, 3.375 * D0, 8 * D0, D0 * 1e-9], "moved away from x_h (initial rate > 1), "
     "then converged to another part of H"),
    ([D0, 1.5 * D0, 2.25 * D0, 3.375 * D0, 8 * D0, D0 / 2], "moved away from x_h (initial rate > 1), "
     "then approached another part of H"),
])
def test_moving_away_first_is_told_only_for_an_initial_rate_above_one(cos_H, script, observed):
    cert, _, _ = _read(cos_H, script)
    assert cert.objects["observed"] == observed


# -- the descent audit: a violation counts above 64 units of roundoff of max(1, |f_SAM(x_k)|) ----------
def _one_step(x0, rho, eta, gamma):
    """f = x^2/2 in 1-D, one audited SAM step with the paper's L = 0 (so the right-hand side is
    f_SAM(x_k) - eta gamma ||w||^2): every value below is exact in binary."""
    H = thm_3_2.HSet(SympyObjective("x**2/2", "x"), FP.scalar(rho), FP, [FP.vector([0.0])], 0)
    return thm_3_2.audited_sam(H, FP.vector([x0]), eta, 1, gamma, 0.0, 0.0)


@pytest.mark.parametrize("x0,rho,eta,f_sam,lhs_minus_f", [
    (1.5, 0.5, 0.25, 2.0, -0.875),     # f_SAM(x_0) = 2: the allowance is 64 eps x 2; eta ||w||^2 = 1
    (0.75, 0.25, 1.0, 0.5, -0.375)])   # f_SAM(x_0) = 1/2: the allowance is 64 eps x max(1, 1/2)
@pytest.mark.parametrize("units,violated", [(0, False), (63, False), (64, False), (65, True), (130, True)])
def test_descent_excess_counts_only_above_64_units_of_roundoff(x0, rho, eta, f_sam, lhs_minus_f, units,
                                                               violated):
    """f_SAM(x_1) - rhs = gamma - (f_SAM(x_0) - f_SAM(x_1)) is planted exactly ``units`` x eps x
    max(1, |f_SAM(x_0)|) (drop = 1): the count of violations changes between 64 and 65 units."""
    scale = max(1.0, f_sam)
    au = _one_step(x0, rho, eta, -lhs_minus_f + units * FP.eps * scale)
    assert au.f_sam == [f_sam] and au.resolved == 1
    assert au.worst_excess_L == units * FP.eps * scale
    assert (au.violations_L == [0]) is violated and (au.violations_Lsam == [0]) is violated


@pytest.mark.parametrize("multiple,resolved", [(900, 0), (1000, 0), (1001, 1), (1500, 1), (2500, 1)])
def test_a_step_is_resolved_when_its_decrease_exceeds_a_thousand_allowances(multiple, resolved):
    """x_0 = 3/4, rho = 1/4: ||w|| = 1, f_SAM(x_0) = 1/2, so eta ||w||^2 = eta against 1000 x 64 eps."""
    au = _one_step(0.75, 0.25, multiple * 64 * FP.eps, 1.0)
    assert au.resolved == resolved and au.steps == 1


# -- the proof's constants: the sampled directions ---------------------------------------------------
def _half_square_norm(d: int) -> SympyObjective:
    """f = |x|^2 / 2 in d <= 4 variables: grad f = x, u = x / |x|."""
    names = "x,y,z,w"[:2 * d - 1]
    return SympyObjective("(" + "+".join(f"{v}**2" for v in names.split(",")) + ")/2", names)


@pytest.mark.parametrize("d,direction,count", [
    (1, [-1.0], 2), (2, [math.cos(2 * math.pi * 5 / 16), math.sin(2 * math.pi * 5 / 16)], 16),
    (3, [-1.0, -1.0, 1.0], 26), (3, [0.0, 1.0, -1.0], 26), (4, [0.0, -1.0, 0.0, 0.0], 8)])
def test_constant_M_reaches_the_exact_maximum_along_a_sampled_direction(d, direction, count):
    """f = |x|^2 / 2, H = {y} with y along one of the sampled unit directions (d = 2: 16 on the circle;
    d = 3: the 26 lattice directions; else +-e_i): max ||grad f|| = max ||x|| over the ball of radius
    delta/2 + rho about y is |y| + delta/2 + rho, attained along y / |y|; min ||grad f|| on N_delta is
    |y| - delta; Du = (I - u u^T)/|x| is semidefinite, so gamma = 1; every (direction, radius) pair is
    one sample. f_SAM is least on the boundary of N_{delta/2} towards the origin, and ||Hess f_SAM|| is
    largest at the sampled point nearest to it."""
    obj = _half_square_norm(d)
    unit = [c / math.sqrt(sum(c * c for c in direction)) for c in direction]
    y = FP.vector([3 * c for c in unit])
    rho, delta = 0.5, 0.4
    c = thm_3_2.proof_constants(thm_3_2.HSet(obj, FP.scalar(rho), FP, [y], 0), delta, n_dirs=16, n_radii=4)
    assert c.M == pytest.approx(3 + delta / 2 + rho, rel=1e-14)
    assert c.grad_floor == pytest.approx(3 - delta, rel=1e-14)
    assert c.samples == count * 5
    assert c.gamma == pytest.approx(1, abs=1e-12)
    # f_SAM(x) = (|x| + rho)^2 / 2; Hess f = I; Hess f_SAM has the tangential eigenvalue 1 + rho / |x|
    assert c.f_star == pytest.approx((3 + rho) ** 2 / 2, rel=1e-14)
    assert c.boundary_min_fsam == pytest.approx((3 - delta / 2 + rho) ** 2 / 2, rel=1e-14)
    assert c.L == pytest.approx(1, rel=1e-14)
    assert c.L_sam == pytest.approx(1 + rho / (3 - delta) if d >= 2 else 1, rel=1e-12)
    assert c.eta_bound == pytest.approx(min(delta / (2 * c.M), 2 / c.L), rel=1e-14)


# -- the start: along the part of u normal to H, or off the tangent span when u lies in it ---------------
def test_start_direction_is_the_part_of_u_normal_to_H():
    """ring, rho = 3/2, H the circle r = 1/2 traced through y = (1/2, 0): u(y) = (-1, 0) points to
    x+ = (-1, 0) and is normal to H, so x_0 = y + offset (-1, 0) (inwards, against e_1)."""
    ring = zoo.get("ring")
    H = thm_3_2.zoo_manifold_H("ring", 1.5, FP, guess=(0.5, 0.0), x_star=(-1.0, 0.0), half_width=0.3,
                               n_steps=1)
    y = H.points[0]
    assert [float(v) for v in y] == pytest.approx([0.5, 0.0], abs=1e-12) and ring.objective.dim == 2
    cert = thm_3_2.certify(H, 0.2, steps=1, quick=True, expected=False, offset=0.01)
    step = cert.artifacts["run"].xs[0] - y
    assert [FP.to_float(v) for v in step] == pytest.approx([-0.01, 0.0], abs=1e-12)


def test_start_direction_avoids_the_tangent_when_u_is_tangent():
    """ring, rho = 3/2, H through y = (0, -1/2) with a chart whose tangent (I + rho Du)^-1 Dphi is
    parallel to u(y) = (0, -1): x_0 - y must still be normal to that tangent (along e_1)."""
    ring = zoo.get("ring")
    zero, one = FP.scalar(0), FP.scalar(1)
    along_u = Chart(1, lambda t: FP.vector([0.0, -1.0]), lambda t: FP.stack([FP.stack([zero]),
                                                                                FP.stack([one])]), "along u")
    y = FP.vector([0.0, -0.5])
    H = thm_3_2.HSet(ring.objective, FP.scalar(1.5), FP, [y], 1, along_u, [FP.vector([0.0])])
    cert = thm_3_2.certify(H, 0.2, steps=1, quick=True, expected=False, offset=0.01)
    step = cert.artifacts["run"].xs[0] - y
    assert FP.to_float(FP.norm(step)) == pytest.approx(0.01, rel=1e-12)
    assert abs(FP.to_float(step[1])) <= 1e-15


# -- the exact criterion against the window: contraction means a rate strictly below 1 ------------------
@pytest.fixture(scope="module")
def neutral_H():
    """f = (x^2 - 1)^2, x* = 1, rho = 3/2: x_h = -1/2 exactly, u = 1, x_h+ = 1, mu = f''(1) = 8 and
    Du = 0, so at eta = 1/4 = 2/mu the predicted rate |1 - eta mu| is exactly 1 (neutral)."""
    return thm_3_2.HSet(SympyObjective("(x**2 - 1)**2", "x"), FP.scalar(1.5), FP, [FP.vector([-0.5])], 0)


@pytest.mark.parametrize("window,matches", [(0.9, False), (1.0, True), (1.1, True)])
def test_a_neutral_prediction_matches_only_a_window_that_does_not_contract(neutral_H, window, matches):
    cert = thm_3_2.certify(ScriptedH(neutral_H, _geometric(D0, window, 8)), 0.1, steps=8, quick=True,
                           offset=1e-3, eta=0.25, analytic_required=False)
    predicted = float(cert.objects["initial_rate"].split(" vs ")[1])
    assert predicted == 1.0 and cert.objects["exact_verdict"].startswith("repels")
    assert cert.claim("exact_matches_observed").passed is matches


@pytest.mark.parametrize("window,matches", [(0.9, True), (1.0, False), (1.1, False)])
def test_a_predicted_contraction_matches_only_a_window_that_contracts(cos_H, window, matches):
    _, initial, got = _read(cos_H, _geometric(D0, window, 8))
    assert float(initial) == pytest.approx(window, rel=1e-12) and got is matches


# -- the exact criterion, the step and the start on the 1-D neutral example -----------------------------
@pytest.mark.parametrize("eta,rate", [(0.1, 0.2), (0.2, 0.6), (0.25, 1.0), (0.3, 1.4)])
def test_exact_criterion_in_one_dimension_is_one_minus_eta_f_second(neutral_H, eta, rate):
    """mu = f''(x*) = 8 (Du = 0 in d = 1): contraction iff eta < 2/8, rate |1 - 8 eta|."""
    ex = thm_3_2.exact_criterion(neutral_H.obj, neutral_H.points[0], neutral_H.rho, eta, FP, 0)
    assert ex.mu == [(8.0, 0.0)] and ex.kernel_dim == 0 and ex.eta_max == 0.25
    assert ex.rate == pytest.approx(rate, abs=1e-15)


def test_default_step_is_a_fraction_of_the_papers_bound_where_the_statement_applies(neutral_H):
    cert = thm_3_2.certify(neutral_H, 0.3, steps=5, quick=True, analytic_required=False)
    assert cert.hypotheses_met and cert.objects["eta"].endswith("(paper bound)")
    assert cert.objects["eta_over_paper_bound"] == "0.9"
    cert = thm_3_2.certify(neutral_H, 0.3, steps=5, quick=True, analytic_required=False, eta_factor=0.5)
    assert cert.objects["eta_over_paper_bound"] == "0.5"
    cert = thm_3_2.certify(neutral_H, 0.3, steps=5, quick=True, analytic_required=False, eta=0.125)
    assert cert.objects["eta"] == "0.125 (given)" and cert.objects["eta_over_exact_bound"] == "0.5"


def test_default_step_falls_back_to_the_exact_bound_then_to_a_fixed_step(cos_H):
    """Where the paper's condition fails the exact bound sets the step (the ring, mu = 8: 0.9 x 1/4);
    where no step contracts (tilted_ring, a negative mu) the run uses the fallback 0.01."""
    ring = thm_3_2.zoo_manifold_H("ring", 1.5, FP, guess=(-0.5, 0.0), half_width=0.5, n_steps=1)
    cert = thm_3_2.certify(ring, 0.2, steps=3, quick=True, expected=False)
    assert not cert.hypotheses_met and cert.objects["eta"] == "0.225 (exact bound)"
    tilted = zoo.get("tilted_ring")
    H = thm_3_2.isolated_H(tilted.objective, tilted.critical("minimizers", 0, FP), 1.5, FP, guess=(0.48, 0.0))
    cert = thm_3_2.certify(H, 0.1, steps=3, quick=True, expected=False, analytic_required=False)
    assert cert.objects["eta"] == "0.01 (fallback (no bound contracts))"
    assert cert.objects["eta_over_exact_bound"] == "no bound"


@pytest.mark.parametrize("delta,halvings", [(0.6, 0), (0.9, 1)])
def test_start_moves_closer_until_it_lies_in_the_proofs_sublevel_set(neutral_H, delta, halvings):
    """f_SAM(x_h + s) - f_SAM(x_h) = 4 s^2 + 4 s^3 + s^4 near x_h = -1/2: epsilon is half the smaller
    boundary gap (at s = -delta/2); the start delta/4 along u = +1 is kept when its gap is below
    epsilon (delta = 0.6) and halved once when it is not (delta = 0.9: gap 0.2506 > epsilon 0.2433)."""
    gap = lambda s: 4 * s ** 2 + 4 * s ** 3 + s ** 4  # noqa: E731
    cert = thm_3_2.certify(neutral_H, delta, steps=3, quick=True, analytic_required=False)
    start = delta / 4 / 2 ** halvings
    assert cert.artifacts["run"].dist[0] == pytest.approx(start, rel=1e-12)
    assert float(cert.objects["epsilon"]) == pytest.approx(gap(-delta / 2) / 2, rel=1e-5)
    assert float(cert.objects["fsam_gap_x0"]) == pytest.approx(gap(start), rel=1e-5)
    assert gap(2 * start) >= gap(-delta / 2) / 2 or halvings == 0
    assert cert.claim("x0_in_C_eps").passed


@pytest.mark.parametrize("shift,stationary", [(0.0, True), (1e-15, True), (1e-12, False), (1e-9, False)])
def test_H_stationary_allows_the_roundoff_of_the_shifted_gradient_only(shift, stationary):
    """A point of H moved by s: grad f(y+) = f'(1 + s) ~ 8 s against 1024 eps (float64)."""
    H = thm_3_2.HSet(SympyObjective("(x**2 - 1)**2", "x"), FP.scalar(1.5), FP, [FP.vector([-0.5 + shift])], 0)
    cert = thm_3_2.certify(H, 0.3, steps=2, quick=True, analytic_required=False, expected=stationary)
    assert cert.claim("H_stationary").passed is stationary
    assert cert.claim("H_not_critical").passed


def test_audit_object_summarizes_the_run_it_came_from():
    """f = -cos(pi x), rho = 1.2 (the paper's L too small): the audit's counts are the run's, and the
    violating steps it lists are the run's first ten."""
    obj = SympyObjective("-cos(pi*x)", "x")
    cert = thm_3_2.certify(obj, ("0",), 1.2, FP, guess=(1.2,), delta=0.1, quick=True, steps=None)
    run, audit = cert.artifacts["run"], cert.objects["audit"]
    assert len(run.violations_L) > 10 and audit["violations with the paper's L"] == len(run.violations_L)
    assert audit["first violating steps (paper's L)"] == run.violations_L[:10]
    assert audit["steps resolved"] == run.resolved and audit["f_SAM increases"] == len(run.increases)
    assert cert.objects["sam_steps"] == run.steps == len(run.xs) - 1


# -- the observed rate against the prediction ----------------------------------------------------------
@pytest.mark.parametrize("last,passes", [(1.4, True), (1.42, True), (1.38, True), (1.45, False),
                                         (1.35, False)])
def test_growth_ratio_at_the_window_end_matches_a_predicted_expansion_within_3_percent(neutral_H, last,
                                                                                      passes):
    """neutral_H at eta = 0.3: |1 - eta mu| = 1.4 > 1. The window runs to d_7 < 4 d_0; the claim reads
    the last ratio d_7 / d_6 inside it, against 1.4 with a 3 % allowance."""
    script = [D0 * v for v in (1, 1.1, 1.2, 1.3, 1.4, 1.96, 2.744)]
    script += [script[-1] * last, 5 * D0, 6 * D0]
    cert = thm_3_2.certify(ScriptedH(neutral_H, script), 0.1, steps=len(script), quick=True, offset=1e-3,
                           eta=0.3, analytic_required=False, expected=False)
    assert cert.claim("rate_matches").passed is passes
    assert cert.claim("exact_matches_observed").passed


def test_no_growth_ratio_is_read_from_a_window_shorter_than_five_steps(neutral_H):
    script = [D0 * v for v in (1, 1.4, 1.96, 2.744, 3.8416, 5.4, 7.5)]
    cert = thm_3_2.certify(ScriptedH(neutral_H, script), 0.1, steps=len(script), quick=True, offset=1e-3,
                           eta=0.3, analytic_required=False, expected=False)
    assert cert.objects["initial_rate"].startswith("1.4 vs 1.4")
    assert all(c.id != "rate_matches" for c in cert.claims)


@pytest.mark.parametrize("tail,passes", [(0.5065, True), (0.52, True), (0.49, True), (0.53, False),
                                         (0.48, False)])
def test_tail_rate_matches_a_predicted_contraction_within_2_percent(cos_H, tail, passes):
    """cos_H at eta = 0.05: |1 - eta mu| = 0.50652; a run without an initial window whose tail contracts
    at ``tail``: the claim allows 0.02 x max(1, 0.50652)."""
    cert, _, matches = _read(cos_H, [D0, D0 / 10] + _geometric(D0 / 10, tail, 8))
    assert cert.claim("rate_matches").passed is passes and matches


# -- the start direction next to an isolated x_h ---------------------------------------------------------
@pytest.mark.parametrize("y,direction", [
    ([3.0], [1.0]), ([-3.0], [-1.0]),                                   # d = 1: u itself
    ([3.0, 0.0], [1.0, 1.0]), ([0.0, 3.0], [1.0, 1.0]),                 # u = e_1; u = e_2: the e_1 fallback
    ([1.8, 2.4], [-0.2, 1.4]),                                          # u = (0.6, 0.8), e_2's normal part
    ([0.0, 0.0, -2.0], [1.0, 0.0, -1.0]), ([2.0, 0.0, 0.0], [1.0, 0.0, 1.0])])
def test_start_next_to_an_isolated_point_is_u_plus_a_unit_normal_to_it(y, direction):
    """m = 0: x_0 - x_h is along u + t / |t|, t the part of the last axis normal to u (the first axis
    where the last is parallel to u); in d = 1 along u. f = |x|^2 / 2, so u = y / |y|."""
    obj = _half_square_norm(len(y))
    H = thm_3_2.HSet(obj, FP.scalar(0.5), FP, [FP.vector(y)], 0)
    cert = thm_3_2.certify(H, 0.2, steps=1, quick=True, expected=False, offset=0.01,
                           analytic_required=False)
    step = [FP.to_float(v) for v in cert.artifacts["run"].xs[0] - FP.vector(y)]
    norm = math.sqrt(sum(c * c for c in direction))
    assert step == pytest.approx([0.01 * c / norm for c in direction], abs=1e-14)


# -- d(x, H) by Gauss-Newton along the chart --------------------------------------------------------------
def test_distance_to_a_traced_circle_is_exact_near_it_with_or_without_a_hint(ring_circle):
    """ring, rho = 3/2: H is the circle r = 1/2, so d(x, H) = |r - 1/2|; a hint carried from one point
    to the next (as along a run) gives the same distances."""
    hint: dict = {}
    for r, angle in ((0.45, 0.1), (0.55, 0.3), (0.7, 1.0), (0.35, 2.0), (0.5, 2.5), (0.62, -2.2),
                     (0.3, -0.7)):
        x = FP.vector([r * math.cos(angle), r * math.sin(angle)])
        fresh = FP.to_float(ring_circle.distance(x))
        carried = FP.to_float(ring_circle.distance(x, hint))
        assert fresh == pytest.approx(abs(r - 0.5), abs=1e-12)
        assert carried == pytest.approx(abs(r - 0.5), abs=1e-12)
        foot = hint["y"]
        assert math.hypot(*[FP.to_float(v) for v in foot]) == pytest.approx(0.5, abs=1e-12)


@pytest.fixture(scope="module")
def ring_circle():
    return thm_3_2.zoo_manifold_H("ring", 1.5, FP, guess=(-0.5, 0.0), half_width=3.0, n_steps=4)


# -- the audit with L != L_SAM, an increase of f_SAM, leaving the neighbourhood ----------------------------
def test_each_violation_bucket_uses_its_own_constant():
    """Case f_SAM(x_0) = 2 (eta = 1/4, eta ||w||^2 = 1), 65 units planted with L = 0: with L_SAM = 2 the
    right-hand side rises by eta L_SAM / 2 = 1/4, far above the excess; and the other way round."""
    H = thm_3_2.HSet(SympyObjective("x**2/2", "x"), FP.scalar(0.5), FP, [FP.vector([0.0])], 0)
    gamma = 0.875 + 65 * FP.eps * 2
    au = thm_3_2.audited_sam(H, FP.vector([1.5]), 0.25, 1, gamma, 0.0, 2.0)
    assert au.violations_L == [0] and au.violations_Lsam == []
    au = thm_3_2.audited_sam(H, FP.vector([1.5]), 0.25, 1, gamma + 0.25, 2.0, 0.0)
    assert au.violations_L == [0] and au.violations_Lsam == [0]
    assert au.worst_excess_L == 65 * FP.eps * 2
    au = thm_3_2.audited_sam(H, FP.vector([1.5]), 0.25, 1, gamma, 2.0, 0.0)
    assert au.violations_L == [] and au.violations_Lsam == [0]
    assert au.worst_excess_L == pytest.approx(-0.25 + 130 * FP.eps, abs=1e-16) and not au.increases


@pytest.mark.parametrize("eta,increase", [(1.0, False), (2.0, True)])
def test_an_increase_of_f_sam_is_recorded(eta, increase):
    """x_0 = 3/4, rho = 1/4: eta = 1 lands on -1/4 (f_SAM 1/8 < 1/2), eta = 2 on -5/4 (f_SAM 9/8);
    with gamma = 0 the inequality is plain descent, violated exactly when f_SAM rises."""
    au = _one_step(0.75, 0.25, eta, 0.0)
    assert (au.increases == [0]) is increase and au.violations_L == ([0] if increase else [])


@pytest.mark.parametrize("diverge,steps", [(0.75, 0), (0.75 + 1e-12, 1)])
def test_the_audit_stops_when_the_run_reaches_the_outer_distance(diverge, steps):
    H = thm_3_2.HSet(SympyObjective("x**2/2", "x"), FP.scalar(0.25), FP, [FP.vector([0.0])], 0)
    au = thm_3_2.audited_sam(H, FP.vector([0.75]), 1.0, 1, 1.0, 0.0, 0.0, diverge_dist=diverge)
    assert au.steps == steps and au.stop.startswith("left the neighbourhood") is (steps == 0)


@pytest.mark.parametrize("text,mu", [("(x**2 - 1)**2", 8.0), ("(x**2 - 1)**4", 0.0), ("-(x - 1)**2", -2.0)])
def test_no_step_contracts_along_a_zero_or_negative_normal_eigenvalue(text, mu):
    """y = -1/2, rho = 3/2, f' > 0 there, so y+ = 1 and (d = 1, Du = 0) mu = f''(1): 8, 0 (a flat
    minimum), -2. The criterion's bound is 2/mu for mu > 0, else 0 (no step contracts), and the rate at
    eta is |1 - eta mu|."""
    obj = SympyObjective(text, "x")
    ex = thm_3_2.exact_criterion(obj, FP.vector([-0.5]), FP.scalar(1.5), 0.1, FP, 0)
    assert ex.mu == [(mu, 0.0)]
    assert ex.eta_max == (2 / mu if mu > 0 else 0.0)
    assert ex.rate == pytest.approx(abs(1 - 0.1 * mu), abs=1e-15)


@pytest.mark.parametrize("shift,stationary", [(0, True), (1e-15, False), (1e-25, True)])
def test_H_stationary_in_multiprecision_allows_a_few_digits_below_the_working_precision(shift, stationary):
    """mpmath, 30 digits: the allowance is 10^-(30 - 8) = 1e-22; grad f(y+) = f'(1 + s) ~ 8 s."""
    mp = get_context("mpmath", dps=30)
    y = mp.scalar(-0.5) + mp.scalar(shift)
    H = thm_3_2.HSet(SympyObjective("(x**2 - 1)**2", "x"), mp.scalar(1.5), mp, [mp.vector([y])], 0)
    cert = thm_3_2.certify(H, 0.3, steps=2, quick=True, analytic_required=False, expected=stationary)
    assert cert.claim("H_stationary").passed is stationary


@pytest.mark.parametrize("delta,isolated", [(0.6, True), (1.0, False)])
def test_a_critical_point_of_f_on_the_boundary_leaves_no_sublevel_set(neutral_H, delta, isolated):
    """f = (x^2 - 1)^2, H = {-1/2}: with delta = 1 the boundary of N_{delta/2}(H) is {-1, 0}, both
    critical points of f, where f_SAM is undefined: the sampled minimum is -inf and the proof's C_eps
    is not shown to exist; with delta = 0.6 (boundary {-0.8, -0.2}) f_SAM rises there."""
    cert = thm_3_2.certify(neutral_H, delta, steps=2, quick=True, analytic_required=False,
                           expected=isolated)
    gap = cert.objects["constants"]["min f_SAM on boundary of N_delta/2(H) (sampled) - f_SAM(H)"]
    assert (gap == "-inf") is (not isolated)
    assert cert.claim("isolated_in_nbhd").passed is isolated
    # no start lies below epsilon = -inf: after its 10 halvings the start gives up, and says so
    assert cert.artifacts["run"].dist[0] == pytest.approx(delta / 4 / (1 if isolated else 2 ** 10), rel=1e-12)
    assert cert.claim("x0_in_C_eps").passed is isolated


@pytest.mark.parametrize("text,negative", [("(x**2+y**2)/4", None), ("-(x**2+y**2)/2", -1.0)])
def test_repulsion_reports_only_a_negative_real_eigenvalue(text, negative):
    """y = (3, 0), rho = 1/2. f = |x|^2/4: H(y+)(I + rho Du) = diag(1/2, (1 + rho/3)/2), all positive
    (both below 1): no negative eigenvalue. f = -|x|^2/2: -diag(1, 1 - rho/3): the least is -1."""
    rep = thm_3_2.repulsion_determinants(SympyObjective(text, "x,y"), FP.vector([3.0, 0.0]), 0.5, FP)
    if negative is None:
        assert rep.negative_eigenvalue is None and rep.det_a > 0 and rep.det_h_star > 0
    else:
        assert rep.negative_eigenvalue == pytest.approx(negative, abs=1e-14)


@pytest.mark.parametrize("rho,finding", [(0.49, False), (0.5, True), (0.51, True)])
def test_the_construction_finding_is_stated_where_the_condition_is_not_positive(rho, finding):
    """f = -|x|^2/2 (level circles about the origin), y = (1/2, 0), flagged as constructed: u = -e_1,
    Du = diag(0, -1/|y|) = diag(0, -2), so 1 + rho lambda_min = 1 - 2 rho: positive at rho = 0.49,
    exactly 0 at rho = 1/2 (the hypothesis '> 0' fails), negative at 0.51."""
    H = thm_3_2.HSet(SympyObjective("-(x**2+y**2)/2", "x,y"), FP.scalar(rho), FP, [FP.vector([0.5, 0.0])], 0)
    cert = thm_3_2.certify(H, 0.1, steps=2, quick=True, constructed=True, expected=False,
                           analytic_required=False, offset=0.01)
    assert float(cert.objects["paper_condition_min_on_H"]) == pytest.approx(1 - 2 * rho, abs=1e-15)
    assert any("with Theorem 3.1" in f.source for f in cert.findings) is finding


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("progress", [False, True])
def test_certify_construction_draws_a_progress_bar_only_when_asked(monkeypatch, progress):
    """The ring's Section 2 construction traces H along its chart; on a terminal the tracing bar is
    drawn only with progress=True."""
    from types import SimpleNamespace
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    cons = SimpleNamespace(objective=zoo.get("ring").objective, ctx=FP, x_star=FP.vector([1.0, 0.0]),
                           x_h=FP.vector([-0.5, 0.0]), rho=1.5)
    kw = {"progress": True} if progress else {}
    cert = thm_3_2.certify_construction(cons, max_points=8, **kw)
    assert cert.objects["H_points"] > 1 and ("tracing G(M)" in terminal.getvalue()) is progress
