"""The rho threshold of Appendix D enclosed in a proved bracket [rho_lo, rho_hi] (issue 16, item 1d).

:mod:`theorems.rho_threshold` measures, on float64 grids and 50-digit Newton, the smallest rho at which
a hallucinated minimizer "of the shifted type" exists: a point y with grad f(y) != 0 and
y + rho u(y) in argmin f (then f_SAM(y) = min f, so y is a global minimizer of f_SAM). For Appendix D
that threshold is the distance rho* ~ 1.90123 from the maximizer (0.376..., 0) to the ends
x*(+-3/5) of the minimizer arc. Here both sides of a bracket around it are proved in Arb.

argmin f (own words). f = bump W_X - valley W_Y + 1 with bump >= 0, 0 <= W_X, W_Y <= 1 and
0 < valley <= 1, so f >= 0, and f = 0 exactly where W_X = 0 (x <= -1), W_Y = 1 (|y| <= 3/5) and the
valley exponent vanishes (x = -1.55 cos(y/1.5)): argmin f is the arc A = {x*(s) = (-1.55 cos(s/1.5), s),
|s| <= 3/5} (on it x <= -1.55 cos(0.4) < -1). f >= 0 is also proved by range analysis.

Below rho_lo (non-existence). If y + rho u(y) = x*(s), then with v = u(y) = (cos t, sin t),
y = x*(s) - rho v, and grad f(y) is a positive multiple of v. So it suffices to show, for every
(s, rho, t) in [-3/5, 3/5] x [rho_min, rho_lo] x [-16/5, 16/5] (the t range is longer than 2 pi;
f is mirror symmetric in y, proved by sympy, so s in [0, 3/5] suffices),
that g = grad f(x*(s) - rho v(t)) is not a positive multiple of v: the box of parameters is covered
by sub-boxes (bisection), and on each either the cross product g x v excludes 0, or g . v < 0, or
f < eps on the whole image box (then y lies outside the region {f >= eps} the statement is about).
The region stated: every y with f(y) >= eps (eps = 1/1000 by default: outside a thin tube around A,
where f ~ dist^2) and every rho in [rho_min, rho_lo].

f is piecewise (cosine ramps W_X, W_Y). On a box that a Piecewise condition does not decide, grad f
is enclosed by the union of the gradients of every branch combination the box allows: f is C^1 (the
adjacent branches of each ramp agree in value and first derivative at the seam, checked exactly by
sympy here), so at a seam point grad f equals each adjacent branch formula's gradient.

Above rho_hi (existence), for every rho in [rho_hi, 2.8], in three parts:
* at rho_hi itself, Krawczyk on G(y) = y + rho u(y) - x*(3/5) (x*(3/5) enclosed) proves a box with
  exactly one y, with grad f != 0 on it and x*(3/5) a global minimizer
  (:func:`theorems.refutations.curve_box`): the point is enclosed, unique in its box;
* for every rho in [rho_hi, 1.93] (:func:`exists_between`), by intermediate values in the same
  (s, rho, t) coordinates as the cover, at s = 3/5: y = x*(3/5) - rho v(t) solves the problem exactly
  when g x v = 0 and g . v > 0 (g = grad f(y)). On each of 20 rho sub-intervals R, g x v has strict
  opposite signs at two angles t_lo < t_hi for all rho in R, and g . v > 0 on [t_lo, t_hi] x R; t ->
  g x v is continuous (f is C^1), so every rho in R has a solution. (Krawczyk with rho as an interval
  input fails here: Du ~ 1/dist to the maximizer is large and its enclosure over a box wide enough to
  hold y(rho) for a whole sub-interval is too wide; the sign test needs no Jacobian);
* for every rho in [1.93, 2.8] on the symmetry axis (:func:`axis_existence`): y = (rho - 1.55, 0)
  lands on x*(0); 1.93 is just above the axis threshold |x*(0) - maximizer| ~ 1.92642.

Negative controls: a bracket with the ends swapped (or shifted past rho*) must not certify: the cover
meets a box it cannot decide, and the existence proofs (Krawczyk at rho_hi, the sign changes from
rho_hi on) fail below rho*.
"""
from __future__ import annotations

import functools
import itertools
import math
from fractions import Fraction

import sympy as sp

from verify import zoo
from verify.core.results import Certificate, Verdict
from verify.ctx import get_context, shared_context
from verify.errors import SamVerifyError, UndecidedError
from verify.objectives.objective import SympyObjective
from verify.rigorous.krawczyk import INTERVAL_FAILURES, range_lower_bound, to_fraction
from verify.validate import check_count

from . import refutations as R

THEOREM = "rho threshold (proved)"
TITLE = "Appendix D's rho threshold in a bracket proved in Arb: none below, one above"
ORDER = 4.15
DPS = 30
RHO_LO, RHO_HI, RHO_MIN, EPS = "1.9", "1.903", "1/4", "1/1000"   # rho* ~ 1.90123 between
RHO_AXIS, RHO_TOP = "1.93", "2.8"     # existence for every rho in [RHO_AXIS, RHO_TOP], on the axis
S_END = Fraction(3, 5)
T_HALF = Fraction(16, 5)              # t in [-16/5, 16/5] covers the circle (32/5 > 2 pi)
MIN_WIDTH = 2.0 ** -14               # a box narrower than this in every direction stops the cover


# -- f as a hull of its analytic branches ---------------------------------------------------------------
_STRICT = {sp.StrictLessThan: True, sp.LessThan: False}


class BranchHull:
    """Enclosures of f and grad f over a box for a piecewise f whose Piecewise conditions are
    ``symbol < a`` / ``symbol <= a``: the union over every branch combination the box allows."""

    def __init__(self, obj):
        self.obj = obj
        self.pieces = sorted(obj.expr.atoms(sp.Piecewise), key=str)
        self.sides = {P: [self._side(c) for _, c in P.args] for P in self.pieces}
        self._combos: dict = {}
        self._cuts: dict = {}    # (seam, precision) -> the seam as a ball (made once, not per box)

    def _side(self, c):
        if c is sp.true:
            return None
        if type(c) not in _STRICT or not c.lhs.is_Symbol or not c.rhs.is_number:
            raise UndecidedError(f"BranchHull handles conditions 'symbol < a' or 'symbol <= a', got {c}")
        return self.obj.symbols.index(c.lhs), c.rhs, _STRICT[type(c)]

    def possible(self, P, X, ctx) -> list[int]:
        """Indices of the branches of P that are chosen at some point of X (first true condition)."""
        out = []
        for k, side in enumerate(self.sides[P]):
            if side is None:
                return out + [k]
            i, a, strict = side
            cut = self._cuts.get((a, ctx.prec))
            if cut is None:
                cut = self._cuts[a, ctx.prec] = ctx.scalar(a)
            d = X[i] - cut
            true, false = (d < 0, d >= 0) if strict else (d <= 0, d > 0)
            if not false:
                out.append(k)
            if true:
                return out
        return out

    def combo(self, choice):
        if choice not in self._combos:
            e = self.obj.expr.xreplace({P: P.args[k][0] for P, k in zip(self.pieces, choice)})
            self._combos[choice] = SympyObjective(e, [str(s) for s in self.obj.symbols])
        return self._combos[choice]

    def objectives(self, X, ctx) -> list:
        return [self.combo(ch) for ch in itertools.product(*[self.possible(P, X, ctx) for P in self.pieces])]

    def c1_seams(self) -> tuple[bool, str]:
        """Adjacent branches of every Piecewise agree in value and first derivative at their seam
        (exact sympy), so f is C^1 and the hull encloses grad f on seams too."""
        for P in self.pieces:
            for (v0, c0), (v1, _) in zip(P.args, P.args[1:]):
                if c0 is sp.true:
                    break
                x, a = c0.lhs, c0.rhs
                for diff in (v0 - v1, sp.diff(v0 - v1, x)):
                    if sp.simplify(diff.subs(x, a)) != 0:
                        return False, f"branches of {P} differ at {x} = {a}: {diff}"
        return True, f"{len(self.pieces)} Piecewise ramps, value and first derivative continuous at every seam"


def hull(values):
    out = list(values[0])
    for v in values[1:]:
        out = [a.union(b) for a, b in zip(out, v)]
    return out


# -- below rho_lo: the cover of (s, rho, t) ------------------------------------------------------------------
GRID = 2 ** 40   # cover boxes: end k of coordinate d is a_d + w_d k / GRID (k an int: bisection stays exact)


def _anchors(ranges, ctx) -> list:
    """(a, w) as balls for each coordinate range [a, a + w] of the cover."""
    return [(ctx.scalar(a), ctx.scalar(b - a)) for a, b in ranges]


def _grid_balls(box, anchors, ctx) -> list:
    """Balls containing the real intervals of a grid box ((i, j) per coordinate)."""
    return [a + w * ctx.interval(i, j) / GRID for (i, j), (a, w) in zip(box, anchors)]


def _grid_fractions(box, ranges) -> tuple:
    """The exact rational intervals of a grid box."""
    return tuple((a + (b - a) * Fraction(i, GRID), a + (b - a) * Fraction(j, GRID))
                 for (i, j), (a, b) in zip(box, ranges))


def cross_dot(bh: BranchHull, s, rho, t, ctx):
    """(g x v, g . v, Y, branches) for y = x*(s) - rho v(t), v(t) = (cos t, sin t), g = grad f(y),
    enclosed over the balls s, rho, t (Y encloses y; grad f by the branch hull of ``branches``).
    g is a positive multiple of v exactly when g x v = 0 and g . v > 0."""
    xs = R.appendix_d_arc(s, ctx)
    c, sn = ctx.cos(t), ctx.sin(t)
    Y = ctx.vector([xs[0] - rho * c, xs[1] - rho * sn])
    objs = bh.objectives(Y, ctx)
    g = hull([o.grad(Y, ctx) for o in objs])
    return g[0] * sn - g[1] * c, g[0] * c + g[1] * sn, Y, objs


def excluded(bh: BranchHull, balls, eps, ctx) -> str | None:
    """Why no y = x*(s) - rho v(t), (s, rho, t) in the balls, with f(y) >= eps has u(y) = v(t);
    None if undecided."""
    try:
        cross, dot, Y, objs = cross_dot(bh, *balls, ctx)
        if cross > 0 or cross < 0:
            return "cross"
        if dot < 0:
            return "dot"
        if hull([[o.value(Y, ctx)] for o in objs])[0] < ctx.scalar(eps):
            return "f<eps"
    except INTERVAL_FAILURES:
        return None
    return None


def mirror_symmetric(obj) -> bool:
    """f(x, -y) = f(x, y), decided by sympy (the Piecewise folded, the difference simplified to 0).
    Then grad f and u mirror too, and x*(-s) is the mirror of x*(s): a solution with s < 0 mirrors
    to one with s > 0, so the cover needs s >= 0 only."""
    return _mirror_symmetric(obj.expr, tuple(obj.symbols))


@functools.lru_cache(maxsize=16)
def _mirror_symmetric(expr, symbols) -> bool:
    """Piece by piece (folding the whole difference took a second): every Piecewise that involves
    y is even in y (its folded difference simplifies to 0), and f with each Piecewise replaced by a
    fresh symbol is even in y; together f(x, -y) = f(x, y). Cached per expression (the report
    decides it for the certificate and each control on the same f)."""
    x, y = symbols
    pieces = sorted(expr.atoms(sp.Piecewise), key=str)
    if not all(sp.simplify(sp.piecewise_fold(P.subs(y, -y) - P)) == 0 for P in pieces if P.has(y)):
        return False
    rest = expr.xreplace({P: sp.Dummy() for P in pieces})
    return sp.simplify(rest.subs(y, -y) - rest) == 0


def cover(bh, rho_min: Fraction, rho_lo: Fraction, eps: Fraction, ctx, max_boxes: int = 400_000,
          keep: list | None = None, s_lo: Fraction = -S_END) -> dict:
    """Bisect [s_lo, 3/5] x [rho_min, rho_lo] x [-16/5, 16/5] until every box is excluded; stops at the
    first box narrower than MIN_WIDTH that is not (status 'undecided') or after max_boxes. ``keep``
    collects (box, reason) of every excluded box (for the tests' independent re-check)."""
    ranges = ((s_lo, S_END), (rho_min, rho_lo), (-T_HALF, T_HALF))
    scales = [float(b - a) / GRID for a, b in ranges]
    stack = [((0, GRID),) * 3]
    counts = {"cross": 0, "dot": 0, "f<eps": 0}
    n = 0
    with ctx.working():
        anchors = _anchors(ranges, ctx)
        while stack:
            box = stack.pop()
            n += 1
            why = excluded(bh, _grid_balls(box, anchors, ctx), eps, ctx)
            if why:
                counts[why] += 1
                if keep is not None:
                    keep.append((_grid_fractions(box, ranges), why))
                continue
            widths = [(j - i) * scale for (i, j), scale in zip(box, scales)]
            k = max(range(3), key=widths.__getitem__)
            lo, hi = box[k]
            if widths[k] < MIN_WIDTH or hi - lo < 2 or n >= max_boxes:
                return {"status": "undecided", "boxes": n, "counts": counts,
                        "box": [[str(a), str(b)] for a, b in _grid_fractions(box, ranges)]}
            mid = (lo + hi) // 2
            for part in ((lo, mid), (mid, hi)):
                stack.append(box[:k] + (part,) + box[k + 1:])
    return {"status": "proved", "boxes": n, "counts": counts, "box": None}


# -- above rho_hi: one hallucinated minimizer -------------------------------------------------------------
def _ray_end(rho, ctx) -> list[float]:
    """A start for Newton on y + rho u(y) = x*(3/5): the point at distance rho from x*(3/5) on the
    ray through the maximizer (just past it when rho > rho*)."""
    xm = zoo.get("appendix_d").critical("maximizers", 0, ctx)
    xs = R.appendix_d_arc(ctx.scalar(S_END), ctx)
    return [float(v) for v in xs + (xm - xs) / ctx.norm(xm - xs) * ctx.scalar(rho)]


def exists_at(rho_hi: Fraction, ctx) -> dict:
    """Krawczyk at rho_hi for the preimage of the arc end x*(3/5) near the far side of the maximizer."""
    obj = zoo.get("appendix_d").objective
    mp = get_context("mpmath", dps=2 * DPS)
    guess = _ray_end(rho_hi, mp)
    try:
        return R.curve_box(obj, R.appendix_d_arc, S_END, S_END, rho_hi, ctx, mp, guess,
                           on_minimizers=R.appendix_d_minimizers)
    except INTERVAL_FAILURES + (SamVerifyError,) as exc:   # Newton finds no preimage below rho*
        return {"krawczyk": None, "reason": f"no preimage found: {exc}", "grad_index": None,
                "smooth": (None, ""), "minimizers": None}


T_MARGINS = (Fraction(1, 1024), Fraction(1, 256))   # brackets tried around the preimage angles
DOT_PIECES = 8                                       # t-pieces on which g . v > 0 is decided


def preimage_angle(rho: Fraction, fp) -> float:
    """The angle t of v = (x*(3/5) - y)/rho at the preimage y of x*(3/5) past the maximizer, by
    Newton in the point context ``fp`` (a guide for the brackets only; the proof is the sign test)."""
    xs = R.appendix_d_arc(fp.scalar(S_END), fp)
    y = R.curve_point(zoo.get("appendix_d").objective, R.appendix_d_arc, float(S_END), fp.scalar(rho),
                      _ray_end(rho, fp), fp)
    return math.atan2(float(xs[1]) - y[1], float(xs[0]) - y[0])


def sign_change(bh: BranchHull, a: Fraction, b: Fraction, angles, ctx) -> tuple | None:
    """For every rho in [a, b] some t has g x v = 0 and g . v > 0 (see :func:`exists_between`):
    proved by a bracket [t_lo, t_hi] around ``angles`` (the preimage angles at a and b) with g x v of
    strict opposite signs at t_lo and at t_hi for all rho in [a, b], and g . v > 0 on [t_lo, t_hi] x
    [a, b]. Returns (t_lo, t_hi), or None when no margin of :data:`T_MARGINS` proves it."""
    s, rho = ctx.scalar(S_END), ctx.interval(a, b)
    for m in T_MARGINS:
        t_lo, t_hi = Fraction(min(angles)) - m, Fraction(max(angles)) + m
        try:
            c_lo, c_hi = (cross_dot(bh, s, rho, ctx.scalar(t), ctx)[0] for t in (t_lo, t_hi))
            if not ((c_lo < 0 and c_hi > 0) or (c_lo > 0 and c_hi < 0)):
                continue
            cuts = [t_lo + (t_hi - t_lo) * k / DOT_PIECES for k in range(DOT_PIECES + 1)]
            if all(cross_dot(bh, s, rho, ctx.interval(*iv), ctx)[1] > 0 for iv in zip(cuts, cuts[1:])):
                return t_lo, t_hi
        except INTERVAL_FAILURES:
            continue
    return None


def exists_between(rho_a: Fraction, rho_b: Fraction, ctx, pieces: int = 20, depth: int = 6) -> dict:
    """Existence for every rho in [rho_a, rho_b] by intermediate values (own words): with y = x*(3/5)
    - rho v(t), t -> g x v is continuous (f is C^1), so a strict sign change between t_lo and t_hi
    gives a t with g x v = 0; g . v > 0 there makes g = |g| v, so u(y) = v(t) and y + rho u(y) =
    x*(3/5), a global minimizer of f: f_SAM(y) = min f with grad f(y) != 0 (a hallucinated, global,
    minimizer of f_SAM). [rho_a, rho_b] is cut into ``pieces`` sub-intervals; one that
    :func:`sign_change` cannot prove (or whose preimage Newton does not find) is halved, at most
    ``depth`` times; the first that is still not proved stops the cover (status 'undecided').
    ``intervals`` of the result: (rho_a, rho_b, t_lo, t_hi) of every proved sub-interval. That
    x*(3/5) is a minimizer (f = 0 there) is decided too (:func:`theorems.refutations.
    appendix_d_minimizers`; f >= 0 is the certificate's hypothesis ``argmin``).
    No such y exists below rho* ~ 1.9012 (the cover of :func:`cover` proves it up to rho_lo), so
    the test cannot pass there."""
    # no pieces would leave nothing to prove: an empty cover must not read as "proved"
    pieces, depth = check_count(pieces, "pieces"), check_count(depth, "depth", minimum=0)
    bh, fp = BranchHull(zoo.get("appendix_d").objective), get_context("float64")
    angles: dict = {}

    def angle(r):
        if r not in angles:
            angles[r] = preimage_angle(r, fp)
        return angles[r]
    cuts = [rho_a + (rho_b - rho_a) * k / pieces for k in range(pieces + 1)]
    stack = [(a, b, 0) for a, b in reversed(list(zip(cuts, cuts[1:])))]
    proved: list = []
    with ctx.working():
        if not R.appendix_d_minimizers(S_END, S_END, R.appendix_d_arc(ctx.scalar(S_END), ctx), ctx):
            return {"status": "undecided", "intervals": proved, "at": None,
                    "reason": "x*(3/5) not shown to be a minimizer of f"}
        while stack:
            a, b, level = stack.pop()
            try:
                bracket = sign_change(bh, a, b, (angle(a), angle(b)), ctx)
            except (SamVerifyError, ArithmeticError, ValueError):   # no preimage found near a or b
                bracket = None
            if bracket is not None:
                proved.append((a, b) + bracket)
            elif level >= depth:
                return {"status": "undecided", "intervals": proved, "at": (a, b),
                        "reason": f"no sign change proved on rho in [{a}, {b}]"}
            else:
                mid = (a + b) / 2
                stack += [(mid, b, level + 1), (a, mid, level + 1)]
    return {"status": "proved", "intervals": proved, "at": None, "reason": ""}


def axis_existence(rho_a: Fraction, rho_b: Fraction, ctx, n: int = 64) -> tuple[bool, str]:
    """For every rho in [rho_a, rho_b], y = (rho - 31/20, 0) is a hallucinated minimizer: on the axis
    f_y = 0 (f is mirror symmetric in y) and f_x < 0 on [rho_a - 31/20, rho_b - 31/20] x {0} (n
    interval boxes, right of the maximizer), so u(y) = (-1, 0) and y + rho u(y) = x*(0) = (-31/20, 0),
    a point of argmin f: f_SAM(y) = min f, with grad f(y) != 0."""
    a, b = rho_a - Fraction(31, 20), rho_b - Fraction(31, 20)
    cuts = [a + (b - a) * k / n for k in range(n + 1)]
    obj = zoo.get("appendix_d").objective
    worst = None
    with ctx.working():
        for lo, hi in zip(cuts, cuts[1:]):
            try:
                fx = obj.grad(ctx.vector([ctx.ball((lo + hi) / 2, (hi - lo) / 2), ctx.scalar(0)]), ctx)[0]
            except INTERVAL_FAILURES as exc:
                return False, f"f_x not enclosed on [{lo}, {hi}] x {{0}}: {exc}"
            if not fx < 0:
                return False, f"f_x < 0 not proved on [{float(lo):.6g}, {float(hi):.6g}] x {{0}}: {fx}"
            worst = fx.upper() if worst is None else max(worst, fx.upper())
    return True, f"f_x <= {float(worst):.4g} < 0 on [{float(a):.6g}, {float(b):.6g}] x {{0}} ({n} boxes)"


def _between_claim(cert, a: Fraction, b: Fraction, ctx) -> None:
    """The claim that a hallucinated minimizer exists for every rho in [a, b] (:func:`exists_between`;
    one piece when the interval is a point)."""
    res = exists_between(a, b, ctx, pieces=20 if b > a else 1)
    n = len(res["intervals"])
    cert.add_object("ivt_pieces", n, label=f"rho sub-intervals of [{a}, {b}] with a proved sign change")
    cert.add_object("ivt_widest_t", f"{max((float(p[3] - p[2]) for p in res['intervals']), default=0):.3g}",
                    label="widest t-bracket [t_lo, t_hi] of a sign change")
    cert.add(R.exact_claim(
        "exists_between", f"for every rho in [{a}, {b}] some y = x*(3/5) - rho v(t) has grad f(y) a "
        "positive multiple of v(t), so y + rho u(y) = x*(3/5) in argmin f (intermediate values: g x v "
        f"changes sign in t, g . v > 0; {n} rho sub-intervals)", res["status"], "==", "proved",
        Verdict.PROVED if res["status"] == "proved" else Verdict.UNDECIDED, ctx.precision_label,
        res["reason"]))


def _existence_proved(ex: dict) -> bool:
    kr = ex.get("krawczyk")
    return bool(kr is not None and kr.unique and ex.get("grad_index") is not None
                and ex.get("smooth", (None,))[0] is True and ex.get("minimizers"))


# -- the certificate ---------------------------------------------------------------------------------------
def certify_bracket(rho_lo=RHO_LO, rho_hi=RHO_HI, *, rho_min=RHO_MIN, eps=EPS, rho_axis=RHO_AXIS,
                    rho_top=RHO_TOP, expected: bool = True,
                    example: str = "", max_boxes: int = 400_000) -> Certificate:
    lo, hi, rmin, eps_q = (to_fraction(v, k) for v, k in ((rho_lo, "rho_lo"), (rho_hi, "rho_hi"),
                                                           (rho_min, "rho_min"), (eps, "eps")))
    cert = Certificate(THEOREM, TITLE, example or f"appendix_d, bracket [{lo}, {hi}]",
                       statement=(f"For every rho in [{rmin}, rho_lo] no y with f(y) >= {eps_q} and "
                                  "grad f(y) != 0 has y + rho u(y) in argmin f; for every rho in "
                                  f"[rho_hi, {to_fraction(rho_top, 'rho_top')}] such a y exists (a "
                                  "global minimizer of f_SAM)"), expected=expected)
    ctx = shared_context("arb", DPS)
    cert.context, cert.precision = ctx.name, ctx.precision_label
    P = ctx.precision_label
    if not (0 < rmin < lo and eps_q > 0 and hi > 0):
        return cert.refuse(f"need 0 < rho_min < rho_lo, rho_hi > 0 and eps > 0, got rho_min = {rmin}, "
                           f"rho_lo = {lo}, rho_hi = {hi}, eps = {eps_q}")
    obj = zoo.get("appendix_d").objective
    bh = BranchHull(obj)
    c1, why = bh.c1_seams()
    cert.hypothesis("C1", "f is C^1 across its seams (the branch hull encloses grad f there)", c1, why)
    lb = range_lower_bound(obj.expr)
    cert.hypothesis("argmin", "argmin f is the arc x*(s), |s| <= 3/5 (f >= 0 and f = 0 only there)",
                    lb.value == 0, f"f >= {lb.value} ({lb.method}); f = 0 exactly on the arc: "
                                   "see the module text")
    mirror = cert.hypothesis("mirror", "f(x, -y) = f(x, y) (then the cover needs s >= 0 only)",
                             mirror_symmetric(obj), "sympy: the folded difference simplifies to 0")
    cov = cover(bh, rmin, lo, eps_q, ctx, max_boxes, s_lo=Fraction(0) if mirror else -S_END)
    cert.add_object("bracket", [str(lo), str(hi)], label="bracket [rho_lo, rho_hi]")
    cert.add_object("rho_range_below", [str(rmin), str(lo)], label="rho range below")
    cert.add_object("region", f"f(y) >= {eps_q}")
    cert.add_object("cover_boxes", cov["boxes"], label="cover boxes")
    cert.add_object("excluded_by", cov["counts"], label="excluded by (cross, dot, f < eps)")
    cert.add_object("undecided_box", cov["box"], label="undecided box (s, rho, t)")
    cert.add(R.exact_claim("none_below", f"no hallucinated minimizer of the shifted type for rho in [{rmin}, "
                      f"{lo}] with f(y) >= {eps_q}: every box of the (s, rho, t) cover excluded "
                      "(boxes)", cov["boxes"], "==", "all excluded",
                      Verdict.PROVED if cov["status"] == "proved" else Verdict.UNDECIDED, P,
                      "undecided at " + str(cov["box"]) if cov["box"] else ""))
    ex = exists_at(hi, ctx)
    ok = _existence_proved(ex)
    if ex.get("krawczyk") is not None:
        cert.add_object("x_h_box_centre", [repr(v) for v in ex["center"]], label="x_h at rho_hi: box centre")
        cert.add_object("box_radius", f"{float(ex['radius']):.3g}", label="box radius")
    cert.add(R.exact_claim("exists_at_hi", f"at rho_hi = {hi} a box holds exactly one y with y + rho u(y) = "
                      "x*(3/5) in argmin f and grad f != 0 on it (Krawczyk)",
                      "proved" if ok else "not proved", "==", "proved",
                      Verdict.PROVED if ok else Verdict.UNDECIDED, P, ex.get("reason", "")))
    ra, rt = to_fraction(rho_axis, "rho_axis"), to_fraction(rho_top, "rho_top")
    _between_claim(cert, hi, max(hi, ra), ctx)
    on_axis, why = axis_existence(ra, rt, ctx) if mirror else (False, "needs the mirror symmetry")
    cert.add(R.exact_claim("exists_on_axis", f"for every rho in [{ra}, {rt}] the point y = (rho - 1.55, 0) is a "
                      "hallucinated minimizer (y + rho u(y) = x*(0), grad f(y) != 0)",
                      "proved" if on_axis else "not proved", "==", "proved",
                      Verdict.PROVED if on_axis else Verdict.UNDECIDED, P, why))
    cert.add(R.exact_claim("ordered", "rho_lo < rho_hi", str(lo), "<", str(hi),
                      Verdict.PROVED if lo < hi else Verdict.FAIL, P))
    if cert.passed:
        cert.add_object("threshold", f"in [{lo}, {hi}] (on the stated region), width {float(hi - lo):.3g}")
        cert.add_object("exists_range", [str(hi), str(rt)],
                        label="a hallucinated minimizer exists for every rho in this range")
    return cert.finish()


QUICK_RHO_MIN = "9/5"     # the quick report's lower end of the cover (the full report: RHO_MIN)
CONTROL_RHO_MIN = "3/2"   # the shifted-down control tests the existence side: a short cover below suffices


CONTROLS = (((RHO_HI, RHO_LO), RHO_MIN, f"negative control: ends swapped [{RHO_HI}, {RHO_LO}]"),
            (("1.905", "1.93"), RHO_MIN, "negative control: shifted up, [1.905, 1.93] (rho_lo > rho*)"),
            (("1.87", "1.89"), CONTROL_RHO_MIN, "negative control: shifted down, [1.87, 1.89] (rho_hi < "
             f"rho*; the cover below from rho = {CONTROL_RHO_MIN})"))


def controls(count: int | None = None) -> list[Certificate]:
    """Negative controls (the first ``count`` of them, all by default): the ends swapped; the bracket
    shifted up (rho_lo past rho* ~ 1.9012: the cover must meet a box it cannot exclude; it stops
    there, wherever it starts) and down (rho_hi below rho*: no preimage to prove, no sign change
    from rho_hi on). The shifted-down control is about the existence side, so its cover below
    starts at :data:`CONTROL_RHO_MIN` (the full certificate covers [1/4, rho_lo])."""
    return [certify_bracket(*ends, rho_min=rho_min, expected=False, example=example)
            for ends, rho_min, example in CONTROLS[:count]]


def report_certificates(quick: bool = False, figdir=None) -> list[Certificate]:
    """Quick: the lower end proved for rho in [QUICK_RHO_MIN, rho_lo] only (stated so; 1945 boxes
    against 7989 from 3/2), and the first two controls (the third, shifted down, in the full report)."""
    if quick:
        return [certify_bracket(rho_min=QUICK_RHO_MIN, example=f"appendix_d, bracket [{RHO_LO}, {RHO_HI}], "
                                f"lower end for rho in [{QUICK_RHO_MIN}, {RHO_LO}] only (quick report)")] + controls(2)
    return [certify_bracket()] + controls()


EXAMPLES = ("appendix_d bracket",)


def certify(rho_lo=RHO_LO, rho_hi=RHO_HI, **options) -> Certificate:
    """The registry's entry point: :func:`certify_bracket` on Appendix D's function (a fixed model,
    so the bracket ends and the cover's parameters are its arguments)."""
    return certify_bracket(rho_lo, rho_hi, **options)
