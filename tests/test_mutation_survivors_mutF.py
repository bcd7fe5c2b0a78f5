"""Behaviour tests for decisions of the core files (``verify/core/claims.py``, ``sam.py``,
``results.py``, ``verify/rigorous/krawczyk.py``) that a fresh mutation sample (tools/mutate.py,
issue 14, records ``*-60.json`` and later) showed no test could fail. Each test checks a rule on
both sides of its boundary or a derived constant against an independent computation."""
from __future__ import annotations

import re
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from verify.ctx import get_context
from verify.objectives.objective import SympyObjective
from verify.rigorous.krawczyk import local_minimizer_box, polynomial_lower_bound


# -- krawczyk: the coercivity bound of polynomials ---------------------------------------------------
def _numbers(method: str) -> dict[str, float]:
    """c, M and R as the method text of polynomial_lower_bound states them."""
    pattern = {"c": r"leading form >= ([-\d.e+]+)", "M": r"lower terms <= ([-\d.e+]+)",
               "R": r"R = ([-\d.e+]+)"}
    return {k: float(re.search(p, method).group(1)) for k, p in pattern.items()}


def _boundary_minimum(lead, symbols) -> float:
    """min of the leading form on the boundary of [-1, 1]^d, by dense sampling of its faces."""
    d = len(symbols)
    f = sp.lambdify(symbols, lead, "numpy")
    grid = np.linspace(-1, 1, 201)
    out = np.inf
    for i in range(d):
        for s in (-1.0, 1.0):
            mesh = np.meshgrid(*([grid] * (d - 1))) if d > 1 else []
            cols = [m.ravel() for m in mesh]
            cols.insert(i, np.full(cols[0].shape if cols else (1,), s))
            out = min(out, float(np.min(f(*cols))))
    return out


@pytest.mark.parametrize("text,names,x_min", [
    ("(x - 10)**2", "x", [10.0]),
    ("(x - 10)**2 + 3*y**2 - x*y/4", "x,y", None),
    ("x/5 + (x**2 + y**2 - 1)**2 + x**3*y/10", "x,y", None),
])
@pytest.mark.parametrize("f_ref", [Fraction(0), Fraction(50), Fraction(115), Fraction(400)])
def test_polynomial_lower_bound_states_its_constants_and_stays_below_the_minimum(text, names, x_min,
                                                                                 f_ref):
    """R = max(1, (M + max(f_ref, 0) + 1) / c), with M the sum of |coefficients| of the terms of
    degree < n and 0 < c <= min of the leading form on the cube's boundary; and L <= min f for every
    reference value (a large f_ref must widen the box, never shrink it: (x - 10)^2 with f_ref = 115
    puts the minimizer outside a box of half-width (M - f_ref + 1) / c = 6)."""
    obj = SympyObjective(text, names)
    poly = sp.Poly(sp.expand(obj.expr), *obj.symbols)
    n = poly.total_degree()
    lead = sum(c * sp.prod([s ** a for s, a in zip(obj.symbols, m)])
               for m, c in poly.terms() if sum(m) == n)
    M = sum(abs(c) for m, c in poly.terms() if sum(m) < n)
    lb = polynomial_lower_bound(obj, f_ref)
    got = _numbers(lb.method)
    assert got["M"] == pytest.approx(float(M), rel=1e-3)
    assert 0 < got["c"] <= _boundary_minimum(lead, obj.symbols) + 1e-12
    R = max(1.0, (float(M) + max(float(f_ref), 0.0) + 1) / got["c"])
    assert got["R"] == pytest.approx(R, rel=1e-3)
    fp = get_context("float64")
    start = x_min or [0.0] * obj.dim
    from scipy.optimize import minimize
    best = minimize(lambda x: float(obj.value(x, fp)), start, method="Nelder-Mead",
                    options={"xatol": 1e-10, "fatol": 1e-12}).fun
    assert float(lb.value) <= best


# -- krawczyk: the proof of a strict local minimizer near a given centre ------------------------------
@pytest.mark.parametrize("dim", [1, 2])
def test_local_minimizer_box_proves_a_centre_within_its_first_radius(dim):
    """The first box has radius 2^-20: a centre 0.9 * 2^-20 from the minimizer is proved (the box
    holds it), in every dimension; one 1e-4 away is not (no box around it holds a critical point)."""
    arb = get_context("arb", dps=30)
    x_star = [Fraction(1, 3), Fraction(-1, 7)][:dim]
    names = "x,y"[: 2 * dim - 1]
    text = " + ".join(f"{k + 1}*({s} - ({q.numerator})/({q.denominator}))**2"
                      for k, (s, q) in enumerate(zip(names.split(","), x_star)))
    obj = SympyObjective(text, names)
    near = [float(q) + 0.9 * 2.0 ** -20 for q in x_star]
    far = [float(q) + 1e-4 for q in x_star]
    proved = local_minimizer_box(obj, near, arb)
    assert proved["status"] == "proved" and proved["radius"] == Fraction(1, 2 ** 20)
    for q, iv in zip(x_star, proved["box"]):
        assert iv.contains(arb.convert(q))                                 # the minimizer is inside
    assert local_minimizer_box(obj, far, arb)["status"] == "unknown"
