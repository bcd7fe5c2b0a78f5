"""Issue 12, items 2 and 3: the constructions in d = 1, 3 and 4, user points given to float64
accuracy, the attraction criterion in any codimension, finished certificates kept when a later part
fails, ``passed`` / the exit status meaning "as expected", the manifold point budget and a
minimizer search whose cost does not grow like 9^d.

Objects checked by hand: for f = (|x|^2 - 1)^2 (any d) with x* = e_1 and x_max = 0 the level set
{f = 1 - eps} is the sphere |x| = r_eps = sqrt(1 - sqrt(1 - eps)), so x_h = -r_eps e_1 and
rho = 1 + r_eps; in d = 1, u = sign f' is locally constant, so Du = 0 and 1 + rho lambda_min(Sym Du) = 1.
"""
from __future__ import annotations

import json
import sys
import types

import mpmath
import numpy as np
import pytest

from theorems import cor_a6, thm_2_1 as T, thm_3_1, thm_3_2
from verify import sam
from verify.cli import main
from verify.ctx import get_context
from verify.errors import HypothesisError, SamVerifyError
from verify.objectives.objective import SympyObjective

MP50 = get_context("mpmath", dps=50)
TINY = mpmath.mpf("1e-45")
RING1 = "(x**2-1)**2"
RING3 = "(x**2+y**2+z**2-1)**2"
RING4 = "(w**2+x**2+y**2+z**2-1)**2"
TILT1 = "(x**2-1)**2 + x/5"
TILT3 = "(x**2+y**2+z**2-1)**2 + x/5"
WELL2 = "(x**2-1)**2 + (y**2-1)**2 + 2*x/5"   # the tilted double well of the issue


def cli(capsys, *argv):
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def float_root(coeffs, near):
    """The real root of a polynomial nearest ``near``, as the repr of a float64 (17 digits)."""
    r = np.roots(coeffs)
    r = r[np.abs(r.imag) < 1e-12].real
    return repr(float(r[np.argmin(abs(r - near))]))


# ------------------------------------------------------------------------------------------------
# item 2: one dimension
# ------------------------------------------------------------------------------------------------
def ring1_construction():
    return T.construct(SympyObjective(RING1, "x"), ["1"], ["0"], MP50, closed_form=T.ring_closed_form)


def test_thm_2_1_in_one_dimension_matches_the_hand_computation():
    con = ring1_construction()
    cert = con.certificate
    assert cert.passed, str(cert)
    with mpmath.workdps(50):
        r = mpmath.sqrt(1 - mpmath.sqrt(1 - con.eps))
        assert abs(con.x_h[0] + r) <= TINY and abs(con.rho - (1 + r)) <= TINY
    second = cert.claim("farthest_second_order")
    assert second.passed and "vacuous" in second.statement and "d = 1" in second.statement
    # Du = 0 in d = 1: the value recorded for Section 3 is exactly 1
    assert abs(cert.objects["attraction_margin"] - 1) <= TINY


def test_cor_a6_in_one_dimension():
    obj = SympyObjective(TILT1, "x")
    from verify.core.solve import critical_point
    xs = critical_point(obj, ["0.95"], MP50).x      # local, not global, minimizer
    xm = critical_point(obj, ["0.05"], MP50).x
    con = cor_a6.construct(obj, xs, xm, MP50, quick=True)
    assert con.certificate.passed, str(con.certificate)
    assert con.certificate.claim("farthest_second_order").passed


def test_section3_on_a_one_dimensional_construction():
    con = ring1_construction()
    c31 = thm_3_1.certify_construction(con)
    assert c31.passed, str(c31)
    assert c31.objects["dimension"] == 0
    c32 = thm_3_2.certify_construction(con)
    # in d = 1 the paper's condition holds at x_h (value 1), so the certificate is a real example;
    # SAM converges, and only the proof's descent inequality with the paper's L fails (a finding)
    assert c32.expected and c32.hypotheses_met, str(c32)
    assert c32.claim("converges").passed and c32.claim("construction_second_order").passed
    assert "vacuous in d = 1" in c32.claim("construction_second_order").statement
    failed = {c.id for c in c32.claims if not c.passed}
    assert failed <= {"descent_inequality_paper_L"} and (c32.passed or c32.explained)


def test_negative_controls_in_one_dimension():
    con = ring1_construction()
    certs = {c.example.split(" (")[0]: c for c in T.controls(con, "ring1")}
    assert all(c.as_expected and not c.passed for c in certs.values())
    other = certs["negative control: x_h moved to the other point of the level set"]
    # the other end +r_eps of C_eps = [-r_eps, r_eps] is on the level but not farthest from x* = 1
    with mpmath.workdps(50):
        r = mpmath.sqrt(1 - mpmath.sqrt(1 - con.eps))
        assert abs(other.objects["x_h"][0] - r) <= TINY
    failed = {c.id for c in other.claims if not c.passed}
    assert {"lagrange", "farthest_global"} <= failed and "lemma_a3_x_h" not in failed


# ------------------------------------------------------------------------------------------------
# item 3: points given to float64 accuracy are refined by Newton
# ------------------------------------------------------------------------------------------------
def test_float64_points_are_refined_and_the_distance_reported(capsys):
    x_max = float_root([4, 0, -4, 0.4], 0.1)
    assert x_max == "0.10103125788101083"
    x_min = float_root([4, 0, -4, 0.4], -1.05)
    rc, out, err = cli(capsys, "construct", "--f", WELL2, "--vars", "x,y", "--x-star", f"{x_min},1",
                       "--x-max", f"{x_max},0", "--json")
    assert rc == 0, err
    d = json.loads(out)
    dist = d["objects"]["x_max_refinement_distance"]
    assert 0 < float(dist) < 1e-15
    assert float(d["objects"]["x_star_refinement_distance"]) < 1e-15
    assert d["passed"]


def test_refinement_refuses_a_point_far_from_a_critical_point():
    obj = SympyObjective(WELL2, "x,y")
    with pytest.raises(HypothesisError, match="refin|Newton"):
        T.construct(obj, ["-1.05", "1"], ["0.1", "0"], MP50)


def test_refined_saddle_is_still_refused():
    obj = SympyObjective(WELL2, "x,y")
    x_sad = float_root([4, 0, -4, 0.4], 0.1)
    with pytest.raises(HypothesisError, match="saddle"):
        T.construct(obj, [float_root([4, 0, -4, 0.4], -1.05), "1"], [x_sad, "1"], MP50)


# ------------------------------------------------------------------------------------------------
# item 3: the exact attraction criterion in any codimension
# ------------------------------------------------------------------------------------------------
def test_exact_criterion_codimension_three_matches_numpy():
    obj = SympyObjective(TILT3, "x,y,z")
    ctx = MP50
    from verify.core.solve import critical_point
    xs = critical_point(obj, ["-1.05", "0", "0"], ctx).x
    rho = ctx.scalar("1.3")
    y = thm_3_1.find_preimage(obj, xs, rho, ctx, guess=[0.27, 0.0, 0.0])
    ex = thm_3_2.exact_criterion(obj, y, rho, 0.05, ctx, 0)
    f64 = get_context("float64")
    yf = np.array([float(v) for v in y])
    gr = sam.gradient(obj, yf, f64)
    K = obj.hess(yf + 1.3 * gr.u, f64) @ (np.eye(3) + 1.3 * sam.du_matrix(obj, yf, f64, gr))
    ref = sorted(np.linalg.eigvals(K), key=lambda z: (z.real, z.imag))
    got = sorted((complex(a, b) for a, b in ex.mu), key=lambda z: (z.real, z.imag))
    assert len(got) == 3
    assert max(abs(a - b) for a, b in zip(got, ref)) < 1e-10 * max(1.0, abs(ref[-1]))


def test_attraction_codimension_three_from_the_cli(capsys):
    x_star = float_root([4, 0, -4, 0.2], -1.05)
    x_max = float_root([4, 0, -4, 0.2], 0.05)
    rc, out, err = cli(capsys, "construct", "--f", TILT3, "--vars", "x,y,z", "--x-star",
                       f"{x_star},0,0", "--x-max", f"{x_max},0,0", "--attraction", "--json")
    assert rc == 0, err
    d = json.loads(out)
    a = d["attraction"]
    assert not a["refused"] and a["claims"], a
    assert a["objects"]["m"] == "0" and a["expected"] is False and a["as_expected"]
    assert "exact_normal_eigenvalues_range" in a["objects"]


def _raising(monkeypatch, name):
    mod = types.ModuleType(f"theorems.{name}")

    def certify_construction(con, **kw):
        raise SamVerifyError("a later part failed")
    mod.certify_construction = certify_construction
    monkeypatch.setitem(sys.modules, f"theorems.{name}", mod)


def test_a_failing_later_part_keeps_the_finished_certificates(capsys, monkeypatch):
    _raising(monkeypatch, "thm_3_2")
    rc, out, err = cli(capsys, "construct", "--f", "zoo:ring", "--x-star", "1,0", "--x-max", "0,0",
                       "--manifold", "--attraction", "--json")
    d = json.loads(out)
    assert d["claims"] and d["manifold"]["passed"]
    assert "a later part failed" in d["attraction"]["error"]
    assert d["passed"] is False and rc == 1


def test_passed_means_as_expected(capsys):
    # ring, 2-D: the attraction certificate is a negative control (the paper's condition fails at
    # the constructed x_h), so its failing is what is expected
    rc, out, err = cli(capsys, "construct", "--f", "zoo:ring", "--x-star", "1,0", "--x-max", "0,0",
                       "--attraction", "--json")
    d = json.loads(out)
    a = d["attraction"]
    assert a["expected"] is False and a["passed"] is False and a["as_expected"] is True
    assert d["passed"] is True and rc == 0


# ------------------------------------------------------------------------------------------------
# item 3: manifold point budget, minimizer search
# ------------------------------------------------------------------------------------------------
def test_manifold_point_budget_in_four_dimensions(capsys):
    rc, out, err = cli(capsys, "construct", "--f", RING4, "--vars", "w,x,y,z", "--x-star", "1,0,0,0",
                       "--x-max", "0,0,0,0", "--manifold", "--max-points", "30", "--json")
    assert rc == 0, err
    m = json.loads(out)["manifold"]
    assert m["passed"] and m["objects"]["dimension"] == "3"
    assert int(m["objects"]["traced_points"]) <= 30
    assert "progress" not in out


def test_symmetric_offsets_respect_a_budget():
    for m, budget in ((1, 5), (2, 30), (3, 30), (4, 100)):
        offs = thm_3_1.symmetric_offsets(m, 0.5, 8, max_points=budget)
        assert 1 < len(offs) <= budget and offs[0] == [0.0] * m


class Counting(SympyObjective):
    """Counts the points at which f is evaluated in float64 batches."""
    evaluated = 0

    def value(self, x, ctx):
        shape = np.shape(x)
        if len(shape) == 2:
            Counting.evaluated += shape[1]
        return super().value(x, ctx)


@pytest.mark.parametrize("d", [4, 6])
def test_minimizer_search_has_a_fixed_budget(d):
    names = ",".join(f"x{i}" for i in range(d))
    obj = Counting("(" + "+".join(f"x{i}**2" for i in range(d)) + "-1)**2", names)
    Counting.evaluated = 0
    cert = T.new_certificate("budget", MP50)
    xs = obj.point(["1"] + ["0"] * (d - 1), MP50)
    T.check_minimizer(obj, xs, MP50, cert, ((-2.0, 2.0),) * d)
    assert cert.hypotheses_met
    assert Counting.evaluated <= 70000   # 9^6 = 531441 grid points before


def test_minimizer_search_finds_a_lower_point_in_five_dimensions():
    # f = ring + x0/5 in 5-D: the minimizer is near -e_0; the local minimizer near +e_0 is not global
    names = ",".join(f"x{i}" for i in range(5))
    obj = SympyObjective("(" + "+".join(f"x{i}**2" for i in range(5)) + "-1)**2 + x0/5", names)
    from verify.core.solve import critical_point
    xs = critical_point(obj, ["0.97"] + ["0"] * 4, MP50).x
    cert = T.new_certificate("not global", MP50)
    with pytest.raises(HypothesisError, match="not a global minimizer"):
        T.check_minimizer(obj, xs, MP50, cert, ((-2.0, 2.0),) * 5)


# ------------------------------------------------------------------------------------------------
# item 2: the CLI in d = 1, 3, 4
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("f,names,x_star,x_max", [
    (RING1, "x", "1", "0"),
    (RING3, "x,y,z", "1,0,0", "0,0,0"),
    (RING4, "w,x,y,z", "1,0,0,0", "0,0,0,0"),
])
def test_construct_cli_rings(capsys, f, names, x_star, x_max):
    rc, out, err = cli(capsys, "construct", "--f", f, "--vars", names, "--x-star", x_star,
                       "--x-max", x_max, "--json")
    assert rc == 0, err
    d = json.loads(out)
    with mpmath.workdps(50):
        r = mpmath.sqrt(1 - mpmath.sqrt(1 - mpmath.mpf(d["eps"])))
        assert abs(mpmath.mpf(d["rho"]) - (1 + r)) < TINY
        assert abs(mpmath.mpf(d["x_h"][0]) + r) < TINY


def test_construct_cli_local_min_one_dimension(capsys):
    x_star = float_root([4, 0, -4, 0.2], 0.95)
    x_max = float_root([4, 0, -4, 0.2], 0.05)
    rc, out, err = cli(capsys, "construct", "--f", TILT1, "--vars", "x", "--x-star", x_star,
                       "--x-max", x_max, "--local-min", "--json")
    assert rc == 0, err
    assert json.loads(out)["theorem"] == "Cor. A.6"


@pytest.mark.parametrize("f,names,x_star,x_max,dim", [
    (RING1, "x", "1", "0", 0),
    (RING3, "x,y,z", "1,0,0", "0,0,0", 2),
])
def test_construct_manifold_and_attraction_cli(capsys, f, names, x_star, x_max, dim):
    rc, out, err = cli(capsys, "construct", "--f", f, "--vars", names, "--x-star", x_star,
                       "--x-max", x_max, "--manifold", "--attraction", "--max-points", "40", "--json")
    assert rc == 0, err
    d = json.loads(out)
    assert d["passed"] and d["manifold"]["passed"]
    assert d["manifold"]["objects"]["dimension"] == str(dim)
    a = d["attraction"]
    assert (a["as_expected"] or a["explained"]) and not a.get("error")
    assert a["objects"]["m"] == str(dim)
    # d = 1: a real example (the paper's condition holds); d >= 2: a negative control
    assert a["expected"] is (dim == 0)


@pytest.mark.parametrize("f,names,x,rho,label", [
    (RING1, "x", "-0.2", "1.2", "hallucinated_minimizer"),
    (RING3, "x,y,z", "-0.2,0,0", "1.2", "hallucinated_minimizer"),
    (RING4, "w,x,y,z", "-0.2,0,0,0", "1.2", "hallucinated_minimizer"),
    (RING3, "x,y,z", "1,0,0", "1.2", "minimizer"),
])
def test_classify_cli_dims(capsys, f, names, x, rho, label):
    rc, out, err = cli(capsys, "classify", "--f", f, "--vars", names, f"--x={x}", "--rho", rho,
                       "--json")
    assert rc == 0, err
    assert json.loads(out)["kind"] == label


@pytest.mark.parametrize("f,names,x,rho,x_star", [
    (RING1, "x", "-0.2", "1.2", "1"),
    (TILT1, "x", "-0.23", "1.2", None),
    (RING3, "x,y,z", "-0.2,0,0", "1.2", "1,0,0"),
    (TILT3, "x,y,z", "0.28,0,0", "1.3", None),
])
def test_prove_cli_dims(capsys, f, names, x, rho, x_star):
    argv = ["prove", "--f", f, "--vars", names, f"--x={x}", "--rho", rho, "--json"]
    if x_star:
        argv += ["--x-star", x_star]
    rc, out, err = cli(capsys, *argv)
    assert rc == 0, err
    assert json.loads(out)["passed"]


def test_max_set_with_a_float64_minimizer(capsys):
    rc, out, err = cli(capsys, "construct", "--f", "zoo:circle_max", "--x-star",
                       f"{repr(3 ** 0.5)},0", "--max-set", "cos(t),sin(t)", "--set-value", "4/3",
                       "--json")
    assert rc == 0, err
    d = json.loads(out)
    assert d["passed"] and 0 < float(d["objects"]["x_star_refinement_distance"]) < 1e-15


def test_max_points_must_be_positive(capsys):
    rc, out, err = cli(capsys, "construct", "--f", "zoo:ring", "--x-star", "1,0", "--x-max", "0,0",
                       "--manifold", "--max-points", "0")
    assert rc == 2 and "--max-points" in err and len(err.strip().splitlines()) == 1


def test_trace_progress_bar_goes_to_stderr(monkeypatch):
    import io

    class Terminal(io.StringIO):
        def isatty(self):
            return True
    err = Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    con = T.run_zoo("ring", MP50, x_star=("1", "0"), n_dirs=256)
    cert = thm_3_1.certify_construction(con, max_points=9, progress=True)
    assert cert.passed and cert.objects["traced_points"] == 9
    assert "tracing G(M)" in err.getvalue()
