"""float64 context on numpy arrays. Functions are numpy ufuncs, so expressions also evaluate on grids."""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from .base import Context, GridDecisions


class FloatContext(GridDecisions, Context):
    name = "float64"
    prec = 53
    scalar_kind = "Python float"

    def scalar(self, v) -> float:
        if isinstance(v, Fraction):
            return v.numerator / v.denominator  # correctly rounded
        return float(v)

    def is_native(self, value) -> bool:
        if isinstance(value, np.ndarray):
            return value.dtype == np.float64
        return isinstance(value, float)  # np.float64 is a float subclass

    def lambdify_modules(self, grid: bool = False):
        return ["numpy"] if grid else ["math"]  # Python floats: several times faster on points

    def check_finite(self, value, what: str):
        # one vectorized test; the element-wise loop of the base class names the culprit
        if np.isfinite(value).all():
            return value
        return super().check_finite(value, what)

    def rational(self, p: int, q: int = 1):
        return p / q

    def vector(self, values):
        return np.array([float(v) for v in values], dtype=float) if not isinstance(values, np.ndarray) \
            else values.astype(float).reshape(-1)

    def matrix(self, rows):
        return np.array(rows, dtype=float)

    def stack(self, items):
        return np.array(list(items), dtype=float)

    def to_float(self, s) -> float:
        return float(s)

    def to_str(self, s) -> str:
        return repr(float(s))

    def pi(self):
        return np.pi

    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    sqrt = staticmethod(np.sqrt)
    sin = staticmethod(np.sin)
    cos = staticmethod(np.cos)
    tan = staticmethod(np.tan)
    tanh = staticmethod(np.tanh)
    sinh = staticmethod(np.sinh)
    cosh = staticmethod(np.cosh)
    atan = staticmethod(np.arctan)

    def eye(self, n):
        return np.eye(n)

    def zeros(self, n):
        return np.zeros(n)

    def outer(self, a, b):
        return np.outer(a, b)

    def solve(self, A, b):
        return np.linalg.solve(A, b)

    def eigvalsh(self, S):
        return np.linalg.eigvalsh(0.5 * (S + S.T))

    def eigh(self, S):
        return np.linalg.eigh(0.5 * (S + S.T))

    def svdvals(self, A):
        return np.linalg.svd(A, compute_uv=False)

    def eigvals(self, A):
        ev = np.linalg.eigvals(np.asarray(A, dtype=float)).astype(complex)
        return ev[np.lexsort((ev.imag, ev.real))]

    def where(self, cond, a, b):
        return np.where(cond, a, b)

    def select(self, branches, otherwise=None):
        conds = [c() for c, _ in branches]
        if all(np.ndim(c) == 0 for c in conds):
            return super().select([((lambda c=c: c), t) for c, (_, t) in zip(conds, branches)],
                                  otherwise)
        # grid evaluation: every branch on the whole grid, then pick per point
        with np.errstate(all="ignore"):
            values = [np.broadcast_to(t(), np.shape(conds[0])) for _, t in branches]
            default = otherwise() if otherwise is not None else np.nan
        return np.select([np.asarray(c, bool) for c in conds], values, default=default)

    def to_list(self, v):
        return list(np.asarray(v, dtype=float).reshape(-1))
