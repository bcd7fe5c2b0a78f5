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

from verify.core.claims import compare
from verify.core.results import RELATIONS, Verdict
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
    ("4*x**2 + 4*y**2 + x/8", "x,y", None),                  # c = 4 > M + 1: R = 1 at f_ref = 0
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


# -- results: the deprecated-keyword shim -------------------------------------------------------------
def test_renamed_keyword_warns_at_the_callers_line_and_refuses_both_names():
    """The warning points at the line that used the old keyword (stacklevel 2: the caller of the
    wrapper), so a user can find it; passing both names is a TypeError; the new name is silent."""
    import warnings

    from verify.core.results import renamed_keyword

    @renamed_keyword("obj")
    def solve(objective=None, scale=1):
        return objective, scale

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert solve(obj="f", scale=2) == ("f", 2)
        line = __import__("inspect").currentframe().f_lineno - 1
        assert solve(objective="g") == ("g", 1)                               # control: silent
    assert len(caught) == 1 and issubclass(caught[0].category, DeprecationWarning)
    assert (caught[0].filename, caught[0].lineno) == (__file__, line)
    assert "'obj' is now 'objective'" in str(caught[0].message)
    with pytest.raises(TypeError, match="both 'objective' and its old name 'obj'"):
        solve(obj="f", objective="g")


@pytest.mark.parametrize("text,names", [("(y - x/2)**2*(x**2 + y**2) + x", "x,y"),
                                        ("(x - y/2)**2*(x**2 + y**2) + y", "x,y"),
                                        ("(z - x/2)**2*(x**2 + y**2 + z**2) + y**4 + x", "x,y,z"),
                                        ("(x - z/2)**2*(x**2 + y**2 + z**2) + y**4 + z", "x,y,z")])
def test_polynomial_lower_bound_refuses_a_leading_form_with_a_zero_on_a_face(text, names):
    """The leading form vanishes along a line through the inside of a pair of faces (the first or
    the last coordinate = +-1), and f -> -inf along it: no coercivity bound may be claimed. The
    control adds the sum of the fourth powers to the leading form (positive definite): bounded."""
    assert polynomial_lower_bound(SympyObjective(text, names), Fraction(0)).value is None
    control = SympyObjective(text + "".join(f" + {s}**4" for s in names.split(",")), names)
    assert polynomial_lower_bound(control, Fraction(0)).value is not None


# -- claims: the margin a claim records, and the default scale of a tier's allowance ------------------
V, B, T = Fraction(3, 4), Fraction(1, 4), Fraction(1, 8)      # dyadic: exact in every arithmetic


def _margin_oracle(v, rel, b, t):
    """How far ``v rel b`` is from failing with allowance t (positive: it holds by that much)."""
    return {"<=": b + t - v, "<": b + t - v, ">=": v - b + t, ">": v - b + t,
            "==": t - abs(v - b), "!=": abs(v - b) - t}[rel]


@pytest.mark.parametrize("kind", ["float64", "mpmath", "torch"])
@pytest.mark.parametrize("rel", RELATIONS)
@pytest.mark.parametrize("v,b", [(V, B), (B, V)])
def test_point_claims_record_the_exact_margin(kind, rel, v, b):
    """Point arithmetics record margin = the oracle's distance to failing, allowance included; its
    sign agrees with the verdict (both sides of the bound: v above and below b)."""
    ctx = get_context(kind, dps=50, device="cpu") if kind != "float64" else get_context(kind)
    claim = compare("m", "margin", ctx.scalar(str(float(v))), rel, ctx.scalar(str(float(b))), ctx,
                    tol=ctx.scalar(str(float(T))))
    want = _margin_oracle(v, rel, b, T)
    assert Fraction(float(claim.margin)) == want and claim.margin_text
    assert (want >= 0 if rel in ("<=", ">=", "==") else want > 0) == (claim.verdict == Verdict.PASS)


@pytest.mark.parametrize("rel", RELATIONS)
def test_rigorous_claims_record_the_plain_difference(rel):
    """Arb decides without allowance, so its margin is the ball of the plain difference (the oracle
    with t = 0) even when a tolerance is passed."""
    arb = get_context("arb", dps=50)
    claim = compare("m", "margin", arb.scalar("0.75"), rel, arb.scalar("0.25"), arb,
                    tol=arb.scalar("0.125"))
    want = _margin_oracle(V, rel, B, Fraction(0))
    assert claim.margin.contains(arb.convert(want)) and claim.margin.rad() == 0


@pytest.mark.parametrize("kind", ["float64", "mpmath"])
@pytest.mark.parametrize("tier", ["rounding", "derived"])
def test_a_tier_without_scale_allows_exactly_the_tier_value(kind, tier):
    """compare(tier=...) without a scale allows ctx.tol(1, tier): a value 0.9 allowances above the
    bound passes '<=', one 1.5 allowances above fails; the recorded tolerance is the tier value."""
    ctx = get_context(kind, dps=50) if kind != "float64" else get_context(kind)
    allowance = ctx.tol(1, tier=tier)
    one = ctx.scalar(1)
    inside = compare("t", "tier", one + allowance * ctx.scalar("0.9"), "<=", one, ctx, tier=tier)
    outside = compare("t", "tier", one + allowance * ctx.scalar("1.5"), "<=", one, ctx, tier=tier)
    assert (inside.verdict, outside.verdict) == (Verdict.PASS, Verdict.FAIL)
    assert inside.tier == tier and inside.tolerance == ctx.to_str(allowance)


# -- results: evidence levels and what a Claim's equality compares -------------------------------------
def test_sampled_evidence_turns_high_precision_strictly_below_2_to_the_minus_60():
    """Unit roundoff strictly below 2^-60 is 'high-precision'; exactly 2^-60 (and float64's 2^-53)
    is 'sampled'; the real contexts fall on their sides."""
    from types import SimpleNamespace

    from verify.core.results import sampled_evidence
    assert sampled_evidence(SimpleNamespace(eps=2.0 ** -60)) == "sampled"
    assert sampled_evidence(SimpleNamespace(eps=2.0 ** -61)) == "high-precision"
    assert sampled_evidence(get_context("float64")) == "sampled"
    assert sampled_evidence(get_context("mpmath", dps=30)) == "high-precision"


def test_claims_with_the_same_record_are_equal_whatever_their_native_values():
    """A Claim is compared by what it records (text, verdict, tier): the native value and margin (an
    Arb ball, a tensor) are left out, so equal records are equal claims; a different verdict is not."""
    from verify.core.results import Claim
    arb = get_context("arb", dps=30)
    one = Claim("c", "s", "1", "<=", "2", "0", Verdict.PROVED, native_value=arb.ball(1, "1e-10"),
                margin=arb.ball(1, "1e-10"))
    two = Claim("c", "s", "1", "<=", "2", "0", Verdict.PROVED, native_value=np.array([1.0, 2.0]),
                margin=np.array([1.0]))
    assert one == two
    assert one != Claim("c", "s", "1", "<=", "2", "0", Verdict.FAIL)


def test_certificates_with_the_same_record_are_equal_whatever_their_artifacts():
    """Artifacts (what a run leaves for figures: arrays, traces) are not part of what a certificate
    records, so they do not enter its equality; a different claim does."""
    from verify.core.results import Certificate, Claim
    claim = Claim("c", "s", "1", "<=", "2", "0", Verdict.PASS)
    one = Certificate("thm", "title", "ex", claims=[claim], artifacts={"run": np.zeros(3)})
    two = Certificate("thm", "title", "ex", claims=[claim], artifacts={"run": np.ones(4)})
    assert one == two
    assert one != Certificate("thm", "title", "ex", claims=[], artifacts={"run": np.zeros(3)})


@pytest.mark.parametrize("rel,inside,outside", [
    ("<=", "1.0625", "1.1875"), ("<", "1.0625", "1.1875"),      # bound 1 widened up to 1 + 1/8
    (">=", "0.9375", "0.8125"), (">", "0.9375", "0.8125"),      # bound 1 widened down to 1 - 1/8
    ("!=", "1.0625", "1"), ("==", "1", "1.0625"),               # no widening: strict endpoints
])
def test_the_sampling_tier_widens_a_rigorous_bound_by_its_allowance(rel, inside, outside):
    """In Arb a 'sampling' allowance (the error of a float64 procedure the balls know nothing of)
    moves the bound by t in the claim's favour for the order relations and leaves '==' and '!='
    strict: a value 1/16 past the bound is PROVED, 3/16 past is FAIL; '==' is never PROVED on a
    point 1/16 off and at most UNDECIDED on the bound itself. The control: the same allowance of
    another tier moves nothing."""
    from verify.ctx.tolerance import SAMPLING, Tolerance
    arb = get_context("arb", dps=30)
    t = Tolerance(SAMPLING, arb.scalar("0.125"))
    decide = lambda v, tol: compare("s", "widen", arb.scalar(v), rel, 1, arb, tol=tol).verdict
    if rel == "==":
        assert (decide(inside, t), decide(outside, t)) == (Verdict.UNDECIDED, Verdict.FAIL)
        return
    assert decide(inside, t) == Verdict.PROVED
    assert decide(outside, t) == (Verdict.UNDECIDED if rel == "!=" else Verdict.FAIL)
    if rel != "!=":
        assert decide(inside, Tolerance("derived", arb.scalar("0.125"))) == Verdict.FAIL


@pytest.mark.parametrize("text,names,reason", [("x**3 + y**2", "x,y", "odd degree 3"),
                                               ("x**3", "x", "odd degree 3"),
                                               ("2 + 0*x", "x", "constant f")])
def test_polynomial_lower_bound_says_why_it_has_no_bound(text, names, reason):
    """An odd degree (unbounded below) and a constant are refused with their own reason."""
    lb = polynomial_lower_bound(SympyObjective(text, names), Fraction(0))
    assert lb.value is None and reason in lb.method


def test_object_key_of_a_long_name_is_a_valid_key_of_40_characters():
    """Keys have at most 40 characters: a long computed name is cut to exactly 40 (and to 40 with the
    '_' that a leading digit gets), never refused; a short one is kept."""
    from verify.core.results import is_object_key, object_key
    for name, want in [("a" * 60, "a" * 40), ("9" + "b" * 60, "_9" + "b" * 38), ("sigma^2", "sigma_2")]:
        assert object_key(name) == want and is_object_key(want)
    assert not is_object_key("a" * 41)


def test_a_deprecated_artifact_attribute_warns_at_the_callers_line():
    """cert.run (an artifact read as an attribute) still works with a DeprecationWarning that points
    at the reading line; a name that is no artifact is an AttributeError."""
    import inspect
    import warnings

    from verify.core.results import Certificate
    cert = Certificate("thm", "title", "ex", artifacts={"run": [1, 2]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert cert.run == [1, 2]
        line = inspect.currentframe().f_lineno - 1
    assert [(w.category, w.filename, w.lineno) for w in caught] == [(DeprecationWarning, __file__, line)]
    with pytest.raises(AttributeError, match="no attribute 'trace'"):
        cert.trace
