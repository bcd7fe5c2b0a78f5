"""The context contract: conversion, native checks, eigenvalues (general and repeated), precision owned
by each context (extraprec, two Arb contexts in turn), one scalar kind per context, the registry."""
from fractions import Fraction

import flint
from mpmath.ctx_mp_python import _mpf
import numpy as np
import pytest

from verify.core import sam
from verify.ctx import REGISTRY, get_context, register_context
from verify.ctx.float64 import FloatContext
from verify.errors import BackendError
from verify.objectives import zoo
from verify.objectives.objective import SympyObjective

SCALAR_KIND = {"float64": lambda v: type(v) is float,
               "mpmath": lambda v: isinstance(v, _mpf),
               "arb": lambda v: isinstance(v, flint.arb),
               "torch": lambda v: v.dim() == 0}


def test_scalar_gives_one_kind_per_context(any_ctx):
    for v in (3, Fraction(1, 3), "0.25", 0.5, np.float64(2.0)):
        s = any_ctx.scalar(v)
        assert SCALAR_KIND[any_ctx.name](s), (any_ctx.name, v, type(s))
        assert any_ctx.is_native(s)
    assert any_ctx.scalar_kind


def test_convert_keeps_shape_and_exact_values_across_contexts(any_ctx):
    mp = get_context("mpmath", dps=40)
    v = mp.vector(["0.1", "1/3" if False else "0.375"])
    out = any_ctx.convert(v)
    assert any_ctx.is_native(out) and not (any_ctx.name != "mpmath" and any_ctx.is_native(v))
    assert [any_ctx.to_float(x) for x in any_ctx.to_list(out)] == [0.1, 0.375]
    M = any_ctx.convert([[1, "0.5"], [Fraction(1, 4), 2.0]])
    assert tuple(M.shape) == (2, 2) and any_ctx.to_float(M[1][0]) == 0.25
    assert any_ctx.convert(out) is out  # native: untouched


def test_convert_from_arb_to_mpmath_is_the_exact_midpoint():
    arb, mp = get_context("arb", dps=60), get_context("mpmath", dps=60)
    third = arb.scalar(Fraction(1, 3))
    assert abs(mp.convert(third) - mp.mp.mpf(1) / 3) < mp.mp.mpf(10) ** -58
    with pytest.raises(BackendError, match="cannot convert"):
        mp.convert(object())


def test_eigvals_of_a_one_by_one_matrix(any_ctx):
    """d = 1 (mpmath's eig returns its n = 1 case in another shape)."""
    assert [complex(z) for z in any_ctx.eigvals(any_ctx.matrix([[2]]))] == [2]


def test_eigvals_of_a_rotation_are_plus_minus_i(any_ctx):
    ev = any_ctx.eigvals(any_ctx.matrix([[0, -1], [1, 0]]))
    assert [complex(any_ctx.to_float(z.real), any_ctx.to_float(z.imag)) if any_ctx.name == "arb"
            else complex(z) for z in ev] == pytest.approx([-1j, 1j], abs=1e-12)


def test_arb_eigenvalues_of_a_general_matrix_enclose_the_true_ones():
    arb = get_context("arb", dps=30)
    ev = arb.eigvals(arb.matrix([[2, 1], [1, 2]]) @ arb.matrix([[1, 1], [0, 1]]))  # not symmetric
    exact = sorted(np.linalg.eigvals(np.array([[2.0, 3.0], [1.0, 3.0]])).real)
    assert all(z.real.contains(flint.arb(e).mid()) or abs(float(z.real.mid()) - e) < 1e-12
               for z, e in zip(ev, exact))


def test_arb_eigvalsh_encloses_repeated_eigenvalues():
    arb = get_context("arb", dps=30)
    ev = arb.eigvalsh(arb.matrix([[-4, 0, 0], [0, -4, 0], [0, 0, 1]]))
    assert [float(v.mid()) for v in ev] == [-4, -4, 1]
    assert ev[0].contains(-4) and ev[1].contains(-4) and ev[2].contains(1)
    assert arb.less(ev[1], arb.scalar(0))  # decided: the maximizer's Hessian is negative definite
    # balls around a repeated eigenvalue (uncertain entries) are enclosed too
    S = np.array([[arb.ball(2, "1e-20"), arb.ball(0, "1e-20")],
                  [arb.ball(0, "1e-20"), arb.ball(2, "1e-20")]], dtype=object)
    ev = arb.eigvalsh(S)
    assert all(v.contains(2) and arb.radius(v) < 1e-18 for v in ev)


def test_arb_eigvalsh_is_tight_and_separates_close_eigenvalues():
    arb = get_context("arb", dps=30)
    gap = Fraction(1, 10 ** 25)
    ev = arb.eigvalsh(arb.matrix([[-4, 0, 0], [0, Fraction(-4) + gap, 0], [0, 0, 1]]))
    assert ev[0].contains(-4) and ev[1].contains(arb.scalar(Fraction(-4) + gap))
    # negative control: the enclosures are tight, so a value 1e-20 away is excluded
    assert not ev[0].contains(arb.scalar(Fraction(-4) + Fraction(1, 10 ** 20)))
    rotated = arb.matrix([[0, 1], [1, 0]]) @ arb.matrix([[-4, 1], [1, -4]]) @ arb.matrix([[0, 1], [1, 0]])
    assert [float(v.mid()) for v in arb.eigvalsh(rotated)] == pytest.approx([-5, -3])


def test_theorem_2_1_runs_in_arb_on_the_ring():
    import theorems.thm_2_1 as T
    from verify.core.results import Verdict
    arb = get_context("arb", dps=30)
    con = T.construct(zoo.get("ring").objective, ("1", "0"), ("0", "0"), arb, eps="1/4",
                      n_dirs=256, closed_form=T.ring_closed_form)
    verdicts = {c.id: c.verdict for c in con.certificate.claims}
    assert Verdict.FAIL not in verdicts.values()
    # the strict inequalities of the proof are proved; equalities stay undecided (a ball cannot
    # prove an equality), never failed
    for cid in ("lemma_a4", "grad_nonzero", "sam_local_min", "farthest_second_order"):
        assert verdicts[cid] is Verdict.PROVED, cid
    assert con.certificate.hypotheses_met


def _radius_bits(ball) -> float:
    return -np.log2(float(ball.rad()) / max(1.0, abs(float(ball.mid()))))


def test_two_arb_contexts_used_in_turn_each_run_at_their_own_precision():
    lo, hi = get_context("arb", dps=15), get_context("arb", dps=100)
    f = SympyObjective("exp(x) * sin(y) + x**2 / 3", "x,y")
    ambient = flint.ctx.prec
    for _ in range(2):  # alternate: lo, hi, lo, hi
        for ctx in (lo, hi):
            x = f.point(["0.3", "0.7"], ctx)
            assert abs(_radius_bits(ctx.sqrt(2)) - ctx.prec) < 8
            assert abs(_radius_bits(f.value(x, ctx)) - ctx.prec) < 12
            xp = sam.perturbed_point(f, x, "1/2", ctx)
            with ctx.working():
                assert flint.ctx.prec == ctx.prec
                assert _radius_bits(xp[0]) > ctx.prec - 16
            assert flint.ctx.prec == ambient  # restored after every method and block
    # negative control: a low-precision ball really is wide (the check above can fail)
    assert _radius_bits(lo.sqrt(2)) < hi.prec - 100


def test_extraprec_raises_and_restores_precision():
    mp, arb, fp = get_context("mpmath", dps=30), get_context("arb", dps=30), FloatContext()
    for ctx in (mp, arb):
        base, tol = ctx.prec, ctx.to_float(ctx.tol())
        with ctx.extraprec(64):
            assert ctx.prec == base + 64 and ctx.to_float(ctx.tol()) < tol * 2.0 ** -60
            assert ctx.to_float(ctx.sqrt(2)) == pytest.approx(2 ** 0.5)
        assert ctx.prec == base and ctx.to_float(ctx.tol()) == tol
    with fp.extraprec(64):
        assert fp.prec == 53  # a fixed-precision arithmetic keeps its precision


def test_registry_table_builds_every_context_and_rejects_unknown_names():
    assert set(REGISTRY) >= {"float64", "mpmath", "arb", "torch"}
    assert get_context("iv").name == "arb" and get_context("mp", dps=20).dps == 20
    with pytest.raises(BackendError, match="unknown arithmetic context 'quad'"):
        get_context("quad")
    register_context("test_fp", lambda dps, device, dtype: FloatContext(), ("tfp",))
    try:
        assert isinstance(get_context("tfp"), FloatContext)
    finally:
        REGISTRY.pop("test_fp")


@pytest.mark.parametrize("tier", ["rounding", "solver", "derived", "sampling"])
def test_tolerance_tiers_follow_the_precision(tier):
    lo, hi = get_context("mpmath", dps=20), get_context("mpmath", dps=60)
    t_lo, t_hi = lo.tolerance(tier), hi.tolerance(tier)
    assert t_lo.tier == tier and float(t_hi.value) < float(t_lo.value) * 1e-15
    with pytest.raises(BackendError, match="unknown tolerance tier"):
        lo.tol(tier="tight")


def test_claims_record_their_tier_and_value():
    from verify.core.claims import compare
    from verify.core.results import Verdict
    mp = get_context("mpmath", dps=30)
    allowance = mp.tol(2, tier="derived")
    ok = compare("c", "tiny residual", allowance / 2, "<=", 0, mp, tier="derived", scale=2)
    assert ok.verdict is Verdict.PASS and ok.tier == "derived"
    assert float(ok.tolerance) == pytest.approx(float(allowance))
    assert ok.to_dict()["tier"] == "derived" and "derived" in str(ok)
    # negative control: twice the allowance fails
    assert compare("c", "r", allowance * 2, "<=", 0, mp, tier="derived", scale=2).verdict is Verdict.FAIL
    assert compare("c", "r", 1, "<=", 2, mp).tier == "exact"
    assert compare("c", "r", 1, "<=", 2, mp, tol=mp.tolerance("solver")).tier == "solver"
    assert compare("c", "r", 1, "<=", 2, mp, tol=1e-20).tier == "custom"


def test_rigorous_claims_use_only_the_sampling_allowance():
    """Arb's balls carry rounding, solver and derivation errors themselves; only the error of a
    float64 procedure (the sampling tier) widens the bound."""
    from verify.core.claims import compare
    from verify.core.results import Verdict
    arb = get_context("arb", dps=30)
    sampled = arb.scalar("1e-12")  # e.g. |f - level| at a float64 bisection point
    assert compare("c", "r", sampled, "<=", 0, arb, tol=arb.scalar("1e-10"),
                   tier="sampling").verdict is Verdict.PROVED
    assert compare("c", "r", sampled, "<=", 0, arb, tol=arb.scalar("1e-10"),
                   tier="derived").verdict is Verdict.FAIL
    assert compare("c", "r", sampled, "<=", 0, arb, tol=arb.scalar("1e-13"),
                   tier="sampling").verdict is Verdict.FAIL


def test_convert_keeps_native_entries_of_a_list():
    """A list of balls converted to an Arb vector keeps every radius (a midpoint would be unsound)."""
    arb = get_context("arb", dps=30)
    balls = [arb.ball("1", "1e-3"), arb.ball("-2", "1e-5")]
    v = arb.convert(balls)
    assert [arb.radius(b) for b in v] == pytest.approx([1e-3, 1e-5], rel=1e-6)
    f = SympyObjective("x*y", "x,y")
    assert arb.radius(f.value(f.point(balls, arb), arb)) > 1e-3  # the box, not its centre
