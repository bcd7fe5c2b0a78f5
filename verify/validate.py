"""Ranges of the options and counts a user can pass, checked in one place for the API and the CLI.

Each check returns the value (converted) or raises a typed error naming the option and its range.
"""
from __future__ import annotations

import math
import numbers

from .errors import NonFiniteError, OptionError, PrecisionError

MIN_DPS = 15        # decimal digits: below float64's ~16 digits use the float64 context
MAX_DPS = 10_000    # above this, a single Hessian takes hours: refuse instead of hanging
MAX_TOL = 1e-2      # a stationarity tolerance above this would call almost any point stationary


def check_dps(dps, what: str = "dps") -> int:
    """Working precision in decimal digits: an integer in [MIN_DPS, MAX_DPS]."""
    if isinstance(dps, bool) or not isinstance(dps, numbers.Integral) or not MIN_DPS <= dps <= MAX_DPS:
        raise PrecisionError(f"{what} must be a whole number of decimal digits from {MIN_DPS} to "
                             f"{MAX_DPS}, got {dps!r}")
    return int(dps)


def check_count(n, what: str, minimum: int = 1) -> int:
    """A count (samples, steps, seeds, ...): an integer >= ``minimum``."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < minimum:
        raise OptionError(f"{what} must be a whole number >= {minimum}, got {n!r}")
    return int(n)


def check_real(value, what: str, low: float | None = None, high: float | None = None,
               open_low: bool = False) -> float:
    """A finite real number in [low, high] (``open_low``: low itself excluded)."""
    try:
        x = float(value)
    except OverflowError:
        raise NonFiniteError(f"{what} {value!r} is beyond the float64 range") from None
    except (TypeError, ValueError):
        raise OptionError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(x):
        raise NonFiniteError(f"{what} {value!r} is not finite")
    if (low is not None and (x < low or (open_low and x == low))) or (high is not None and x > high):
        lo = "" if low is None else f"{'>' if open_low else '>='} {low:g}"
        hi = "" if high is None else f"<= {high:g}"
        raise OptionError(f"{what} must be {' and '.join(p for p in (lo, hi) if p)}, got {value!r}")
    return x


def check_tol(tol, eps: float, what: str = "tolerance") -> float:
    """A tolerance: finite, at least the unit roundoff ``eps`` of the arithmetic, at most MAX_TOL."""
    x = check_real(tol, what)
    if x < eps:
        raise PrecisionError(f"{what} {x:.3g} is below the unit roundoff {eps:.3g}; raise the precision "
                             f"(--dps) or loosen the tolerance")
    if x > MAX_TOL:
        raise OptionError(f"{what} {x:.3g} is above {MAX_TOL:g}: nearly every point would pass as "
                          f"stationary")
    return x
