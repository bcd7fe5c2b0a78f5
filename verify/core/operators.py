"""The SAM quantities at one point, computed once, and the SAM operators as objects.

``SamPoint(objective, x, rho, ctx)`` computes on first use and keeps: g = grad f(x), ||g||,
u = g/||g||, x+ = x + rho u, grad f(x+), f(x), f(x+), and the linear operators of
:mod:`verify.core.sam` as :class:`Operator` objects (curvlinops style):

* ``Du`` (the Jacobian of u, P H / ||g|| with P = I - u u^T) and ``DuT`` its adjoint H P / ||g||;
* ``I_plus_rho_Du`` = I + rho Du, whose transpose carries grad f(x+) to the gradient of f_SAM;
* ``H_plus`` = H(x+) (symmetric);
* ``shifted_jacobian`` = H(x+) (I + rho Du), the Jacobian of x -> grad f(x+);
* ``sam_map_jacobian(eta)`` = I - eta H(x+)(I + rho Du), the Jacobian of one SAM step.

An :class:`Operator` applies itself to a vector (``matvec``, ``op @ v``) or to the columns of a
matrix (``matmat``), has an ``adjoint()`` (``op.T``), composes (``A @ B``), adds and scales
(``I + rho * Du``), and gives ``dense()`` (from its own dense formula where one is known, else column
by column) and ``to_scipy()`` (a scipy ``LinearOperator`` on float64 vectors, for ARPACK / Krylov
code). Products use Hessian-vector products at x and x+ only (``Objective.hessian_operator``), so
the operators serve large d; the dense forms are for tests and small d.

    >>> from verify import zoo, get_context
    >>> p = SamPoint(zoo.get("ring").objective, ["1.25", "0.1"], "1/2", get_context("float64"))
    >>> abs(p.sam_gradient() - p.I_plus_rho_Du.T @ p.shifted_grad).max() < 1e-15
    True
"""
from __future__ import annotations

from functools import cached_property
from typing import Any, Callable

import numpy as np

from . import sam
from ..errors import SamVerifyError


class Operator:
    """A square linear operator of dimension ``dim`` in a context: ``matvec`` and ``rmatvec``
    (the adjoint's product) are functions of native vectors; ``dense`` (optional) its matrix;
    ``rows`` and ``rrows`` (optional) apply it and its adjoint to every row of a block (k, d) at
    once, which the block Krylov code uses (torch: one vmapped Hessian product per block)."""

    def __init__(self, ctx, dim: int, matvec: Callable, rmatvec: Callable,
                 dense: Callable | None = None, name: str = "operator",
                 rows: Callable | None = None, rrows: Callable | None = None):
        self.ctx, self.dim, self.name = ctx, int(dim), name
        self._matvec, self._rmatvec, self._dense = matvec, rmatvec, dense
        self._rows = rows or (lambda X: self.ctx.stack([self._matvec(x) for x in X]))
        self._rrows = rrows or (lambda X: self.ctx.stack([self._rmatvec(x) for x in X]))

    @property
    def shape(self) -> tuple[int, int]:
        return (self.dim, self.dim)

    # -- products -----------------------------------------------------------------------------------
    def matvec(self, v):
        return self._matvec(v)

    def rmatvec(self, v):
        return self._rmatvec(v)

    def matrows(self, X):
        """The operator applied to each row of X (k x d): the rows of X A^T."""
        return self._rows(X)

    def rmatrows(self, X):
        """The adjoint applied to each row of X (k x d)."""
        return self._rrows(X)

    def matmat(self, V):
        """The operator applied to each column of V (d x k)."""
        cols = [self.matvec(V[:, j]) for j in range(V.shape[1])]
        return self.ctx.stack(cols).T

    def __matmul__(self, other):
        if isinstance(other, Operator):
            return self._compose(other)
        return self.matmat(other) if len(getattr(other, "shape", ())) == 2 else self.matvec(other)

    # -- algebra ------------------------------------------------------------------------------------
    def adjoint(self) -> "Operator":
        dense = (lambda: self.dense().T) if self._dense else None
        return Operator(self.ctx, self.dim, self._rmatvec, self._matvec, dense, self.name + "^T",
                        self._rrows, self._rows)

    @property
    def T(self) -> "Operator":
        return self.adjoint()

    def _compose(self, B: "Operator") -> "Operator":
        A = self
        dense = (lambda: A.dense() @ B.dense()) if A._dense and B._dense else None
        return Operator(self.ctx, self.dim, lambda v: A.matvec(B.matvec(v)),
                        lambda v: B.rmatvec(A.rmatvec(v)), dense, f"{A.name} {B.name}",
                        lambda X: A.matrows(B.matrows(X)), lambda X: B.rmatrows(A.rmatrows(X)))

    def __add__(self, B: "Operator") -> "Operator":
        A = self
        dense = (lambda: A.dense() + B.dense()) if A._dense and B._dense else None
        return Operator(self.ctx, self.dim, lambda v: A.matvec(v) + B.matvec(v),
                        lambda v: A.rmatvec(v) + B.rmatvec(v), dense, f"{A.name} + {B.name}",
                        lambda X: A.matrows(X) + B.matrows(X), lambda X: A.rmatrows(X) + B.rmatrows(X))

    def __sub__(self, B: "Operator") -> "Operator":
        return self + (-1) * B

    def __rmul__(self, c) -> "Operator":
        A, c = self, self.ctx.convert(c)
        dense = (lambda: c * A.dense()) if A._dense else None
        return Operator(self.ctx, self.dim, lambda v: c * A.matvec(v), lambda v: c * A.rmatvec(v),
                        dense, f"c {A.name}", lambda X: c * A.matrows(X), lambda X: c * A.rmatrows(X))

    # -- forms --------------------------------------------------------------------------------------
    def dense(self):
        """The d x d matrix: the operator's own dense formula where known, else its columns."""
        if self._dense is not None:
            return self._dense()
        return self.matmat(self.ctx.eye(self.dim))

    def to_scipy(self):
        """A ``scipy.sparse.linalg.LinearOperator`` on float64 vectors (converted into the context
        for each product and back), for ARPACK and the Krylov solvers."""
        from scipy.sparse.linalg import LinearOperator
        ctx = self.ctx

        def as_float(fn):
            def apply(v):
                out = fn(ctx.convert(np.asarray(v, dtype=float).reshape(-1)))
                return np.array([ctx.to_float(e) for e in ctx.to_list(out)])
            return apply
        return LinearOperator(self.shape, matvec=as_float(self.matvec),
                              rmatvec=as_float(self.rmatvec), dtype=float)

    def __repr__(self) -> str:
        return f"<Operator {self.name} {self.dim}x{self.dim} in {self.ctx.name}>"


def identity(ctx, dim: int) -> Operator:
    return Operator(ctx, dim, lambda v: v, lambda v: v, lambda: ctx.eye(dim), "I", lambda X: X,
                    lambda X: X)


class SamPoint:
    """The SAM quantities at x for radius rho, each computed once (see the module docstring)."""

    def __init__(self, objective, x, rho, ctx, gradient: sam.Gradient | None = None):
        """``gradient``: the :class:`~verify.core.sam.Gradient` at x when the caller has it already.
        ``rho=None``: no radius, only the quantities at x itself (g, u, Du)."""
        self.objective, self.ctx = objective, ctx
        self.x = objective.point(x, ctx)
        self.rho = sam.check_rho(rho, ctx) if rho is not None else None
        self.dim = objective.dim
        if gradient is not None:
            self.__dict__["gradient"] = gradient     # fills the cached property below

    # -- vectors and numbers --------------------------------------------------------------------------
    @cached_property
    def gradient(self) -> sam.Gradient:
        """g, ||g|| and u (raises ZeroGradientError where g = 0)."""
        return sam.gradient(self.objective, self.x, self.ctx)

    @property
    def g(self):
        return self.gradient.g

    @property
    def grad_norm(self):
        return self.gradient.norm

    @property
    def u(self):
        return self.gradient.u

    @cached_property
    def x_plus(self):
        if self.rho is None:
            raise SamVerifyError("this SamPoint has no radius rho: x+ = x + rho u is undefined")
        return self.x + self.rho * self.u

    @cached_property
    def shifted_grad(self):
        """grad f(x+)."""
        return self.ctx.check_finite(self.objective.grad(self.x_plus, self.ctx), "grad f(x+)")

    @cached_property
    def value(self):
        return self.objective.value(self.x, self.ctx)

    @cached_property
    def sam_value(self):
        """f_SAM(x) = f(x+)."""
        return self.ctx.check_finite(self.objective.value(self.x_plus, self.ctx), "f_SAM(x) = f(x+)")

    def sam_gradient(self):
        """The exact gradient of f_SAM: (I + rho Du)^T grad f(x+)."""
        return self.I_plus_rho_Du.rmatvec(self.shifted_grad)

    def diagnostics(self) -> sam.SamDiagnostics:
        return sam.diagnostics(self.objective, self.x, self.rho, self.ctx, self.gradient)

    # -- operators ----------------------------------------------------------------------------------
    @cached_property
    def _hvp_x(self) -> Callable[[Any], Any]:
        return self.objective.hessian_operator(self.x, self.ctx)

    @cached_property
    def _hvp_plus(self) -> Callable[[Any], Any]:
        return self.objective.hessian_operator(self.x_plus, self.ctx)

    @cached_property
    def _hvp_rows_x(self) -> Callable[[Any], Any]:
        return self.objective.hessian_rows(self.x, self.ctx)

    @cached_property
    def Du(self) -> Operator:
        """Du = P H / ||g|| (rows: derivatives of the components of u)."""
        u, n, H = self.u, self.grad_norm, self._hvp_x
        ur = u.reshape(1, -1)

        def matvec(v):
            Hv = H(v)
            return (Hv - u * (u @ Hv)) / n

        def rows(X):                      # P H X row by row: one block of Hessian products
            HX = self._hvp_rows_x(X)
            return (HX - (HX @ ur.T) @ ur) / n
        return Operator(self.ctx, self.dim, matvec, lambda v: H(v - u * (u @ v)) / n,
                        lambda: self.du_dense, "Du", rows,
                        lambda X: self._hvp_rows_x(X - (X @ ur.T) @ ur) / n)

    def i_plus_rho_du_in_krylov_basis(self, qw, T, B):
        """I + rho Du in the basis of a Lanczos run of P H P on the complement of u (float64 numpy):
        the (1 + n + b) x (1 + n) matrix R with (I + rho Du)(a u + Q^T y) = [u; Q; Q_next]^T R (a, y),
        from ``qw`` = Q w (w = P H u), the projection ``T`` = Q P H P Q^T and the next block's
        coefficients ``B``. With c = rho/||g||: u^T (I + rho Du) = u^T, so the first row is (1, 0);
        Q (I + rho Du) u = c Q w; Q (I + rho Du) Q^T = I + c T; Q_next (I + rho Du) Q^T = c B."""
        n, b = T.shape[0], B.shape[0]
        c = float(self.rho) / float(self.grad_norm)
        R = np.zeros((1 + n + b, 1 + n))
        R[0, 0] = 1.0
        R[1:1 + n, 0] = c * qw
        R[1:1 + n, 1:] = np.eye(n) + c * T
        R[1 + n:, 1 + n - b:] = c * B
        return R

    @cached_property
    def du_dense(self):
        """The matrix of Du (one dense Hessian at x), kept: Du, Du^T and I + rho Du share it."""
        return sam.du_matrix(self.objective, self.x, self.ctx, self.gradient)

    @property
    def DuT(self) -> Operator:
        return self.Du.adjoint()

    @cached_property
    def I_plus_rho_Du(self) -> Operator:
        return identity(self.ctx, self.dim) + self.rho * self.Du

    @cached_property
    def H_plus(self) -> Operator:
        """The Hessian of f at x+ (symmetric)."""
        hvp = self._hvp_plus
        return Operator(self.ctx, self.dim, hvp, hvp,
                        lambda: self.objective.hess(self.x_plus, self.ctx), "H(x+)")

    @cached_property
    def shifted_jacobian(self) -> Operator:
        """H(x+) (I + rho Du): the Jacobian of x -> grad f(x+)."""
        return self.H_plus @ self.I_plus_rho_Du

    def sam_map_jacobian(self, eta) -> Operator:
        """I - eta H(x+)(I + rho Du): the Jacobian of the SAM step x -> x - eta grad f(x+)."""
        return identity(self.ctx, self.dim) - self.ctx.convert(eta) * self.shifted_jacobian

    def __repr__(self) -> str:
        return f"<SamPoint {self.objective.name} d={self.dim} in {self.ctx.name}>"
