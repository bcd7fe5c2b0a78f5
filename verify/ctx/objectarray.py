"""Shared base of the contexts whose numbers are Python objects (mpmath, Arb) held in numpy object
arrays: numpy supplies ``+ - * @`` elementwise on the objects; each subclass supplies ``scalar``."""
from __future__ import annotations

import numpy as np

from .base import Context


class ObjectArrayContext(Context):
    def _is_number(self, v) -> bool:
        raise NotImplementedError

    def is_native(self, value) -> bool:
        if isinstance(value, np.ndarray):
            return value.dtype == object and all(self._is_number(v) for v in value.flat)
        return self._is_number(value)

    def vector(self, values):
        return np.array([self.scalar(v) for v in np.asarray(values, dtype=object).reshape(-1)],
                        dtype=object)

    def matrix(self, rows):
        return np.array([[self.scalar(v) for v in row] for row in rows], dtype=object)

    def stack(self, items):
        # plain Python numbers (a compiled piecewise branch may return the int 0) become scalars
        return np.array([v if isinstance(v, np.ndarray) or self._is_number(v) else self.scalar(v)
                         for v in items], dtype=object)

    def eye(self, n):
        return self.matrix(np.eye(n, dtype=int).tolist())

    def zeros(self, n):
        return self.vector([0] * n)

    def outer(self, a, b):
        return np.array([[x * y for y in b] for x in a], dtype=object)

    def to_list(self, v):
        return list(np.asarray(v, dtype=object).reshape(-1))
