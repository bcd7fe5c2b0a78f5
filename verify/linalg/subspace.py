"""Orthonormal sets of directions in R^d, used as constraints (deflated directions) and symmetry
spaces: the same four operations whether the directions are stored as rows or are structured.

A space S with orthonormal directions s_1..s_k offers, for rows Z (b, d):

* ``coefficients(Z)`` (b, k): the inner products Z s_j;
* ``combine(C)`` (b, d): sum_j C[:, j] s_j;
* ``project(Z)``: the orthogonal projection onto S, ``combine(coefficients(Z))``;
* ``dense_rows()`` (k, d): the directions themselves, for small problems and tests.

:class:`RowSpace` stores the rows. A structured space (the MLP's symmetries,
:class:`verify.nn.point_check.SymmetrySpace`) computes the same with a few small matrix products,
which matters when k d numbers would not fit (the paper's MNIST network: about 1e4 directions of
length 1e5).
"""
from __future__ import annotations


class Space:
    """The projection, written once for every kind of space (subclasses give ``dim``,
    ``coefficients``, ``combine`` and ``dense_rows``)."""

    def project(self, Z):
        return self.combine(self.coefficients(Z))


class RowSpace(Space):
    """Directions given as orthonormal rows (k, d)."""

    def __init__(self, rows):
        self.rows = rows

    @property
    def dim(self) -> int:
        return int(self.rows.shape[0])

    def coefficients(self, Z):
        return Z @ self.rows.T

    def combine(self, C):
        return C @ self.rows

    def dense_rows(self):
        return self.rows


def as_space(directions, columns: bool = False):
    """None, a space, or a tensor of orthonormal rows (``columns``: of columns) as a space."""
    if directions is None or hasattr(directions, "project"):
        return directions
    return RowSpace(directions.T.contiguous() if columns else directions)
