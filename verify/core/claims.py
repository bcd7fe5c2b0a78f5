"""Deciding claims in any context: ``compare`` turns (value, relation, bound, tolerance) into a Claim.

Point arithmetics (float64, mpmath, torch) pass a claim when it holds with the stated allowance
(``value <= bound + tol`` and so on; ``==`` means ``|value - bound| <= tol``). The rigorous context
decides on endpoints: PROVED when the whole enclosure satisfies the relation, FAIL when none of it
does, UNDECIDED otherwise — without allowance, because ball arithmetic already carries the rounding,
solver and derivation errors, except for the ``sampling`` tier, whose allowance stands for the error
of a float64 procedure (bisection, sampling) that the balls know nothing about.

The allowance comes from a tier of :mod:`verify.ctx.tolerance` (``tier='derived'``, times ``scale``),
or is given as ``tol`` (a number, or a :class:`~verify.ctx.tolerance.Tolerance` carrying its tier);
every claim records the tier and the value used. ``tol`` without a tier is recorded as ``custom``; no
allowance at all as ``exact``.
"""
from __future__ import annotations

from typing import Any

from ..ctx.tolerance import SAMPLING, Tolerance
from ..errors import UndecidedError
from .results import Claim, Verdict


def compare(claim_id: str, statement: str, value: Any, relation: str, bound: Any, ctx,
            tol: Any = None, note: str = "", tier: str | None = None, scale: Any = 1) -> Claim:
    tier, tol = _allowance(ctx, tol, tier, scale)
    value_n, bound_n = _native(value, ctx), _native(bound, ctx)
    with ctx.working():
        if ctx.rigorous:
            if tier == SAMPLING:  # the allowance of a float64 procedure widens the bound
                bound_n = _widen(bound_n, relation, tol, ctx)
            verdict = _decide_rigorous(value_n, relation, bound_n, ctx)
        else:
            verdict = _decide_point(value_n, relation, bound_n, tol, ctx)
        margin = _margin(value_n, relation, bound_n, None if ctx.rigorous else _native(tol, ctx))
    return Claim(claim_id, statement, ctx.to_str(value_n), relation, ctx.to_str(bound_n),
                 ctx.to_str(_native(tol, ctx)), verdict, ctx.name, ctx.precision_label, note,
                 tier=tier, native_value=value_n, margin=margin,
                 margin_text="" if margin is None else ctx.to_str(margin))


def _margin(v, rel, b, tol):
    """How far ``v rel b`` is from failing, in the deciding arithmetic (positive: it holds by that
    much); rigorous contexts decide without allowance (``tol`` None), so their margin is a ball of
    the plain difference. None where the sides do not subtract (non-numeric values)."""
    try:
        t = 0 if tol is None else tol
        return {"<=": b + t - v, "<": b + t - v, ">=": v - b + t, ">": v - b + t,
                "==": t - abs(v - b), "!=": abs(v - b) - t}[rel]
    except (TypeError, ValueError, ArithmeticError):
        return None


def _allowance(ctx, tol, tier, scale):
    """(tier, allowance as a scalar of ctx) from the arguments of :func:`compare`."""
    if isinstance(tol, Tolerance):
        return tol.tier, tol.value
    if tol is None:
        return ("exact", ctx.scalar(0)) if tier is None else (tier, ctx.tol(scale, tier=tier))
    return tier or "custom", tol


def _widen(bound, relation, tol, ctx):
    tol = _native(tol, ctx)
    if relation in ("<", "<="):
        return bound + tol
    if relation in (">", ">="):
        return bound - tol
    return bound  # '==' and '!=' keep their strict endpoint meaning


def boolean(claim_id: str, statement: str, holds: bool | None, ctx, evidence: str = "") -> Claim:
    """A yes/no claim (e.g. 'the multistart search found no zero'): value True, relation '=='."""
    verdict = Verdict.UNDECIDED if holds is None else (
        (Verdict.PROVED if ctx.rigorous else Verdict.PASS) if holds else Verdict.FAIL)
    return Claim(claim_id, statement, str(holds), "==", "True", "0", verdict, ctx.name,
                 ctx.precision_label, evidence, tier="exact")


def _native(v, ctx):
    if isinstance(v, (int, float, str)) or hasattr(v, "numerator"):
        return ctx.scalar(v)
    return v


def _decide_point(v, rel, b, tol, ctx) -> Verdict:
    fv, fb, ft = ctx.decision_values(v, b, tol)
    ok = {"<=": fv <= fb + ft, "<": fv < fb + ft, ">=": fv >= fb - ft, ">": fv > fb - ft,
          "==": abs(fv - fb) <= ft, "!=": abs(fv - fb) > ft}[rel]
    return Verdict.PASS if ok else Verdict.FAIL


def _decide_rigorous(v, rel, b, ctx) -> Verdict:
    try:
        if rel in ("<", "<="):
            ok = ctx.less(v, b) if rel == "<" else ctx.less_equal(v, b)
        elif rel in (">", ">="):
            ok = ctx.greater(v, b) if rel == ">" else ctx.greater_equal(v, b)
        elif rel == "!=":
            ok = not ctx.is_zero_possible(v - b) or None
            if ok is None:
                raise UndecidedError("cannot exclude equality")
        else:  # '==' can only be excluded rigorously, never proved for non-exact balls
            if not (v - b).contains(0):
                return Verdict.FAIL
            return Verdict.UNDECIDED
    except UndecidedError:
        return Verdict.UNDECIDED
    return Verdict.PROVED if ok else Verdict.FAIL
