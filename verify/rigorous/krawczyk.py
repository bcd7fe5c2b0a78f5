"""Interval Newton machinery for computer-assisted proofs, written against the rigorous context.

Everything here works on native vectors and matrices of the Arb context (numpy object arrays of
balls) and only through the context API plus Arb's rigorous comparisons, so each verdict is a proof
or an honest "unknown":

* :func:`krawczyk` — the Krawczyk operator. For a C^1 map F with an enclosure J(X) of its Jacobian
  over the box X, a centre c in X and any fixed matrix Y (here the floating inverse of mid J(X),
  taken exactly as dyadic rationals),
  ``K(X) = c - Y F(c) + (I - Y J(X)) (X - c)``.
  Every zero of F in X lies in K(X). If K(X) lies in the interior of X, then Y and every matrix of
  J(X) are nonsingular and F has exactly one zero in X (status ``'unique'``). If K(X) and X are
  disjoint, F has no zero in X (status ``'none'``). Otherwise nothing is decided (``'unknown'``).
* :func:`positive_definite` — positive definiteness of every symmetric matrix in an interval matrix
  S, by congruence with an approximate eigenvector matrix Q (floats, exact as dyadics, its
  nonsingularity proved by ||Q^T Q - I||_inf < 1) followed by Gershgorin discs on Q^T S Q. Congruence
  preserves inertia (Sylvester), so positive Gershgorin lower bounds prove definiteness. A negative
  Rayleigh quotient v^T S v for an exact vector v proves the opposite.
* :func:`excludes_zero` — a vector enclosure none of whose points is the zero vector.
* :func:`range_over_reals` / :func:`global_lower_bound` — a crude but rigorous range analysis of a
  sympy expression over all of R^d (interval arithmetic on the expression tree with exact rational
  endpoints and infinities; transcendental functions replaced by proved bounds such as
  0 < exp(t) <= 1 for t <= 0, |cos| <= 1; a Piecewise by the hull of its branches). It proves, e.g.,
  that a sum of squares is >= 0, or the Appendix D bound f >= 0.
* :func:`range_lower_bound` adds the factored form; :func:`polynomial_lower_bound` proves a
  polynomial coercive (leading form positive on the unit cube's boundary) and bounds f below by
  interval branch and bound on a box that holds every minimizer; :func:`local_minimizer_box` proves
  a strict local minimizer of f in a small box (Krawczyk on grad f, Hess f positive definite).
* :func:`smooth_near` — for a piecewise objective, proves that one branch formula describes f on an
  open neighbourhood of a box, by deciding every Piecewise condition on a strictly larger box.

Numbers given as decimal strings ("2.8") are read as the exact rationals they denote
(``Fraction('2.8') = 14/5``) and enter the rigorous context as balls that contain them; float
constants inside a sympy expression are replaced by the exact binary rationals they denote
(:func:`verify.objectives.expr.exact_constants`), never rounded.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Sequence

import numpy as np
import sympy as sp

from ..objectives.expr import as_expr, exact_constants
from ..objectives.parse import parse_rational
from ..errors import NonFiniteError, UndecidedError, ZeroGradientError

#: errors that mean "this box is too wide to decide", never "false"
INTERVAL_FAILURES = (UndecidedError, ZeroGradientError, NonFiniteError, ArithmeticError, ValueError)


# -- conversions ------------------------------------------------------------------------------------
def to_fraction(v, what: str = "number") -> Fraction:
    """Exact rational of an int, Fraction, sympy Rational, binary float or decimal string."""
    if isinstance(v, Fraction):
        return v
    if isinstance(v, float) and not math.isfinite(v):
        raise NonFiniteError(f"{what} {v!r} is not finite")
    if isinstance(v, (int, float)):
        return Fraction(v)
    if hasattr(v, "p") and hasattr(v, "q"):
        return Fraction(int(v.p), int(v.q))
    return parse_rational(str(v), what)  # a decimal string ('2.8' is 14/5) or p/q, never code


def exact_vector(ctx, values) -> np.ndarray:
    """A vector of the rigorous context from exact rationals (balls enclosing non-dyadic ones)."""
    return ctx.vector([to_fraction(v) for v in values])


def dyadic_vector(ctx, floats) -> np.ndarray:
    """Exact point balls at binary floats (a float is an exact dyadic rational)."""
    return ctx.vector([float(v) for v in floats])


def mid_floats(M) -> np.ndarray:
    """Floating midpoints of an Arb vector or matrix."""
    A = np.asarray(M, dtype=object)
    return np.vectorize(lambda b: float(b.mid()), otypes=[float])(A)


def upper_float(b) -> float:
    """A float that is >= every point of the ball (rounded outward)."""
    v = float(b.mid()) + float(b.rad())
    return math.nextafter(math.nextafter(v, math.inf), math.inf)


def all_finite(M) -> bool:
    return all(b.is_finite() for b in np.asarray(M, dtype=object).reshape(-1))


# -- Krawczyk ---------------------------------------------------------------------------------------
@dataclass
class KrawczykResult:
    status: str                    # 'unique' | 'none' | 'unknown'
    X: Any                         # the box (vector of balls)
    K: Any = None                  # the Krawczyk image (vector of balls), None if not formed
    residual: Any = None           # F(c), enclosed
    contraction: float = math.inf  # upper bound of ||I - Y J(X)||_inf
    margin: float = math.inf       # max_i |K_i - c_i|_upper / rad X_i  (< 1: inside)
    reason: str = ""
    condition: float = math.inf    # condition number of mid J(X) (floating, for diagnostics)

    @property
    def unique(self) -> bool:
        return self.status == "unique"


def krawczyk(residual: Callable, jacobian: Callable, center, radius, ctx) -> KrawczykResult:
    """Krawczyk test of F = ``residual`` on the box centred at ``center`` (exact points) with
    half-width ``radius`` (a number, or one per coordinate). ``jacobian(X)`` must enclose the
    Jacobian of F over the box X (an interval extension); ``residual(c)`` must enclose F(c)."""
    with ctx.working():  # every ball operation at the context's precision
        return _krawczyk(residual, jacobian, center, radius, ctx)


def _krawczyk(residual, jacobian, center, radius, ctx) -> KrawczykResult:
    c = np.asarray(center, dtype=object)
    n = len(c)
    radii = list(radius) if isinstance(radius, (list, tuple, np.ndarray)) else [radius] * n
    X = np.array([ctx.ball(ci, ri) for ci, ri in zip(c, radii)], dtype=object)
    Fc = residual(c)
    JX = jacobian(X)
    if not (all_finite(Fc) and all_finite(JX)):
        return KrawczykResult("unknown", X, residual=Fc,
                              reason="F(c) or the Jacobian enclosure over X is not finite")
    M = mid_floats(JX)
    cond = float(np.linalg.cond(M)) if np.all(np.isfinite(M)) else math.inf
    if not cond < 1e12:
        return KrawczykResult("unknown", X, residual=Fc, condition=cond,
                              reason=f"the midpoint Jacobian is numerically singular (condition "
                                     f"number {cond:.3g}): the zeros may form a manifold")
    try:
        Yf = np.linalg.inv(M)
    except np.linalg.LinAlgError:
        return KrawczykResult("unknown", X, residual=Fc,
                              reason="the midpoint Jacobian is singular (are the zeros a manifold?)")
    if not np.all(np.isfinite(Yf)):
        return KrawczykResult("unknown", X, residual=Fc, reason="the midpoint Jacobian is singular")
    Y = ctx.matrix(Yf.tolist())           # floats: exact dyadic rationals
    C = ctx.eye(n) - Y @ JX
    K = c - Y @ Fc + C @ (X - c)
    contraction = max(sum(upper_float(abs(C[i, j])) for j in range(n)) for i in range(n))
    inside, margin = True, 0.0
    for i in range(n):
        D = K[i] - c[i]
        r = ctx.scalar(X[i].rad())        # the radius actually used by the ball X_i (exact)
        if not (D < r and D > -r):        # rigorous: every point of D strictly inside (-r, r)
            inside = False
        margin = max(margin, upper_float(abs(D)) / float(X[i].rad()))
    if inside:
        return KrawczykResult("unique", X, K, Fc, contraction, margin,
                              "K(X) lies in the interior of X: exactly one zero in X", cond)
    for i in range(n):
        if K[i] < X[i] or K[i] > X[i]:    # rigorous disjointness in one coordinate
            return KrawczykResult("none", X, K, Fc, contraction, margin,
                                  f"K(X) and X are disjoint in coordinate {i + 1}: no zero in X",
                                  cond)
    return KrawczykResult("unknown", X, K, Fc, contraction, margin,
                          f"K(X) is not inside X (max |K_i - c_i| / r = {margin:.3g}, "
                          f"||I - Y J(X)|| <= {contraction:.3g})", cond)


# -- definiteness -----------------------------------------------------------------------------------
@dataclass
class DefinitenessResult:
    status: str            # 'positive' | 'not_positive' | 'unknown'
    bound: Any = None      # rigorous lower bound of the least Gershgorin disc edge (an Arb ball)
    rayleigh: Any = None   # v^T S v for the approximate least eigenvector (when not positive)
    reason: str = ""


def positive_definite(S, ctx) -> DefinitenessResult:
    """Decide positive definiteness of every symmetric matrix enclosed by the interval matrix S."""
    with ctx.working():
        return _positive_definite(S, ctx)


def _positive_definite(S, ctx) -> DefinitenessResult:
    S = (S + S.T) / 2                     # a symmetric member A equals (A + A^T)/2
    n = S.shape[0]
    if not all_finite(S):
        return DefinitenessResult("unknown", reason="the matrix enclosure is not finite")
    _, Qf = np.linalg.eigh(mid_floats(S))
    Q = ctx.matrix(Qf.tolist())
    E = Q.T @ Q - ctx.eye(n)
    if not all(sum(abs(E[i, j]) for j in range(n)) < 1 for i in range(n)):
        return DefinitenessResult("unknown", reason="could not prove Q nonsingular")
    M = Q.T @ S @ Q
    edges = [M[i, i] - sum((abs(M[i, j]) for j in range(n) if j != i), ctx.scalar(0))
             for i in range(n)]
    least = min(edges, key=lambda b: float(b.mid()) - float(b.rad()))
    if all(e > 0 for e in edges):
        return DefinitenessResult("positive", least,
                                  reason="Gershgorin discs of Q^T S Q lie in (0, inf)")
    v = Q[:, 0]
    q = v @ S @ v
    if q < 0:
        return DefinitenessResult("not_positive", least, q,
                                  reason="v^T S v < 0 for an exact v: a negative direction")
    return DefinitenessResult("unknown", least, q,
                              reason="Gershgorin discs of Q^T S Q reach 0 (box too wide?)")


def excludes_zero(v) -> int | None:
    """Index of a component whose enclosure excludes 0 (so the vector is never 0), else None."""
    for i, b in enumerate(v):
        if b > 0 or b < 0:
            return i
    return None


# -- smoothness of a piecewise objective near a box ------------------------------------------------------
def inflate(ctx, X, factor=Fraction(9, 8)):
    """A box strictly larger than X (each radius times ``factor`` plus a little)."""
    out = []
    for b in X:
        r = Fraction(*float(b.rad()).as_integer_ratio()) * factor + Fraction(1, 2 ** 60)
        out.append(ctx.ball(b.mid(), r))
    return np.array(out, dtype=object)


def smooth_near(obj, boxes: Sequence, ctx) -> tuple[bool | None, str]:
    """Is f given by one analytic formula on an open neighbourhood of every box in ``boxes``?

    For an analytic objective: yes. For a piecewise one, the value is evaluated on a strictly larger
    box; the rigorous compiler decides each Piecewise condition on the whole box or raises, so
    success means a single branch formula (a composition of analytic functions) describes f there."""
    if obj.is_analytic:
        return True, "f is analytic (no piecewise parts)"
    for k, X in enumerate(boxes):
        try:
            val = obj.value(inflate(ctx, X), ctx)
        except INTERVAL_FAILURES as exc:
            return None, f"a piecewise condition is not decided near box {k + 1}: {exc}"
        if not val.is_finite():
            return None, f"f is not finite near box {k + 1}"
    return True, ("every Piecewise condition is decided on a box strictly containing X and on one "
                  "strictly containing the enclosure of X + rho u(X): one analytic branch formula "
                  "describes f on open neighbourhoods of both")


# -- range analysis over all of R^d ------------------------------------------------------------------------
INF = math.inf
_WHOLE = (-INF, INF)


def _mul(a, b):
    if a == 0 or b == 0:
        return Fraction(0)           # 0 * inf = 0: the convention of extended interval arithmetic
    return a * b


def _imul(p, q):
    prods = [_mul(a, b) for a in p for b in q]
    return (min(prods), max(prods))


def _ipow(p, n: int):
    lo, hi = p
    if n == 0:
        return (Fraction(1), Fraction(1))
    if n % 2 == 1:
        return (lo ** n, hi ** n)
    if lo >= 0:
        return (lo ** n, hi ** n)
    if hi <= 0:
        return (hi ** n, lo ** n)
    return (Fraction(0), max(lo ** n, hi ** n))


def _recip(p):
    lo, hi = p
    if lo > 0 or hi < 0:
        a = Fraction(0) if hi in (INF, -INF) else 1 / Fraction(hi)
        b = Fraction(0) if lo in (INF, -INF) else 1 / Fraction(lo)
        return (a, b)
    return _WHOLE


def range_over_reals(expr: sp.Expr) -> tuple:
    """An interval (lo, hi) with exact rational or infinite ends containing expr(x) for every real x
    at which it is defined. Sound and crude: no variable correlations are used."""
    e = expr
    if e.is_Rational:
        v = Fraction(int(e.p), int(e.q))
        return (v, v)
    if e.is_Float:
        v = Fraction(*float(e).as_integer_ratio())
        return (v, v)
    if e is sp.pi:
        return (Fraction(333, 106), Fraction(355, 113))
    if e is sp.E:
        return (Fraction(27, 10), Fraction(28, 10))
    if e.is_Symbol:
        return _WHOLE
    if e.is_Add:
        lo, hi = Fraction(0), Fraction(0)
        for a in e.args:
            alo, ahi = range_over_reals(a)
            lo, hi = lo + alo, hi + ahi
        return (lo, hi)
    if e.is_Mul:
        out = (Fraction(1), Fraction(1))
        for a in e.args:
            out = _imul(out, range_over_reals(a))
        return out
    if e.is_Pow:
        base, ex = range_over_reals(e.base), e.exp
        if ex.is_Integer:
            n = int(ex)
            return _ipow(base, n) if n >= 0 else _recip(_ipow(base, -n))
        if ex == sp.Rational(1, 2) and base[0] >= 0:
            return (Fraction(0), base[1] + 1 if base[1] != INF else INF)
        return _WHOLE
    if isinstance(e, sp.exp):
        lo, hi = range_over_reals(e.args[0])
        top = Fraction(1) if hi <= 0 else (Fraction(3) ** math.ceil(hi) if hi != INF else INF)
        return (Fraction(1) if lo >= 0 else Fraction(0), top)
    if isinstance(e, (sp.cos, sp.sin, sp.tanh)):
        return (Fraction(-1), Fraction(1))
    if isinstance(e, sp.atan):
        return (Fraction(-2), Fraction(2))
    if isinstance(e, sp.cosh):
        return (Fraction(1), INF)
    if isinstance(e, sp.Piecewise):
        parts = [range_over_reals(v) for v, _ in e.args]
        return (min(p[0] for p in parts), max(p[1] for p in parts))
    return _WHOLE


def global_lower_bound(expr: sp.Expr) -> Fraction | None:
    """A rational L with f >= L on all of R^d (by :func:`range_over_reals`), or None."""
    lo, _ = range_over_reals(as_expr(expr))
    return None if lo == -INF else Fraction(lo)


def exact_value(expr: sp.Expr, symbols, point) -> sp.Expr | None:
    """f at a rational point, evaluated symbolically and exactly (Piecewise decided exactly)."""
    subs = {s: sp.Rational(to_fraction(v).numerator, to_fraction(v).denominator)
            for s, v in zip(symbols, point)}
    try:  # float constants first become the exact rationals they denote, as in the compiler
        return sp.simplify(exact_constants(as_expr(expr)).xreplace(subs))
    except (TypeError, ValueError):
        return None


@dataclass
class Attempt:
    """One box tried by an automatic radius search."""
    radius: Any
    status: str
    reason: str = ""
    data: dict = field(default_factory=dict)


# -- lower bounds of f: the expression's range, its factored form, and polynomial coercivity -----------
@dataclass
class LowerBound:
    """A rational L with f >= L on all of R^d (None: no finite bound found) and how it was found."""
    value: Fraction | None
    method: str


def range_lower_bound(expr: sp.Expr) -> LowerBound:
    """:func:`global_lower_bound` of the expression as given, else of its factored form (the range
    analysis ignores correlations, so an expanded square like x^4 - 2x^2 + 1 needs factoring).
    ``expr`` is a parsed sympy expression (an objective's ``expr``), never a user string."""
    e = expr
    L = global_lower_bound(e)
    if L is not None:
        return LowerBound(L, "range analysis of the expression")
    try:
        factored = sp.factor(exact_constants(e))
    except (sp.PolynomialError, TypeError, ValueError):
        factored = e
    if factored != e:
        L = global_lower_bound(factored)
        if L is not None:
            return LowerBound(L, f"range analysis of the factored form {factored}")
    return LowerBound(None, "no finite lower bound from range analysis (as given or factored)")


def _poly_interval(terms, box):
    """Interval of sum c * prod x_j^a_j over a box of Fraction intervals (extended arithmetic)."""
    lo, hi = Fraction(0), Fraction(0)
    for powers, coeff in terms:
        part = (coeff, coeff)
        for a, iv in zip(powers, box):
            part = _imul(part, _ipow(iv, a))
        lo, hi = lo + part[0], hi + part[1]
    return lo, hi


def _split(box):
    k = max(range(len(box)), key=lambda i: box[i][1] - box[i][0])
    mid = (box[k][0] + box[k][1]) / 2
    return [box[:k] + [(box[k][0], mid)] + box[k + 1:], box[:k] + [(mid, box[k][1])] + box[k + 1:]]


def _leading_form_minimum(lead, d, budget: int = 400) -> Fraction | None:
    """A positive lower bound c of the leading form p_n on the boundary of the cube [-1, 1]^d (its
    faces x_i = +-1), by interval branch and bound; None when positivity is not shown."""
    faces = [[(Fraction(-1), Fraction(1))] * i + [(Fraction(s), Fraction(s))]
             + [(Fraction(-1), Fraction(1))] * (d - i - 1) for i in range(d) for s in (-1, 1)]
    leaves = [(_poly_interval(lead, f)[0], f) for f in faces]
    for _ in range(budget):
        leaves.sort(key=lambda t: t[0])
        if leaves[0][0] > 0:
            break
        _, worst = leaves.pop(0)
        leaves += [(_poly_interval(lead, b)[0], b) for b in _split(worst)]
    c = min(lb for lb, _ in leaves)
    return c if c > 0 else None


def polynomial_lower_bound(obj, f_ref: Fraction, budget: int = 3000, dps: int = 30) -> LowerBound:
    """For a polynomial f of even degree n whose leading form p_n is positive away from 0.

    Coercivity: with c = min of p_n on the boundary of the cube [-1, 1]^d (> 0, proved) and M the
    sum of |coefficients| of the terms of degree < n, every x with ||x||_inf = t >= 1 has
    f(x) >= c t^n - M t^(n-1) >= c t - M. So outside the box [-R, R]^d, R = max(1, (M + max(f_ref,
    0) + 1)/c), f > f_ref: a point with f <= f_ref (e.g. f(x_star)) and every global minimizer lie in
    the box. There an interval branch and bound in Arb (best first, ``budget`` boxes) gives L <= f
    on the box, hence on R^d."""
    from ..ctx import get_context
    d = obj.dim
    try:
        poly = sp.Poly(sp.expand(exact_constants(obj.expr)), *obj.symbols)
    except (sp.PolynomialError, sp.GeneratorsNeeded, AttributeError):
        return LowerBound(None, "f is not a polynomial: no coercivity bound")
    terms = [(m, Fraction(int(c.p), int(c.q))) for m, c in poly.terms()]
    n = poly.total_degree()
    if n == 0 or n % 2:
        return LowerBound(None, f"a polynomial of odd degree {n} is not bounded below" if n % 2
                          else "constant f")
    c = _leading_form_minimum([t for t in terms if sum(t[0]) == n], d)
    if c is None:
        return LowerBound(None, f"the leading form of degree {n} is not shown positive on the unit "
                          "cube's boundary: f is not shown coercive")
    M = sum(abs(cf) for m, cf in terms if sum(m) < n)
    R = max(Fraction(1), (M + max(f_ref, Fraction(0)) + 1) / c)
    L, gap, boxes = _branch_and_bound(obj, [(-R, R)] * d, budget, get_context("arb", dps=dps))
    return LowerBound(L, f"coercive polynomial (leading form >= {float(c):.4g} on the unit cube's "
                      f"boundary, lower terms <= {float(M):.4g}): the minimizers lie in [-R, R]^{d}, "
                      f"R = {float(R):.4g}; interval branch and bound there ({boxes} boxes, gap to "
                      f"the best value found {gap:.3g})")


def _down(b) -> Fraction:
    """A rational <= every point of the ball b (its lower end, rounded down once more)."""
    return Fraction(math.nextafter(float(b.lower()), -math.inf))


def _branch_and_bound(obj, box, budget, ctx):
    """Best-first interval branch and bound of f over a box of Fraction intervals: (L, gap, boxes)."""
    import heapq

    def lower(b):
        X = np.array([ctx.ball((lo + hi) / 2, (hi - lo) / 2) for lo, hi in b], dtype=object)
        try:
            v = obj.value(X, ctx)
        except INTERVAL_FAILURES:
            return -math.inf
        return _down(v) if v.is_finite() else -math.inf

    def upper(b):
        v = obj.value(ctx.vector([(lo + hi) / 2 for lo, hi in b]), ctx)
        return float(v.upper())

    ctx.activate()
    heap, best, count = [(lower(box), 0, box)], upper(box), 1
    while count < budget:
        lb, _, b = heapq.heappop(heap)
        if best - float(lb) <= 1e-9 * max(1.0, abs(best)):
            heapq.heappush(heap, (lb, count, b))
            break
        for half in _split(b):
            count += 1
            best = min(best, upper(half))
            heapq.heappush(heap, (lower(half), count, half))
    L = heap[0][0]
    return (None if L == -math.inf else L), best - float(L), count


def local_minimizer_box(obj, center, ctx, radii=(Fraction(1, 2 ** 20), Fraction(1, 2 ** 30),
                                                   Fraction(1, 2 ** 40))) -> dict:
    """Prove that a small box X* around ``center`` (floats: exact dyadics) holds exactly one critical
    point x*' of f (Krawczyk on grad f, Jacobian Hess f over X*) and that Hess f is positive definite
    on X*: then f is strictly convex on X* with its critical point inside, so x*' is a strict local
    minimizer of f. Returns {'status': 'proved' | 'not_minimizer' | 'unknown', 'box', 'reason'}."""
    ctx.activate()
    c = dyadic_vector(ctx, center)
    reason = "not tried"
    for r in radii:
        try:
            kr = krawczyk(lambda y: obj.grad(y, ctx), lambda Y: obj.hess(Y, ctx), c, r, ctx)
        except INTERVAL_FAILURES as exc:
            reason = f"interval evaluation failed: {exc}"
            continue
        if not kr.unique:
            reason = f"Krawczyk on grad f: {kr.reason}"
            continue
        pd = positive_definite(obj.hess(kr.X, ctx), ctx)
        if pd.status == "positive":
            return {"status": "proved", "box": kr.X, "radius": r,
                    "reason": f"X* of radius {float(r):.3g} holds exactly one critical point of f "
                              "(Krawczyk) and Hess f is positive definite on X*: a strict local "
                              "minimizer x*' of f"}
        if pd.status == "not_positive":
            return {"status": "not_minimizer", "box": kr.X, "radius": r,
                    "reason": "X* holds exactly one critical point of f, but Hess f has a negative "
                              "direction there: it is not a minimizer"}
        reason = "Hess f on X*: " + pd.reason
    return {"status": "unknown", "box": None, "radius": None, "reason": reason}
