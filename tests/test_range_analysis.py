"""Range analysis of the Krawczyk module (``range_over_reals`` and its interval helpers) against
sampled values: every bound must contain every sampled value (soundness), and the bounds the module
documents as exact (integer powers, products, reciprocals, the lower bounds of squares and
exponentials) must be the ones returned (a looser bound would lose the proofs that use them)."""
from __future__ import annotations

import math
import random
from fractions import Fraction

import mpmath
import pytest
import sympy as sp

from verify.objectives.parse import parse_expression
from verify.rigorous.krawczyk import (INF, _imul, _ipow, _recip, global_lower_bound,
                                      range_over_reals)

x, y = sp.symbols("x y")
SAMPLES = [0.0, 1e-9, -1e-9, 0.5, -0.5, 1.0, -1.0, 1.5707963267948966, 3.141592653589793, 2.0,
           -2.0, 7.5, -7.5, 40.0, -40.0] + [random.Random(k).uniform(-10, 10) for k in range(20)]

# (expression, the range the analysis must return exactly); the documented crude rules are
# sqrt(t) <= t_hi + 1, exp(t) <= 3^ceil(t_hi), |atan| <= 2, everything else the natural hull.
EXACT = [
    (x, (-INF, INF)),
    (x ** 2, (0, INF)),
    (-x ** 2, (-INF, 0)),
    (x ** 2 + 1, (1, INF)),
    (x ** 3, (-INF, INF)),
    (3 * sp.cos(x), (-3, 3)),
    (sp.cos(x) + 2, (1, 3)),
    (sp.sin(x) * sp.cos(y), (-1, 1)),
    (sp.tanh(x), (-1, 1)),
    (sp.atan(x), (-2, 2)),
    (sp.cosh(x), (1, INF)),
    (1 / (x ** 2 + 1), (0, 1)),
    ((x ** 2 + 1) ** -2, (0, 1)),
    (1 / (sp.cos(x) + 2), (Fraction(1, 3), 1)),
    (1 / (sp.cos(x) - 2), (-1, Fraction(-1, 3))),
    (1 / (sp.cos(x) + 1), (-INF, INF)),       # 1/t on [0, 2]: unbounded, the whole line
    (1 / (sp.cos(x) - 1), (-INF, INF)),
    (1 / x, (-INF, INF)),
    (sp.sqrt(x ** 2), (0, INF)),
    (sp.sqrt(sp.cos(x) + 2), (0, 4)),
    (sp.sqrt((sp.cos(x) + 1) / 4), (0, Fraction(3, 2))),
    (sp.sqrt(sp.cos(x)), (-INF, INF)),        # base may be negative: no claim
    ((sp.cos(x) + 2) ** sp.Rational(3, 2), (-INF, INF)),
    ((sp.cos(x) + 2) ** sp.Rational(1, 3), (-INF, INF)),
    (sp.exp(x ** 2), (1, INF)),
    (sp.exp(-x ** 2), (0, 1)),
    (sp.exp(sp.cos(x)), (0, 3)),
    (sp.exp(sp.cos(x) + 1), (1, 9)),
    (sp.exp(x), (0, INF)),
    (sp.Piecewise((x ** 2, x > 0), (sp.cos(x), True)), (-1, INF)),
    (sp.Piecewise((sp.cos(x) + 2, x > 0), (sp.sin(x) - 3, True)), (-4, 3)),
    ((x ** 2 + y ** 2 - 1) ** 2, (0, INF)),
    (sp.log(x ** 2 + 1), (-INF, INF)),        # not analysed: the whole line
]
SOUND_ONLY = [sp.pi * x ** 2 + sp.E, (x - y) ** 4 - 2 * x * y, sp.exp(-x) * sp.cos(y),
              x * sp.exp(-x ** 2), sp.sqrt(x ** 4 + y ** 2 + 1), sp.atan(x) * sp.tanh(y),
              (x ** 2 + 1) ** sp.Rational(3, 2) - sp.cosh(y)]


def sampled_values(expr):
    syms = sorted(expr.free_symbols, key=str)
    f = sp.lambdify(syms, expr, "mpmath")
    rng = random.Random(0)
    for _ in range(60):
        args = [rng.choice(SAMPLES) for _ in syms]
        try:
            v = f(*args)
        except ZeroDivisionError:
            continue                        # a pole: undefined there
        if isinstance(v, mpmath.mpc):
            continue                        # undefined over the reals there
        yield float(v)


def contains(rng, v) -> bool:
    lo, hi = rng
    return lo - 1e-12 * (1 + abs(v)) <= v <= hi + 1e-12 * (1 + abs(v))


@pytest.mark.parametrize("expr,expected", EXACT, ids=[str(e) for e, _ in EXACT])
def test_documented_range(expr, expected):
    got = range_over_reals(expr)
    assert got == tuple(Fraction(v) if v not in (INF, -INF) else v for v in expected)
    for v in sampled_values(expr):
        assert contains(got, v), (expr, v, got)


@pytest.mark.parametrize("expr", SOUND_ONLY, ids=str)
def test_sampled_values_inside(expr):
    got = range_over_reals(expr)
    assert got[0] <= got[1]
    for v in sampled_values(expr):
        assert contains(got, v), (expr, v, got)


def test_constants_enclosed_tightly():
    for const, value in ((sp.pi, math.pi), (sp.E, math.e)):
        lo, hi = range_over_reals(const)
        assert lo < value < hi and hi - lo <= Fraction(1, 10)
    lo, hi = range_over_reals(sp.pi)
    assert hi - lo < Fraction(1, 1000)
    assert range_over_reals(sp.Rational(7, 3)) == (Fraction(7, 3), Fraction(7, 3))
    assert range_over_reals(sp.Float(0.1)) == (Fraction(0.1), Fraction(0.1))   # the exact binary value


def test_global_lower_bound():
    def bound(text):  # strings are read by the whitelist parser in declared variables
        return global_lower_bound(parse_expression(text, ["x", "y"])[0])
    assert bound("(x**2 + y**2 - 1)**2") == 0
    assert bound("x**2 + 1") == 1
    assert bound("exp(-x**2) - 1") == -1
    assert bound("x**3") is None
    assert isinstance(bound("cos(x)"), Fraction)


# -- the interval helpers on random finite and half-infinite intervals -------------------------------
def random_intervals(n=200):
    rng = random.Random(1)
    for _ in range(n):
        a, b = sorted(Fraction(rng.randint(-40, 40), rng.choice([1, 2, 3, 8])) for _ in range(2))
        kind = rng.random()
        yield (a, b) if kind < 0.7 else ((-INF, b) if kind < 0.85 else (a, INF))
    for special in [(Fraction(0), Fraction(0)), (Fraction(0), Fraction(2)), (Fraction(-2), Fraction(0)),
                    (-INF, INF), (Fraction(0), INF), (-INF, Fraction(0))]:
        yield special


def points_in(p, k=9):
    lo, hi = p
    lo_f = lo if lo != -INF else min(hi, Fraction(0)) - 10 ** 6
    hi_f = hi if hi != INF else max(lo_f, Fraction(0)) + 10 ** 6
    return [lo_f + (hi_f - lo_f) * Fraction(i, k - 1) for i in range(k)] + \
        [v for v in (Fraction(0),) if lo_f <= v <= hi_f]


def attained(rng_out, values, p):
    """Finite endpoints of the image of a finite interval are attained by some sampled point."""
    lo, hi = rng_out
    if INF in p or -INF in p:
        return True
    return lo in values and hi in values


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5])
def test_integer_power_is_the_exact_image(n):
    for p in random_intervals():
        out = _ipow(p, n)
        values = [t ** n for t in points_in(p)]
        assert all(out[0] <= v <= out[1] for v in values), (p, n, out)
        assert attained(out, values, p), (p, n, out)


def test_integer_power_half_lines():
    assert _ipow((-INF, Fraction(2)), 2) == (0, INF)
    assert _ipow((-INF, Fraction(-2)), 2) == (4, INF)
    assert _ipow((Fraction(3), INF), 2) == (9, INF)
    assert _ipow((-INF, Fraction(2)), 3) == (-INF, 8)


def test_product_is_the_exact_image():
    rng = random.Random(2)
    pool = list(random_intervals(60))
    for _ in range(300):
        p, q = rng.choice(pool), rng.choice(pool)
        out = _imul(p, q)
        values = [a * b for a in points_in(p, 5) for b in points_in(q, 5)]
        assert all(out[0] <= v <= out[1] for v in values), (p, q, out)
        if not ({INF, -INF} & set(p + q)):
            assert out[0] in values and out[1] in values
    assert _imul((Fraction(0), Fraction(0)), (-INF, INF)) == (0, 0)    # 0 * inf = 0 by convention
    assert _imul((Fraction(2), Fraction(3)), (Fraction(4), Fraction(5))) == (8, 15)
    assert _imul((Fraction(0), Fraction(1)), (Fraction(2), INF)) == (0, INF)


def test_reciprocal():
    for p in random_intervals():
        out = _recip(p)
        lo, hi = p
        if lo <= 0 <= hi:
            assert out == (-INF, INF)
            continue
        values = [1 / t for t in points_in(p) if t != 0]
        assert all(out[0] <= v <= out[1] for v in values), (p, out)
    assert _recip((Fraction(2), Fraction(4))) == (Fraction(1, 4), Fraction(1, 2))
    assert _recip((Fraction(-4), Fraction(-2))) == (Fraction(-1, 2), Fraction(-1, 4))
    assert _recip((Fraction(2), INF)) == (0, Fraction(1, 2))
    assert _recip((-INF, Fraction(-2))) == (Fraction(-1, 2), 0)
    assert _recip((Fraction(0), Fraction(1))) == (-INF, INF)
    assert _recip((Fraction(-1), Fraction(0))) == (-INF, INF)
