"""Targeted tests for decisions of the paper's main theorems (Thm 2.1, 2.2, 3.1, 3.2 and the existence
prover) that a mutation run (tools/mutate.py, issue 14) showed no test could fail. Each test pins one
rule through public behaviour (claims, findings, certificates) on both sides of its boundary."""
from __future__ import annotations

import math
from dataclasses import replace

import pytest
import sympy as sp

from theorems import prove_hallucination, thm_2_1, thm_2_2, thm_3_1, thm_3_2
from verify import zoo
from verify.geometry import superlevel
from verify.geometry.charts import Chart, zoo_chart
from verify.objectives.objective import SympyObjective
from verify.ctx import get_context

FP = get_context("float64")
SECOND_ORDER_FINDING = "Thm 3.2 vs App. A.1 / A.4"


# -- Thm 2.1 ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ring():
    """The ring's Lagrange construction in float64 (x_star = (1, 0), x_max = 0)."""
    con = thm_2_1.run_zoo("ring", FP, x_star=("1", "0"), n_dirs=256)
    assert con.certificate.passed, str(con.certificate)
    return con


def _recheck(con, expected=True, **changes):
    """The claims of Thm 2.1 again on ``con`` with some objects replaced (a fresh certificate)."""
    cert = thm_2_1.new_certificate("tampered", con.ctx, expected=expected)
    return thm_2_1.certify(replace(con, certificate=cert, **changes))


def test_choose_eps_keeps_six_digits_inside_the_open_interval():
    """eps = fraction (M - m) to 6 digits; 12 digits only when 6 would leave 0 < eps < M - m."""
    assert thm_2_1.choose_eps(1.0, 0.876543211, 0.5) == "0.0617284"
    assert thm_2_1.choose_eps(2.0, 0.0, 0.25) == "0.5"
    assert thm_2_1.choose_eps(0.0, -0.123456789, 0.5) == "0.0617284"   # m < 0: M - m, not M + m
    # 6 digits round 0.99999987654321 up to 1 = M - m: the 12-digit text is used instead
    assert thm_2_1.choose_eps(1.0, 0.0, 0.99999987654321) == "0.999999876543"


def test_eps_rule_claim_is_strict_without_allowance(ring):
    gap = ring.f_max - FP.scalar(ring.m_boundary)                 # M - m
    assert _recheck(ring, eps=gap * 0.999).claim("eps_rule").passed
    assert not _recheck(ring, eps=gap).claim("eps_rule").passed
    assert not _recheck(ring, eps=gap + 0.5).claim("eps_rule").passed


def test_lemma_a3_samples_must_lie_on_the_level(ring):
    """The boundary samples of C_eps satisfy f = M - eps up to the sampling allowance only."""
    assert _recheck(ring).claim("lemma_a3_samples").passed
    for factor in (1 + 1e-6, 1.5):          # rays overshoot the level crossing a little, a lot
        claim = _recheck(ring, boundary=ring.boundary * factor).claim("lemma_a3_samples")
        assert not claim.passed and float(claim.value) > 1e-8


def test_lemma_a4_multiplier_positivity_is_strict(ring):
    """lambda > 0 with no allowance: a small negative multiplier fails, a small positive one passes."""
    assert not _recheck(ring, lam=FP.scalar(-1e-3)).claim("lemma_a4").passed
    assert not _recheck(ring, lam=FP.scalar(0)).claim("lemma_a4").passed
    assert _recheck(ring, lam=FP.scalar(1e-3)).claim("lemma_a4").passed


def _tangent_lambda(con, top):
    """The multiplier that puts the largest tangent eigenvalue of 2 I + lambda H(x_h) at ``top``:
    on the ring at x_h = (-r, 0) the tangent is e2 and H_22 = 4 (r^2 - 1)."""
    r = abs(float(con.x_h[0]))
    assert abs(float(con.x_h[1])) < 1e-12
    return FP.scalar((top - 2.0) / (4.0 * (r * r - 1.0)))


@pytest.mark.parametrize("top,finding", [(-0.5, True), (0.5, False), (1.0, False)])
def test_second_order_finding_only_when_the_tangent_eigenvalue_is_nonpositive(ring, top, finding):
    """The Thm 3.2 finding states 1 + rho lambda_min(Sym Du(x_h)) <= 0, read off the largest tangent
    eigenvalue of 2 I + lambda H(x_h) <= 0: it is recorded exactly when that eigenvalue is <= 0."""
    cert = _recheck(ring, lam=_tangent_lambda(ring, top))
    value = float(cert.objects["lambda_max tangent (2I + lambda H)"])
    assert value == pytest.approx(top, abs=1e-9)
    assert any(f.source == SECOND_ORDER_FINDING for f in cert.findings) is finding


def test_rho_control_perturbs_rho_up_by_five_percent(ring):
    ctrl = next(c for c in thm_2_1.controls(ring, "ring") if "rho perturbed by +5%" in c.example)
    assert float(ctrl.objects["rho"]) == pytest.approx(1.05 * float(ring.rho), rel=1e-12)
    assert not ctrl.claim("identity").passed


# -- Thm 2.2 ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def circle():
    """Thm 2.2 on circle_max (X = unit circle, f(X) = 4/3), quick sampling, float64."""
    con = thm_2_2.run_circle_max(FP, quick=True)
    assert con.certificate.passed, str(con.certificate)
    return con


def test_lemma_a9_eps_star_is_a_drop_below_the_set_value(circle):
    """eps* = f(X) - (max f on N_delta(X) minus the Lojasiewicz tube): positive and below f(X) - min f,
    and the chosen eps is half of min(eps*, f(X) - max f on dN_delta(X))."""
    claim = circle.certificate.claim("lemma_a9_outside")
    eps_star, f_x = float(claim.bound), float(circle.f_max)
    assert 0 < eps_star < f_x                       # f(X) - min f, as min f = 0 (|x| = sqrt 3)
    eps2 = f_x - circle.m_boundary
    assert float(circle.eps) == pytest.approx(0.5 * min(eps_star, eps2), rel=1e-5)


def test_lemma_a9_without_samples_above_the_level_is_not_a_pass():
    """eps = 1e-10 lies below every fitting and held-out sample's drop f(X) - f(y): the Lemma A.9
    claims have no evidence and must not pass (their value is 0, not a vacuous success)."""
    cert = thm_2_2.run_circle_max(get_context("mpmath", dps=50), quick=True, eps="1e-10").certificate
    for cid in ("lemma_a9_gradient", "lemma_a9_lojasiewicz_bound"):
        assert not cert.claim(cid).passed and float(cert.claim(cid).value) == 0


@pytest.mark.parametrize("q,low,high", [(0.5, True, True), (0.999, True, True), (1.0, True, False),
                                        (1.5, True, False), (0.0, False, True), (-0.5, False, True)])
def test_lojasiewicz_exponent_must_lie_in_the_open_unit_interval(monkeypatch, q, low, high):
    """The fitted exponent q is checked against the open interval (0, 1) of Lemma 2.3, no allowance."""
    fit = superlevel.linear_fit

    def fitted(x, y):
        a, _, r2, res = fit(x, y)
        return a, q, r2, res
    monkeypatch.setattr(superlevel, "linear_fit", fitted)
    cert = thm_2_2.run_circle_max(FP, quick=True).certificate
    assert cert.claim("lojasiewicz_exponent_high").passed is high
    assert cert.claim("lojasiewicz_exponent_low").passed is low


# -- Thm 3.1 ----------------------------------------------------------------------------------------------
ARB = get_context("arb", dps=30)


def test_small_bounds_the_squared_norm_on_enclosures():
    """In Arb, ||v|| <= tol is decided as sum v_i^2 <= tol^2: every component counts, with its sign."""
    assert not thm_3_1.small("c", "v small", ARB.vector([1, 2]), ARB.scalar(1), ARB).passed
    assert not thm_3_1.small("c", "v small", ARB.vector([0, 2]), ARB.scalar(1), ARB).passed
    assert thm_3_1.small("c", "v small", ARB.vector(["1e-40", 0]), ARB.scalar("1e-30"), ARB).passed
    assert thm_3_1.small("c", "v small", FP.vector([0.6, 0.8]), 1.0 + 1e-12, FP).passed
    assert not thm_3_1.small("c", "v small", FP.vector([0.6, 0.8]), 1.0 - 1e-12, FP).passed


def test_rigorous_certificate_fails_a_wrong_preimage():
    """Arb: x_h = (-0.4, 0) is not the preimage (-1/2, 0) of x* = (1, 0) at rho = 3/2 on the ring."""
    ring = zoo.get("ring")
    cert = thm_3_1.certify(ring.objective, ring.minimizers[0], ("-2/5", "0"), ARB.scalar(sp.Rational(3, 2)),
                           ARB, chart=zoo_chart(ring, ARB), f_min=ARB.scalar(0))
    assert cert.claim("x_h_preimage").verdict.value == "fail"


def test_find_preimage_without_a_guess_searches_the_grid():
    """No guess: a float64 grid over the box proposes the start; on the ring the preimage of (1, 0)
    at rho = 3/2 is the single point (-1/2, 0)."""
    y = thm_3_1.find_preimage(zoo.get("ring").objective, ("1", "0"), 1.5, FP)
    assert [float(v) for v in y] == pytest.approx([-0.5, 0.0], abs=1e-12)


def test_rigorous_hypotheses_prove_the_rank_of_the_hessian():
    """d = 2, m = 1: the one nonzero singular value of Hess f(x*) is proved positive (rank_M)."""
    for cert in thm_3_1.rigorous_hypotheses():
        assert cert.claim("rank_M").verdict.value == "proved"
        assert cert.claim("null_enclosures").passed


# -- Thm 3.2 ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("rate,kw,steps", [
    (0.99, {}, int(1.2 * math.log(1e-9) / math.log(0.99))),   # 2474: 1e-9 with 20 % spare
    (0.95, {"floor": 10}, int(1.2 * math.log(1e-9) / math.log(0.95))),
    (0.5, {}, 300), (0.9, {"floor": 10, "cap": 100}, 100), (0.999, {}, 3000),
    (0.0, {}, 300), (1.0, {}, 300), (1.2, {}, 300)])
def test_steps_to_converge_shrink_the_distance_by_1e9_within_floor_and_cap(rate, kw, steps):
    assert thm_3_2.steps_to_converge(rate, **kw) == steps


@pytest.mark.parametrize("dist,rate", [
    ([2.0 ** -k for k in range(10)], 0.5),
    ([8.0, 4.0, 2.0, 1.0, 0.5, 0.25], 0.5),                   # six values, some above 1
    ([0.0, 3.0 ** -1, 3.0 ** -2, 3.0 ** -3, 3.0 ** -4, 3.0 ** -5, 3.0 ** -6], 1 / 3),  # zeros dropped
    ([2.0 ** -k for k in range(5)], None),                     # too short to tell
    ([1.0, 0.5, 0.25, 1e-310, 1e-310, 1e-310], None)])         # the tail is below resolution
def test_observed_rate_is_the_geometric_mean_ratio_of_the_tail(dist, rate):
    got = thm_3_2.observed_rate(dist)
    assert got is None if rate is None else got == pytest.approx(rate, rel=1e-12)


def _eta_bounds_follow_the_constants(c):
    """eta < min(delta / 2M, 2 gamma / L) (and with L_SAM), 0 when gamma <= 0."""
    for bound, L in ((c.eta_bound, c.L), (c.eta_bound_sam, c.L_sam)):
        want = min(c.delta / (2 * c.M), 2 * c.gamma / L) if c.gamma > 0 else 0.0
        assert bound == pytest.approx(want, rel=1e-12)


def test_proof_constants_step_bounds_on_a_circle_of_hallucinated_minimizers(circle_H):
    """circle_max, rho = 6/5, delta = 0.3: gamma ~ 1 on N_delta(H); delta / 2M bounds eta, 2 gamma / L_SAM
    bounds the L_SAM step."""
    c = thm_3_2.proof_constants(circle_H, 0.3, n_dirs=8, n_radii=3, point_stride=3)
    assert 0.99 < c.gamma <= 1 and c.eta_bound == pytest.approx(0.3 / (2 * c.M), rel=1e-12)
    assert c.eta_bound_sam == pytest.approx(2 * c.gamma / c.L_sam, rel=1e-12)
    _eta_bounds_follow_the_constants(c)


def test_proof_constants_step_bounds_in_one_dimension():
    """d = 1: Du = 0, so gamma = 1 exactly; for sin(10 x) the curvature term 2 gamma / L is the
    smaller one at delta = 0.5."""
    H = thm_3_2.HSet(SympyObjective("sin(10*x)", "x"), FP.scalar(0.1), FP, [FP.vector([0.3])], 0)
    c = thm_3_2.proof_constants(H, 0.5, n_dirs=8, n_radii=3)
    assert c.gamma == 1.0 and c.eta_bound == pytest.approx(2 / c.L, rel=1e-12)
    _eta_bounds_follow_the_constants(c)


def test_proof_constants_give_no_step_where_the_paper_condition_fails():
    H = thm_3_2.zoo_manifold_H("ring", "3/2", FP, guess=(-0.5, 0.0), half_width=3.0,
                               n_steps=4)
    c = thm_3_2.proof_constants(H, 0.2, n_dirs=8, n_radii=3, point_stride=3)
    assert c.gamma < 0 and c.eta_bound == 0.0 and c.eta_bound_sam == 0.0


@pytest.fixture(scope="module")
def circle_H():
    return thm_3_2.zoo_manifold_H("circle_max", "6/5", FP, guess=(-0.532, 0.0), half_width=3.0, n_steps=4)


def test_audited_sam_counts_each_step_once(circle_H):
    """Five SAM steps from 0.01 off H: five distances, five resolved steps, six iterates."""
    x0 = circle_H.points[0] + FP.vector([-0.01, 0.0])
    au = thm_3_2.audited_sam(circle_H, x0, 0.03, 5, 1.0, 5.0, 50.0)
    assert au.steps == 5 and au.resolved == 5 and len(au.dist) == 5 and len(au.xs) == 6
    assert all(b < a for a, b in zip(au.dist, au.dist[1:])) and not au.increases


def test_audited_sam_started_on_H_stops_before_any_step(circle_H):
    au = thm_3_2.audited_sam(circle_H, circle_H.points[0], 0.03, 5, 1.0, 5.0, 50.0, stop_dist=1e-9)
    assert au.steps == 0 and au.resolved == 0 and len(au.dist) == 1 and "at step 0" in au.stop


def test_certificate_names_the_statement_by_the_dimension_of_H():
    """m = 0 (an isolated x_h): Corollary B.3 / Lemma B.2; m >= 1 (a traced curve): Theorem 3.2."""
    assert thm_3_2.example_tilted_ring(FP, quick=True).objects["which"] == "Corollary B.3 / Lemma B.2"
    assert thm_3_2.example_circle_max(FP, quick=True).objects["which"] == "Theorem 3.2"


@pytest.mark.parametrize("rho,violations", [(1.1, False), (1.2, True)])
def test_descent_inequality_with_the_papers_L_passes_only_without_violations(rho, violations):
    """d = 1, f = -cos(pi x), x* = 0: the isolated x_h = rho. At rho = 1.1 the sampled L = max |f''| on
    N_delta(x_h) reaches pi^2 (x = 1 is sampled) = L_SAM, and the inequality holds at every step; at
    rho = 1.2 the paper's L is too small and the claim counts the violations."""
    obj = SympyObjective("-cos(pi*x)", "x")
    cert = thm_3_2.certify(obj, ("0",), rho, FP, guess=(rho,), delta=0.1, quick=True, steps=None)
    counted = cert.objects["audit"]["violations with the paper's L"]
    assert (counted > 0) is violations
    assert cert.claim("descent_inequality_paper_L").passed is (not violations)
    assert cert.claim("descent_inequality_L_SAM").passed and cert.claim("converges").passed


def test_initial_rate_is_the_geometric_growth_over_the_first_steps():
    """tilted_ring (repelled): the reported initial rate is (d_{K-1} / d_0)^(1/(K-1)) over the first
    steps while d(x_k, H) stays within (d_0/4, 4 d_0) (at most 12), next to |1 - eta mu| at x_h."""
    cert = thm_3_2.example_tilted_ring(FP, quick=True)
    dist = cert.artifacts["run"].dist
    K = 1
    while K < min(len(dist), 13) and dist[0] / 4 < dist[K] < 4 * dist[0]:
        K += 1
    observed, predicted = (float(v) for v in cert.objects["initial_rate"].split(" vs "))
    assert K > 2 and observed == pytest.approx((dist[K - 1] / dist[0]) ** (1 / (K - 1)), rel=1e-5)
    assert 1 < observed and 1 < predicted


def test_tangent_neutral_fails_for_a_tangent_outside_the_kernel_in_multiprecision():
    """mpmath, 20 digits (allowance 1e-10): the ring's H = {(-1/2, 0)} with its true tangent passes;
    with Dphi replaced by the skew vector (1, 1) the tangent map leaves the kernel of
    H(y+)(I + rho Du) and the claim fails."""
    mp = get_context("mpmath", dps=20)
    ring = zoo.get("ring")
    chart = zoo_chart(ring, mp)
    one = mp.scalar(1)
    skew = Chart(1, chart.phi, lambda t: mp.stack([mp.stack([one]), mp.stack([one])]), "skew")
    for ch, passes in ((chart, True), (skew, False)):
        H = thm_3_2.HSet(ring.objective, mp.scalar(1.5), mp, [mp.vector(["-0.5", "0"])], 1, ch,
                         [mp.vector([0])])
        cert = thm_3_2.certify(H, 0.2, steps=1, quick=True, expected=False)
        assert cert.claim("tangent_neutral").passed is passes


# -- the existence prover ---------------------------------------------------------------------------------
RING_MANIFOLD = dict(x=["-1/2", "0"], rho="3/2", x_star=["1", "0"])


def _prove_ring(**kw):
    args = {**RING_MANIFOLD, **kw}
    return prove_hallucination.prove(zoo.get("ring").objective, args.pop("x"), args.pop("rho"), **args)


def test_box_search_starts_at_a_quarter_shrinks_by_four_and_tries_twice_the_proved_radius():
    """Radii 1/4, 1/16, 1/64, ... from the largest down; once one proves, twice it is tried as well."""
    cert = _prove_ring(crosscheck=False)
    tried = [t.split(":")[0] for t in cert.objects["radii_tried"]]
    assert tried == ["2^-2 = 0.25", "2^-4 = 0.0625", "2^-6 = 0.015625", "2^-5 = 0.03125"]
    assert cert.objects["verdict"] == "PROVED" and cert.objects["box_radius"] == "2^-6 = 0.015625"


@pytest.mark.parametrize("rho", ["0", "-1"])
def test_nonpositive_rho_is_refused(rho):
    cert = _prove_ring(rho=rho)
    assert cert.refused and "rho must be > 0" in cert.refused and not cert.passed


def test_the_given_point_is_refined_to_the_centre_by_default():
    cert = _prove_ring(x=["-0.49", "0.01"], crosscheck=False)
    assert cert.objects["centre_source"] == "refined by mpmath Newton"
    assert [float(v) for v in cert.objects["box_center"]] == pytest.approx([-0.5, 0.0], abs=1e-15)
    assert _prove_ring(x=["-0.49", "0.01"], refine=False, crosscheck=False).objects["centre_source"] == \
        "not refined"


def test_a_lower_bound_above_f_at_x_star_is_an_inconsistency(monkeypatch):
    """Soundness guard: were the range analysis to return L = 1 > f(x_star) = 0 (the enclosure of
    f(x_star) lies below L), the prover reports FAILS (inconsistent), never PROVED or UNDECIDED."""
    from fractions import Fraction
    from verify.rigorous.krawczyk import LowerBound
    monkeypatch.setattr(prove_hallucination, "range_lower_bound",
                        lambda expr: LowerBound(Fraction(1), "a false bound, for the test"))
    cert = _prove_ring(crosscheck=False)
    assert cert.objects["verdict"] == "FAILS" and "inconsistent" in cert.objects["reason"]
    assert cert.claim("x_star_minimum").verdict.value == "fail"


def test_negative_controls_are_expected_to_fail():
    controls = prove_hallucination.negative_controls()
    assert len(controls) >= 5
    assert all(c["expected"] is False and c["example"].startswith("negative control:") for c in controls)


def test_manifold_hint_only_where_the_jacobian_is_singular():
    """UNDECIDED on the isolated route: the hint to try the manifold route is added only when F's
    Jacobian is numerically singular at the centre (the ring), not for a regular one (a box too big
    for the tilted ring's isolated x_h)."""
    hint = "try the manifold route"
    obj, x_h, rho = prove_hallucination.tilted_ring_case()
    regular = prove_hallucination.prove(obj, x_h, rho, radius="1", crosscheck=False)
    assert regular.objects["verdict"] == "UNDECIDED" and hint not in regular.objects["reason"]
    singular = _prove_ring(x_star=None, crosscheck=False)
    assert singular.objects["verdict"] == "UNDECIDED" and hint in singular.objects["reason"]


@pytest.mark.parametrize("name,f_x,delta", [("circle_max", 4 / 3, 0.05), ("ring", 0.0, None)])
def test_certified_delta_needs_f_to_decrease_along_every_normal_ray(name, f_x, delta):
    """The unit circle is a maximizer set of circle_max (delta certified at once) but the minimizer set
    of the ring, where f increases (slowly, radial slope < 1 within 0.05) along every normal ray."""
    unit_circle = thm_2_2.MaximizerSet.curve(("cos(t)", "sin(t)"))
    assert thm_2_2.certified_delta(zoo.get(name).objective, unit_circle, f_x, 0.05, 64) == delta


def test_thm_2_2_runs_in_the_context_it_is_given(circle):
    mp = get_context("mpmath", dps=40)
    assert circle.ctx is FP and circle.certificate.context == FP.name
    cert = thm_2_2.run_circle_max(mp, quick=True).certificate
    assert cert.context == mp.name and cert.precision == mp.precision_label


@pytest.mark.parametrize("safety,passes", [("11/10", True), ("2/3", False)])
def test_lojasiewicz_inequality_on_held_out_samples_has_no_allowance(monkeypatch, safety, passes):
    """C = safety x the largest fitted ratio: with 11/10 every held-out ratio stays <= 1; with 2/3 the
    worst one is ~1.45 > 1 and the claim must fail (no tolerance on the bound 1)."""
    monkeypatch.setattr(thm_2_2, "LOJ_SAFETY", safety)
    claim = thm_2_2.run_circle_max(FP, quick=True).certificate.claim("lojasiewicz_inequality")
    assert claim.passed is passes and (float(claim.value) > 1.2) is (not passes)
