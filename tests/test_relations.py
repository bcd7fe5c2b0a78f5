"""How a claim is decided (``verify.core.claims``): the full relation table in every arithmetic.

Each verdict is checked against an oracle written in exact rational arithmetic:

* point arithmetics (float64, mpmath, torch) pass ``value REL bound`` with the allowance ``tol``
  (``v <= b + t``, ``v < b + t``, ``v >= b - t``, ``v > b - t``, ``|v - b| <= t``, ``|v - b| > t``);
  the values sit on, just inside and just outside the allowance (all dyadic, so exact in every
  arithmetic and the oracle is exact);
* Arb decides on endpoints without allowance: PROVED when every point of the enclosure satisfies the
  relation, FAIL when none does, UNDECIDED otherwise, for enclosures that straddle, touch (the bound
  is an exact endpoint) and clear the bound. '==' is never PROVED and '!=' never FAILs on balls
  (the module's documented rule: equality can only be excluded).
"""
from __future__ import annotations

import math
from decimal import Decimal, getcontext
from fractions import Fraction

import flint
import pytest

from verify.core.claims import boolean, compare
from verify.core.results import RELATIONS, Verdict
from verify.ctx import get_context

POINT_KINDS = ["float64", "mpmath", "torch"]
D = Fraction(1, 64)


def point_ctx(kind):
    return get_context(kind, dps=50, device="cpu") if kind != "float64" else get_context(kind)


def dec(q: Fraction) -> str:
    """The exact decimal string of a dyadic rational."""
    getcontext().prec = 60
    return str(Decimal(q.numerator) / Decimal(q.denominator))


def point_oracle(v: Fraction, rel: str, b: Fraction, t: Fraction) -> Verdict:
    ok = {"<=": v <= b + t, "<": v < b + t, ">=": v >= b - t, ">": v > b - t,
          "==": abs(v - b) <= t, "!=": abs(v - b) > t}[rel]
    return Verdict.PASS if ok else Verdict.FAIL


def offsets(t: Fraction) -> list[Fraction]:
    """On, just inside and just outside both edges of the allowance, and the bound itself."""
    return sorted({s * t + e for s in (-1, 0, 1) for e in (-D, 0, D)})


@pytest.mark.parametrize("kind", POINT_KINDS)
@pytest.mark.parametrize("rel", RELATIONS)
@pytest.mark.parametrize("tol", [Fraction(0), Fraction(1, 8)])
def test_point_relation_table(kind, rel, tol):
    ctx = point_ctx(kind)
    b = Fraction(1)
    for off in offsets(tol):
        v = b + off
        claim = compare("c", "table", ctx.scalar(dec(v)), rel, "1", ctx, tol=ctx.scalar(dec(tol)))
        assert claim.verdict == point_oracle(v, rel, b, tol), (kind, rel, dec(v), dec(tol))


@pytest.mark.parametrize("kind", POINT_KINDS)
@pytest.mark.parametrize("bound", [1, "1", Fraction(1), 1.0])
def test_point_bound_forms(kind, bound):
    """The bound may be an int, a decimal string, a Fraction or a float: the same decision."""
    ctx = point_ctx(kind)
    for rel in RELATIONS:
        for v in (Fraction(63, 64), Fraction(1), Fraction(65, 64)):
            got = compare("c", "forms", ctx.scalar(dec(v)), rel, bound, ctx).verdict
            assert got == point_oracle(v, rel, Fraction(1), Fraction(0)), (kind, rel, v, bound)


def test_mpmath_decides_with_all_its_digits():
    """A difference far below float64 resolution still decides a claim in mpmath (dps 50), while
    float64 and torch, which cannot represent it, decide on the rounded value."""
    tiny = "1.125000000000000000000000000001"     # 1.125 + 1e-30: rounds to 1.125 in binary64
    mp = point_ctx("mpmath")
    assert compare("c", "mp", mp.scalar(tiny), "<=", "1", mp, tol=mp.scalar("0.125")).verdict \
        == Verdict.FAIL
    assert compare("c", "mp", mp.scalar(tiny), ">", "1.125", mp).verdict == Verdict.PASS
    assert compare("c", "mp", mp.scalar(tiny), "==", "1.125", mp).verdict == Verdict.FAIL
    for kind in ("float64", "torch"):
        ctx = point_ctx(kind)
        assert compare("c", kind, ctx.scalar(tiny), "<=", "1", ctx,
                       tol=ctx.scalar("0.125")).verdict == Verdict.PASS


def test_default_tolerance_is_zero_and_recorded(any_ctx):
    claim = compare("c", "recorded", any_ctx.scalar(2), "<=", 3, any_ctx)
    assert float(Fraction(claim.tolerance)) == 0.0
    assert claim.relation == "<=" and claim.context == any_ctx.name
    assert claim.verdict.ok
    with_tol = compare("c", "recorded", 1, ">=", 2, any_ctx, tol=any_ctx.scalar("0.5"))
    if not any_ctx.rigorous:
        assert with_tol.verdict == Verdict.FAIL and float(with_tol.tolerance) == 0.5


# -- rigorous (Arb) -----------------------------------------------------------------------------------
def frac(b) -> Fraction:
    """The exact rational value of an exact Arb number (an endpoint)."""
    assert b.is_exact()
    man, exp = b.man_exp()
    return Fraction(int(man)) * Fraction(2) ** int(exp)


def rigorous_oracle(lo: Fraction, hi: Fraction, rel: str, b: Fraction) -> Verdict:
    every = {"<": hi < b, "<=": hi <= b, ">": lo > b, ">=": lo >= b,
             "!=": not lo <= b <= hi, "==": lo == hi == b}[rel]
    none = {"<": lo >= b, "<=": lo > b, ">": hi <= b, ">=": hi < b,
            "!=": lo == hi == b, "==": not lo <= b <= hi}[rel]
    if rel == "==" and every or rel == "!=" and none:
        return Verdict.UNDECIDED            # equality is never proved on balls, only excluded
    return Verdict.PROVED if every else Verdict.FAIL if none else Verdict.UNDECIDED


@pytest.fixture(scope="module")
def arb():
    return get_context("arb", dps=50)


def enclosures(arb):
    """(name, enclosure) pairs: [0, 1] (upper end rounded outward), wide and narrow balls, a
    point."""
    return [("[0,1]", flint.arb(0, 1).nonnegative_part()), ("ball(1/2, 1/2)", arb.ball("0.5", "0.5")),
            ("[-1,1]", arb.ball(0, 1)),
            ("[1/3 +- 1e-20]", arb.ball(Fraction(1, 3), "1e-20")), ("point 3/4", arb.scalar("0.75"))]


def bounds_for(x):
    """Bounds that the enclosure straddles, touches from each side, and clears on each side."""
    lo, hi = x.lower(), x.upper()
    out = {"lower end": lo, "upper end": hi, "below": flint.arb(math.floor(frac(lo)) - 1),
           "above": flint.arb(math.ceil(frac(hi)) + 1)}
    if not x.is_exact():
        out["midpoint"] = x.mid()
    return out


@pytest.mark.parametrize("rel", RELATIONS)
@pytest.mark.parametrize("tol", [None, "0.5"])
def test_rigorous_relation_table(arb, rel, tol):
    """Every enclosure against every bound; the tolerance plays no part in a rigorous decision."""
    for name, x in enclosures(arb):
        lo, hi = frac(x.lower()), frac(x.upper())
        for where, b in bounds_for(x).items():
            t = None if tol is None else arb.scalar(tol)
            got = compare("c", "table", x, rel, b, arb, tol=t).verdict
            assert got == rigorous_oracle(lo, hi, rel, frac(b)), (name, rel, where)


def test_enclosure_touching_zero_is_not_proved_positive(arb):
    """The issue's example: the enclosure [0, 1] is not proved > 0 (but is proved >= 0)."""
    x = flint.arb(0, 1).nonnegative_part()                  # exactly [0, 1 + 2^-28]
    assert frac(x.lower()) == 0 and 1 <= frac(x.upper()) < Fraction(11, 10)
    assert compare("c", "pos", x, ">", 0, arb).verdict == Verdict.UNDECIDED
    assert compare("c", "pos", x, ">=", 0, arb).verdict == Verdict.PROVED
    assert compare("c", "pos", x, "<", 0, arb).verdict == Verdict.FAIL
    assert compare("c", "pos", -x, "<", 0, arb).verdict == Verdict.UNDECIDED
    assert compare("c", "pos", -x, "<=", 0, arb).verdict == Verdict.PROVED
    assert compare("c", "pos", x, "!=", 0, arb).verdict == Verdict.UNDECIDED


@pytest.mark.parametrize("bound", [0, "0", Fraction(0), 0.0])
def test_rigorous_bound_forms(arb, bound):
    x = arb.ball(1, "0.5")                                  # [1/2, 3/2] up to rounding
    assert compare("c", "forms", x, ">", bound, arb).verdict == Verdict.PROVED
    assert compare("c", "forms", x, "<=", bound, arb).verdict == Verdict.FAIL
    assert compare("c", "forms", x, "!=", bound, arb).verdict == Verdict.PROVED
    assert compare("c", "forms", x, "==", bound, arb).verdict == Verdict.FAIL


# -- yes/no claims ------------------------------------------------------------------------------------
def test_boolean_claims(any_ctx):
    ok = Verdict.PROVED if any_ctx.rigorous else Verdict.PASS
    assert boolean("b", "yes", True, any_ctx).verdict == ok
    assert boolean("b", "no", False, any_ctx).verdict == Verdict.FAIL
    assert boolean("b", "unknown", None, any_ctx).verdict == Verdict.UNDECIDED
    claim = boolean("b", "yes", True, any_ctx, evidence="why")
    assert (claim.value, claim.relation, claim.bound, claim.note) == ("True", "==", "True", "why")
