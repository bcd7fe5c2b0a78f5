"""Appendix D's rho threshold in a proved bracket (issue 16, item 1d): the branch hull, the cover's
excluded boxes re-checked by mpmath at twice the Arb digits on samples inside every box, the
existence proof re-checked by a 60-digit Newton, and the negative controls (ends swapped / shifted)."""
import random
from fractions import Fraction

import pytest
import sympy as sp

from theorems import refutations as R
from theorems import rho_bracket as B
from verify import sam, zoo
from verify.core.solve import newton
from verify.ctx import get_context, shared_context
from verify.objectives.objective import SympyObjective

mp = get_context("mpmath", dps=2 * B.DPS)
OBJ = zoo.get("appendix_d").objective


def _arb():
    return shared_context("arb", B.DPS)


def _samples(box, k, rng):
    """The centre and k random points of a parameter box (exact rationals inside it)."""
    pts = [[(a + b) / 2 for a, b in box]]
    return pts + [[a + (b - a) * Fraction(rng.random()) for a, b in box] for _ in range(k)]


def _at(s, rho, t):
    """y = x*(s) - rho v(t), v(t) and grad f(y) in mpmath (the Piecewise itself, no hull)."""
    s, rho, t = (mp.scalar(v) for v in (s, rho, t))
    v = mp.vector([mp.cos(t), mp.sin(t)])
    y = R.appendix_d_arc(s, mp) - rho * v
    return y, v, OBJ.grad(y, mp)


# -- the branch hull ---------------------------------------------------------------------------------------
def test_appendix_d_is_c1_at_its_seams():
    ok, why = B.BranchHull(OBJ).c1_seams()
    assert ok, why


def test_a_kink_is_not_c1():
    kink = SympyObjective(sp.Piecewise((0, sp.Symbol("x") < 0), (sp.Symbol("x"), True)) + sp.Symbol("y") ** 2, "x,y")
    ok, why = B.BranchHull(kink).c1_seams()
    assert not ok and "differ" in why


def test_hull_encloses_the_gradient_across_a_seam():
    ctx, bh = _arb(), B.BranchHull(OBJ)
    with ctx.working():
        X = ctx.box([-1.0, 0.6], Fraction(1, 64))        # straddles x = -1 and y = 3/5
        objs = bh.objectives(X, ctx)
        assert len(objs) > 1
        g = B.hull([o.grad(X, ctx) for o in objs])
    rng = random.Random(1)
    for _ in range(20):
        y = [-1 + (rng.random() - 0.5) / 33, 0.6 + (rng.random() - 0.5) / 33]
        gy = OBJ.grad(mp.vector(y), mp)
        assert all(float(b.lower()) - 1e-25 <= float(v) <= float(b.upper()) + 1e-25 for v, b in zip(gy, g))


def test_hull_refuses_conditions_it_cannot_split():
    x, y = sp.symbols("x y")
    obj = SympyObjective(sp.Piecewise((0, x + y < 0), (1, True)) + x ** 2, "x,y")
    with pytest.raises(B.UndecidedError):
        B.BranchHull(obj)


_X, _Y = OBJ.symbols
_HALF = sp.Rational(1, 2)


@pytest.mark.parametrize("extra, even", [
    (sp.Integer(0), True), (_Y / 7, False), (_X * _Y ** 3, False),
    (sp.Piecewise((0, _Y < -_HALF), (_X, True)), False),
    (sp.Piecewise((_X ** 2, _Y < -_HALF), (0, _Y <= _HALF), (_X ** 2, True)), True)])
def test_mirror_symmetry_is_decided_piece_by_piece(extra, even):
    """appendix_d (+ 0) is even in y; an odd term, or a Piecewise that is not even, is refused;
    an even Piecewise (mirrored intervals, the same formulas) is accepted."""
    assert B.mirror_symmetric(SympyObjective(OBJ.expr + extra, "x,y")) is even


# -- below rho_lo: the cover, re-checked box by box -----------------------------------------------------------
def test_cover_boxes_rechecked_by_mpmath():
    """A slice of the cover (rho in [1.86, rho_lo = 1.9], where the bracket's lower end is decided):
    every excluded box is re-checked at its centre, and 100 random boxes at 4 more points, at 60
    digits."""
    ctx, bh, kept = _arb(), B.BranchHull(OBJ), []
    res = B.cover(bh, Fraction(186, 100), Fraction(B.RHO_LO), Fraction(1, 1000), ctx, keep=kept)
    assert res["status"] == "proved" and len(kept) == sum(res["counts"].values())
    rng = random.Random(16)
    extra = set(rng.sample(range(len(kept)), 100))
    for i, (box, why) in enumerate(kept):
        for s, rho, t in _samples(box, 4 if i in extra else 0, rng):
            y, v, g = _at(s, rho, t)
            cross, dot = g[0] * v[1] - g[1] * v[0], g @ v
            if why == "cross":
                assert cross != 0
            elif why == "dot":
                assert dot < 0
            else:
                assert OBJ.value(y, mp) < mp.scalar(Fraction(1, 1000))
            # the statement itself: y + rho u(y) is not x*(s) unless f(y) < eps
            assert cross != 0 or dot < 0 or OBJ.value(y, mp) < mp.scalar(Fraction(1, 1000))


def test_cover_fails_above_the_threshold():
    """rho_lo = 1.905 > rho* ~ 1.90123: a hallucinated preimage exists in the range; the cover must
    stop at an undecided box, and that box must hold one (mpmath Newton from its centre)."""
    res = B.cover(B.BranchHull(OBJ), Fraction(1, 4), Fraction(1905, 1000), Fraction(1, 1000), _arb())
    assert res["status"] == "undecided"
    (s0, s1), (r0, r1), (t0, t1) = [[Fraction(v) for v in iv] for iv in res["box"]]
    s, rho = (s0 + s1) / 2, (r0 + r1) / 2
    xs = R.appendix_d_arc(mp.scalar(s), mp)
    y0, _, _ = _at(s, rho, (t0 + t1) / 2)
    res_fn = lambda y: sam.perturbed_point(OBJ, y, mp.scalar(rho), mp) - xs  # noqa: E731
    jac = lambda y: mp.eye(2) + mp.scalar(rho) * sam.du_matrix(OBJ, y, mp)  # noqa: E731
    y = newton(res_fn, jac, y0, mp, what="preimage").x
    assert float(mp.norm(y - y0)) < 1e-2 and float(mp.norm(OBJ.grad(y, mp))) > 1e-6


# -- above rho_hi: existence --------------------------------------------------------------------------------
def test_existence_at_rho_hi_rechecked_by_newton():
    ctx = _arb()
    ex = B.exists_at(Fraction(B.RHO_HI), ctx)
    assert B._existence_proved(ex)
    rho = mp.scalar(Fraction(B.RHO_HI))
    xs = R.appendix_d_arc(mp.scalar(B.S_END), mp)
    y = newton(lambda y: sam.perturbed_point(OBJ, y, rho, mp) - xs,
               lambda y: mp.eye(2) + rho * sam.du_matrix(OBJ, y, mp), mp.vector(ex["center"]), mp,
               what="x_h").x
    assert all(float(b.lower()) <= float(v) <= float(b.upper()) for v, b in zip(y, ex["X"]))
    # near the maximizer at rho_hi = 1.903 (|grad f| ~ 9e-4): nonzero far above the 60-digit rounding
    assert abs(float(OBJ.value(xs, mp))) < 1e-50 and float(mp.norm(OBJ.grad(y, mp))) > 1e-5


def test_axis_existence_rechecked_by_mpmath():
    """Every rho in [1.93, 2.8]: y = (rho - 1.55, 0) sent by one SAM perturbation onto x*(0) (60
    digits, at 25 values of rho), with grad f(y) != 0; the range may not start below the axis
    threshold ~ 1.92642 (control)."""
    ok, why = B.axis_existence(Fraction(193, 100), Fraction(14, 5), _arb())
    assert ok, why
    for k in range(25):
        rho = Fraction(193, 100) + (Fraction(14, 5) - Fraction(193, 100)) * k / 24
        y = mp.vector([mp.scalar(rho - Fraction(31, 20)), mp.scalar(0)])
        landing = sam.perturbed_point(OBJ, y, mp.scalar(rho), mp)
        assert float(mp.norm(landing - mp.vector([mp.scalar(Fraction(-31, 20)), mp.scalar(0)]))) < 1e-50
        assert float(OBJ.grad(y, mp)[0]) < 0
    assert not B.axis_existence(Fraction(192, 100), Fraction(14, 5), _arb())[0]


@pytest.mark.parametrize("rho", [Fraction(189, 100), Fraction(B.RHO_LO)])
def test_no_existence_below_the_threshold(rho):
    assert not B._existence_proved(B.exists_at(rho, _arb()))


def _cross_dot_mp(rho, t):
    """g x v and g . v at y = x*(3/5) - rho v(t), in mpmath at twice the Arb digits (the Piecewise
    itself, no branch hull)."""
    t = mp.scalar(t)
    v = mp.vector([mp.cos(t), mp.sin(t)])
    y = R.appendix_d_arc(mp.scalar(B.S_END), mp) - mp.scalar(rho) * v
    g = OBJ.grad(y, mp)
    return g[0] * v[1] - g[1] * v[0], g @ v, y


def test_sign_changes_between_rho_hi_and_the_axis_rechecked_by_mpmath():
    """Every rho in [rho_hi = 1.903, 1.93]: each proved sub-interval re-checked at its ends, its
    middle and a random rho, at 60 digits: opposite signs of g x v at t_lo and t_hi, g . v > 0 at 5
    angles between, and the root t found there gives y + rho u(y) = x*(3/5) with grad f(y) != 0."""
    lo, hi = Fraction(B.RHO_HI), Fraction(B.RHO_AXIS)
    res = B.exists_between(lo, hi, _arb())
    assert res["status"] == "proved" and len(res["intervals"]) >= 20
    covered = sorted((a, b) for a, b, _, _ in res["intervals"])
    assert covered[0][0] == lo and covered[-1][1] == hi
    assert all(b0 == a1 for (_, b0), (a1, _) in zip(covered, covered[1:]))   # no gap
    rng = random.Random(7)
    xs = R.appendix_d_arc(mp.scalar(B.S_END), mp)
    for a, b, t_lo, t_hi in res["intervals"]:
        for rho in (a, b, (a + b) / 2, a + (b - a) * Fraction(rng.random())):
            c_lo, c_hi = _cross_dot_mp(rho, t_lo)[0], _cross_dot_mp(rho, t_hi)[0]
            assert c_lo * c_hi < 0
            assert all(_cross_dot_mp(rho, t_lo + (t_hi - t_lo) * k / 4)[1] > 0 for k in range(5))
            t = mp.mp.findroot(lambda t: _cross_dot_mp(rho, t)[0], (mp.scalar(t_lo), mp.scalar(t_hi)),
                               solver="anderson")
            assert mp.scalar(t_lo) < t < mp.scalar(t_hi)
            _, dot, y = _cross_dot_mp(rho, t)
            landing = sam.perturbed_point(OBJ, y, mp.scalar(rho), mp)
            assert dot > 0 and float(mp.norm(landing - xs)) < 1e-45


@pytest.mark.parametrize("lo, hi", [(Fraction(B.RHO_LO), Fraction(B.RHO_HI)),
                                    (Fraction(189, 100), Fraction(1901, 1000))])
def test_sign_change_cover_fails_below_the_threshold(lo, hi):
    """Negative control: the same cover pushed below rho* ~ 1.90123 (where the cover of boxes proves
    no such y) stops undecided at its lowest sub-interval."""
    res = B.exists_between(lo, hi, _arb())
    assert res["status"] == "undecided" and res["at"][0] < Fraction(19013, 10000)


# -- the certificate and its controls ----------------------------------------------------------------------
@pytest.mark.parametrize("lo, hi", [(B.RHO_HI, B.RHO_LO), ("1.905", "1.93")])
def test_swapped_or_shifted_up_bracket_does_not_certify(lo, hi):
    cert = B.certify_bracket(lo, hi, expected=False)
    assert not cert.passed
    assert cert.claim("none_below").verdict.value != "proved"


def test_bad_input_is_refused():
    assert B.certify_bracket("1.89", "1.91", rho_min="2").refused


@pytest.mark.slow
def test_bracket_is_proved():
    cert = B.certify_bracket()
    assert cert.passed, str(cert)
    assert [c.verdict.value for c in cert.claims] == ["proved"] * 5
    assert cert.objects["ivt_pieces"] == 20


@pytest.mark.slow
def test_shifted_down_bracket_does_not_certify():
    cert = B.certify_bracket("1.87", "1.89", expected=False)
    assert not cert.passed and cert.claim("exists_at_hi").verdict.value != "proved"
    assert cert.claim("exists_between").verdict.value != "proved"
    assert cert.claim("none_below").verdict.value == "proved"


# -- generated negatives: a lower end above rho* is never proved --------------------------------------------
from hypothesis import given, settings, strategies as hs  # noqa: E402


@settings(max_examples=6, deadline=None)
@given(rho_lo=hs.fractions(min_value=Fraction(1902, 1000), max_value=Fraction(14, 5), max_denominator=997),
       rho_min=hs.fractions(min_value=Fraction(1, 4), max_value=Fraction(18, 10), max_denominator=97))
def test_generated_lower_ends_above_the_threshold_are_not_proved(rho_lo, rho_min):
    res = B.cover(B.BranchHull(OBJ), rho_min, rho_lo, Fraction(1, 1000), _arb(), max_boxes=40_000)
    assert res["status"] == "undecided"


def test_mirror_symmetry_by_pieces():
    """The piece-by-piece route decides Appendix D's f(x, -y) = f(x, y) (every Piecewise even in y,
    and the rest); a function that is not mirror symmetric is not decided symmetric by it."""
    x, y = OBJ.symbols
    assert B.mirror_symmetric(OBJ)
    skew = sp.Piecewise((x ** 2, y < 0), (x ** 2 + y ** 3, True))
    assert not B._mirror_symmetric(skew, (x, y))
    # an even Piecewise times a factor free of y
    even = sp.Piecewise((y ** 2, (y < 1) & (y > -1)), (1, True)) * sp.exp(x)
    assert B._mirror_symmetric(even, (x, y))


@settings(max_examples=6, deadline=None)
@given(rho_a=hs.fractions(min_value=Fraction(1, 2), max_value=Fraction(1900, 1000), max_denominator=997),
       width=hs.fractions(min_value=Fraction(1, 997), max_value=Fraction(1, 10), max_denominator=997))
def test_generated_ranges_below_the_threshold_have_no_proved_sign_change(rho_a, width):
    """0 false PROVED: a rho range that ends below rho* ~ 1.90123 (where the cover proves no such
    y) never gets the existence proof."""
    rho_b = min(rho_a + width, Fraction(1901, 1000))
    res = B.exists_between(rho_a, rho_b, _arb(), pieces=2, depth=2)
    assert res["status"] == "undecided" and not res["intervals"]


@pytest.mark.parametrize("option", [{"pieces": 0}, {"pieces": -3}, {"pieces": 2.5}, {"depth": -1}])
def test_exists_between_refuses_a_count_that_would_prove_nothing(option):
    """pieces = 0 would cut [rho_a, rho_b] into no sub-interval, an empty cover that must not read
    as proved; a bad count is refused by name. Control: one piece is accepted."""
    from verify.errors import OptionError
    with pytest.raises(OptionError, match="pieces|depth"):
        B.exists_between(Fraction(19, 10), Fraction(1903, 1000), _arb(), **option)
    res = B.exists_between(Fraction(1903, 1000), Fraction(1904, 1000), _arb(), pieces=1, depth=0)
    assert res["status"] == "proved" and len(res["intervals"]) == 1
