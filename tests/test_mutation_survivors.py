"""Targeted tests for decisions that a mutation run (tools/mutate.py) showed no test could fail:
precision rules, candidate filters, seam distances and default boxes. Each test states the rule it
pins and checks it on both sides of its boundary."""
from __future__ import annotations

import math

import numpy as np
import pytest

from theorems import appendix_d as D
from theorems import rho_threshold as R
from theorems import thm_2_1
from theorems import thm_3_1 as T
from verify.ctx import get_context
from verify.objectives import zoo


# -- thm_3_1: tolerances follow from the working precision ------------------------------------------------
@pytest.mark.parametrize("kind,dps,bound", [("float64", None, 1e-12), ("torch", None, 1e-12),
                                            ("mpmath", 19, 1e-14), ("mpmath", 20, 1e-15),
                                            ("mpmath", 30, 1e-25), ("mpmath", 50, 1e-45)])
def test_residual_bound_is_set_by_the_digits(kind, dps, bound):
    """10^-(dps - 5) (five digits of head room), never looser than the float64 bound 1e-12."""
    ctx = get_context(kind, dps=dps, device="cpu") if dps else get_context(kind, device="cpu")
    assert T.residual_bound(ctx) == pytest.approx(bound, rel=1e-12, abs=0)
    assert T.residual_bound(ctx) > 100 * ctx.eps              # never below the arithmetic's rounding


@pytest.mark.parametrize("kind,dps,gap", [("float64", None, 6.0), ("mpmath", 29, 6.0),
                                          ("mpmath", 30, 10.0), ("mpmath", 50, 10.0)])
def test_required_gap_is_set_by_the_digits(kind, dps, gap):
    ctx = get_context(kind, dps=dps) if dps else get_context(kind)
    assert T.required_gap(ctx) == gap


def test_nullity_counts_below_the_largest_gap():
    fp = get_context("float64")
    svals = fp.vector([3.0, 1.0, 1e-9, 1e-10])           # gap of 8 decades after the second value
    assert T.nullity(svals, fp, 6.0) == (2, pytest.approx(9 - math.log10(1), abs=1e-9))
    assert T.nullity(svals, fp, 9.5)[0] == 0              # the gap is not wide enough
    assert T.nullity(fp.vector([2.0, 1.0, 0.5]), fp, 1.0)[0] == 0
    n, gap = T.nullity(fp.vector([1.0, 0.0]), fp, 6.0)   # an exact zero counts (floored at eps)
    assert n == 1 and gap > 15


# -- appendix D: distances to the seams and the seam sample points ---------------------------------------
@pytest.mark.parametrize("p,dist", [((-1.0, 3.0), 0.0), ((0.0, 2.0), 0.0), ((0.5, 0.6), 0.0),
                                    ((0.5, -0.6), 0.0), ((2.0, 5.6), 0.0), ((2.0, -5.6), 0.0),
                                    ((0.5, 3.0), 0.5), ((-0.7, 2.0), 0.3), ((-3.0, 0.2), 0.4),
                                    ((3.0, 4.0), 1.6), ((3.0, -6.0), 0.4)])
def test_seam_distance(p, dist):
    """max-norm distance to x = -1, x = 0, |y| = 0.6, |y| = 5.6, for floats, arrays and balls."""
    assert D.seams(p) == pytest.approx(dist, abs=1e-12)
    assert D.seams(np.array(p)) == pytest.approx(dist, abs=1e-12)
    arb = get_context("arb", dps=30)
    assert D.seams(arb.vector(list(p))) == pytest.approx(dist, abs=1e-12)


def test_seam_points_lie_on_one_seam_away_from_crossings():
    fp = get_context("float64")
    pts = D._seam_points(fp, 12)
    assert {nv for _, nv in pts} == {(1.0, 0.0), (0.0, 1.0)}
    families = set()
    for (x, y), nv in pts:
        assert D.seams((x, y)) == pytest.approx(0.0, abs=1e-12)
        if nv == (1.0, 0.0):          # on a vertical seam: away from the horizontal ones
            assert x in (-1.0, 0.0) and min(abs(abs(y) - 0.6), abs(abs(y) - 5.6)) > 0.05
            families.add(("x", x))
        else:                          # on a horizontal seam: away from the vertical ones
            assert abs(y) in (0.6, 5.6) and min(abs(x + 1), abs(x)) > 0.05
            families.add(("y", y))
    assert families == {("x", -1.0), ("x", 0.0), ("y", 0.6), ("y", -0.6), ("y", 5.6), ("y", -5.6)}


# -- thm_2_1: the default search box ----------------------------------------------------------------------
def test_default_box_pads_the_hull_of_the_points():
    assert thm_2_1.default_box([[0.0, 0.0], [1.0, 2.0]], 1.0) == ((-1.0, 2.0), (-1.0, 3.0))
    assert thm_2_1.default_box([[3.0, -1.0, 2.0], [1.0, 4.0, 2.0], [2.0, 0.0, -5.0]], 0.5) == \
        ((0.5, 3.5), (-1.5, 4.5), (-5.5, 2.5))
    assert thm_2_1.default_box([[2.0]], 0.25) == ((1.75, 2.25),)


# -- rho threshold: the candidate filters ------------------------------------------------------------------
@pytest.fixture(scope="module")
def ring_setup():
    fp = get_context("float64")
    zf = zoo.get("ring")
    return fp, zf, R.argmin_samples(zf, fp, 8), R.critical_points(zf, fp)


def test_argmin_samples_keep_only_global_minimizers(ring_setup):
    fp, zf, targets, _ = ring_setup
    assert len(targets) >= 8
    assert all(abs(fp.to_float(zf.objective.value(p, fp))) < 1e-9 for p in targets)
    tilted = zoo.get("tilted_ring")                  # no min_value recorded: nothing is filtered
    assert len(R.argmin_samples(tilted, fp, 8)) == len(tilted.minimizers)


def test_hallucinated_at_accepts_only_true_preimages(ring_setup):
    """On the ring (threshold 1): a preimage at rho = 1.5 with ||y|| = 1/2, none at rho = 0.8, and
    none once the gradient margin exceeds ||grad f(y)||."""
    fp, zf, targets, crit = ring_setup
    found = R.hallucinated_at(zf, 1.5, fp, targets, crit, 41)
    assert found is not None
    y, xs, res, gn = found
    assert abs(float(np.linalg.norm([fp.to_float(v) for v in y])) - 0.5) < 1e-9
    assert res <= 1e-10 and gn > 1e-6
    assert gn == pytest.approx(1.5, rel=1e-6)        # ||grad f|| = 4 r |r^2 - 1| at r = 1/2
    assert R.hallucinated_at(zf, 0.8, fp, targets, crit, 41) is None
    assert R.hallucinated_at(zf, 1.5, fp, targets, crit, 41, grad_margin=2.0) is None
    assert R.hallucinated_at(zf, 1.5, fp, targets, crit, 41, grad_margin=1.0) is not None


def test_critical_points_sample_maximizer_sets():
    fp = get_context("float64")
    zf = zoo.get("circle_max")
    pts = R.critical_points(zf, fp, set_samples=12)
    assert sum(k == "maximizer" for k, _ in pts) == len(zf.maximizers) + 12
    ring_pts = R.critical_points(zoo.get("double_well2"), fp)
    assert [k for k, _ in ring_pts].count("saddle") == 4


# -- appendix D: seam samples stay in their windows; the trajectory runs descend -------------------------
def test_seam_samples_are_cell_midpoints_inside_their_windows():
    """Vertical-seam samples are midpoints of n cells of [-3, 3], horizontal ones of [-3.5, 3.5]
    (crossings left out): none may fall outside its window (a shifted cell index would)."""
    pts = D._seam_points(get_context("float64"), 12)
    along = [p[1] if nv == (1.0, 0.0) else p[0] for p, nv in pts]
    windows = [3.0 if nv == (1.0, 0.0) else 3.5 for _, nv in pts]
    assert all(abs(s) < w for s, w in zip(along, windows))
    xs = sorted({p[0] for p, nv in pts if nv == (0.0, 1.0)})
    assert xs[0] == pytest.approx(-3.5 + 3.5 / 12) and xs[-1] == pytest.approx(3.5 - 3.5 / 12)


@pytest.mark.parametrize("gd_fraction", [1.0, 0.0])
def test_batch_runs_take_descent_steps(gd_fraction):
    """One step of D.batch_runs is x - eta g with g = grad f(x) (GD) or grad f(x + rho u) (SAM),
    in both coordinates: an ascent step in either one is a different algorithm."""
    fp = get_context("float64")
    obj, rho, eta = D.objective(), D.RHO, 1e-3
    X0, Y0, X1, Y1, _ = D.batch_runs(rho, eta, 1, 5, gd_fraction)
    for x0, y0, x1, y1 in zip(X0.ravel(), Y0.ravel(), X1.ravel(), Y1.ravel()):
        p = np.array([x0, y0])
        if gd_fraction == 0.0:
            g0 = np.array([fp.to_float(v) for v in obj.grad(fp.vector(list(p)), fp)])
            p = p + rho * g0 / np.linalg.norm(g0)
        g = [fp.to_float(v) for v in obj.grad(fp.vector(list(p)), fp)]
        assert x1 == pytest.approx(x0 - eta * g[0], abs=1e-12)
        assert y1 == pytest.approx(y0 - eta * g[1], abs=1e-12)


# -- Cor. A.6: the radius r_star is claimed positive with no allowance ------------------------------------
def test_r_star_positivity_is_strict():
    """r_star = 0 (the r_star_factor control) must FAIL 'r_star > 0': an allowance on a strict
    positivity claim would let a zero radius through."""
    from theorems import cor_a6
    mp = get_context("mpmath", dps=50)
    zero = cor_a6.run_example(mp, quick=True, r_star_factor=0, expected=False).certificate
    assert not zero.claim("r_star").passed


def test_lipschitz_bound_is_the_sampled_constant_with_a_stated_margin():
    """L must bound the sampled Hessian norms on B_r(x_h) (soundness) and exceed them by the stated
    25 % safety margin only (a larger L shrinks r_star for nothing)."""
    from theorems import cor_a6, thm_2_1 as T21
    mp = get_context("mpmath", dps=50)
    con = cor_a6.run_example(mp, quick=True)
    o = con.certificate.objects
    sampled = cor_a6.lipschitz_estimate(con.objective, mp, T21.floats(con.x_h, mp), o["r"], 64)
    assert sampled > 0
    assert 1.0 <= float(o["L"]) / sampled <= 1.25 + 1e-6


# -- Section 4: the sweep certificate decides on the sweep's numbers ---------------------------------------
def _sweep_row(mode, rho, acc, loss, ratio, stalled):
    return dict(mode=mode, rho=rho, mean_train_acc=acc, min_train_acc=acc, mean_test_acc=acc,
                mean_train_loss=loss, median_train_loss=loss, median_grad_ratio=ratio,
                stalled_fraction=stalled, outcomes={})


def _fake_sweep(sw_acc_hi, sam_acc_hi):
    from types import SimpleNamespace
    from theorems import mlp_check as M
    lo, hi = min(M.QUICK["rhos"]), max(M.QUICK["rhos"])
    rows = [_sweep_row("sam-only", lo, 1.0, 0.01, 1.0, 0.0),
            _sweep_row("switching", lo, 1.0, 0.01, 1.0, 0.0),
            _sweep_row("sam-only", hi, sam_acc_hi, 2.0, 1e-3, 1.0),
            _sweep_row("switching", hi, sw_acc_hi, 0.01, 1.0, 0.0)]
    result = SimpleNamespace(extra={"rho_rows": [lo, lo, hi, hi], "switch_rows": [0, 1, 0, 1]},
                             select=lambda idx: idx)
    transition = {"rho": hi, "bracket": (lo, hi), "monotone": True}
    return dict(rows=rows, transition=transition, loss_transition=transition, elapsed_s=1.0,
                result=result)


@pytest.mark.parametrize("sw_acc,sam_acc,passes", [(0.9, 0.3, True), (0.5, 0.3, False),
                                                   (0.8, 0.3, True), (0.79, 0.3, False)])
def test_switching_lead_is_a_difference_of_accuracies(monkeypatch, sw_acc, sam_acc, passes):
    """'switching beats SAM-only by 0.5' compares the difference of the mean train accuracies at the
    largest rho with 0.5 (0.5 - 0.3 = 0.2 fails although the sum 0.8 exceeds 0.5)."""
    from types import SimpleNamespace
    from theorems import mlp_check as M
    import verify.nn.train as train
    monkeypatch.setattr(train, "check_against_core",
                        lambda sub, data, seed: {"rel_diff": {"loss": 0.0, "grad_norm": 0.0}})
    cert = M.certificate_sweep(get_context("float64"), True, SimpleNamespace(n_train=400),
                               _fake_sweep(sw_acc, sam_acc))
    assert cert.claim("switching_beats_sam_large_rho").passed is passes
    assert cert.claim("sam_only_high_loss_large_rho").passed


# -- rival sections: a certificate is a real example unless it says otherwise ------------------------------
def test_float_certificate_defaults_to_a_real_example():
    from theorems._rivals import float_certificate
    real = float_certificate("T", "title", "an example", "statement")
    assert real.expected and real.example == "an example"
    control = float_certificate("T", "title", "an example", "statement", expected=False)
    assert not control.expected and control.example == "negative control: an example"


# -- Kim et al., the Beale cases: the traced perturbed points are the method's own ------------------------
@pytest.mark.parametrize("method", ["sam", "usam"])
def test_beale_trace_perturbs_by_the_methods_radius(method):
    """SAM's x+ lies at distance exactly rho from x (normalized gradient), USAM's at rho ||grad f||;
    near the saddle ||grad f|| < 1, where dividing by anything but the norm shows."""
    from theorems import kim_cases
    rho = 0.1
    t = kim_cases.trace(method, (0.002, 1.001), rho, steps=20)
    step = np.linalg.norm(t["Pp"] - t["P"], axis=1)
    grad, _ = kim_cases.beale_grad()
    gnorm = np.linalg.norm(grad(t["P"]), axis=1)
    assert np.all(gnorm < 1) and np.all(gnorm > 0)
    expected = np.full_like(step, rho) if method == "sam" else rho * gnorm
    assert step == pytest.approx(expected, rel=1e-12)


# -- Kim et al. Thm 1, Figure 6: positivity means > 0, however small -------------------------------------
def test_figure6_positivity_holds_just_above_the_threshold():
    """At rho = 0.04, just above Beale's threshold, min (lambda + rho lambda^2) over the disc is small
    but positive (about 0.47): the claim must pass; at rho = 0.03 it is negative and must fail."""
    from theorems import kim_thm1
    near = kim_thm1.certify_figure6(0.04, n=61)
    assert 0 < float(near.objects["min over the disc of min_j (lambda_j + rho lambda_j^2)"]) < 1
    assert near.claim("positive near the saddle").passed
    assert not kim_thm1.certify_figure6(0.03, expected=False, n=61).claim("positive near the saddle").passed


# -- the rivals' explanations: every run is counted once, under its explanation -------------------------
def test_explanation_counts_count_each_run_once():
    from theorems import rivals_explanations as E
    kinds = ["hallucinated_minimizer", "sam_stationary", "critical_point", "minimizer", "minimizer",
             "not settled", "something else"]
    rows = [{"kind": k, "flatter than GD": i % 2 == 0} for i, k in enumerate(kinds)]
    out = E.counts({"rows": rows, "name": "test"})
    assert out == {"main paper": 2, "Kim": 1, "Zhou": 2, "not settled": 1, "unresolved": 1,
                   "flatter than GD": 4}


# -- the rivals' index: each result is counted under its own status -----------------------------------------
def test_index_status_counts_partition_the_entries():
    from collections import Counter

    from theorems import rivals_index as I
    counts = I.certify().objects["status counts"]
    by_status = Counter(e.status for e in I.ENTRIES)
    assert sum(counts.values()) == len(I.ENTRIES)
    assert all(counts[s] == by_status[s] for s in counts)


# -- Zhou et al. Example 4.1: where L'' stops decreasing, in closed form -------------------------------------
@pytest.mark.parametrize("u", [0.5, 1.0, 2.0])
def test_subquadratic_reach_matches_the_closed_form(u):
    """Along v, L = tanh^2(c v)/2 (c = tanh u) has L'' = c^2 (1 - t^2)(1 - 3 t^2), t = tanh(c v),
    whose derivative -2 c^3 t (1 - t^2)(4 - 6 t^2) turns positive at t^2 = 2/3: the reach is
    atanh(sqrt(2/3)) / c, found on the grid to within a step."""
    from theorems import zhou_example41 as Z
    n, vmax = 20001, 20.0
    assert Z.subquadratic_reach(u, n, vmax) == pytest.approx(
        math.atanh(math.sqrt(2 / 3)) / math.tanh(u), abs=2 * vmax / (n - 1))


# -- Zhou et al. Thm 4.3 / Lemma C.1: the constants and the upper bound, on data small enough to do by hand ---
def test_noise_constant_is_zero_for_one_sample_and_exact_for_two():
    """One sample: every mini-batch gradient is the full gradient, sigma^2 = 0. Samples 1 and 3
    (d = 1): G = 5, E[x^4] - G^2 = 41 - 25 = 16, sigma^2 = 2 * 16 / 5."""
    from theorems import zhou_thm43 as Z
    assert Z.constants(np.array([[2.0]])) == {"L": 4.0, "mu": 4.0, "sigma^2": 0.0}
    two = Z.constants(np.array([[1.0], [3.0]]))
    assert two["L"] == pytest.approx(5.0) and two["sigma^2"] == pytest.approx(6.4, rel=1e-12)


def test_lemma_c1_upper_bound_fails_with_a_false_pl_constant():
    """d = 1, G = 4: ||grad L||^2 / L = 2 G = 8 exactly. With mu doubled (a false PL constant) the
    bound 2 L^2 / mu = 4 is below 8 and the 'upper' claim must fail (L^3 in place of L^2 would pass)."""
    from theorems import zhou_thm43 as Z
    control = Z.certify_lemma_c1("one point", np.array([[2.0]]), mu_factor=2.0, expected=False)
    assert not control.claim("upper").passed and control.as_expected
    assert float(control.objects["2 L^2 / mu"]) == float(control.claim("upper").bound) == 4.0
    assert float(control.objects["2 mu"]) == float(control.claim("lower").bound) == 16.0
    assert Z.certify_lemma_c1("one point", np.array([[2.0]])).passed


def test_thm43_report_runs_its_controls():
    from theorems import zhou_thm43 as Z
    certs = Z.report_certificates(quick=True)
    assert all(c.as_expected for c in certs)
    assert [c.expected for c in certs] == [True, False, True, False]
    assert "PL constant 2 mu" in certs[-1].example       # the control doubles mu, no more
