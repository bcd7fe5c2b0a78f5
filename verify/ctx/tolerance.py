"""The one tolerance policy: four named tiers, each a multiple of the context's unit roundoff.

A point arithmetic (float64, mpmath, torch) passes a claim ``value <= bound`` when it holds within an
allowance; the allowance follows from the precision used and from how the value was obtained, never
from trial and error. The tiers, from tight to loose (``eps = 2**-prec``, times a ``scale``: the
magnitude of the data the value was computed from):

=========  ====================  =================================================================
tier       allowance             for
=========  ====================  =================================================================
rounding   16 eps                a value a few rounded operations away from exact data (a residual
                                 that is exactly zero in real arithmetic, x+ recomputed)
solver     64 eps                the residual an iterative solver (Newton, fixed point, an iterate's
                                 stop test) is asked to reach: a few roundings above ``rounding``
derived    1024 eps              a value derived through a long chain (Hessians and their products,
                                 eigenvalues, differences of nearby values), whose rounding grows
                                 with the chain and the conditioning
sampling   eps ** (1/2)          decisions read from sampled values or differences, where
                                 cancellation leaves about half the digits (the classifier's ~ 0)
=========  ====================  =================================================================

A rigorous context (Arb) decides on endpoints and uses no allowance; a claim still records the tier it
was asked for. Each :class:`~verify.core.results.Claim` records its tier and the value used.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..errors import BackendError

UNITS = {"rounding": 16, "solver": 64, "derived": 1024}
SAMPLING = "sampling"
TIERS = tuple(UNITS) + (SAMPLING,)


@dataclass(frozen=True)
class Tolerance:
    """An allowance with the tier it came from (``value`` is a scalar of the context)."""
    tier: str
    value: Any


def tier_value(ctx, tier: str):
    """The allowance of ``tier`` in ``ctx`` at scale 1, as a scalar of ctx (exact powers of two)."""
    eps = Fraction(1, 2 ** int(ctx.prec))  # exact, also where 2.0**-prec would underflow
    if tier in UNITS:
        return ctx.scalar(UNITS[tier] * eps)
    if tier == SAMPLING:
        return ctx.scalar(eps) ** (ctx.scalar(1) / 2)
    raise BackendError(f"unknown tolerance tier {tier!r}; the tiers are {list(TIERS)}")
