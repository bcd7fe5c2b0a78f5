"""Rigorous certificates (issue #6): Krawczyk machinery, PROVED cases, negative controls, soundness."""
from __future__ import annotations

import json
from fractions import Fraction

import flint
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from theorems import prove_hallucination as ph
from verify import sam
from verify.cli import main
from verify.ctx import get_context
from verify.rigorous.krawczyk import (dyadic_vector, exact_value, global_lower_bound, krawczyk, positive_definite,
                             range_over_reals, to_fraction)
from verify.core.results import Verdict
from verify.core.solve import newton
from verify.objectives.zoo import get


@pytest.fixture(scope="module")
def arb():
    return get_context("arb", dps=30)


@pytest.fixture(scope="module")
def proved_certs():
    return [ph.run_case(c) for c in ph.cases(quick=True) if c.get("expected", True)]


# -- machinery ---------------------------------------------------------------------------------------
def test_krawczyk_unique_none_unknown(arb):
    # F(x, y) = (x^2 - 2, y - x): the zero (sqrt 2, sqrt 2)
    res = lambda v: arb.stack([v[0] * v[0] - 2, v[1] - v[0]])  # noqa: E731
    jac = lambda V: arb.matrix([[2 * V[0], 0], [-1, 1]])  # noqa: E731
    c = dyadic_vector(arb, [1.4142, 1.4142])
    r = krawczyk(res, jac, c, Fraction(1, 100), arb)
    assert r.status == "unique"
    root = flint.arb(2).sqrt()
    assert all(k.overlaps(root) for k in r.K) and all(x.contains(root) for x in r.X)
    far = krawczyk(res, jac, dyadic_vector(arb, [3.0, 3.0]), Fraction(1, 10), arb)
    assert far.status == "none"
    wide = krawczyk(res, jac, c, Fraction(3, 2), arb)
    assert wide.status == "unknown"


def test_positive_definite(arb):
    ok = positive_definite(arb.matrix([[2, 1], [1, 2]]), arb)
    assert ok.status == "positive" and ok.bound > 0
    bad = positive_definite(arb.matrix([[1, 2], [2, 1]]), arb)
    assert bad.status == "not_positive" and bad.rayleigh < 0
    S = np.array([[arb.ball(1, 2), arb.scalar(0)], [arb.scalar(0), arb.scalar(1)]], dtype=object)
    assert positive_definite(S, arb).status == "unknown"


def test_range_analysis_lower_bounds():
    x, y = sp.symbols("x y", real=True)
    assert global_lower_bound((x ** 2 + y ** 2 - 1) ** 2) == 0
    assert global_lower_bound(get("appendix_d").objective.expr) == 0   # 4/5 e^.. wx >= 0, e^.. wy <= 1
    assert global_lower_bound(get("tilted_ring").objective.expr) is None
    assert range_over_reals(sp.exp(-x ** 2)) == (0, 1)
    assert global_lower_bound(x ** 2 - 3) == -3


def test_decimal_inputs_are_exact_and_enclosed(arb):
    assert to_fraction("2.8") == Fraction(14, 5) and to_fraction("14/5") == Fraction(14, 5)
    assert to_fraction(0.1) == Fraction(*(0.1).as_integer_ratio())   # a float is its binary value
    assert arb.scalar(to_fraction("2.8")).contains(flint.fmpq(14, 5))
    # a float constant in an expression is its exact binary value: (x - 0.1)^2 at x = 1/10 is not 0
    x = sp.Symbol("x", real=True)
    assert exact_value((x - sp.Float(0.1)) ** 2, [x], ["0.1"]) != 0
    assert exact_value((x - sp.Float(0.5)) ** 2, [x], ["0.5"]) == 0


# -- the PROVED cases ---------------------------------------------------------------------------------
def test_three_zoo_cases_proved(proved_certs):
    # speed is a benchmark (benchmarks/bench_prove.py prints each case's time), not an assertion
    routes = [c.objects["route"] for c in proved_certs]
    assert routes == ["isolated", "manifold", "manifold"]
    for cert in proved_certs:
        assert cert.passed and cert.objects["verdict"] == "PROVED", str(cert)
        assert cert.claim("crosscheck").verdict is Verdict.PASS
        assert Fraction(cert.objects["box_radius_float"]) > 0
        assert all(c.verdict in (Verdict.PROVED, Verdict.PASS) for c in cert.claims)
    assert "appendix_d" in proved_certs[2].example


def test_negative_controls_never_proved():
    certs = [ph.run_case(c) for c in ph.negative_controls()]
    assert len(certs) >= 5
    for cert in certs:
        assert cert.example.startswith("negative control: ")
        assert not cert.expected and not cert.passed and cert.as_expected
        assert cert.objects["verdict"] != "PROVED"


def test_report_certificates_contract():
    assert ph.THEOREM == "Existence proof" and ph.ORDER == 5.0 and ph.TITLE
    certs = ph.report_certificates(quick=True)
    assert all(c.as_expected for c in certs)
    assert sum(c.passed for c in certs) == 3 and sum(not c.expected for c in certs) >= 3
    json.loads(certs[0].to_json())


def test_ring_isolated_route_points_to_manifold_route():
    cert = ph.prove(get("ring").objective, ["-0.5", "0"], "1.5", start_radius=Fraction(1, 16),
                    floor=Fraction(1, 2 ** 12))
    assert cert.objects["verdict"] == "UNDECIDED" and "manifold route" in cert.objects["reason"]


def test_piecewise_seam_not_smooth():
    # a box across the seam x = 0 of Appendix D is never used: the condition x < 0 is undecided there
    cert = ph.prove(get("appendix_d").objective, ["0", "0"], "2.8", x_star=["-1.55", "0"],
                    radius="0.1", refine=False)
    assert cert.objects["verdict"] != "PROVED"


# -- CLI ------------------------------------------------------------------------------------------------
def test_cli_prove_json(capsys):
    rc = main(["prove", "--f", "zoo:appendix_d", "--x", "1.25,0", "--rho", "2.8",
               "--x-star", "-1.55,0", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["objects"]["verdict"] == "PROVED" and out["objects"]["route"] == "manifold"
    assert out["objects"]["box_radius"].startswith("2^-")
    rc = main(["prove", "--f", "(x**2+y**2-1)**2 + x/5", "--vars", "x,y", "--x", "0.476,0",
               "--rho", "1.5", "--radius", "1/4096"])
    text = capsys.readouterr().out
    assert rc == 0 and text.startswith("PROVED") and "isolated" in text
    rc = main(["prove", "--f", "zoo:convex_lse", "--x", "0.5,0.5", "--rho", "1"])
    assert rc == 1 and not capsys.readouterr().out.startswith("PROVED")


# -- property: no false PROVED on perturbed cases ----------------------------------------------------------
_BASE = {
    "tilted": None,  # filled lazily (needs a Newton solve)
    "ring": (get("ring").objective, ("-0.5", "0"), "1.5", ("1", "0")),
    "appendix_d": (get("appendix_d").objective, ("1.25", "0"), "2.8", ("-1.55", "0")),
    "convex": (get("convex_lse").objective, ("0.5", "0.5"), "1", None),
}


def _base(name):
    if name == "tilted":
        if _BASE["tilted"] is None:
            obj, xh, rho = ph.tilted_ring_case()
            _BASE["tilted"] = (obj, tuple(xh), rho, None)
    return _BASE[name]


def _independent_check(obj, cert, rho, x_star):
    """100-digit Newton from the box centre must land inside the box and be a genuine hallucinated
    minimizer (grad f != 0; isolated: Hessian of f_SAM positive definite)."""
    mp = get_context("mpmath", dps=100)
    c = [Fraction(v) for v in cert.objects["box_center"]]
    r = mp.scalar(Fraction(cert.objects["box_radius_float"]))
    rho_m = mp.scalar(to_fraction(rho))
    x0 = mp.vector(c)
    if x_star is None:
        sol = newton(lambda v: sam.shifted_gradient(obj, v, rho_m, mp),
                     lambda v: sam.shifted_jacobian(obj, v, rho_m, mp), x0, mp).x
        assert min(mp.eigvalsh(sam.sam_hessian(obj, sol, rho_m, mp))) > 0
    else:
        xs = mp.vector([to_fraction(v) for v in x_star])
        sol = newton(lambda v: sam.perturbed_point(obj, v, rho_m, mp) - xs,
                     lambda v: mp.eye(2) + rho_m * sam.du_matrix(obj, v, mp), x0, mp).x
        assert abs(obj.value(xs, mp)) < mp.scalar("1e-90")       # f(x_star) = min f = 0
    assert max(abs(a - mp.scalar(b)) for a, b in zip(sol, c)) <= r
    assert mp.norm(obj.grad(sol, mp)) > mp.scalar("1e-6")


@settings(max_examples=24, deadline=None, derandomize=True)
@given(name=st.sampled_from(["tilted", "ring", "appendix_d", "convex"]),
       dx=st.floats(-0.3, 0.3), dy=st.floats(-0.3, 0.3), scale=st.sampled_from(
           ["1", "0.5", "0.9", "1.1", "1.4", "2"]))
def test_no_false_proved_on_perturbed_cases(name, dx, dy, scale):
    obj, x, rho, x_star = _base(name)
    xq = [to_fraction(x[0]) + Fraction(dx), to_fraction(x[1]) + Fraction(dy)]
    rq = to_fraction(rho) * to_fraction(scale)
    cert = ph.prove(obj, xq, rq, x_star=x_star, floor=Fraction(1, 2 ** 16), crosscheck=False)
    if name == "convex":
        assert cert.objects["verdict"] != "PROVED"       # Theorem A.1: none exist for convex f
    if cert.objects["verdict"] == "PROVED":
        _independent_check(obj, cert, rq, x_star)
