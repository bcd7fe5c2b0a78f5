"""Arithmetic contexts: the primitives that every piece of SAM mathematics is written against.

A context supplies numbers, vectors and matrices of one arithmetic and the handful of operations the
library needs on them. Vectors and matrices are the arithmetic's native arrays, all of which support
``+ - * /`` with scalars and ``@`` for products (numpy float arrays, numpy object arrays of mpmath or Arb
numbers, torch tensors), so the mathematics in :mod:`verify.core.sam` is written once with operators and
``ctx.<primitive>`` calls.

Contract of a context ``ctx``:

* ``ctx.name``, ``ctx.prec`` (bits), ``ctx.eps`` (unit roundoff 2**-prec), ``ctx.rigorous``;
* conversion: ``scalar(v)`` (exact where the arithmetic allows: ints, fractions, decimal strings),
  ``rational(p, q)``, ``vector(values)``, ``matrix(rows)``, ``stack(scalars)``, ``to_float``,
  ``to_str``;
* elementary functions: ``exp log sqrt sin cos tan tanh sinh cosh atan``, ``pi()``;
* linear algebra: ``eye zeros outer norm solve eigvalsh svdvals`` (``eigvalsh`` ascending,
  ``svdvals`` descending);
* decisions: ``less(a, b)`` and friends return a bool or raise :class:`UndecidedError` (rigorous
  contexts decide by endpoints, never by midpoints), ``check_finite``;
* ``tol(scale)``: the default allowance of this arithmetic, 16 units of roundoff times ``scale``.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

from ..errors import NonFiniteError
from ..validate import check_tol

ELEMENTARY = ("exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sinh", "cosh", "atan")


class Context:
    name = "base"
    rigorous = False
    prec = 53

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

    def tol(self, scale: Any = 1, units: int = 16) -> Any:
        """Default allowance: ``units`` units of roundoff times ``scale`` (a magnitude of the data)."""
        return self.scalar(units) * self.scalar(self.eps) * scale

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
