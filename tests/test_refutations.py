"""Proved refutations (issue 16): every PROVED certificate of theorems/refutations.py re-checked by an
independent route (mpmath at twice the Arb digits, at sample points inside every box), a negative
control per certificate that must never come out PROVED, generated negatives where the eigenvalue
hypothesis holds (0 false PROVED), and the optional evidence level of a Finding."""
import json
import random
from fractions import Fraction

import pytest

from theorems import refutations as R
from verify import sam, zoo
from verify.core.results import Certificate, Finding
from verify.core.solve import newton
from verify.ctx import get_context, shared_context
from verify.objectives.objective import SympyObjective
from verify.report.build import evidence_level

MP_DPS = 2 * R.DPS                       # the independent route: twice the digits of the proof
mp = get_context("mpmath", dps=MP_DPS)


def _condition(obj, y, rho):
    """1 + rho lambda_min(Sym Du(y)) by mpmath's symmetric eigensolver (no intervals)."""
    return 1 + mp.scalar(rho) * mp.to_list(mp.eigvalsh(sam.sym_du(obj, mp.vector(y), mp)))[0]


def _box_samples(X, k=3):
    """The centre, the corners and k random points of an Arb box (as Fractions, inside it)."""
    lo = [Fraction(float(b.lower())) for b in X]
    hi = [Fraction(float(b.upper())) for b in X]
    # shrink by a hair so that rounding of the float endpoints stays inside the ball
    lo, hi = ([a + (b - a) / 2 ** 20 for a, b in zip(lo, hi)], [b - (b - a) / 2 ** 20 for a, b in zip(lo, hi)])
    pts = [[(a + b) / 2 for a, b in zip(lo, hi)]]
    corners = [[]]
    for a, b in zip(lo, hi):
        corners = [c + [v] for c in corners for v in (a, b)]
    rng = random.Random(16)
    pts += corners + [[a + (b - a) * Fraction(rng.random()) for a, b in zip(lo, hi)] for _ in range(k)]
    return pts


def _inside(y, X) -> bool:
    return all(float(b.lower()) <= float(v) <= float(b.upper()) for v, b in zip(y, X))


def _proved(cert) -> bool:
    return cert.passed and any(f.evidence_level == "PROVED" for f in cert.findings)


# -- Finding.evidence_level ----------------------------------------------------------------------------
def test_finding_level_is_serialized_only_when_set():
    assert "evidence_level" not in Finding("s", "t", "e").to_dict()
    assert Finding("s", "t", "e", "PROVED").to_dict()["evidence_level"] == "PROVED"
    c = Certificate("T", "t", "ex")
    c.finding("s", "t", "e")
    c.finding("s", "t", "e", evidence_level="sampled")
    d = json.loads(c.to_json())
    assert [f.get("evidence_level") for f in d["findings"]] == [None, "sampled"]
    assert "[sampled]" in str(c)


def test_finding_rejects_an_unknown_level():
    with pytest.raises(ValueError, match="evidence_level"):
        Finding("s", "t", "e", "certain")


# -- (1) the hypothesis at a constructed x_h ------------------------------------------------------------------
@pytest.fixture(scope="module")
def at_xh():
    return [(case, R.run_at_xh(case)) for case in R.cases_at_xh()]


def test_constructed_points_are_proved_refutations(at_xh):
    for case, cert in at_xh:
        assert _proved(cert), str(cert)
        assert cert.claim("x_h_enclosed").verdict.value == "proved"
        assert cert.to_dict()["findings"][0]["evidence_level"] == "PROVED"
        # grouped with the sampled finding of theorems/thm_3_2.py
        assert (cert.findings[0].source, cert.findings[0].statement) == (R.CONDITION_SOURCE,
                                                                         R.CONDITION_STATEMENT)
        assert evidence_level(cert.findings[0].to_dict()) == "PROVED"   # the report's reading


def test_constructed_points_rechecked_by_mpmath(at_xh):
    for case, cert in at_xh:
        ctx = shared_context("arb", R.DPS)
        X = R.proved_box(cert, ctx)
        rho = Fraction(cert.objects["rho"])
        bound = float(cert.objects["condition_upper_bound"].strip("[]").split(",")[1])
        for y in _box_samples(X):
            c = _condition(case["obj"], y, rho)
            assert c < 0 and float(c) <= bound + 1e-12, (case["example"], y, c, bound)
        # the hallucinated minimizer itself, found by an mpmath Newton at twice the digits, is in X
        route = "manifold" if case.get("x_star") else "isolated"
        xs = [Fraction(v) if "/" in str(v) else Fraction(str(v)) for v in case.get("x_star") or []]
        centre = [Fraction(float(v)) for v in cert.objects["box_center"]]
        xr, _ = R.ph._mp_solve(case["obj"], route, centre, rho, xs or None, dps=MP_DPS)
        assert _inside(xr, X)


@pytest.mark.parametrize("case", R.negative_controls(), ids=["d=1", "circle_max"])
def test_condition_controls_are_never_proved(case):
    cert = R.run_at_xh(case)
    assert not cert.passed and not cert.findings, str(cert)
    assert cert.claim("condition_fails").verdict.value in ("fail", "undecided")
    # the hypothesis really holds there (independent check at the box centre)
    ctx = shared_context("arb", R.DPS)
    y = [Fraction(float(v)) for v in cert.objects["box_center"]]
    assert _condition(case["obj"], y, Fraction(cert.objects["rho"])) > 0
    assert R.proved_box(cert, ctx) is not None


@pytest.mark.parametrize("x, rho", [(["-1/2", "0"], "-3/2"), (["-1/2"], "3/2")], ids=["rho<0", "wrong-dim"])
def test_bad_input_is_refused_with_the_reason(x, rho):
    cert = R.refute_at_xh(zoo.get("ring").objective, x, rho, x_star=["1", "0"])
    assert cert.refused and not cert.passed and not cert.findings


# -- (3) Appendix D's curve ---------------------------------------------------------------------------------
# the default suite checks a sub-arc; --runslow the whole curve of the report (|s| <= 3/5, 120 boxes)
CURVES = [pytest.param((("-1/10", "1/10"), 20), id="sub-arc"),
          pytest.param((("-3/5", "3/5"), 120), id="whole-curve", marks=pytest.mark.slow)]


@pytest.fixture(scope="module", params=CURVES)
def curve(request):
    s_range, n = request.param
    return R.refute_appendix_d(s_range=s_range, n_boxes=n)


def test_appendix_d_curve_is_a_proved_refutation(curve):
    assert _proved(curve), str(curve)
    assert (curve.findings[0].source, curve.findings[0].statement) == R.APPENDIX_D_FINDING
    assert len(curve.artifacts["boxes"]) == curve.objects["boxes"]
    assert all(h.met for h in curve.hypotheses)


def test_appendix_d_curve_rechecked_by_mpmath(curve):
    obj = zoo.get("appendix_d").objective
    rho = mp.scalar(Fraction(14, 5))
    guess = None
    for box in curve.artifacts["boxes"]:
        lo, hi = box["s"]
        for s in (lo, (lo + hi) / 2, hi):
            xs = R.appendix_d_arc(mp.scalar(s), mp)
            start = mp.vector(guess or box["center"])
            y = newton(lambda v: sam.perturbed_point(obj, v, rho, mp) - xs,
                       lambda V: mp.eye(2) + rho * sam.du_matrix(obj, V, mp), start, mp).x
            guess = [float(v) for v in y]
            assert _inside(y, box["X"]), (s, guess, box["center"])
            assert _condition(obj, y, Fraction(14, 5)) < 0
            assert abs(obj.value(xs, mp)) < mp.scalar(10) ** (-MP_DPS + 5)   # x*(s) is on f = 0
        for y in _box_samples(box["X"], k=1):
            c = _condition(obj, y, Fraction(14, 5))
            assert float(c) <= float(box["condition"]["bound"].upper()) + 1e-12


def test_curve_control_is_never_proved():
    cert = R.curve_controls()[0]
    assert not cert.passed and not cert.findings
    assert cert.claim("condition_fails").verdict.value == "fail"   # the hypothesis is proved to hold


def test_curve_off_the_minimizer_arc_is_not_proved():
    # one hypothesis broken: the range reaches past |s| = 3/5, where x*(s) leaves the minimizer arc
    cert = R.refute_appendix_d(s_range=("1/2", "7/10"), n_boxes=20)
    assert not cert.passed and not cert.findings
    assert [h.met for h in cert.hypotheses if h.name == "minimizers"] == [None]


def test_curve_bad_range_is_refused():
    assert R.refute_appendix_d(s_range=("1/2", "1/4"), n_boxes=3).refused


# -- (2) the descent inequality --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def descent():
    return R.refute_descent()


def test_descent_inequality_is_a_proved_refutation(descent):
    assert _proved(descent), str(descent)
    assert (descent.findings[0].source, descent.findings[0].statement) == R.DESCENT_FINDING


def test_descent_rechecked_by_mpmath(descent):
    obj = zoo.get("circle_max").objective
    rho, eta = mp.scalar(Fraction(6, 5)), mp.scalar(Fraction(1, 70))
    g_lo, L_hi, M_hi = (float(descent.objects[k]) for k in ("gamma_lo", "L_hi", "M_hi"))
    r0 = mp.sqrt(3) - rho
    rng = random.Random(3)
    # the constants' bounds hold at random points of the annulus N_delta(H) (any angle)
    for _ in range(40):
        r, t = r0 + mp.scalar(rng.uniform(-0.2, 0.2)), mp.scalar(rng.uniform(0, 6.3))
        y = [r * mp.cos(t), r * mp.sin(t)]
        assert _condition(obj, y, Fraction(6, 5)) >= g_lo
        H = obj.hess(mp.vector(y), mp)
        assert mp.to_float(mp.sqrt(sum(v * v for v in H.reshape(-1)))) <= L_hi
        z = mp.vector([v * mp.scalar(rng.uniform(0, 1.83205) / float(r)) for v in y])
        assert mp.to_float(mp.norm(obj.grad(z, mp))) <= M_hi
    x0 = mp.vector([Fraction(29, 50), 0])
    w = sam.shifted_gradient(obj, x0, rho, mp)
    x1 = x0 - eta * w
    gap = (sam.sam_value(obj, x1, rho, mp)
           - (sam.sam_value(obj, x0, rho, mp) - eta * (g_lo - L_hi * eta / 2) * (w @ w)))
    assert gap > 0
    enc = descent.claim("descent_fails").value
    assert float(enc.strip("[]").split(",")[0]) - 1e-12 <= float(gap) <= float(enc.strip("[]").split(",")[1]) + 1e-12


def test_descent_control_with_L_sam_is_never_proved():
    cert = R.descent_controls()[0]
    assert not cert.passed and not cert.findings
    assert cert.claim("descent_fails").verdict.value == "fail"


def test_descent_with_inadmissible_step_is_not_proved():
    # one hypothesis broken: eta above the paper's bound min(delta/2M, 2 gamma/L)
    cert = R.refute_descent(eta="1/20", expected=False)
    assert not cert.passed and cert.claim("eta_admissible").verdict.value == "undecided"


@pytest.mark.parametrize("kw", [{"eta": "-1/70"}, {"delta": "0"}, {"x0": ("1/2",)}])
def test_descent_bad_input_is_refused(kw):
    assert R.refute_descent(**kw).refused


# -- generated negatives: the hypothesis holds, the refutation must never be PROVED -----------------------------
def _generated_negatives(n=24):
    rng = random.Random(1616)
    cases = []
    cm = zoo.get("circle_max").objective            # Sym Du = P/r inside r < 1: the hypothesis holds
    for _ in range(n // 3):
        r, t = rng.uniform(0.15, 0.9), rng.uniform(0, 6.28)
        import math
        cases.append((cm, [r * math.cos(t), r * math.sin(t)], Fraction(rng.randint(1, 30), 10)))
    for _ in range(n // 3):                          # d = 1: Du = 0, the hypothesis reads 1 > 0
        a, b = rng.randint(1, 4), rng.randint(-3, 3)
        obj = SympyObjective(f"(x**2 - {a})**2 + {b}*x/5", "x")
        cases.append((obj, [rng.uniform(-3, 3)], Fraction(rng.randint(1, 30), 10)))
    bowl = SympyObjective("x**2 + 3*y**2 + x*y/2", "x,y", name="convex quadratic")
    for _ in range(n - len(cases)):                  # kept only where mpmath says the hypothesis holds
        cases.append((bowl, [rng.uniform(-2, 2), rng.uniform(-2, 2)], Fraction(rng.randint(1, 30), 100)))
    return cases


def test_zero_false_proved_over_generated_negatives():
    ctx = shared_context("arb", R.DPS)
    checked = 0
    for obj, y, rho in _generated_negatives():
        yq = [Fraction(v) for v in y]
        if not _condition(obj, yq, rho) > 0:
            continue
        checked += 1
        for radius in (Fraction(1, 2 ** 4), Fraction(1, 2 ** 10)):
            dec = R.rayleigh_decision(obj, ctx.box([float(v) for v in y], radius), ctx.scalar(rho), ctx)
            assert dec["status"] != "fails", (obj.name, y, rho, dec)
    assert checked >= 16


# -- evidence levels of the sampled findings ------------------------------------------------------------
def test_sampled_evidence_follows_the_arithmetic():
    from verify.core.results import sampled_evidence
    assert sampled_evidence(get_context("float64")) == "sampled"
    assert sampled_evidence(get_context("mpmath", dps=30)) == "high-precision"


@pytest.mark.parametrize("module", ["thm_3_2", "appendix_d", "rho_threshold", "rival_refutations", "refutations"])
def test_every_finding_names_its_evidence_level(module):
    """Each cert.finding(...) call passes a fourth argument (the level): source inspection, since
    most findings appear only on the slow examples."""
    import ast
    import pathlib
    tree = ast.parse(pathlib.Path(f"theorems/{module}.py").read_text())
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "finding"]
    assert calls
    for c in calls:
        given = sum(2 if isinstance(a, ast.Starred) else 1 for a in c.args) + len(c.keywords)
        assert given >= 4, f"{module}.py line {c.lineno}: a finding without an evidence level"
