"""Rigorous interval context: numpy object arrays of Arb balls (python-flint).

Why Arb and not ``mpmath.iv``: mpmath's maintainers describe ``iv`` as reliable for basic arithmetic
only, while Arb's elementary functions carry proved error bounds. Every quantity is a ball
[mid +/- rad] that contains the true value. Decisions are taken on endpoints: ``less(a, b)`` is True
when the whole of a lies below the whole of b, False when the whole of a lies at or above b, and
otherwise raises :class:`UndecidedError` — a rigorous context never guesses.

Arb's working precision is the process-wide ``flint.ctx.prec``; this context sets it when created and
whenever it converts input (``activate`` sets it explicitly).
"""
from __future__ import annotations

from fractions import Fraction

import flint
import numpy as np

from .objectarray import ObjectArrayContext
from ..errors import NonFiniteError, UndecidedError


class ArbContext(ObjectArrayContext):
    name = "arb"
    rigorous = True

    def __init__(self, dps: int | None = 50, prec: int | None = None):
        self.prec = int(prec) if prec else int(dps * 3.33) + 8
        self.activate()

    def activate(self):
        flint.ctx.prec = self.prec
        return self

    # -- numbers ------------------------------------------------------------------------------------
    def scalar(self, v):
        self.activate()
        if isinstance(v, flint.arb):
            return v
        if isinstance(v, Fraction):
            return flint.arb(v.numerator) / v.denominator
        if hasattr(v, "p") and hasattr(v, "q"):  # sympy Rational: exact
            return flint.arb(int(v.p)) / int(v.q)
        if isinstance(v, float):  # a binary float is an exact dyadic rational
            return flint.arb(flint.fmpq(*Fraction(v).as_integer_ratio()))
        return flint.arb(v)  # int, or decimal string (enclosed rigorously)

    def rational(self, p: int, q: int = 1):
        return flint.arb(p) / q

    def ball(self, mid, rad):
        """The ball [mid - rad, mid + rad] (both converted exactly)."""
        m, r = self.scalar(mid), self.scalar(rad)
        return flint.arb(m.mid(), (r.mid().abs_upper() + r.rad().abs_upper()))

    def box(self, center, radius):
        return np.array([self.ball(c, radius) for c in center], dtype=object)

    def to_float(self, s) -> float:
        return float(s.mid()) if isinstance(s, flint.arb) else float(s)

    def to_str(self, s) -> str:
        return s.str(radius=True, more=False) if isinstance(s, flint.arb) else str(s)

    def pi(self):
        return flint.arb.pi()

    def exp(self, a): return self.scalar(a).exp()
    def log(self, a): return self.scalar(a).log()
    def sqrt(self, a): return self.scalar(a).sqrt()
    def sin(self, a): return self.scalar(a).sin()
    def cos(self, a): return self.scalar(a).cos()
    def tan(self, a): return self.scalar(a).tan()
    def tanh(self, a): return self.scalar(a).tanh()
    def sinh(self, a): return self.scalar(a).sinh()
    def cosh(self, a): return self.scalar(a).cosh()
    def atan(self, a): return self.scalar(a).atan()

    # -- endpoints ----------------------------------------------------------------------------------
    def lower(self, a):
        """The exact lower endpoint, as an exact Arb number."""
        return self.scalar(a).lower()

    def upper(self, a):
        """The exact upper endpoint, as an exact Arb number."""
        return self.scalar(a).upper()

    def radius(self, a) -> float:
        return float(a.rad())

    # -- decisions by endpoints ---------------------------------------------------------------------
    def less(self, a, b) -> bool:
        a, b = self.scalar(a), self.scalar(b)
        if a < b:          # flint: True only when every point of a is below every point of b
            return True
        if a >= b:
            return False
        raise UndecidedError(f"cannot decide {a} < {b}: the enclosures overlap")

    def less_equal(self, a, b) -> bool:
        a, b = self.scalar(a), self.scalar(b)
        if a <= b:
            return True
        if a > b:
            return False
        raise UndecidedError(f"cannot decide {a} <= {b}: the enclosures overlap")

    def is_zero_possible(self, a) -> bool:
        return self.scalar(a).contains(0)

    def abs(self, a):
        return abs(self.scalar(a))

    def norm(self, v):
        # a ball for sum x_i^2 may dip below 0 when some x_i contains 0 (the true value cannot),
        # and Arb's sqrt of such a ball is NaN: clip to the nonnegative part first
        total = self.scalar(0)
        for x in v:
            total = total + x * x
        return total.nonnegative_part().sqrt()

    def check_finite(self, value, what: str):
        items = value.reshape(-1) if hasattr(value, "reshape") else [value]
        for x in items:
            if not self.scalar(x).is_finite():
                raise NonFiniteError(f"{what} is not finite ({x}) in {self.name}")
        return value

    def select(self, branches, otherwise=None):
        # conditions are already decided bools: less() raised if a branch could not be decided
        return super().select(branches, otherwise)

    # -- linear algebra -----------------------------------------------------------------------------
    def _to_arb(self, A):
        return flint.arb_mat(np.asarray(A, dtype=object).tolist())

    def solve(self, A, b):
        self.activate()
        x = self._to_arb(A).solve(flint.arb_mat([[v] for v in b]))
        return self.vector([x[i, 0] for i in range(x.nrows())])

    def eigvalsh(self, S):
        """Rigorous enclosures of the eigenvalues of the symmetric part of S, ascending by midpoint.
        Raises UndecidedError when Arb cannot isolate them (e.g. clustered eigenvalues)."""
        self.activate()
        S = (S + S.T) / 2
        try:
            ev = self._to_arb(S).eig()
        except (ValueError, ArithmeticError) as exc:
            raise UndecidedError(f"Arb could not enclose the eigenvalues: {exc}") from exc
        vals = [e.real for e in ev]
        return self.vector(sorted(vals, key=lambda v: float(v.mid())))

    def svdvals(self, A):
        ev = self.eigvalsh(A.T @ A)
        return self.vector([v.nonnegative_part().sqrt() for v in reversed(list(ev))])

    def mid_vector(self, v) -> np.ndarray:
        return np.array([float(x.mid()) for x in v])
