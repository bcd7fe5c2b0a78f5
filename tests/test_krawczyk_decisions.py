"""The decisions of the Krawczyk module at their boundaries: a zero on the edge of the box is never
excluded and never called interior, an ill-conditioned Jacobian is refused, Gershgorin edges use
the off-diagonal mass, an enclosure touching 0 does not exclude 0, and the helpers round outward."""
from __future__ import annotations

import math
from fractions import Fraction

import flint
import numpy as np
import pytest
import sympy as sp

from verify.ctx import get_context
from verify.errors import SamVerifyError
from verify.objectives.zoo import get
from verify.rigorous.krawczyk import (all_finite, excludes_zero, exact_value, inflate, krawczyk,
                                      positive_definite, smooth_near, to_fraction, upper_float)


@pytest.fixture(scope="module")
def arb():
    return get_context("arb", dps=30)


def linear_1d(arb, a):
    """F(x) = x - a: its only zero is a; Y = 1 and K(X) = {a} exactly."""
    return (lambda v: arb.stack([v[0] - a]), lambda V: arb.matrix([[1]]))


def box_1d(arb, c, r):
    return arb.ball(c, r)          # the ball krawczyk builds (radius rounded outward)


@pytest.mark.parametrize("side", [-1, 1])
def test_zero_on_the_edge_is_neither_excluded_nor_interior(arb, side):
    c, r = Fraction(1, 2), Fraction(1, 8)
    X = box_1d(arb, c, r)
    a = X.upper() if side > 0 else X.lower()                 # the zero sits exactly on the edge
    res, jac = linear_1d(arb, a)
    out = krawczyk(res, jac, [arb.scalar(c)], r, arb)
    assert out.status == "unknown", out.reason               # 'none' would deny an existing zero
    inside = krawczyk(*linear_1d(arb, arb.scalar(c + r / 2)), [arb.scalar(c)], r, arb)
    assert inside.status == "unique" and inside.margin == pytest.approx(0.5, rel=1e-6)
    assert inside.K[0].contains(arb.scalar(c + r / 2))      # K(X) holds every zero in X
    outside = krawczyk(*linear_1d(arb, arb.scalar(c + 2 * r)), [arb.scalar(c)], r, arb)
    assert outside.status == "none" and outside.margin > 1


def test_per_coordinate_radii_and_contraction(arb):
    # F(x, y) = (x^2 - 2, y - x) on a box with radii (r, 4 r): ||I - Y J(X)|| = r / c0 (row sums)
    res = lambda v: arb.stack([v[0] * v[0] - 2, v[1] - v[0]])  # noqa: E731
    jac = lambda V: arb.matrix([[2 * V[0], 0], [-1, 1]])     # noqa: E731
    c = [arb.scalar(1.4142), arb.scalar(1.4142)]
    r = Fraction(1, 256)
    out = krawczyk(res, jac, c, [r, 4 * r], arb)
    assert out.status == "unique"
    assert float(out.X[1].rad()) == pytest.approx(4 * float(out.X[0].rad()), rel=1e-6)
    assert float(r) / 1.4142 <= out.contraction <= float(r) / 1.4142 * (1 + 1e-6)
    assert 0 < out.margin < 1
    far = krawczyk(res, jac, [arb.scalar(3.0), arb.scalar(3.0)], [Fraction(1, 10)] * 2, arb)
    assert far.status == "none" and "disjoint" in far.reason


def test_non_finite_or_ill_conditioned_jacobian_is_refused(arb):
    res = lambda v: arb.stack([v[0], v[1]])                   # noqa: E731
    inf_jac = lambda V: arb.matrix([[flint.arb("inf"), 0], [0, 1]])  # noqa: E731
    c = [arb.scalar(0), arb.scalar(0)]
    assert "not finite" in krawczyk(res, inf_jac, c, Fraction(1, 4), arb).reason
    inf_res = lambda v: arb.stack([v[0] + flint.arb("inf"), v[1]])   # noqa: E731
    assert "not finite" in krawczyk(inf_res, lambda V: arb.eye(2), c, Fraction(1, 4), arb).reason
    for cond, status in ((1.5e12, "unknown"), (1e11, "unique")):
        J = arb.matrix([[1, 0], [0, 1 / cond]])
        out = krawczyk(lambda v: J @ v, lambda V: J, c, Fraction(1, 4), arb)
        assert out.status == status, (cond, out.reason)
        assert out.condition == pytest.approx(cond, rel=1e-6)


def test_gershgorin_uses_the_off_diagonal_mass(arb):
    # S = [[1, s], [s, 1]] with s in [0.2, 1.2]: some members are indefinite (s > 1)
    wide = arb.matrix([[1, 0], [0, 1]])
    wide[0, 1] = wide[1, 0] = arb.ball("0.7", "0.5")
    assert positive_definite(wide, arb).status != "positive"
    unresolved = arb.matrix([[1, 0], [0, 1]])
    unresolved[0, 1] = unresolved[1, 0] = arb.ball("0.5", "0.3")  # s in [0.2, 0.8]: all PD, but
    out = positive_definite(unresolved, arb)                      # Gershgorin cannot tell
    assert out.status == "unknown" and 0 < out.rayleigh.lower()   # v^T S v = 1 - s > 0: no refutation
    narrow = arb.matrix([[1, 0], [0, 1]])
    narrow[0, 1] = narrow[1, 0] = arb.ball("0.5", "0.05")    # s in [0.45, 0.55]: all PD
    assert positive_definite(narrow, arb).status == "positive"
    indefinite = arb.matrix([[1, 2], [2, 1]])
    out = positive_definite(indefinite, arb)
    assert out.status == "not_positive" and out.rayleigh < 0
    nonsym = arb.matrix([[2, 3], [-3, 2]])                   # symmetric part 2 I: PD as a form
    assert positive_definite(nonsym, arb).status == "positive"
    assert positive_definite(arb.matrix([[0, 0], [0, 1]]), arb).status == "unknown"  # q = 0 refutes nothing
    touching = arb.matrix([[0, 0], [0, 1]])
    touching[0, 0] = flint.arb(0, 1).nonnegative_part() + 1                  # [1, 2]
    touching[1, 1] = flint.arb(0, 1).nonnegative_part()                      # [0, 1]: singular members
    assert positive_definite(touching, arb).status != "positive"
    two = positive_definite(arb.matrix([[2, 0], [0, 2]]), arb)
    assert two.status == "positive" and two.bound.contains(2) and two.bound.rad() < 1e-20
    lopsided = arb.matrix([[1, 0], [0, 1]])
    lopsided[0, 0] = arb.ball(2, "1.5")                      # edges [0.5, 3.5] and [1, 1]
    out = positive_definite(lopsided, arb)
    assert out.status == "positive" and float(out.bound.lower()) == pytest.approx(0.5, abs=1e-6)
    inf = arb.matrix([[1, 0], [0, 1]])
    inf[0, 0] = flint.arb("inf")
    out = positive_definite(inf, arb)
    assert out.status == "unknown" and "not finite" in out.reason


@pytest.mark.parametrize("v", [(1, 3), (2, 5), (1, 2, 3), (3, -1, 4, 1)])
def test_gershgorin_edges_subtract_the_off_diagonal_mass(arb, v):
    """S = v v^T is singular (rank one), never positive definite. Q from eigh only nearly
    diagonalises it: Q^T S Q has off-diagonal entries ~1e-16 next to a diagonal entry ~1e-32, so
    only subtracting the off-diagonal mass keeps the least Gershgorin edge below 0."""
    S = arb.matrix([[a * b for b in v] for a in v])
    out = positive_definite(S, arb)
    assert out.status != "positive" and out.bound < 0


def test_smooth_near_refuses_a_branch_that_is_not_finite_near_the_box(arb):
    """A piecewise f whose branch on the box is 1/x, evaluated near x = 0: every condition is
    decided (y < 1 on the whole box) but the value is not finite, so smoothness is not shown."""
    x, y = sp.symbols("x y", real=True)
    from verify.objectives.objective import objective_from
    obj = objective_from(sp.Piecewise((1 / x, y < 1), (y, True)), [x, y])
    at_pole = np.array([arb.ball(0, "0.1"), arb.ball(0, "0.1")], dtype=object)
    away = np.array([arb.ball(2, "0.1"), arb.ball(0, "0.1")], dtype=object)
    ok, why = smooth_near(obj, [at_pole], arb)
    assert ok is None and "not finite" in why
    assert smooth_near(obj, [away], arb)[0] is True


def test_excludes_zero(arb):
    touching = flint.arb(0, 1).nonnegative_part()            # exactly [0, 1]
    assert excludes_zero([touching, -touching]) is None
    assert excludes_zero([arb.ball(0, 1), arb.ball(2, "0.5")]) == 1
    assert excludes_zero([arb.ball(-2, "0.5"), arb.ball(0, 1)]) == 0
    assert excludes_zero([arb.scalar(0)]) is None
    assert excludes_zero([arb.ball("0.7", "0.2")]) == 0
    assert excludes_zero([arb.ball("-0.7", "0.2")]) == 0


def test_conversions_and_outward_rounding(arb):
    assert to_fraction(3) == 3 and to_fraction(Fraction(2, 3)) == Fraction(2, 3)
    assert to_fraction(sp.Rational(5, 7)) == Fraction(5, 7) and to_fraction(" 2.5 ") == Fraction(5, 2)
    with pytest.raises(SamVerifyError):
        to_fraction("sqrt(2)")
    with pytest.raises(SamVerifyError):
        to_fraction("1/0")
    assert upper_float(arb.ball(1, "0.5")) >= 1.5
    b = arb.ball(1, "1e-20")
    assert upper_float(b) > 1.0 and Fraction(upper_float(b)) >= Fraction(1)
    assert upper_float(arb.scalar(-3)) > -3 and upper_float(arb.scalar(-3)) - (-3) < 1e-14
    assert all_finite(np.array([arb.scalar(1), arb.scalar(2)], dtype=object))
    assert not all_finite(np.array([arb.scalar(1), flint.arb("inf")], dtype=object))


def test_inflate_is_strictly_larger_by_the_stated_factor(arb):
    X = np.array([arb.ball(1, Fraction(1, 4)), arb.ball(-2, 0)], dtype=object)
    Y = inflate(arb, X)
    for a, b in zip(X, Y):
        assert b.contains(a) and b.mid() == a.mid()
        assert float(b.rad()) > float(a.rad())
    assert float(Y[0].rad()) == pytest.approx(float(X[0].rad()) * 9 / 8, rel=1e-6)
    assert 0 < float(Y[1].rad()) < 1e-15


def test_smooth_near(arb):
    ad = get("appendix_d").objective
    inside = np.array([arb.ball("-0.5", "0.1"), arb.ball("0.2", "0.1")], dtype=object)
    across = np.array([arb.ball("0", "0.1"), arb.ball("0.2", "0.1")], dtype=object)
    edge = np.array([arb.ball("-0.1", "0.09"), arb.ball("0.2", "0.1")], dtype=object)  # 9/8 reaches 0
    assert smooth_near(ad, [inside], arb)[0] is True
    assert smooth_near(ad, [inside, across], arb)[0] is None
    assert smooth_near(ad, [edge], arb)[0] is None
    ok, why = smooth_near(get("ring").objective, [across], arb)
    assert ok is True and why.startswith("f is analytic")     # decided without evaluating


def test_exact_value_decides_piecewise_exactly():
    x = sp.Symbol("x", real=True)
    f = sp.Piecewise((x ** 2, x < 1), (2 * x - 1, True))
    assert exact_value(f, [x], ["1/2"]) == sp.Rational(1, 4)
    assert exact_value(f, [x], ["3"]) == 5
    assert math.isclose(float(exact_value(sp.cos(x), [x], ["0"])), 1.0)
    assert exact_value("x +", [x], ["1"]) is None               # not an expression: no value
