"""Shared base of the contexts whose numbers are Python objects (mpmath, Arb) held in numpy object
arrays: numpy supplies ``+ - * @`` elementwise on the objects; each subclass supplies ``scalar``."""
from __future__ import annotations

import numpy as np

from .base import Context


class ObjectArrayContext(Context):
    def vector(self, values):
        return np.array([self.scalar(v) for v in np.asarray(values, dtype=object).reshape(-1)],
                        dtype=object)

    def matrix(self, rows):
        return np.array([[self.scalar(v) for v in row] for row in rows], dtype=object)

    def stack(self, items):
        return np.array(list(items), dtype=object)

    def eye(self, n):
        return self.matrix(np.eye(n, dtype=int).tolist())

    def zeros(self, n):
        return self.vector([0] * n)

    def outer(self, a, b):
        return np.array([[x * y for y in b] for x in a], dtype=object)

    def to_list(self, v):
        return list(np.asarray(v, dtype=object).reshape(-1))
