"""Arithmetic contexts and the expression compiler: the same expression in every arithmetic."""
import json
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from verify.core.claims import boolean, compare
from verify.ctx import get_context
from verify.errors import UndecidedError
from verify.objectives.expr import exact_constants, parse
from verify.objectives.objective import SympyObjective, objective_from
from verify.core.results import Certificate, Verdict


def test_decimal_literals_are_exact_rationals():
    expr, _ = parse("0.8*x + 1.55", ["x"])
    assert expr.atoms(sp.Rational) >= {sp.Rational(4, 5), sp.Rational(31, 20)}
    assert exact_constants(sp.Float(0.1) * sp.Symbol("x")).atoms(sp.Rational) == {
        sp.Rational(*Fraction(0.1).as_integer_ratio())}


def test_constants_are_enclosed_exactly_in_arb():
    arb = get_context("arb", dps=40)
    f = SympyObjective("x/10", "x")
    ball = f.value(f.point(["1"], arb), arb)
    assert ball.contains(arb.scalar(Fraction(1, 10)))
    assert arb.radius(ball) < 1e-40


def test_same_value_in_every_context(any_ctx):
    f = SympyObjective("exp(-(x**2+y**2)/4) * cos(y) + tanh(x) - log(2 + sin(x*y))", "x,y")
    x = f.point([0.3, -0.7] if any_ctx.name == "torch" else ["0.3", "-0.7"], any_ctx)
    ref = get_context("mpmath", dps=60)
    exact = f.value(f.point(["0.3", "-0.7"], ref), ref)
    assert abs(any_ctx.to_float(f.value(x, any_ctx)) - float(exact)) < 1e-14


def test_precision_follows_the_context():
    assert get_context("mpmath", dps=50).eps < 1e-49
    assert get_context("float64").eps == 2.0 ** -53
    assert get_context("torch", dtype="float32", device="cpu").prec == 24
    tol = get_context("mpmath", dps=30).tol()
    assert 1e-28 > tol > 1e-32  # 16 units of roundoff at 103 bits


def test_float_grids_evaluate_piecewise_functions():
    from verify import zoo
    f = zoo.get("appendix_d").objective
    fp = get_context("float64")
    X, Y = np.meshgrid(np.linspace(-3, 3, 7), np.linspace(-3, 3, 5))
    grid = f.value(np.stack([X, Y]), fp)
    assert grid.shape == X.shape
    assert abs(grid[2, 3] - f.value(np.array([X[2, 3], Y[2, 3]]), fp)) < 1e-15


def test_rigorous_decisions_by_endpoints():
    arb = get_context("arb")
    a, b = arb.ball("1", "1e-10"), arb.scalar("2")
    assert arb.less(a, b) and not arb.less(b, a)
    with pytest.raises(UndecidedError):
        arb.less(a, arb.scalar("1"))
    claim = compare("c", "a below 1", a, "<", "1", arb)
    assert claim.verdict is Verdict.UNDECIDED
    assert compare("c", "a below 2", a, "<", "2", arb).verdict is Verdict.PROVED
    assert compare("c", "a above 2", a, ">", "2", arb).verdict is Verdict.FAIL


def test_point_claims_use_the_stated_tolerance(fp):
    assert compare("c", "", 1.0 + 1e-12, "==", 1.0, fp, tol=1e-10).passed
    assert not compare("c", "", 1.0 + 1e-8, "==", 1.0, fp, tol=1e-10).passed
    assert boolean("b", "search empty", True, fp).passed and not boolean("b", "", False, fp).passed


def test_certificate_json_keeps_every_digit(mp50):
    cert = Certificate("Thm X", "title", "example")
    value = mp50.scalar(1) / 3
    cert.objects["third"] = mp50.to_str(value)
    cert.add(compare("c", "a third", value, "<=", "1", mp50))
    data = json.loads(cert.to_json())
    assert data["objects"]["third"].count("3") >= 50 and data["passed"] is True
    assert data["claims"][0]["value"].startswith("0.3333333333333333333333333333333")
    neg = Certificate("Thm X", "t", "negative control: something", expected=False)
    neg.add(compare("c", "", 2, "<=", 1, mp50))
    assert not neg.passed and neg.as_expected
    assert "NOT PASSED" in str(neg)


def test_objective_from_dispatch():
    import autograd.numpy as anp
    assert objective_from("x**2", "x").dim == 1
    assert objective_from(lambda x: anp.sum(x ** 2), dim=3).dim == 3
    assert objective_from(lambda x: (x ** 2).sum(), dim=2, backend="torch").contexts == ("torch",)


def test_compiled_cache_keeps_only_recent_contexts():
    from verify.objectives.objective import COMPILED_CONTEXTS_KEPT
    f = SympyObjective("exp(x)**2 + y", "x,y")
    for _ in range(3 * COMPILED_CONTEXTS_KEPT):
        ctx = get_context("arb", dps=20)
        f.value(f.point(["1", "2"], ctx), ctx)
    assert len(f._compiled) == COMPILED_CONTEXTS_KEPT


def test_arb_norm_of_a_box_containing_zero_is_a_valid_ball():
    arb = get_context("arb")
    n = arb.norm(arb.box(["0", "1e-3"], "1e-2"))
    assert n.is_finite() and n.contains(arb.scalar("1e-3"))


def test_svdvals_in_every_context(any_ctx):
    A = any_ctx.matrix([[3, 0], [4, 5]])
    s = [any_ctx.to_float(v) for v in any_ctx.svdvals(A)]
    assert abs(s[0] - 45 ** 0.5) < 1e-12 and abs(s[1] - 5 ** 0.5) < 1e-12
