"""Behaviour tests for the rival-paper and appendix modules that a fresh mutation sample
(tools/mutate.py --per-file 20 --seed 16, records *-50.json) showed no test could fail: the double
well of Kim et al. App. B, Kim's Theorems 2 and 3, Zhou's Proposition 4.1, Prop. A.1 and Cor. A.6.
Each test states the rule it pins and checks it on both sides, against values computed here
independently (or transcribed from the paper), not against the module's own constants."""
from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest

from theorems import kim_double_well as DW

SQRT_HALF = math.sqrt(0.5)

# Kim et al. 2023, Appendix B, Table 2, transcribed from the paper: rho -> (P(global opt), P(trap))
KIM_TABLE_2 = [(0.0, 1.0, 0.0), (0.085, 0.1912, 0.0311), (0.17, 0.0, 0.0670), (0.255, 0.0, 0.0973),
               (0.34, 0.0, 0.1379), (0.425, 0.0, 0.1716), (0.595, 0.0, 0.2410), (0.68, 0.0, 0.2765)]


# -- kim_double_well ----------------------------------------------------------------------------------
def test_double_well_report_runs_table_2_radii_and_the_papers_mu():
    """The tables of the report cover exactly Table 2's radii and two radii above rho_c, and print the
    paper's numbers next to ours; the GD control runs rho = 0 only and finds no trap. App. B uses
    mu = 1: the default threshold certificate computes rho_c = sqrt(1/2); the control compares it
    with sqrt(mu)/2 = 1/2 (one factor changed) and must fail. (One test, no shared fixture: the
    mutation tool credits a fixture's lines to the first test using it.)"""
    report = DW.report_certificates(quick=True)
    sam, usam, gd = report[2:]
    for cert in (sam, usam):
        rows = cert.objects["fractions"]["rows"]
        assert [float(r[0]) for r in rows] == [t[0] for t in KIM_TABLE_2] + [0.75, 0.9]
        for row, (_, p_global, p_trap) in zip(rows, KIM_TABLE_2):
            assert (float(row[1]), float(row[2])) == (p_global, p_trap)
        assert [r[1:3] for r in rows[-2:]] == [["—", "—"]] * 2
    assert sam.passed and usam.explained
    assert list(gd.objects["fractions_by_rho"]) == ["0.0"] and gd.as_expected
    assert gd.objects["fractions_by_rho"]["0.0"]["trapped"]["estimate"] == 0.0
    real, control = report[:2]
    with mp.workdps(50):
        exact = mp.sqrt(mp.mpf(1) / 2)
        assert abs(DW.critical_rho() - exact) < mp.mpf(10) ** -45
        assert abs(mp.mpf(real.objects["rho_c"]) - exact) < mp.mpf(10) ** -45
    assert real.passed and "mu = 1," in real.example
    assert mp.mpf(control.objects["stated"]) == mp.mpf("0.5")
    assert not control.claim("rho_c").passed and control.as_expected


def test_double_well_classes_follow_the_papers_three_percent_of_sqrt_mu():
    """trapped: |theta| <= 0.03 sqrt(mu) (the paper's criterion); global: ||theta| - sqrt(mu)| <= 0.03
    sqrt(mu); non-finite: diverged; the rest other. mu = 4 (sqrt 2) so the scaling is seen too."""
    theta = np.array([0.059, -0.059, 0.061, 2.059, -1.941, 2.061, -1.939, np.nan, np.inf, 1.0])
    counts = {k: round(v.estimate * theta.size) for k, v in DW.classify(theta, 4.0).items()}
    assert counts == {"trapped": 2, "global": 2, "diverged": 2, "other": 4}
    assert DW.classify(np.array([0.029, 0.031]), 1.0)["trapped"].estimate == 0.5


def test_double_well_table_splits_the_radii_at_rho_c_and_records_kims_thresholds():
    """rho = 0.68 lies below rho_c = 0.7071 (counted for the trap claim), 0.75 above it (only in the
    note); the recorded thresholds are sqrt(mu/2), l''(0) = -4 mu, 1/(4 mu) and (2/eta + 4 mu)/(16 mu^2)."""
    cert = DW.certify_table("SAM (normalized, Foret)", n_starts=200, rhos=[0.68, 0.75])
    assert float(cert.objects["rho_c"]) == pytest.approx(SQRT_HALF, rel=1e-15)
    assert "[1/1]" in cert.claim("trap below rho_c").statement
    assert "rho=0.75" in cert.objects["at_and_above_rho_c"]
    assert "rho=0.68" not in cert.objects["at_and_above_rho_c"]
    assert list(cert.objects["fractions_by_rho"]) == ["0.68", "0.75"]
    assert [float(cert.objects[k]) for k in ("hessian_at_0", "usam_threshold", "usam_step_bound")] \
        == [-4.0, 0.25, pytest.approx((2 / 0.01 + 4) / 16)]
    below = DW.certify_table("SAM (normalized, Foret)", n_starts=200, rhos=[0.17])
    assert "at_and_above_rho_c" not in below.objects and not below.findings


def test_double_well_threshold_objects_in_closed_form_and_the_45_digit_tolerance():
    """balance(theta) = 8 theta rho (mu - theta^2 - rho^2), so theta*(rho) = sqrt(mu - rho^2) and
    rho_c = sqrt(mu/2); Kim's Theorem 1 threshold at 0 is 1/(4 mu). At 50 digits the rho_c claim
    allows 10^-45 (5 digits for the root finding): a stated value off by 10^-48 relative is
    accepted, one off by 10^-42 is not. mu = 3."""
    with mp.workdps(50):
        mu = mp.mpf(3)
        rho_c = mp.sqrt(mu / 2)
        cert = DW.certify_threshold(mu=3)
        theta = mp.sqrt(mu - (rho_c * mp.mpf("0.999")) ** 2)
        assert abs(mp.mpf(cert.objects["theta_star"]) - theta) < mp.mpf(10) ** -18
        assert abs(mp.mpf(cert.objects["kim_thm1_threshold"]) - mp.mpf(1) / 12) < mp.mpf(10) ** -10
        near = DW.certify_threshold(mu=3, compare_to=lambda m: mp.sqrt(m / 2) * (1 + mp.mpf(10) ** -48))
        off = DW.certify_threshold(mu=3, compare_to=lambda m: mp.sqrt(m / 2) * (1 + mp.mpf(10) ** -42),
                                   expected=False)
    assert cert.passed and near.claim("rho_c").passed
    assert not off.claim("rho_c").passed and off.as_expected


# -- kim_thm2 -----------------------------------------------------------------------------------------


def _small_step(eta, lam):
    return eta * abs(lam) <= 0.005           # the regime the claims name: eta |lambda| <= 0.005


def test_kim_thm2_full_grid_why_not_column_and_finding_name_the_cause_of_each_miss():
    """Per grid point: 'holds' when every form lies in the interval; a Kim miss gives the ratio
    Kim/OU, an OU miss (large steps) the step eta kappa and the relative gap discrete/OU - 1. The
    finding counts Kim's misses with small steps and rho > 0, with large steps, and the points with
    lambda < 0, rho > -1/lambda, as read off the variance table."""
    from theorems import kim_thm2 as K2
    cert = K2.certify_variance(quick=False, n_chains=2000)
    table = cert.objects["variance_table"]
    col = {c: i for i, c in enumerate(table["columns"])}
    seen = set()
    for row in table["rows"]:
        lam, rho, eta, B = (float(row[col[c]]) for c in ("lambda", "rho", "eta", "B"))
        t = int(row[col["steps"]]) * eta
        kim, ou, disc = (float(f(lam, rho, eta, B, t)) for f in
                         (K2.kim_variance, K2.ou_variance, K2.discrete_variance))
        kim_in, ou_in = (row[col[f"{n} in CI"]] == "True" for n in ("Kim (15)", "OU (USAM drift)"))
        why = row[col["why not"]]
        assert (why == "holds") == (kim_in and ou_in)
        assert (f"squared factor: Kim/OU = {kim / ou:.3g}" in why) == (not kim_in)
        assert (f"finite step: eta kappa = {eta * lam * (1 + rho * lam):.3g}, discrete/OU - 1 = "
                f"{disc / ou - 1:.3g}" in why) == (not ou_in)
        seen.add((kim_in, ou_in))
    assert {(True, True), (False, True), (False, False)} <= seen    # every branch is exercised
    bad = [(float(r[col["lambda"]]), float(r[col["rho"]]), float(r[col["eta"]]))
           for r in table["rows"] if r[col["Kim (15) in CI"]] == "False"]
    own = sum(1 for lam, rho, eta in bad if _small_step(eta, lam) and rho > 0)
    step = sum(1 for lam, rho, eta in bad if not _small_step(eta, lam))
    attract = sum(1 for lam, rho, eta in bad if lam < 0 and rho * -lam > 1)
    assert 0 < own and 0 < step and own + step <= len(bad)
    text = cert.findings[0].evidence
    assert f"at {len(bad)}/{len(table['rows'])} grid points: {own} with small steps" in text
    assert f"; {step} with large steps" in text and f"({attract} points)" in text
    assert "claimed to be" in cert.statement and "sigma_j^2(t) = eta" in cert.statement


def test_kim_thm2_intervals_are_bonferroni_over_the_grid_at_family_wise_99_percent():
    """Each point's interval is the normal interval of the mean of w^2 at level 1 - 0.01 / (number
    of points), recomputed here from the same seeded chains (seed + i for point i)."""
    from scipy.stats import norm
    from theorems import kim_thm2 as K2
    points = [K2.Point(1.0, 0.0, 0.002, 4, 0.5), K2.Point(-2.0, 0.3, 0.002, 4, 0.5),
              K2.Point(-2.0, 0.8, 0.05, 1, 0.5)]
    table = K2.variance_table(points, 1500, seed=5)
    alpha = 0.01 / 3
    assert table["alpha_per_point"] == pytest.approx(alpha, rel=1e-15)
    for i, (p, row) in enumerate(zip(points, table["rows"])):
        w2 = K2.simulate_w2(p, 1500, 5 + i)
        half = norm.ppf(1 - alpha / 2) * w2.std(ddof=1) / math.sqrt(w2.size)
        assert row["ci"].low == pytest.approx(w2.mean() - half, rel=1e-9)
        assert row["ci"].high == pytest.approx(w2.mean() + half, rel=1e-9)


def test_kim_thm2_cor1_algebra_matches_its_first_order_expansion():
    """((15) at rho = 0 - (15)) / (2 eta t^2 |lambda|^3 rho / B) - 1 = rho lambda / 2 - 4 lambda t / 3
    + O(rho lambda^2 t + lambda^2 t^2) (expanding 1 - exp(-2 kappa t) to third order): at the four
    points the worst |ratio - 1| is ~0.093, inside the claim's bound max(rho |lambda| + 2 |lambda| t)."""
    from theorems import kim_thm2 as K2
    cert = K2.certify_cor1(quick=True, n_chains=1000)
    claim = cert.claim("Cor 1 from (15)")
    pts = [(lam, rho, 0.005) for lam in (-1.0, 0.5) for rho in (0.05, 0.2)]
    first_order = max(abs(rho * lam / 2 - 4 * lam * t / 3) for lam, rho, t in pts)
    assert float(claim.value) == pytest.approx(first_order, abs=3e-3) and claim.passed
    assert float(claim.bound) == pytest.approx(max(rho * abs(lam) + 2 * abs(lam) * t
                                                    for lam, rho, t in pts), rel=1e-12)
    assert cert.statement.startswith("Corollary 1 (our words)")


# -- kim_thm3 -----------------------------------------------------------------------------------------
def _kim_constants(lam, rho, eta, t):
    """C1..C4 of Kim et al. (17), as printed (C2 = eta / t)."""
    kappa = lam * (1 + rho * lam) ** 2
    return eta ** 2 * abs(lam) / 2, eta / t, eta * abs(lam) / (2 * kappa), 2 * kappa * t


@pytest.mark.parametrize("lam, rho, eta, t", [(-1.0, 0.3, 0.01, 0.5), (2.0, 0.1, 0.02, 0.7)])
def test_kim_thm3_constants_and_formula_17_as_printed(lam, rho, eta, t):
    """constants() and msd17() against (17) written out here: both C2 readings (eta/t, t/eta), gamma
    from 0 to 0.9, batch sizes 1 and 8."""
    from theorems import kim_thm3 as K3
    c1, c2, c3, c4 = _kim_constants(lam, rho, eta, t)
    got = K3.constants(lam, rho, eta, t)
    assert [got[k] for k in ("C1", "C2", "C3", "C4")] == pytest.approx([c1, c2, c3, c4], rel=1e-14)
    assert K3.constants(lam, rho, eta, t, "proof")["C2"] == pytest.approx(t / eta, rel=1e-15)
    for reading, c2r in (("statement", c2), ("proof", t / eta)):
        for gamma in (0.0, 0.5, 0.9):
            for B in (1, 8):
                g = 1 - gamma
                want = c1 * (1 - math.exp(-c2r * g)) ** 2 / (g ** 3 * B) \
                    + c3 * (1 - math.exp(-c4 / g)) / (g * B)
                assert float(K3.msd17(lam, rho, eta, B, t, gamma, reading)) == pytest.approx(
                    want, rel=1e-12)


def test_kim_thm3_formula_certificate_states_17_and_its_constants():
    from theorems import kim_thm3 as K3
    statement = K3.certify_formula().statement
    assert statement.startswith("Statement (our words)")
    assert "Delta_SAM = C1" in statement and "C4 = 2 lambda (1 + rho lambda)^2 t" in statement


def test_kim_thm3_each_comparison_changes_only_the_setting_its_label_names():
    """'gamma a -> b', 'B a -> b', 'rho a -> b' change exactly that setting, at the labelled lambda,
    in the direction Theorem 3 states (up with gamma, down with B and rho); quick runs a subset."""
    import re
    from theorems import kim_thm3 as K3
    index, sign = {"rho": 0, "gamma": 1, "B": 2}, {"gamma": +1, "B": -1, "rho": -1}
    full = K3.comparisons(False)
    assert len(full) == 9
    for label, lam, lo, hi, direction in full:
        m = re.match(r"(gamma|B|rho) ([\d.]+) -> ([\d.]+).*lambda=(-?[\d.]+)$", label)
        name, a, b, lam_text = m.groups()
        i = index[name]
        assert (lo[i], hi[i]) == (float(a), float(b)) and lam == float(lam_text)
        assert [lo[j] for j in range(3) if j != i] == [hi[j] for j in range(3) if j != i]
        assert direction == sign[name]
    assert set(K3.comparisons(True)) < set(full)


def test_kim_thm3_full_dynamics_holds_every_monotonicity_with_bonferroni_intervals():
    """All nine paired comparisons hold and (17)'s value misses; the intervals are at level
    1 - 0.01/9, recomputed here from the shared-noise chains (seed + i for comparison i)."""
    from scipy.stats import norm
    from theorems import kim_thm3 as K3
    cert = K3.certify_dynamics(quick=False, n_chains=3000, seed=11)
    assert all(c.passed for c in cert.claims if c.id != "(17) value") and len(cert.claims) == 10
    assert not cert.claim("(17) value").passed and cert.explained
    alpha = 0.01 / 9
    assert f"level 1 - {alpha:.3g} " in cert.objects["sampling"]
    _, lam, lo, hi, _ = K3.comparisons(False)[5]
    a, b = (K3.simulate_w2(lam, *s, 3000, 11 + 5) for s in (lo, hi))
    d = b - a
    half = norm.ppf(1 - alpha / 2) * d.std(ddof=1) / math.sqrt(d.size)
    row = cert.objects["paired_comparisons"]["rows"][5]
    assert row[2].startswith(f"{d.mean():.6g} [{d.mean() - half:.6g}, {d.mean() + half:.6g}]")


# -- prop_a1 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("names", ["x", "x,y"])
def test_prop_a1_margins_are_exact_on_an_isotropic_quadratic_and_mu_is_sharp(names):
    """f = (a/2) ||x||^2, a = 1/2: x+ = x + rho x/||x||, so <grad f(x+), u> - ||grad f(x)|| = a rho,
    ||grad f(x+)|| - ||grad f(x)|| = a rho and f(x+) - f(x) - rho ||grad f(x)|| = a rho^2 / 2 at every
    sample: with mu = a the projection and ratio margins are 0 (claims hold), with mu = a + 1/100 both
    are -rho/100 (claims fail); d = 1 and d = 2."""
    from theorems import prop_a1 as PA1
    from verify.ctx import get_context
    from verify.objectives.objective import SympyObjective
    ctx = get_context("mpmath", dps=30)
    d = len(names.split(","))
    f = SympyObjective(" + ".join(f"{v}**2/4" for v in names.split(",")), names)
    kw = dict(box=((-2, 2),) * d, rhos=("1/10", "1/2"), n_samples=4, n_starts=1)
    free = PA1.certify(f, ctx, mu=0, **kw)
    assert free.passed
    assert float(free.claim("monotone_projection").value) == pytest.approx(0.5 * 0.1, rel=1e-20)
    assert float(free.claim("ratio_bound").value) == pytest.approx(0.5 * 0.1, rel=1e-20)
    assert float(free.claim("chain_convexity").value) == pytest.approx(0.5 * 0.01 / 2, rel=1e-20)
    sharp = PA1.certify(f, ctx, mu="1/2", **kw)
    assert sharp.claim("monotone_projection").passed and sharp.claim("ratio_bound").passed
    over = PA1.certify(f, ctx, mu="51/100", expected=False, **kw)
    for claim_id in ("monotone_projection", "ratio_bound"):
        assert not over.claim(claim_id).passed
        assert float(over.claim(claim_id).value) == pytest.approx(-0.5 / 100, rel=1e-20)
    assert over.as_expected


def test_prop_a1_decides_in_the_given_arithmetic_and_refuses_an_empty_box():
    """The certificate is computed in the context passed (float64 here, not the mpmath default), a
    modulus given as text ('1/4') read exactly in any context; a box with lo >= hi in some variable,
    or of the wrong dimension, is refused with a ShapeError."""
    from theorems import prop_a1 as PA1
    from verify.ctx import get_context
    from verify.errors import ShapeError
    from verify.objectives.objective import SympyObjective
    f = SympyObjective("x**2/4 + y**2/4", "x,y")
    fp = get_context("float64")
    cert = PA1.certify(f, fp, box=((-2, 2), (-1, 1)), mu="1/4", n_samples=4, n_starts=1)
    assert cert.passed and (cert.context, cert.precision) == (fp.name, fp.precision_label)
    assert cert.objects["mu"] == 0.25
    for box in (((3, 3), (-3, 3)), ((-3, 3), (2, -2)), ((-3, 3),)):
        with pytest.raises(ShapeError, match="lo < hi"):
            PA1.certify(f, fp, box=box, n_samples=4, n_starts=1)


# -- zhou_prop41 --------------------------------------------------------------------------------------
@pytest.mark.parametrize("loss, outward, flattening", [
    ("z**2/2", True, True), ("log(cosh(10*z))/100", True, True),
    ("z**2/2 + z**4/20", True, False),               # super-quadratic walls
    ("z**2/2 + z**3", False, False),                 # z L'(z) < 0 for z < -1/3 only
    ("z**2/2 - z**3", False, True),                  # z L'(z) < 0 for z > 1/3 only
])
def test_zhou_sub_quadratic_evidence_sees_both_sides_of_the_valley(loss, outward, flattening):
    """Definition 4.2 on V = [-2b, 2b]: the outward property must be checked on both halves of V
    (each cubic profile breaks it on one side only) and the flattening of L''(|z|)."""
    from theorems import zhou_prop41 as Z
    expr, z = Z.parse_loss(loss)
    assert Z.sub_quadratic_evidence(expr, 1.0, z)[:2] == (outward, flattening)
    assert Z.sub_quadratic_evidence(expr, 1.0)[:2] == (outward, flattening)   # z found in the loss


@pytest.mark.parametrize("b", [1.0, 2.5])
def test_zhou_remark_c1_bounds_in_closed_form(b):
    """L = 1 - cos(pi z / 2b): a = L''(0) = pi^2 / (4 b^2), max_V |L'| = pi / (2b) at |z| = b, so
    eta_max = 2 b^2 / pi (to the grid's resolution: spacing 4b/2000 costs a relative
    (pi/2000)^2 / 2 ~ 1.2e-6 at most) < 2/a = 8 b^2 / pi^2: no allowed eta makes the minimum unstable."""
    from theorems import zhou_prop41 as Z
    cert = Z.remark_c1(b)
    assert float(cert.objects["a"]) == pytest.approx(math.pi ** 2 / (4 * b * b), rel=1e-12)
    assert float(cert.objects["eta_max"]) == pytest.approx(2 * b * b / math.pi, rel=2e-6)
    assert not cert.claim("escape allowed").passed and cert.claim("valley walls").passed
    assert cert.statement.startswith("Remark C.1")


@pytest.mark.parametrize("amplitude, escapes", [(0.095, False), (0.105, True)])
def test_zhou_escape_needs_the_late_run_ten_times_farther_out_than_its_start(amplitude, escapes):
    """A planted period-2 orbit +-A of USAM on L = log(cosh(10 z))/100 (L' = tanh(10 z)/10): with
    eta = 2A / L'(A + rho L'(A)) the run from b/100 settles on it, so its late max |theta| is A; the
    escape claim needs A > b/10 (10x the start b/100): it fails at A = 0.095 b, holds at 0.105 b."""
    from theorems import zhou_prop41 as Z
    rho = 0.05
    dl = lambda x: math.tanh(10 * x) / 10                                  # noqa: E731
    eta = 2 * amplitude / dl(amplitude + rho * dl(amplitude))
    cert = Z.certify("log(cosh(10*z))/100", 1.0, eta, rho, "planted orbit", steps=200)
    assert float(cert.objects["late_max_theta"]) == pytest.approx(amplitude, rel=1e-9)
    assert cert.claim("escapes the minimum").passed is escapes
    assert cert.claim("stays in valley").passed and cert.claim("eta bound").passed


def test_zhou_runs_audit_every_nonzero_start_and_say_how_many():
    """41 starts evenly inside the interval include 0, a fixed point: 40 runs are audited and the
    claim says so, for Proposition 4.1 and for C.2 (both real examples, not controls)."""
    from theorems import zhou_prop41 as Z
    p41 = Z.certify(*Z.CASES[0], steps=50)
    c2 = Z.certify_c2("log(cosh(10*z))/100", 1.0, 0.5, 2.5, 0.3, "c2", steps=50)
    for cert, claim_id in ((p41, "stays in valley"), (c2, "stays")):
        assert cert.objects["starts_audited"] == 40
        assert "every run from 40 starts" in cert.claim(claim_id).statement
        assert cert.expected and cert.passed and not cert.example.startswith("negative control")
    assert Z.certify_c2("log(cosh(10*z))/100", 1.0, 0.5, 2.5, 0.3, "c2", steps=50,
                        starts=6).objects["starts_audited"] == 6


@pytest.mark.parametrize("a, eps, b", [(2, "1/10", 1), (2, "1/10", "1/20"), (3, "1/5", "1/4"),
                                       (2, "1/10", "1/500000")])
def test_zhou_example_c1_min_ratio_over_zero_to_b(a, eps, b):
    """min_{0<z<b} L'(2z)/L'(z) for Example C.1: 1 once b >= a eps (both derivatives on the plateau);
    for 2b <= a eps the ratio 2 (a - z/eps) / (a - z/(2 eps)) decreases in z: its value at z = b.
    The printed minimum 2 is reported whenever the recomputed one differs by more than rounding
    (b = 2e-6: by 1e-5)."""
    import sympy as sp
    from theorems import zhou_prop41 as Z
    eps, bb = sp.Rational(eps), float(sp.Rational(b))
    cert = Z.example_c1(a=a, eps=eps, b=bb)
    e = float(eps)
    want = 1.0 if bb >= a * e else 2 * (a - bb / e) / (a - bb / (2 * e))
    assert float(cert.objects["min_ratio"]) == pytest.approx(want, rel=1e-9)
    assert any("not 2" in f.evidence for f in cert.findings)


def test_zhou_report_examples_hold_controls_fail_and_each_states_its_own_result():
    from theorems import zhou_prop41 as Z
    certs = Z.report_certificates(quick=True)
    assert all(c.as_expected or c.explained for c in certs)
    assert sum(not c.expected for c in certs) == 4
    heads = {"Zhou et al. Prop. 4.1 / C.1": "Proposition 4.1", "Zhou et al. Prop. C.1": "Proposition C.1",
             "Zhou et al. Prop. C.2": "Proposition C.2", "Zhou et al. Remark C.1": "Remark C.1",
             "Zhou et al. Example C.1": "Example C.1"}
    assert {c.theorem for c in certs} == set(heads)
    for c in certs:
        assert c.statement.startswith(heads[c.theorem]), c.theorem


# -- cor_a6 -------------------------------------------------------------------------------------------
def test_cor_a6_factor_and_radius_follow_lemma_a5_and_the_corollary():
    """Recomputed from the certificate's own delta, r, L and a fresh ||grad f(x_h)||: the Lemma A.5
    factor 1 + 2 rho L / ||grad f(x_h)|| and r_star = min(delta / factor, r); L is 1.25 x the sampled
    Hessian norm, not an override. (Its own construction, no shared fixture: the mutation tool
    credits a fixture's lines to the first test using it.)"""
    from theorems import cor_a6 as C6
    from verify.ctx import get_context
    ctx = get_context("mpmath", dps=35)
    con = C6.run_example(ctx, quick=True)
    assert con.certificate.precision == ctx.precision_label        # the context passed, not a default
    o = con.certificate.objects
    g = ctx.norm(con.objective.grad(con.x_h, ctx))
    factor = 1 + 2 * con.rho * o["L"] / g
    assert abs(o["factor"] - factor) <= ctx.tol(factor, 64)
    r_star = min(ctx.scalar(o["delta"]) / factor, ctx.scalar(o["r"]))
    assert abs(o["r_star"] - r_star) <= ctx.tol(r_star, 64)
    lip = next(h for h in con.certificate.hypotheses if h.name == "grad f locally Lipschitz")
    assert "overridden" not in lip.evidence and "L = 1.25 x that" in lip.evidence
    assert con.certificate.passed


def test_cor_a6_controls_fail_just_past_their_bounds():
    """Planted just past each bound: L = 0.44 (true sampled stretch of T about 3.0) puts the Lemma A.5
    ratio near 1.5 > 1; a 5x radius lands T(y) about 1.03 from x_star, beyond delta = 0.68 by less
    than 1. Both must fail (no allowance beyond rounding); the real example, with L = 1.25 x the
    sampled Hessian norm and the real radius, holds (test above)."""
    from theorems import cor_a6 as C6
    from verify.ctx import get_context
    ctx = get_context("mpmath", dps=30)
    low_L = C6.run_example(ctx, quick=True, L_override="0.44", expected=False).certificate
    assert 1.2 < float(low_L.claim("lemma_a5").value) < 1.8 and not low_L.claim("lemma_a5").passed
    far = C6.run_example(ctx, quick=True, r_star_factor=5, expected=False).certificate
    landing = far.claim("landing_in_delta_ball")
    assert 0 < float(landing.value) - float(far.objects["delta"]) < 1 and not landing.passed


def test_cor_a6_radii_are_the_largest_of_the_form_r0_times_085_to_the_k():
    """f = |x|^2 - |x|^4 increases along rays from 0 only inside |x| < 1/sqrt(2): from d0 = 2 the
    certified delta is 2 * 0.85^7 = 0.641 (0.85^6 gives 0.754, too far). f = |x|^2/2 has
    ||grad f|| = |y|, at least half of ||grad f((1, 0))|| = 1 on B_r((1, 0)) iff r <= 1/2: from
    r0 = 2 the radius is 2 * 0.85^9 = 0.463."""
    from theorems import cor_a6 as C6
    from verify.objectives.objective import SympyObjective
    bump = SympyObjective("(x**2 + y**2) - (x**2 + y**2)**2", "x,y")
    assert C6.certified_delta(bump, [0.0, 0.0], 2.0) == pytest.approx(2 * 0.85 ** 7, rel=1e-12)
    bowl = SympyObjective("(x**2 + y**2)/2", "x,y")
    assert C6.gradient_ball(bowl, [1.0, 0.0], 1.0, 2.0) == pytest.approx(2 * 0.85 ** 9, rel=1e-12)


@pytest.mark.parametrize("expr, names", [("3*x", "x"), ("x + 2*y", "x,y")])
def test_prop_a1_linear_f_is_the_tight_case_and_the_search_stops_cleanly(expr, names):
    """A linear f is convex with Hessian 0: f(x+) - f(x) = rho ||grad f|| exactly (the convexity
    chain is tight, margin 0), grad f(x+) = grad f (ratio 1), and the shifted Jacobian is 0, so the
    Newton search cannot take a step: it must end without a zero, not crash."""
    from theorems import prop_a1 as PA1
    from verify.ctx import get_context
    from verify.objectives.objective import SympyObjective
    ctx = get_context("mpmath", dps=30)
    d = len(names.split(","))
    cert = PA1.certify(SympyObjective(expr, names), ctx, box=((-2, 2),) * d, n_samples=4, n_starts=2)
    assert cert.passed and cert.claim("no_zero_found").passed
    assert abs(float(cert.claim("chain_convexity").value)) < 1e-25
    assert float(cert.objects["min_ratio"]) == pytest.approx(1, abs=1e-25)
