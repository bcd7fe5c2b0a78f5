"""Targeted tests for decisions of the Appendix D, MLP and refutation modules that a mutation run
(tools/mutate.py, issue 14) showed no test could fail. Each test states the rule it pins and checks
it on both sides of its boundary. They go through public functions and certificates; where a
collaborator is slow (training, Krylov checks) or a branch is hard to reach, what it reports is stated
through monkeypatch, by the names the modules import today."""
from __future__ import annotations

from fractions import Fraction

import pytest

from theorems import appendix_d as D
from theorems import kim_thm3
from theorems import rival_refutations as RR


# -- rival_refutations: the signs of C3, C4 and the report section ------------------------------------------
def test_signs_need_both_constants_below_zero_not_below_one():
    """'C3 < 0 and C4 < 0' compares with 0: at lambda = 1/2 both constants are positive but below 1
    (C3 = 1/242, C4 = 121/200), so the refutation must come out FAIL; at lambda = -1 both are
    negative and it is PROVED."""
    c = kim_thm3.constants(Fraction(1, 2), RR.RHO, RR.ETA, RR.T)
    assert 0 < c["C3"] < 1 and 0 < c["C4"] < 1
    assert RR.refute_signs(lam=Fraction(1, 2), expected=False).claims[0].verdict.value == "fail"
    assert RR.refute_signs().claims[0].verdict.value == "proved"


def test_rival_report_section_is_the_proofs_then_their_controls():
    certs = RR.report_certificates()
    assert len(certs) == len(RR.proofs()) + len(RR.controls()) == 10
    assert [c.expected for c in certs] == [True] * 5 + [False] * 5
    assert all(c.as_expected for c in certs), [str(c) for c in certs if not c.as_expected]


def test_each_proof_names_its_parameters_unless_given_an_example():
    """The report's example line of each closed-form refutation states the point it is decided at."""
    assert [c.example for c in RR.proofs()] == [
        "lambda = -1, rho = 1/5", "lambda = -1, rho = 1/5, eta = 1/100, B = 1", "eta = 1/100, t = 1/2",
        "lambda = -1, rho = 1/5, eta = 1/100, t = 1/2", "lambda = -1, rho = 2 (> -1/lambda = 1)"]
    assert RR.refute_c2(example="given").example == "given"


# -- rho_threshold: the nearest point of argmin f includes the ends of the chart domain -----------------------
def _appendix_d_arc_end(sign, mp):
    """x*(+-3/5) = (-1.55 cos(2/5), +-3/5), at mp's precision (independent of the chart)."""
    return mp.vector([-mp.scalar(31) / 20 * mp.mp.cos(mp.scalar(2) / 5), sign * mp.scalar(3) / 5])



@pytest.mark.parametrize("sign", [1, -1])
def test_nearest_point_of_the_arc_can_be_either_end(sign):
    """A point beyond an end of Appendix D's minimizer arc has that end as its nearest point of
    argmin f (the distance still falls there): both ends of the sampled parameter range count."""
    from theorems import rho_threshold as R
    from verify.ctx import get_context
    from verify.objectives import zoo
    mp = get_context("mpmath", dps=30)
    c = mp.vector([-1.2, sign * 1.0])
    d, t, _ = R.nearest_on_manifold(zoo.get("appendix_d"), c, mp)
    exact = mp.norm(_appendix_d_arc_end(sign, mp) - c)
    assert abs(mp.to_float(d - exact)) < 1e-12 and abs(mp.to_float(t) - sign * 0.6) < 1e-12
    # control: an interior nearest point (not an end) is found too
    inner = mp.vector([-1.0, sign * 0.1])
    d_in, t_in, _ = R.nearest_on_manifold(zoo.get("appendix_d"), inner, mp)
    ends = [mp.to_float(mp.norm(_appendix_d_arc_end(e, mp) - inner)) for e in (1, -1)]
    assert 0 < sign * mp.to_float(t_in) < 0.59 and mp.to_float(d_in) < min(ends)


@pytest.mark.parametrize("side", [1, -1])
def test_nearest_point_next_to_an_end_is_found_to_full_precision(side):
    """c = x*(s0) + 0.3 n(s0) (n the arc's unit normal, on either side) has x*(s0) as its nearest
    point of argmin f; s0 = -0.5995 lies between the first two of the 721 samples, so the golden
    section must search the bracket next to the end: distance 0.3 to 1e-20, parameter s0 to 1e-12."""
    from theorems import rho_threshold as R
    from verify.ctx import get_context
    from verify.objectives import zoo
    mp = get_context("mpmath", dps=30)
    s0, r = mp.scalar("-0.5995"), mp.scalar("0.3")
    slope = mp.scalar("1.55") / mp.scalar("1.5") * mp.mp.sin(s0 / mp.scalar("1.5"))     # dx*/ds
    normal = mp.vector([1, -slope]) / mp.norm(mp.vector([1, -slope]))
    c = mp.vector([-mp.scalar("1.55") * mp.mp.cos(s0 / mp.scalar("1.5")), s0]) + side * r * normal
    d, t, _ = R.nearest_on_manifold(zoo.get("appendix_d"), c, mp)
    assert abs(mp.to_float(d - r)) < 1e-20 and abs(mp.to_float(t - s0)) < 1e-12


def test_only_starts_landing_within_rho_over_4_go_to_newton():
    """hallucinated_at sends to Newton only the starts whose SAM point lands within rho/4 of the
    target. On the ring at rho = 1.5 with a 6 x 6 grid and no ray guesses, the best grid start lands
    between rho/4 and rho/2 from every target (a wider filter would find (-0.5, 0)): nothing is
    found. Control: with the ray guesses through the recorded critical points it is found."""
    import numpy as np
    from theorems import rho_threshold as R
    from verify.ctx import get_context
    from verify.geometry import superlevel
    from verify.objectives import zoo
    fp, zf = get_context("float64"), zoo.get("ring")
    targets = R.argmin_samples(zf, fp, 8)
    Y, Yp = superlevel.perturbed_points(zf.objective, superlevel.grid_box(zf.box, 6), 1.5)
    nearest = min(float(np.min(np.linalg.norm(Yp - np.array([fp.to_float(v) for v in x]), axis=1)))
                  for x in targets)
    assert 1.5 / 4 < nearest <= 1.5 / 2
    assert R.hallucinated_at(zf, 1.5, fp, targets, [], 6) is None
    assert R.hallucinated_at(zf, 1.5, fp, targets, R.critical_points(zf, fp), 6) is not None


# -- report order: the Appendix D, threshold, refutation and MLP sections read in the paper's order ---------
def test_sections_follow_the_papers_order():
    """The report sorts sections by ORDER: Appendix D's example after Theorem 3.2, the measured rho
    threshold next, then its proved bracket; the proved refutations after the existence prover they
    use; Section 4's MLP after them, closing the paper's part before the rivals' index; the rivals'
    closed forms (proved) after every Kim et al. section whose findings they back."""
    from verify.report.build import discover
    names = [s.name for s in discover()]
    paper = ["thm_3_2", "appendix_d", "rho_threshold", "rho_bracket", "prove_hallucination",
             "refutations", "mlp_check", "rivals_index"]
    assert [n for n in names if n in paper] == paper
    kim = [n for n in names if n.startswith("kim_")]
    assert kim and names.index("rival_refutations") > max(names.index(n) for n in kim)


# -- refutations: a curve box is proved only when every part of it is ------------------------------------------
def test_curve_box_with_undecided_smoothness_is_not_proved(monkeypatch):
    """A box of Appendix D's curve (s in [0, 1/100], rho = 14/5) is proved as it stands; the same box
    with the smoothness check undecided (one analytic formula not shown near it) is 'unknown' and
    gives that reason, the only problem left."""
    from theorems import refutations as R
    from verify.ctx import shared_context
    from verify.objectives import zoo
    ctx, mp = shared_context("arb", R.DPS), shared_context("mpmath", R.DPS)
    args = (zoo.get("appendix_d").objective, R.appendix_d_arc, Fraction(0), Fraction(1, 100),
            Fraction(14, 5), ctx, mp, [1.25, 0.0])
    box = R.curve_box(*args, on_minimizers=R.appendix_d_minimizers)
    assert box["status"] == "proved" and box["reason"] == ""
    why = "a piecewise condition is not decided near box 1"
    monkeypatch.setattr(R, "smooth_near", lambda obj, boxes, c: (None, why))
    box = R.curve_box(*args, on_minimizers=R.appendix_d_minimizers)
    assert box["status"] == "unknown" and box["reason"] == why


def test_curve_cover_cuts_the_range_into_n_abutting_intervals():
    """n_boxes equal parameter intervals that abut and cover [s_lo, s_hi] exactly (a cover that stops
    short of s_hi, or overlaps with fewer boxes, proves less than it says); the claim's note and the
    finding quote the largest Rayleigh bound over the boxes."""
    from theorems import refutations as R
    cert = R.refute_appendix_d(s_range=("0", "3/100"), n_boxes=3)
    spans = [b["s"] for b in cert.artifacts["boxes"]]
    assert spans == [(Fraction(k, 100), Fraction(k + 1, 100)) for k in range(3)]
    assert cert.passed and cert.objects["boxes"] == 3
    assert [c["s"] for c in cert.objects["cover"]] == [[str(a), str(b)] for a, b in spans]
    worst = max(float(b["condition"]["bound"].upper()) for b in cert.artifacts["boxes"])
    assert worst < 0
    assert cert.claim("condition_fails").note.endswith(f"{worst:.6g}")
    assert f"{worst:.4g} < 0" in cert.findings[0].evidence


def test_rotation_invariance_is_decided_not_assumed():
    """x f_y - y f_x = 0 identically for circle_max and the ring, not for the tilted ring (x/5 breaks
    the symmetry), and never in d = 1 (the statement is about the plane)."""
    from theorems import refutations as R
    from verify.objectives import zoo
    assert R.rotation_invariant(zoo.get("circle_max").objective)
    assert R.rotation_invariant(zoo.get("ring").objective)
    assert not R.rotation_invariant(zoo.get("tilted_ring").objective)
    from verify.objectives.objective import SympyObjective
    assert not R.rotation_invariant(SympyObjective("(x**2 - 1)**2", "x"))


# -- refutations (2): the descent inequality's hypotheses and constants --------------------------------------
def _descent(**kw):
    """refute_descent with a coarse radial cover (40 boxes): the decisions below do not depend on it."""
    from theorems import refutations as R
    return R.refute_descent(n=40, expected=False, **kw)


def test_descent_disc_for_m_holds_the_rho_neighbourhood():
    """M = max ||grad f|| is bounded over the disc |y| <= r_m, which must contain every y within rho
    of N_{delta/2}(H): r_m >= r0 + delta/2 + rho = sqrt 3 + delta/2, rounded up to 2^-20."""
    import math
    cert = _descent()
    r_m = Fraction(cert.objects["disc_for_M"])
    assert 0 <= float(r_m) - (math.sqrt(3) + 0.1) <= 2 ** -20 + 1e-12


def test_descent_start_region_needs_both_conditions():
    """x0 = (311/500, 0) lies in N_{delta/2}(H) (|r - r0| = 0.09 < 0.1), but f_SAM(x0) = 0.113 is above
    the boundary's 0.1005: not in the start region (UNDECIDED); x0 = (29/50, 0) and (113/250, 0) (0.08
from H, f_SAM 0.067) are (PROVED)."""
    near = _descent(x0=("311/500", "0")).claim("x0_in_start_region")
    assert near.verdict.value == "undecided"
    inside = _descent(x0=("113/250", "0")).claim("x0_in_start_region")   # |r - r0| = 0.08 < 0.1
    assert inside.verdict.value == "proved"
    assert _descent().claim("x0_in_start_region").verdict.value == "proved"


def test_descent_without_a_proof_records_no_finding():
    cert = _descent(eta="1/20")                  # eta above the admissible bound
    assert not cert.passed and not cert.findings


def test_descent_annulus_condition_is_r_plus_rho_beyond_1():
    """H's isolation needs (r + rho)^2 > 1 on the annulus (g' > 0 there): with delta = 33/100,
    (sqrt 3 - delta)^2 = 1.97 lies between 1 and 2, and the hypothesis holds; with delta = 3/4 the
    annulus reaches r < 0 (grad f = 0 at the origin): it does not, and the certificate is refused
    with the reason instead of raising."""
    def met(cert):
        return {h.name: h.met for h in cert.hypotheses}["H"]
    assert met(_descent(delta="33/100")) is True
    wide = _descent(delta="3/4")
    assert met(wide) is False and wide.refused and "not enclosed on the annulus" in wide.refused
    inner = _descent(delta="1/2", rho="5/4")          # r0 - delta < 0 < r0 + delta < 1
    assert met(inner) is False and inner.refused


# -- appendix_d: the lowest f_SAM near the maximizer and near the minimizer arc --------------------------------
def test_fsam_argmin_neighbourhoods_are_the_maximizer_and_the_arc():
    """fsam_argmin's 'within 0.3 of the maximizer' is the disc around the zoo's recorded maximizer, and
    'within 0.3 of the arc' lies between the true 0.27- and 0.3-neighbourhoods of the arc
    x = -1.55 cos(y/1.5), |y| <= 0.6 (its distance is measured across, the arc's slope is <= 0.4);
    recomputed on the same 81^2 grid at rho = 1.5, where the three regions have different minima."""
    import numpy as np
    from verify.ctx import get_context
    from verify.report.figures import f_sam_grid, grid
    n, rho = 81, 1.5
    loc, val, near_max, near_arc = D.fsam_argmin(rho, n=n)
    X, Y = grid(D.BOX, n)
    FS = f_sam_grid(D.objective(), X, Y, rho)
    assert val == np.nanmin(FS) and FS[np.isclose(X, loc[0]) & np.isclose(Y, loc[1])][0] == val
    xm = [float(v) for v in D.maximizer(get_context("float64"))]
    assert near_max == np.nanmin(np.where(np.hypot(X - xm[0], Y - xm[1]) <= 0.3, FS, np.nan))
    s = np.linspace(-0.6, 0.6, 241)                  # spacing 0.005: distances within 0.0025
    arc = np.c_[-1.55 * np.cos(s / 1.5), s]
    dist = np.min(np.hypot(X.ravel()[:, None] - arc[None, :, 0], Y.ravel()[:, None] - arc[None, :, 1]),
                  axis=1).reshape(X.shape)
    wide, narrow = (np.nanmin(np.where(dist <= r, FS, np.nan)) for r in (0.3 + 0.0025, 0.27))
    assert wide <= near_arc <= narrow
    assert len({round(near_max, 6), round(near_arc, 6), round(float(np.nanmin(np.where(
        np.hypot(X, Y) <= 0.3, FS, np.nan))), 6)}) == 3     # the regions are told apart at this rho


def test_still_moving_runs_circle_the_maximizer_within_0_8():
    """A run end that is no zero of grad f(x+) is 'circling the maximizer' when it lies within 0.8 of
    the maximizer (0.376, 0): (1.1, 0.3) is (0.78 away; 1.14 from the origin), (-0.5, 0.3) is not
    (0.93 away; 0.58 from the origin)."""
    from verify.ctx import get_context
    fp = get_context("float64")
    circling = "no zero: still moving, circling the maximizer (within 0.8)"
    assert D.classify_endpoint(fp, (1.1, 0.3), D.RHO)[0] == circling
    assert D.classify_endpoint(fp, (-0.5, 0.3), D.RHO)[0] != circling


def test_batch_runs_are_plain_sam_unless_a_gd_fraction_is_given():
    import numpy as np
    sam_only = D.batch_runs(D.RHO, 0.1, 6, 3)
    assert np.array_equal(sam_only[2], D.batch_runs(D.RHO, 0.1, 6, 3, 0.0)[2])
    assert not np.array_equal(sam_only[2], D.batch_runs(D.RHO, 0.1, 6, 3, 1.0)[2])   # control: all GD


# -- mlp_check: the stalled point and the checks at it, on a stated sweep (no training) ----------------------
def _fake_sweep(final_loss, final_ratio, rho_rows, switch_rows, theta):
    """A sweep result whose last log row is (final_loss, final_ratio); the earlier rows say the
    opposite (so only the final values can give the expected choice)."""
    import torch
    from types import SimpleNamespace
    loss = torch.tensor([[0.0] * len(final_loss), list(reversed(final_loss)), final_loss])
    ratio = torch.tensor([[1.0] * len(final_ratio), list(reversed(final_ratio)), final_ratio])
    res = SimpleNamespace(extra={"rho_rows": rho_rows, "switch_rows": switch_rows},
                          logs={"loss": loss, "grad_ratio": ratio}, theta=theta)
    return {"result": res}


def test_stalled_point_is_the_lowest_ratio_sam_only_seed_with_high_loss():
    """Among SAM-only rows at the given rho with final loss > 1, the smallest final GradRatio: row 1.
    Row 2 (switching), row 3 (another rho) and row 4 (loss 0.5, converged) have smaller ratios."""
    import torch
    from theorems import mlp_check as M
    theta = torch.arange(10, dtype=torch.float32).reshape(5, 2)
    sw = _fake_sweep([2.0, 1.5, 2.0, 3.0, 0.5], [1e-3, 1e-4, 1e-6, 1e-7, 1e-8],
                     [3.0, 3.0, 3.0, 0.5, 3.0], [0, 0, 1, 0, 0], theta)
    idx, point = M.stalled_point(sw, 3.0)
    assert idx == 1 and point.dtype == torch.float64 and point.tolist() == [2.0, 3.0]
    assert M.stalled_point(sw, 1.0) == (None, None)         # no row at that rho


class _FakeCheck:
    """What verify.nn.point_check reports, stated: check_point's result with the SAM map's spectrum
    only when asked for (with_map), sam_run and attraction_test recording their step counts."""

    def __init__(self, margin, heavy_ball_top, map_converged=True, ratio_after_kick=1e-3):
        self.margin, self.top, self.calls = margin, heavy_ball_top, {}
        self.map_converged, self.ratio_after_kick = map_converged, ratio_after_kick

    def sam_run(self, obj, theta, rho, steps, lr=0.01, momentum=0.9, ctx=None, record_every=0):
        self.calls["polish"] = steps
        return theta, None

    def check_point(self, obj, theta, rho, ctx=None, with_map=False, **kw):
        from types import SimpleNamespace
        status = [{"converged": self.map_converged}] if with_map else []
        return SimpleNamespace(
            diagnostics={"f": 2.3, "f_sam": 2.31, "grad_ratio": 1e-3, "grad_norm": 0.05},
            lambda_min_sym_du=-3.0, attraction_margin=self.margin, du_min=-3.0, du_max=5.0,
            sigma_min={"estimate": 0.5, "vectors": 10, "residual": 1e-9, "tol": 1e-6},
            sam_map_eigs=[1.0] if with_map else [], heavy_ball_eigs=[self.top] if with_map else [],
            symmetry={"total": 0}, symmetry_residuals={"max_hv_norm": 0.0}, nullity=None,
            verdict="stalled", grad_equivalents=1.0, seconds=0.1, extra={"map_status": status},
            converged=True)

    def attraction_test(self, obj, theta, rho, kick, steps, ctx=None, estimate_distance=True):
        self.calls["attraction"] = steps
        return {"steps": steps, "grad_ratioN": self.ratio_after_kick, "fN": 2.3, "x0": theta, "xN": theta,
                "path": [theta]}


def _point_certificate(monkeypatch, quick, fake, stalled=True):
    """certificate_point on a 64-2-10 tanh MLP over 20 digits, the sweep and the checks stated."""
    import torch
    from theorems import mlp_check as M
    from verify.ctx.torch import TorchContext
    from verify.nn import point_check
    from verify.nn.data import load_digits
    from verify.objectives.torch_model import mlp_objective
    data = load_digits().subset(20)
    cfg = dict(rhos=(0.5, 3.0), seeds=1, steps=7, width=2, n_train=20, log_every=1)
    monkeypatch.setattr(M, "QUICK" if quick else "FULL", cfg)
    for name in ("sam_run", "check_point", "attraction_test"):
        monkeypatch.setattr(point_check, name, getattr(fake, name))
    _, theta = mlp_objective(data, 2, 1, "tanh", seed=0)
    sw = _fake_sweep([2.3 if stalled else 0.5], [1e-3], [3.0], [0], torch.stack([theta.float()]))
    return M.certificate_point(TorchContext("cpu", "float64"), quick, data, sw, None)


@pytest.mark.parametrize("quick", [True, False])
def test_point_certificate_quotes_the_steps_it_ran(monkeypatch, quick):
    """An unstable heavy-ball SAM map (|eig| > 1) is a finding that compares its growth time with the
    steps actually run: the sweep's training steps plus the polishing SAM steps; the SAM map's
    spectrum is asked for, and f(x+) - ln 10 is reported from the diagnostics."""
    import math
    fake = _FakeCheck(margin=0.5, heavy_ball_top=1.001)
    cert = _point_certificate(monkeypatch, quick, fake)
    assert cert.objects["heavy_ball_spectral_radius"] == 1.001
    text = next(f.evidence for f in cert.findings if f.source.startswith("Section 4.1"))
    assert f"against about {7 + fake.calls['polish']} steps of training" in text
    assert f"and {fake.calls['attraction']} of the attraction test" in text
    assert cert.objects["f(x+) - ln 10"] == pytest.approx(2.31 - math.log(10), abs=1e-15)


@pytest.mark.parametrize("margin,finding", [(0.0, True), (-0.2, True), (1e-9, False)])
def test_theorem_3_2_margin_finding_at_zero(monkeypatch, margin, finding):
    """1 + rho lambda_min(Sym Du) > 0 is Theorem 3.2's condition: a margin of exactly 0 does not meet
    it (a finding), a positive one does."""
    cert = _point_certificate(monkeypatch, True, _FakeCheck(margin=margin, heavy_ball_top=0.5))
    assert any(f.source == "Theorem 3.2" for f in cert.findings) is finding


def test_an_unconverged_map_eigensolve_is_not_read(monkeypatch):
    """The heavy-ball spectral radius (and its finding) comes only from a converged eigensolve."""
    cert = _point_certificate(monkeypatch, True, _FakeCheck(0.5, 1.001, map_converged=False))
    assert "heavy_ball_spectral_radius" not in cert.objects
    assert not any(f.source.startswith("Section 4.1") for f in cert.findings)


@pytest.mark.parametrize("ratio,returns", [(0.05, True), (0.15, False)])
def test_attraction_returns_to_a_stalled_point(monkeypatch, ratio, returns):
    """After the kick the run is back on a stalled point when its GradRatio is <= 0.1 (quick run);
    the attraction record keeps the numbers, not the points and the path."""
    cert = _point_certificate(monkeypatch, True, _FakeCheck(0.5, 0.5, ratio_after_kick=ratio))
    assert cert.claim("attraction_returns").passed is returns
    record = set(cert.objects["attraction"])
    assert {"steps", "grad_ratioN", "fN"} <= record and record.isdisjoint({"x0", "xN", "path"})


def test_point_certificate_is_refused_without_a_stalled_seed(monkeypatch):
    cert = _point_certificate(monkeypatch, True, _FakeCheck(0.5, 0.5), stalled=False)
    assert cert.refused and "no SAM-only seed ended with loss > 1" in cert.refused and not cert.claims


# -- rho_bracket: the mirror symmetry is decided; the quick report's bracket -----------------------------------
def test_mirror_symmetry_is_decided_not_assumed():
    """f(x, -y) = f(x, y) for a piecewise f even in y; not once a term odd in y is added."""
    import sympy as sp
    from theorems import rho_bracket as B
    from verify.objectives.objective import SympyObjective
    x, y = sp.symbols("x y")
    even = sp.Piecewise((x ** 2 + y ** 2, x < 1), (2 * x - 1 + y ** 2, True))
    assert B.mirror_symmetric(SympyObjective(even, "x,y"))
    assert not B.mirror_symmetric(SympyObjective(even + y / 10, "x,y"))


def test_quick_report_proves_a_shorter_lower_range_and_runs_two_controls(monkeypatch):
    """The quick report: the bracket with the lower end proved for rho in [QUICK_RHO_MIN, rho_lo] only (said
    in its example), then the first two controls; the full report: the whole range and all three."""
    from theorems import rho_bracket as B
    calls = []
    monkeypatch.setattr(B, "certify_bracket", lambda *a, **kw: calls.append((a, kw)) or (a, kw))
    quick = B.report_certificates(quick=True)
    assert len(quick) == 3 and calls[0][1]["rho_min"] == B.QUICK_RHO_MIN
    assert f"[{B.QUICK_RHO_MIN}, {B.RHO_LO}] only" in calls[0][1]["example"]
    assert [c[0] for c in calls[1:]] == [ends for ends, _, _ in B.CONTROLS[:2]]
    assert all(c[1]["expected"] is False for c in calls[1:])
    calls.clear()
    full = B.report_certificates(quick=False)
    assert len(full) == 4 and calls[0] == ((), {}) and len(calls) == 4


def _bracket_hull():
    from theorems import rho_bracket as B
    from verify.ctx import shared_context
    from verify.objectives import zoo
    return B, B.BranchHull(zoo.get("appendix_d").objective), shared_context("arb", B.DPS)


def _balls(box, ctx) -> list:
    """The Arb balls of a box of exact rational intervals (what the cover hands ``excluded``)."""
    return [ctx.interval(lo, hi) for lo, hi in box]


def test_a_box_around_a_hallucinated_preimage_is_not_excluded():
    """At rho = 39/20 > rho* the arc end x*(3/5) has the preimage y ~ (0.4194, -0.0253) with
    v = u(y) at the angle t ~ 2.81513 (mpmath Newton): grad f(y) is a positive multiple of v, so no
    box of (s, rho, t) around it may be excluded (neither the cross product g x v = g_x sin t - g_y cos t
    nor g . v excludes 0, and f(y) = 1.76 >= eps); a box with t moved by 1/2 is excluded by the cross
    product."""
    B, bh, ctx = _bracket_hull()
    s, rho, t, h = Fraction(3, 5), Fraction(39, 20), Fraction(2815133, 1000000), Fraction(1, 10 ** 4)
    with ctx.working():
        box = ((s - h, s), (rho - h, rho + h), (t - h, t + h))
        assert B.excluded(bh, _balls(box, ctx), Fraction(1, 1000), ctx) is None
        moved = t + Fraction(1, 2)
        box = ((s - h, s), (rho - h, rho + h), (moved - h, moved + h))
        assert B.excluded(bh, _balls(box, ctx), Fraction(1, 1000), ctx) == "cross"


def test_a_box_in_the_tube_around_the_arc_is_excluded_by_f_below_eps():
    """rho in [0, 1/1000]: y = x*(s) - rho v stays within 1/1000 of argmin f, where grad f ~ 0 (so
    neither g x v nor g . v is decided) and f < eps = 1/1000: excluded as 'f<eps'; with eps = 1e-12
    (below f there) it is not."""
    B, bh, ctx = _bracket_hull()
    box = ((Fraction(0), Fraction(1, 100)), (Fraction(0), Fraction(1, 1000)), (Fraction(0), Fraction(1, 10)))
    with ctx.working():
        assert B.excluded(bh, _balls(box, ctx), Fraction(1, 1000), ctx) == "f<eps"
        assert B.excluded(bh, _balls(box, ctx), Fraction(1, 10 ** 12), ctx) is None


def test_axis_boxes_are_the_n_equal_pieces_of_the_segment():
    """axis_existence cuts [rho_a - 1.55, rho_b - 1.55] into n equal boxes; next to the maximizer
    (rho_a = 1.93, the segment starts 0.0036 right of it) f_x < 0 is proved with 30 boxes but not
    with 27, whose first box is too wide: the box width is (rho_b - rho_a) / n, no wider."""
    B, _, ctx = _bracket_hull()
    ok, why = B.axis_existence(Fraction(193, 100), Fraction(14, 5), ctx, n=30)
    assert ok and "(30 boxes)" in why and "[0.38, 1.25]" in why
    ok, why = B.axis_existence(Fraction(193, 100), Fraction(14, 5), ctx, n=27)
    assert not ok and "[0.38, 0.412222]" in why


def test_appendix_d_minimizers_are_the_arc_for_abs_s_at_most_3_5():
    """x*(s) is a global minimizer exactly for |s| <= 3/5: an interval reaching past either end is not
    accepted; a single box (n_boxes = 1) is a valid cover, none (0) is refused."""
    from theorems import refutations as R
    from verify.ctx import shared_context
    ctx = shared_context("arb", R.DPS)

    def accepted(lo, hi):
        S = ctx.ball((lo + hi) / 2, (hi - lo) / 2)
        return R.appendix_d_minimizers(lo, hi, R.appendix_d_arc(S, ctx), ctx)
    assert accepted(Fraction(-3, 5), Fraction(-1, 2)) and accepted(Fraction(1, 2), Fraction(3, 5))
    assert not accepted(Fraction(-7, 10), Fraction(-1, 2)) and not accepted(Fraction(1, 2), Fraction(7, 10))
    one = R.refute_appendix_d(s_range=("0", "1/100"), n_boxes=1)
    assert not one.refused and one.passed
    assert R.refute_appendix_d(s_range=("0", "1/100"), n_boxes=0).refused


def test_an_exactly_zero_cross_product_does_not_exclude():
    """At the point s = 0, rho = 1, t = 0 (v = (1, 0) exactly; y = (-2.55, 0) on the axis, where
    f_y = 0 exactly by the mirror symmetry) the cross product g x v is exactly 0: it excludes nothing
    (g could be parallel to v), and the point is excluded by g . v = f_x < 0 instead."""
    B, bh, ctx = _bracket_hull()
    point = ((Fraction(0), Fraction(0)), (Fraction(1), Fraction(1)), (Fraction(0), Fraction(0)))
    with ctx.working():
        assert B.excluded(bh, _balls(point, ctx), Fraction(1, 1000), ctx) == "dot"


def test_cover_stops_at_the_first_undecided_box_narrower_than_min_width():
    """Above rho* (rho in [1.9, 1.905]) the cover cannot exclude a box holding a preimage: it stops
    there as soon as the box is narrower than MIN_WIDTH in every direction, long before its budget."""
    B, bh, ctx = _bracket_hull()
    res = B.cover(bh, Fraction(19, 10), Fraction(1905, 1000), Fraction(1, 1000), ctx, max_boxes=10_000,
                  s_lo=Fraction(0))
    assert res["status"] == "undecided" and res["boxes"] < 1000
    assert all(Fraction(b) - Fraction(a) < B.MIN_WIDTH for a, b in res["box"])


def test_a_traced_point_1e_8_off_the_curve_fails_curve_traced():
    """The traced set must consist of zeros of grad f(x+) to float64 rounding (<= 1e-12): one point
    moved by 1e-8 (||grad f(y+)|| ~ 2e-8) fails the claim (the unmoved trace passes it, see
    tests/test_appendix_d.py::test_paper_statements)."""
    import dataclasses
    from verify.ctx import get_context
    fp = get_context("float64")
    H = D.trace_H(fp, n_steps=4)
    moved = list(H.points)
    moved[-1] = moved[-1] + fp.vector([1e-8, 0.0])
    cert = D.certificate_statements(fp, quick=True, H=dataclasses.replace(H, points=moved))
    assert not cert.claim("curve_traced").passed
    assert 1e-9 < float(cert.claim("curve_traced").value) < 1e-6


def test_a_run_whose_x_plus_is_the_maximizer_is_classified_there():
    """x = x_max + (2.8, 0): u(x) = (-1, 0), so x+ = x_max, a zero of grad f(x+) that is not on the
    arc: 'x+ at the maximizer' (by both coordinates of x+)."""
    from verify.ctx import get_context
    fp = get_context("float64")
    xm = [float(v) for v in D.maximizer(fp)]
    assert D.classify_endpoint(fp, (xm[0] + D.RHO, 0.0), D.RHO)[0] == "x+ at the maximizer"


def _sweep_certificate(monkeypatch, small_sam_loss, small_sw_loss, steps=7, n_train=20):
    """certificate_sweep (quick) on stated rows at rho 1/2 and 3 (no training, no core re-check)."""
    from types import SimpleNamespace
    from theorems import mlp_check as M
    from verify.ctx import get_context
    import verify.nn.train as train
    monkeypatch.setattr(M, "QUICK", dict(rhos=(0.5, 3.0), seeds=2, steps=steps, width=2, n_train=n_train,
                                         log_every=1))
    monkeypatch.setattr(train, "check_against_core",
                        lambda sub, data, seed: {"rel_diff": {"loss": 0.0, "grad_norm": 0.0}})

    def row(mode, rho, acc, loss, ratio):
        return dict(mode=mode, rho=rho, mean_train_acc=acc, min_train_acc=acc, mean_test_acc=acc,
                    mean_train_loss=loss, median_train_loss=loss, median_grad_ratio=ratio,
                    stalled_fraction=0.0, outcomes={})
    rows = [row("sam-only", 0.5, 1.0, small_sam_loss, 1.0), row("switching", 0.5, 1.0, small_sw_loss, 1.0),
            row("sam-only", 3.0, 0.2, 2.0, 1e-3), row("switching", 3.0, 0.9, 0.01, 1.0)]
    t = {"rho": 3.0, "bracket": (0.5, 3.0), "monotone": True}
    sw = dict(rows=rows, transition=t, loss_transition=t, elapsed_s=1.0, result=SimpleNamespace(
        extra={"rho_rows": [0.5, 0.5, 3.0, 3.0], "switch_rows": [0, 1, 0, 1]}, select=lambda idx: idx))
    return M.certificate_sweep(get_context("float64"), True, SimpleNamespace(n_train=n_train), sw)


@pytest.mark.parametrize("sam_loss,sw_loss", [(0.05, 0.05), (0.07, 0.01), (0.01, 0.07)])
def test_small_rho_runs_converge_means_loss_at_most_0_05(monkeypatch, sam_loss, sw_loss):
    cert = _sweep_certificate(monkeypatch, sam_loss, sw_loss)
    assert cert.claim("small_rho_sam_converges").passed is (sam_loss <= 0.05)
    assert cert.claim("small_rho_switching_converges").passed is (sw_loss <= 0.05)


def test_quick_sweep_text_gives_its_step_and_sample_counts_once_each(monkeypatch):
    """The counts of the run (steps, training samples) come from the configuration and are written
    once in the certificate's text (example, statement, claims, notes, findings): the example line
    carries them; before, the statement repeated a fixed '1000 steps, 400 samples' and a claim the
    steps again."""
    import re
    cert = _sweep_certificate(monkeypatch, 0.01, 0.01, steps=1234, n_train=321)
    text = "\n".join([cert.example, cert.statement] + [c.statement + " " + c.note for c in cert.claims]
                     + [f.statement + " " + f.evidence for f in cert.findings])
    counts = {n: len(re.findall(rf"(?<![\d.]){n}(?![\d.])", text)) for n in ("1234", "321", "1000", "400")}
    assert counts == {"1234": 1, "321": 1, "1000": 0, "400": 0}, text


def _controls(monkeypatch, quick, large_rho_stalled=0.0):
    """certificate_controls on a stated sweep: at rho 1/2 the SAM-only seed (row 0) converged and the
    switching seed (row 1) looks stalled; the per-feature sweep of the full mode is stated too."""
    import torch
    from theorems import mlp_check as M
    from verify.ctx import get_context
    cfg = dict(rhos=(0.5, 3.0), seeds=1, steps=7, width=2, n_train=20, log_every=1)
    monkeypatch.setattr(M, "QUICK" if quick else "FULL", cfg)
    row = dict(mode="sam-only", rho=3.0, stalled_fraction=large_rho_stalled, outcomes={},
               median_grad_ratio=0.5, mean_train_loss=2.0)
    monkeypatch.setattr(M, "run_sweep", lambda *a, **kw: (None, {"rows": [row]}))
    sw = _fake_sweep([0.01, 2.0], [1.0, 1e-3], [0.5, 0.5], [0, 1], torch.zeros(2, 3))
    return M.certificate_controls(get_context("float64"), quick, sw)


def test_converged_seed_control_reads_the_sam_only_seeds_final_logs(monkeypatch):
    """The control 'hallucination claims at a converged seed' is the SAM-only seed at the smallest
    rho (final loss 0.01, GradRatio 1): both claims fail there. The switching seed (loss 2, GradRatio
    1e-3) or an earlier log row would make them pass."""
    converged = _controls(monkeypatch, True)[1]
    assert not converged.expected and converged.as_expected
    assert not converged.claim("loss_high").passed and not converged.claim("grad_ratio_small").passed


@pytest.mark.parametrize("stalled,passes", [(0.75, True), (0.5, True), (0.25, False)])
def test_per_feature_control_counts_half_the_seeds_as_stalling(monkeypatch, stalled, passes):
    """Full mode: the per-feature control's claim 'most SAM-only seeds stall' is stalled fraction
    >= 1/2 (expected to fail on the real data, where GradRatio stays large)."""
    control = _controls(monkeypatch, False, stalled)[2]
    assert control.claim("sam_only_stalls_large_rho").passed is passes
