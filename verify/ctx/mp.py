"""Multiprecision context: numpy object arrays of mpmath numbers from a private mpmath context.

Each MPContext owns its own ``mpmath.MPContext``, so two precisions can coexist without touching the
global ``mpmath.mp``. Precision is given in decimal digits (``dps``) like mpmath's own.
"""
from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np

from .objectarray import ObjectArrayContext


class MPContext(ObjectArrayContext):
    name = "mpmath"

    def __init__(self, dps: int = 50):
        self.mp = mpmath.MPContext()
        self.mp.dps = int(dps)
        self.prec = self.mp.prec

    @property
    def dps(self) -> int:
        return self.mp.dps

    @property
    def precision_label(self) -> str:
        return f"{self.mp.dps} digits ({self.prec} bits)"

    # -- numbers ------------------------------------------------------------------------------------
    def scalar(self, v):
        if isinstance(v, Fraction):
            return self.mp.mpf(v.numerator) / v.denominator
        if hasattr(v, "p") and hasattr(v, "q"):  # sympy Rational
            return self.mp.mpf(int(v.p)) / int(v.q)
        return self.mp.mpf(v)

    def rational(self, p: int, q: int = 1):
        return self.mp.mpf(p) / q

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

    def svdvals(self, A):
        try:
            s = self.mp.svd_r(self._to_mp(A), compute_uv=False)
            values = [s[i] for i in range(s.rows)]
        except (RuntimeError, ZeroDivisionError):
            # mpmath's SVD iteration can fail to converge: fall back to the symmetric eigensolver
            values = [self.mp.sqrt(max(e, 0)) for e in self.eigvalsh(A.T @ A)]
        return self.vector(sorted(values, reverse=True))

