"""Rigorous interval context: numpy object arrays of Arb balls (python-flint).

Why Arb and not ``mpmath.iv``: mpmath's maintainers describe ``iv`` as reliable for basic arithmetic
only, while Arb's elementary functions carry proved error bounds. Every quantity is a ball
[mid +/- rad] that contains the true value. Decisions are taken on endpoints: ``less(a, b)`` is True
when the whole of a lies below the whole of b, False when the whole of a lies at or above b, and
otherwise raises :class:`UndecidedError` — a rigorous context never guesses.

Precision belongs to the context. Arb's working precision is the process-wide ``flint.ctx.prec``, so
every method of this context sets it to its own ``prec`` for the call and restores what was there
(two contexts of different precisions used in turn each compute at their own). Operators between
bare balls (``a + b``) run at the ambient precision: ``with ctx.working():`` makes that this
context's, and the engine evaluates objectives, Newton solves and claims inside such a block.
Outside any block, the ambient precision is never below that of an Arb context created so far (a
context raises it to its own when created, and nothing lowers it), so bare arithmetic is never
coarser than a context asks for; it may be finer.
"""
from __future__ import annotations

import functools
from contextlib import contextmanager
from fractions import Fraction

import flint
import mpmath
import numpy as np
import sympy as sp
from sympy.printing.pycode import MpmathPrinter

from .base import integer_power, register_number
from .mp import _mpf_exact
from .objectarray import ObjectArrayContext
from ..errors import NonFiniteError, UndecidedError


def _arb_midpoint(v) -> Fraction | float:
    if not v.mid().is_finite():
        return float(v.mid())
    man, exp = v.mid().man_exp()
    man, exp = int(man), int(exp)
    return Fraction(man * 2 ** exp) if exp >= 0 else Fraction(man, 2 ** -exp)


register_number(flint.arb, _arb_midpoint)


def _to_mpf(mp, x):
    """The exact midpoint of the ball x as a number of the mpmath context mp (rounded to its
    precision only if the midpoint has more bits)."""
    man, exp = x.mid().man_exp()
    return mp.ldexp(mp.mpf(int(man)), int(exp))


def own_prec(method):
    """Run a method at its context's precision, restoring the ambient one afterwards."""
    @functools.wraps(method)
    def at_own_prec(self, *args, **kwargs):
        saved = flint.ctx.prec
        flint.ctx.prec = self.prec
        try:
            return method(self, *args, **kwargs)
        finally:
            flint.ctx.prec = saved
    return at_own_prec


ARB_FUNCTIONS = ("exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sinh", "cosh", "atan")


def _arb_function(name: str):
    """Arb's ``name`` for compiled code: a ball's own method (an int argument made a ball first)."""
    method = getattr(flint.arb, name)
    return lambda a: method(a if isinstance(a, flint.arb) else flint.arb(a))


def _arb_ipow(v, n: int):
    """v**n for an integer n, by repeated multiplication as the interpreter does (x**2 of a ball
    around 0 is a ball around 0, not Arb's NaN)."""
    v = v if isinstance(v, flint.arb) else flint.arb(v)
    return integer_power(v, n) if n >= 0 else 1 / integer_power(v, -n)


class ArbPowerPrinter(MpmathPrinter):
    """sympy's mpmath printer with powers written as the interpreter evaluates them
    (:func:`verify.objectives.expr._build_pow`): integer exponents by ``ipow``, 1/2 and -1/2 by
    ``sqrt`` and ``rsqrt``, any other exponent p as exp(p log b)."""

    def _print_Pow(self, expr, rational=False):
        b, p = self._print(expr.base), expr.exp
        if p.is_Integer:
            return f"ipow({b}, {int(p)})"
        if p == sp.Rational(1, 2):
            return f"sqrt({b})"
        if p == sp.Rational(-1, 2):
            return f"rsqrt({b})"
        return f"exp(({self._print(p)})*log({b}))"


class ArbContext(ObjectArrayContext):
    name = "arb"
    rigorous = True
    scalar_kind = "flint arb (a ball)"

    def __init__(self, dps: int | None = 50, prec: int | None = None):
        self.prec = int(prec) if prec else int(dps * 3.33) + 8
        flint.ctx.prec = max(flint.ctx.prec, self.prec)  # the floor for bare arithmetic (see above)

    @contextmanager
    def working(self):
        saved = flint.ctx.prec
        flint.ctx.prec = self.prec
        try:
            yield self
        finally:
            flint.ctx.prec = saved

    @contextmanager
    def extraprec(self, bits: int):
        self.prec += int(bits)
        try:
            with self.working():
                yield self
        finally:
            self.prec -= int(bits)

    def activate(self):
        """Set the process-wide Arb precision to this context's and leave it there (for code that
        works with bare balls; prefer ``with ctx.working():``, which restores it)."""
        flint.ctx.prec = self.prec
        return self

    def _is_number(self, v) -> bool:
        return isinstance(v, flint.arb)

    # -- numbers ------------------------------------------------------------------------------------
    @own_prec
    def scalar(self, v):
        if isinstance(v, flint.arb):
            return v
        if isinstance(v, Fraction):
            return flint.arb(v.numerator) / v.denominator
        if hasattr(v, "p") and hasattr(v, "q"):  # sympy Rational: exact
            return flint.arb(int(v.p)) / int(v.q)
        if isinstance(v, float):  # a binary float is an exact dyadic rational
            return flint.arb(flint.fmpq(*Fraction(v).as_integer_ratio()))
        return flint.arb(v)  # int, or decimal string (enclosed rigorously)

    @own_prec
    def rational(self, p: int, q: int = 1):
        return flint.arb(p) / q

    @own_prec
    def ball(self, mid, rad):
        """A ball containing [mid - rad, mid + rad]: exactly that one where mid and rad are binary
        numbers; a mid that is not (1/3) widens it by the rounding of mid, so no end is lost."""
        m, r = self.scalar(mid), self.scalar(rad)
        return flint.arb(m.mid(), (r.mid().abs_upper() + r.rad().abs_upper() + m.rad().abs_upper()))

    def box(self, center, radius):
        return np.array([self.ball(c, radius) for c in center], dtype=object)

    @own_prec
    def interval(self, lo, hi):
        """A ball containing every number between lo and hi (each taken as by :meth:`scalar`, so a
        rational that is not binary is enclosed, not rounded): the union of their enclosures."""
        return self.scalar(lo).union(self.scalar(hi))

    def lambdify_modules(self, grid: bool = False):
        """Compiled code on Arb balls (:mod:`verify.objectives.compiled`): sympy's mpmath printer
        writes a rational p/q as ``mpf(p)/mpf(q)``, here an exact ball quotient, and the functions
        below are Arb's, so the compiled code encloses what the interpreter encloses. Only
        expressions without ``Piecewise`` are compiled for Arb (a compiled ``if`` would pick a side
        where the interpreter raises on a straddled seam); the caller runs the code inside
        ``working()``. The names are the whole namespace: code that names anything else (an
        mpmath function would read a ball's midpoint) is refused by the compiler."""
        with self.working():
            names = {n: _arb_function(n) for n in ARB_FUNCTIONS}
            names.update(mpf=flint.arb, pi=flint.arb.pi(), e=flint.arb(1).exp(), ipow=_arb_ipow,
                         rsqrt=lambda a: 1 / _arb_function("sqrt")(a))
        return [names, "mpmath"]

    def lambdify_printer(self):
        """Powers as the interpreter computes them on balls (Arb's own ``**`` gives NaN for a ball
        that contains 0): see :class:`ArbPowerPrinter`."""
        return ArbPowerPrinter

    def to_float(self, s) -> float:
        return float(s.mid()) if isinstance(s, flint.arb) else float(s)

    def to_str(self, s) -> str:
        return s.str(radius=True, more=False) if isinstance(s, flint.arb) else str(s)

    @own_prec
    def pi(self):
        return flint.arb.pi()

    @own_prec
    def exp(self, a): return self.scalar(a).exp()
    @own_prec
    def log(self, a): return self.scalar(a).log()
    @own_prec
    def sqrt(self, a): return self.scalar(a).sqrt()
    @own_prec
    def sin(self, a): return self.scalar(a).sin()
    @own_prec
    def cos(self, a): return self.scalar(a).cos()
    @own_prec
    def tan(self, a): return self.scalar(a).tan()
    @own_prec
    def tanh(self, a): return self.scalar(a).tanh()
    @own_prec
    def sinh(self, a): return self.scalar(a).sinh()
    @own_prec
    def cosh(self, a): return self.scalar(a).cosh()
    @own_prec
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

    @own_prec
    def minimum(self, a, b):
        return self.scalar(a).min(self.scalar(b))

    @own_prec
    def maximum(self, a, b):
        return self.scalar(a).max(self.scalar(b))

    def is_zero_possible(self, a) -> bool:
        return self.scalar(a).contains(0)

    @own_prec
    def abs(self, a):
        return abs(self.scalar(a))

    @own_prec
    def dot(self, a, b):
        return a @ b

    @own_prec
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

    @own_prec
    def solve(self, A, b):
        x = self._to_arb(A).solve(flint.arb_mat([[v] for v in b]))
        return self.vector([x[i, 0] for i in range(x.nrows())])

    def _eig(self, A, multiple: bool = True):
        """Enclosures of the eigenvalues of A (complex balls): isolated ones by Arb's eigensolver;
        where some coincide or cluster, (``multiple``) Arb's multiple-eigenvalue enclosure, whose
        balls each contain the whole cluster, once per member."""
        M = flint.acb_mat(self._to_arb(A))
        try:
            return M.eig()
        except (ValueError, ArithmeticError) as exc:
            if not multiple:
                raise UndecidedError(str(exc)) from exc
        try:
            return M.eig(multiple=True)
        except (ValueError, ArithmeticError) as exc:
            raise UndecidedError(f"Arb could not enclose the eigenvalues of a {M.nrows()}x{M.ncols()} "
                                 f"matrix at {self.prec} bits: {exc}; raise the precision") from exc

    @own_prec
    def eigvalsh(self, S):
        """Rigorous enclosures of the eigenvalues of the symmetric part of S, ascending by midpoint,
        repeated eigenvalues included (a symmetric matrix has real eigenvalues, so the real part of
        a complex enclosure encloses one). Isolated eigenvalues come from Arb's eigensolver; when it
        cannot isolate them (a repeated eigenvalue), from :meth:`_eigvalsh_perturbation`."""
        S = (S + S.T) / 2
        try:
            vals = [e.real for e in self._eig(S, multiple=False)]
        except UndecidedError:
            vals = self._eigvalsh_perturbation(S)
        return self.vector(sorted(vals, key=lambda v: float(v.mid())))

    def _eigvalsh_perturbation(self, S):
        """Enclosures of the eigenvalues of a symmetric ball matrix S around an approximate
        eigendecomposition of its midpoint matrix M (mpmath at this precision), for any
        multiplicities. With Q the approximate eigenvectors (exact numbers), ascending approximate
        eigenvalues l_i, E = Q^T M Q - diag(l) and G = Q^T Q - I computed in Arb:
        (Weyl) the i-th eigenvalue of Q^T M Q lies within ||E||_2 <= ||E||_F of l_i;
        (Ostrowski) it equals theta_i times the i-th eigenvalue of M, theta_i in [1 - ||G||, 1 + ||G||];
        (Weyl again) S differs from M by a matrix of norm <= ||radii of S||_F."""
        d = S.shape[0]
        mid = self.midpoint(S)
        lam, Qa = self._approximate_eigh(mid)
        resid = Qa.T @ mid @ Qa - np.diag(np.array(lam, dtype=object)) * self.eye(d)
        gram = Qa.T @ Qa - self.eye(d)
        e, g = self._frobenius(resid), self._frobenius(gram)
        if not g < 1:
            raise UndecidedError(f"the approximate eigenvectors are not independent enough to "
                                 f"enclose the eigenvalues at {self.prec} bits; raise the precision")
        rad = self._frobenius(np.array([[flint.arb(x.rad()) for x in row] for row in S], dtype=object))
        theta = flint.arb(1, g.upper())
        return [flint.arb(l, e.upper()) / theta + flint.arb(0, rad.upper()) for l in lam]

    def _frobenius(self, A):
        """An enclosure of the Frobenius norm (an upper bound of the spectral norm) of A."""
        total = flint.arb(0)
        for x in A.reshape(-1):
            total = total + x * x
        return total.nonnegative_part().sqrt()

    @own_prec
    def eigvals(self, A):
        """Enclosures (complex balls, ``flint.acb``) of the eigenvalues of a general square matrix."""
        ev = sorted(self._eig(A), key=lambda z: (float(z.real.mid()), float(z.imag.mid())))
        return np.array(ev, dtype=object)

    @own_prec
    def eigh(self, S):
        """(eigenvalue enclosures ascending, eigenvectors as columns). The eigenvectors are NOT
        enclosures: they are those of the midpoint matrix computed by mpmath at this precision (a
        repeated eigenvalue has no unique eigenvector to enclose); use them to select or label
        eigenvalues, never as proof."""
        _, vecs = self._approximate_eigh((S + S.T) / 2)
        return self.eigvalsh(S), vecs

    def _approximate_eigh(self, S):
        """Approximate eigenvalues (ascending) and eigenvectors (columns) of the midpoint matrix of
        the symmetric S, by mpmath at a little more than this precision, as exact Arb numbers."""
        mp = mpmath.MPContext()
        mp.prec = self.prec + 16
        E, Q = mp.eigsy(mp.matrix([[_to_mpf(mp, x) for x in row] for row in S]))
        order = sorted(range(E.rows), key=lambda i: E[i])
        lam = [self.scalar(_mpf_exact(E[i])) for i in order]
        vecs = np.array([[self.scalar(_mpf_exact(Q[r, i])) for i in order] for r in range(Q.rows)],
                        dtype=object)
        return lam, vecs

    @own_prec
    def svdvals(self, A):
        ev = self.eigvalsh(A.T @ A)
        return self.vector([v.nonnegative_part().sqrt() for v in reversed(list(ev))])

    def midpoint(self, value):
        if isinstance(value, np.ndarray):
            return np.array([flint.arb(x.mid()) for x in value.reshape(-1)],
                            dtype=object).reshape(value.shape)
        return flint.arb(value.mid())

    def mid_vector(self, v) -> np.ndarray:
        return np.array([float(x.mid()) for x in v])
