"""Arithmetic contexts: the primitives that every piece of SAM mathematics is written against.

A context supplies numbers, vectors and matrices of one arithmetic and the handful of operations the
library needs on them. Vectors and matrices are the arithmetic's native arrays, all of which support
``+ - * /`` with scalars and ``@`` for products (numpy float arrays, numpy object arrays of mpmath or Arb
numbers, torch tensors), so the mathematics in :mod:`verify.core.sam` is written once with operators and
``ctx.<primitive>`` calls.

Contract of a context ``ctx``:

* ``ctx.name``, ``ctx.prec`` (bits), ``ctx.eps`` (unit roundoff 2**-prec), ``ctx.rigorous``;
* precision belongs to the context: ``with ctx.working():`` runs a block (operators between native
  numbers included) at the context's own precision, ``with ctx.extraprec(bits):`` at a raised one
  (fixed-precision arithmetics, float64 and torch, keep theirs); a rigorous context's own methods
  always run at its precision, whatever another context set before;
* conversion: ``scalar(v)`` gives ONE kind per context (:attr:`scalar_kind`: Python float, mpmath
  ``mpf``, flint ``arb``, 0-d torch tensor), exact where the arithmetic allows (ints, fractions,
  decimal strings, sympy rationals; a Python float at its exact binary value);
  ``convert(value)`` takes a number, vector or matrix of any context (or plain Python data) to this
  one, keeping its shape; ``is_native(value)`` says whether it is already this context's;
  ``rational(p, q)``, ``vector(values)``, ``matrix(rows)``, ``stack(scalars)``, ``to_float``,
  ``to_str``;
* elementary functions: ``exp log sqrt sin cos tan tanh sinh cosh atan``, ``pi()``;
* linear algebra: ``eye zeros outer norm solve eigvalsh svdvals eigvals`` (``eigvalsh`` ascending,
  repeated eigenvalues included; ``svdvals`` descending; ``eigvals`` the complex eigenvalues of a
  general square matrix, ordered by real then imaginary part);
* decisions: ``less(a, b)`` and friends return a bool or raise :class:`UndecidedError` (rigorous
  contexts decide by endpoints, never by midpoints), ``check_finite``;
* ``tol(scale, tier=...)``: an allowance of a named tier (:mod:`verify.ctx.tolerance`), a number of
  units of roundoff (or sqrt(eps) for sampling) times ``scale``; ``tolerance(tier, scale)`` returns
  it with its tier, for a claim to record.
"""
from __future__ import annotations

import math
import operator
from contextlib import contextmanager
from fractions import Fraction
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import BackendError, NonFiniteError
from .tolerance import Tolerance, tier_value
from ..validate import check_tol

ELEMENTARY = ("exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sinh", "cosh", "atan")

# elementwise comparisons of the grid arithmetics (float64, torch)
_ELEMENTWISE = {"less": operator.lt, "less_equal": operator.le, "greater": operator.gt,
                "greater_equal": operator.ge}


class GridDecisions:
    """Mixin of the arithmetics whose numbers may be grids (numpy arrays, tensors): relations and
    their combinations are taken elementwise, so a piecewise function evaluates on a whole grid."""

    def relation(self, name: str):
        return _ELEMENTWISE[name]  # elementwise, so grids work

    def combine_conditions(self, values, conjunction: bool):
        out = values[0]
        for v in values[1:]:
            out = (out & v) if conjunction else (out | v)
        return out


def integer_power(v, n: int):
    """v**n for a whole n >= 0 by repeated squaring and multiplication, in v's own arithmetic.
    Every context and the objectives' evaluators take integer powers this way because Arb's ``**``
    gives NaN for a ball around 0 (x**2 of [-1e-20, 1e-20] must be a small ball, not NaN)."""
    if n == 0:
        return v * 0 + 1
    result = None
    while n:
        if n & 1:
            result = v if result is None else result * v
        n >>= 1
        if n:
            v = v * v
    return result


# number type -> function giving its exact value as an int, Fraction or decimal string; each context
# module registers its own number type (autograd's VSpace.register style), so ``convert`` needs no
# chain of type tests
EXACT_NUMBER: dict[type, Callable[[Any], Any]] = {}


def register_number(kind: type, to_exact: Callable[[Any], Any]) -> None:
    EXACT_NUMBER[kind] = to_exact


def exact_number(v) -> Any:
    """An exact Python value (int, float, Fraction, other text) for a number of any context; an
    interval gives its midpoint (converting a ball to a point arithmetic loses its radius); a
    non-finite number gives a float inf or nan."""
    if isinstance(v, (bool, int, Fraction)):
        return v
    if isinstance(v, str):  # '14/5' and '2.8' exactly; other text is left to the context
        try:
            return Fraction(v.strip())
        except (ValueError, ZeroDivisionError):
            return v
    if isinstance(v, float):  # exact already: every context's scalar takes a float at its binary
        return float(v)         # value (np.float64 included; inf and nan for check_finite to name)
    for kind in type(v).__mro__:
        if kind in EXACT_NUMBER:
            return EXACT_NUMBER[kind](v)
    if hasattr(v, "p") and hasattr(v, "q"):  # sympy Rational
        return Fraction(int(v.p), int(v.q))
    if hasattr(v, "_mpf_"):  # sympy Float: mpmath's (sign, mantissa, exponent, bits) inside
        from .mp import _mpf_exact
        return _mpf_exact(v)
    if hasattr(v, "item") and np.ndim(v) == 0:  # numpy scalars, 0-d arrays and tensors
        return exact_number(v.item())
    raise BackendError(f"cannot convert a {type(v).__module__}.{type(v).__name__} ({v!r}) to a number")


class Context:
    name = "base"
    rigorous = False
    prec = 53
    scalar_kind = "number"  # what ``scalar`` returns, for the documentation and error messages

    # -- precision ------------------------------------------------------------------------------
    @property
    def eps(self) -> float:
        return 2.0 ** (-self.prec)

    @property
    def dps(self) -> int:
        return max(1, int(self.prec * math.log10(2)))

    @property
    def precision_label(self) -> str:
        return f"{self.prec} bits (~{self.dps} digits)"

    @contextmanager
    def working(self):
        """Run the block at this context's own precision (a fixed-precision arithmetic has nothing to
        set; a rigorous one sets its library's working precision and restores it afterwards)."""
        yield self

    @contextmanager
    def extraprec(self, bits: int):
        """Run the block with ``bits`` more bits of working precision (``ctx.prec`` and ``ctx.eps``
        follow, so tolerances do too); float64 and torch have a fixed precision and keep it."""
        with self.working():
            yield self

    def tol(self, scale: Any = 1, units: int | None = None, tier: str = "rounding") -> Any:
        """Allowance of a tier (see :mod:`verify.ctx.tolerance`) times ``scale`` (a magnitude of the
        data). ``units`` (units of roundoff) is the older spelling, kept for existing callers."""
        if units is not None:
            return self.scalar(units) * self.scalar(self.eps) * scale
        return tier_value(self, tier) * scale

    def tolerance(self, tier: str, scale: Any = 1) -> Tolerance:
        """The allowance of ``tier`` at ``scale``, with the tier's name, for a claim to record."""
        return Tolerance(tier, self.tol(scale, tier=tier))

    def lambdify_modules(self, grid: bool = False):
        """The ``modules`` argument of sympy's ``lambdify`` that compiles straight-line expressions
        for this context, or None where expressions must be interpreted (intervals decide by
        endpoints, torch keeps its tensors; see :mod:`verify.objectives.compiled`). ``grid``: for
        code evaluated on arrays of points (float64 grids) rather than one point."""
        return None

    def midpoint(self, value):
        """The point value of a number or array: itself in a point arithmetic, the exact midpoints
        (radius 0) of an interval one (iterations such as Newton steer by midpoints, so the radii
        of their iterates do not grow step after step)."""
        return value

    # -- conversion ---------------------------------------------------------------------------------
    def is_native(self, value) -> bool:
        """True when ``value`` is already a number, vector or matrix of this context."""
        raise NotImplementedError

    def convert(self, value):
        """``value`` (a number, vector or matrix of any context, or Python data) in this context,
        with its shape kept: exact where this arithmetic allows (see :func:`exact_number`)."""
        if self.is_native(value):
            return value
        if hasattr(value, "detach"):  # a tensor from the torch context
            value = value.detach().cpu().numpy()
        if isinstance(value, (list, tuple)):
            value = np.asarray(value, dtype=object)
        if np.ndim(value) == 0:
            return self.scalar(exact_number(value))
        # native entries stay as they are (a ball keeps its radius); the others become exact values
        flat = [v if self.is_native(v) else exact_number(v)
                for v in np.asarray(value, dtype=object).reshape(-1)]
        if np.ndim(value) == 1:
            return self.vector(flat)
        if np.ndim(value) == 2:
            cols = np.shape(value)[1]
            return self.matrix([flat[i:i + cols] for i in range(0, len(flat), cols)])
        raise BackendError(f"{self.name} converts numbers, vectors and matrices, not arrays of "
                           f"shape {np.shape(value)}")

    def require_tol(self, tol: float, what: str = "tolerance") -> None:
        """Refuse a tolerance that this arithmetic cannot deliver, or one too loose to mean anything
        (not finite, or above :data:`verify.validate.MAX_TOL`)."""
        check_tol(tol, self.eps, f"{what} (in {self.name} at {self.precision_label})")

    # -- generic helpers built on the primitives ----------------------------------------------------
    def dot(self, a, b):
        return a @ b

    def norm(self, v):
        return self.sqrt(self.dot(v, v))

    def outer(self, a, b):
        raise NotImplementedError

    def eigvals(self, A):
        """Eigenvalues of a general square matrix (complex numbers of this arithmetic), ordered by
        real part, then imaginary part."""
        raise NotImplementedError

    def abs(self, a):
        return -a if self.less(a, self.scalar(0)) else a

    def max_abs(self, v):
        return max((abs(self.to_float(x)) for x in self.to_list(v)), default=0.0)

    def to_list(self, v) -> list:
        return list(v)

    def check_finite(self, value, what: str):
        for x in self.to_list(value.reshape(-1) if hasattr(value, "reshape") else [value]):
            if not math.isfinite(self.to_float(x)):
                raise NonFiniteError(f"{what} is not finite ({x}) in {self.name}")
        return value

    # -- decisions ----------------------------------------------------------------------------------
    def less(self, a, b) -> bool:
        return bool(a < b)

    def less_equal(self, a, b) -> bool:
        return bool(a <= b)

    def greater(self, a, b) -> bool:
        return self.less(b, a)

    def greater_equal(self, a, b) -> bool:
        return self.less_equal(b, a)

    def decision_values(self, *numbers) -> tuple:
        """The numbers a point arithmetic compares when it decides a claim: Python floats, which
        hold every digit of float64 and torch."""
        return tuple(self.to_float(v) for v in numbers)

    def minimum(self, a, b):
        """min(a, b); an interval context encloses the minimum without deciding which is smaller."""
        return b if self.less(b, a) else a

    def maximum(self, a, b):
        return b if self.less(a, b) else a

    def relation(self, name: str):
        """The decision ``less`` / ``less_equal`` / ``greater`` / ``greater_equal`` as a function of
        (a, b); the grid arithmetics (float64, torch) compare elementwise."""
        return getattr(self, name)

    def combine_conditions(self, values, conjunction: bool):
        """and / or of decided conditions (elementwise for the grid arithmetics)."""
        return all(values) if conjunction else any(values)

    def reference(self) -> "Context":
        """The arithmetic that checks this one (finite differences are taken in it): twice the
        digits where the precision can be raised, else this context itself."""
        return self

    def is_zero_possible(self, a) -> bool:
        """True when the number may be zero (exactly zero in a point arithmetic)."""
        return self.to_float(a) == 0.0

    def select(self, branches: Sequence[tuple[Any, Any]], otherwise=None):
        """Piecewise choice: ``branches`` are (condition thunk, value thunk) pairs; the first
        condition that holds wins. Conditions are evaluated lazily, in order."""
        for cond, thunk in branches:
            if cond():
                return thunk()
        if otherwise is None:
            raise ValueError("no branch of a piecewise expression applies")
        return otherwise()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.precision_label}>"
