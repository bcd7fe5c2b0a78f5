"""Multiprecision context: numpy object arrays of mpmath numbers from a private mpmath context.

Each MPContext owns its own ``mpmath.MPContext``, so two precisions can coexist without touching the
global ``mpmath.mp``. Precision is given in decimal digits (``dps``) like mpmath's own.
"""
from __future__ import annotations

from contextlib import contextmanager
from fractions import Fraction

import mpmath
import numpy as np
from mpmath.ctx_mp_python import _mpf

from .base import register_number
from .objectarray import ObjectArrayContext


def _mpf_exact(v) -> Fraction | float:
    sign, man, exp, _ = v._mpf_  # (``man_exp`` drops the sign)
    if not man and exp:  # mpmath's encoding of inf and nan
        return float(v)
    man = -man if sign else man
    return Fraction(man * 2 ** exp) if exp >= 0 else Fraction(man, 2 ** -exp)


register_number(_mpf, _mpf_exact)


class MPContext(ObjectArrayContext):
    name = "mpmath"
    scalar_kind = "mpmath mpf (of this context's private mpmath context)"

    def __init__(self, dps: int = 50):
        self.mp = mpmath.MPContext()
        self.mp.dps = int(dps)

    @property
    def prec(self) -> int:
        return self.mp.prec

    @contextmanager
    def extraprec(self, bits: int):
        with self.mp.extraprec(int(bits)):
            yield self

    def _is_number(self, v) -> bool:
        return isinstance(v, _mpf) and v.context is self.mp  # another precision's mpf is foreign

    @property
    def dps(self) -> int:
        return self.mp.dps

    @property
    def precision_label(self) -> str:
        return f"{self.mp.dps} digits ({self.prec} bits)"

    # -- numbers ------------------------------------------------------------------------------------
    def scalar(self, v):
        if isinstance(v, _mpf):
            return v if v.context is self.mp else self.mp.mpf(v)  # rounded to this precision
        if isinstance(v, Fraction):
            return self.mp.mpf(v.numerator) / v.denominator
        if hasattr(v, "p") and hasattr(v, "q"):  # sympy Rational
            return self.mp.mpf(int(v.p)) / int(v.q)
        return self.mp.mpf(v)

    def reference(self) -> "MPContext":
        return MPContext(2 * self.dps)

    def lambdify_modules(self, grid: bool = False):
        # this context's own functions and constants, so that compiled code runs at its precision
        names = ("mpf", "exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sinh", "cosh", "atan",
                 "pi", "e")
        return [{n: getattr(self.mp, n) for n in names}, "mpmath"]

    def rational(self, p: int, q: int = 1):
        return self.mp.mpf(p) / q

    def decision_values(self, *numbers) -> tuple:
        return tuple(self.scalar(v) for v in numbers)  # keep all digits: decide in mpf

    def to_float(self, s) -> float:
        return float(s)

    def to_str(self, s) -> str:
        return self.mp.nstr(s, self.mp.dps)

    def pi(self):
        return +self.mp.pi

    def __getattr__(self, name):
        if name in ("exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sinh", "cosh", "atan"):
            return getattr(self.mp, name)
        raise AttributeError(name)

    # -- linear algebra -----------------------------------------------------------------------------
    def _to_mp(self, A):
        return self.mp.matrix(np.asarray(A, dtype=object).tolist())

    def solve(self, A, b):
        x = self.mp.lu_solve(self._to_mp(A), self.mp.matrix(list(b)))
        return self.vector([x[i] for i in range(x.rows)])

    def eigvalsh(self, S):
        S = (S + S.T) / 2
        E, _ = self.mp.eigsy(self._to_mp(S))
        return self.vector(sorted(E[i] for i in range(E.rows)))

    def eigh(self, S):
        S = (S + S.T) / 2
        E, Q = self.mp.eigsy(self._to_mp(S))
        order = sorted(range(E.rows), key=lambda i: E[i])
        vals = self.vector([E[i] for i in order])
        vecs = np.array([[Q[r, i] for i in order] for r in range(Q.rows)], dtype=object)
        return vals, vecs

    def eigvals(self, A):
        ev = self.mp.eig(self._to_mp(A), left=False, right=False)
        if isinstance(ev, tuple):  # mpmath's n = 1 case ignores left/right: (E, ER, EL)
            ev = ev[0]
        return np.array(sorted((self.mp.mpc(e) for e in ev), key=lambda z: (z.real, z.imag)),
                        dtype=object)

    def svdvals(self, A):
        try:
            s = self.mp.svd_r(self._to_mp(A), compute_uv=False)
            values = [s[i] for i in range(s.rows)]
        except (RuntimeError, ZeroDivisionError):
            # mpmath's SVD iteration can fail to converge: fall back to the symmetric eigensolver
            values = [self.mp.sqrt(max(e, 0)) for e in self.eigvalsh(A.T @ A)]
        return self.vector(sorted(values, reverse=True))

