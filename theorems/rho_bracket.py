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

Above rho_hi (existence). At rho_hi, Krawczyk on G(y) = y + rho u(y) - x*(3/5) (x*(3/5) enclosed)
proves a box with exactly one y, with grad f != 0 on it and x*(3/5) a global minimizer: a
hallucinated minimizer exists at rho_hi (:func:`theorems.refutations.curve_box`). That proof is at
the single value rho_hi (Krawczyk over a rho interval fails near rho*, where Du ~ 1/dist to the
maximizer varies too fast). For every rho in [1.93, 2.8] existence is proved on the symmetry axis
(:func:`axis_existence`): y = (rho - 1.55, 0) lands on x*(0); 1.93 is just above the axis threshold
|x*(0) - maximizer| ~ 1.92642, so (1.91, 1.93) is covered at rho_hi only.

Negative controls: a bracket with the ends swapped (or shifted past rho*) must not certify: the cover
meets a box it cannot decide, and the existence proof fails below rho*.
"""
from __future__ import annotations

import functools
import itertools
from fractions import Fraction

import sympy as sp

from verify import zoo
from verify.core.results import Certificate, Verdict
from verify.ctx import get_context, shared_context
from verify.errors import SamVerifyError, UndecidedError
from verify.objectives.objective import SympyObjective
from verify.rigorous.krawczyk import INTERVAL_FAILURES, range_lower_bound, to_fraction

from . import refutations as R

THEOREM = "rho threshold (proved)"
TITLE = "Appendix D's rho threshold in a bracket proved in Arb: none below, one above"
ORDER = 4.15
DPS = 30
RHO_LO, RHO_HI, RHO_MIN, EPS = "1.89", "1.91", "1/4", "1/1000"
RHO_AXIS, RHO_TOP = "1.93", "2.8"     # existence for every rho in [RHO_AXIS, RHO_TOP], on the axis
S_END = Fraction(3, 5)
T_HALF = Fraction(16, 5)              # t in [-16/5, 16/5] covers the circle (32/5 > 2 pi)
MIN_WIDTH = Fraction(1, 2 ** 14)     # a box narrower than this in every direction stops the cover


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
            d = X[i] - ctx.scalar(a)
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
def _ball(iv, ctx):
    return ctx.ball((iv[0] + iv[1]) / 2, (iv[1] - iv[0]) / 2)


def excluded(bh: BranchHull, box, eps, ctx) -> str | None:
    """Why no y = x*(s) - rho v(t), (s, rho, t) in box, with f(y) >= eps has u(y) = v(t); None if
    undecided."""
    s, rho, t = (_ball(iv, ctx) for iv in box)
    xs = R.appendix_d_arc(s, ctx)
    c, sn = ctx.cos(t), ctx.sin(t)
    Y = ctx.vector([xs[0] - rho * c, xs[1] - rho * sn])
    try:
        objs = bh.objectives(Y, ctx)
        g = hull([o.grad(Y, ctx) for o in objs])
        cross, dot = g[0] * sn - g[1] * c, g[0] * c + g[1] * sn
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
    """Cached per expression: the simplification takes seconds and the report decides it for the
    certificate and each control on the same f."""
    x, y = symbols
    diff = sp.piecewise_fold(expr.subs(y, -y) - expr)
    return _zero_by_pieces(diff) or sp.simplify(diff) == 0


def _zero_by_pieces(diff) -> bool:
    """diff = 0 everywhere when every piece of the folded Piecewise either simplifies to 0 or has a
    condition no real point satisfies (univariate conditions, decided as sets): whichever piece
    applies at a point is then 0 there. A sufficient test, far cheaper than simplifying the whole
    Piecewise (whose condition simplification takes ~1 s on Appendix D's f); False when undecided."""
    if not isinstance(diff, sp.Piecewise):
        return False
    for value, cond in diff.args:
        if cond is sp.false or (cond is not sp.true and len(cond.free_symbols) == 1
                                and _empty(cond)):
            continue
        if sp.simplify(value) != 0:
            return False
    return True


def _empty(cond) -> bool:
    try:
        return cond.as_set() is sp.EmptySet
    except (NotImplementedError, TypeError, ValueError):   # a condition sympy cannot solve: kept
        return False


def cover(bh, rho_min: Fraction, rho_lo: Fraction, eps: Fraction, ctx, max_boxes: int = 400_000,
          keep: list | None = None, s_lo: Fraction = -S_END) -> dict:
    """Bisect [s_lo, 3/5] x [rho_min, rho_lo] x [-16/5, 16/5] until every box is excluded; stops at the
    first box narrower than MIN_WIDTH that is not (status 'undecided') or after max_boxes. ``keep``
    collects (box, reason) of every excluded box (for the tests' independent re-check)."""
    stack = [((s_lo, S_END), (rho_min, rho_lo), (-T_HALF, T_HALF))]
    counts = {"cross": 0, "dot": 0, "f<eps": 0}
    n = 0
    with ctx.working():
        while stack:
            box = stack.pop()
            n += 1
            why = excluded(bh, box, eps, ctx)
            if why:
                counts[why] += 1
                if keep is not None:
                    keep.append((box, why))
                continue
            widths = [iv[1] - iv[0] for iv in box]
            if max(widths) < MIN_WIDTH or n >= max_boxes:
                return {"status": "undecided", "boxes": n, "counts": counts,
                        "box": [[str(a), str(b)] for a, b in box]}
            k = max(range(3), key=widths.__getitem__)
            lo, hi = box[k]
            for part in ((lo, (lo + hi) / 2), ((lo + hi) / 2, hi)):
                stack.append(box[:k] + (part,) + box[k + 1:])
    return {"status": "proved", "boxes": n, "counts": counts, "box": None}


# -- above rho_hi: one hallucinated minimizer -------------------------------------------------------------
def exists_at(rho_hi: Fraction, ctx) -> dict:
    """Krawczyk at rho_hi for the preimage of the arc end x*(3/5) near the far side of the maximizer."""
    obj = zoo.get("appendix_d").objective
    mp = get_context("mpmath", dps=2 * DPS)
    xm = zoo.get("appendix_d").critical("maximizers", 0, mp)
    xs = R.appendix_d_arc(mp.scalar(S_END), mp)
    e = (xm - xs) / mp.norm(xm - xs)
    guess = [float(v) for v in xs + e * mp.scalar(rho_hi)]    # the ray's end: just past the maximizer
    try:
        return R.curve_box(obj, R.appendix_d_arc, S_END, S_END, rho_hi, ctx, mp, guess,
                           on_minimizers=R.appendix_d_minimizers)
    except INTERVAL_FAILURES + (SamVerifyError,) as exc:   # Newton finds no preimage below rho*
        return {"krawczyk": None, "reason": f"no preimage found: {exc}", "grad_index": None,
                "smooth": (None, ""), "minimizers": None}


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
                                  "grad f(y) != 0 has y + rho u(y) in argmin f; at rho_hi such a y "
                                  "exists (a global minimizer of f_SAM)"), expected=expected)
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
    cert.objects.update({"bracket [rho_lo, rho_hi]": [str(lo), str(hi)], "rho range below": [str(rmin), str(lo)],
                         "region": f"f(y) >= {eps_q}", "cover boxes": cov["boxes"],
                         "excluded by (cross, dot, f < eps)": cov["counts"],
                         "undecided box (s, rho, t)": cov["box"]})
    cert.add(R.exact_claim("none_below", f"no hallucinated minimizer of the shifted type for rho in [{rmin}, "
                      f"{lo}] with f(y) >= {eps_q}: every box of the (s, rho, t) cover excluded "
                      "(boxes)", cov["boxes"], "==", "all excluded",
                      Verdict.PROVED if cov["status"] == "proved" else Verdict.UNDECIDED, P,
                      "undecided at " + str(cov["box"]) if cov["box"] else ""))
    ex = exists_at(hi, ctx)
    ok = _existence_proved(ex)
    if ex.get("krawczyk") is not None:
        cert.objects.update({"x_h at rho_hi: box centre": [repr(v) for v in ex["center"]],
                             "box radius": f"{float(ex['radius']):.3g}"})
    cert.add(R.exact_claim("exists_at_hi", f"at rho_hi = {hi} a box holds exactly one y with y + rho u(y) = "
                      "x*(3/5) in argmin f and grad f != 0 on it (Krawczyk)",
                      "proved" if ok else "not proved", "==", "proved",
                      Verdict.PROVED if ok else Verdict.UNDECIDED, P, ex.get("reason", "")))
    ra, rt = to_fraction(rho_axis, "rho_axis"), to_fraction(rho_top, "rho_top")
    on_axis, why = axis_existence(ra, rt, ctx) if mirror else (False, "needs the mirror symmetry")
    cert.add(R.exact_claim("exists_on_axis", f"for every rho in [{ra}, {rt}] the point y = (rho - 1.55, 0) is a "
                      "hallucinated minimizer (y + rho u(y) = x*(0), grad f(y) != 0)",
                      "proved" if on_axis else "not proved", "==", "proved",
                      Verdict.PROVED if on_axis else Verdict.UNDECIDED, P, why))
    cert.add(R.exact_claim("ordered", "rho_lo < rho_hi", str(lo), "<", str(hi),
                      Verdict.PROVED if lo < hi else Verdict.FAIL, P))
    if cert.passed:
        cert.objects["threshold"] = f"in [{lo}, {hi}] (on the stated region), width {float(hi - lo):.3g}"
    return cert.finish()


QUICK_RHO_MIN = "9/5"     # the quick report's lower end of the cover (the full report: RHO_MIN)
CONTROLS = (((RHO_HI, RHO_LO), f"negative control: ends swapped [{RHO_HI}, {RHO_LO}]"),
            (("1.905", "1.93"), "negative control: shifted up, [1.905, 1.93] (rho_lo > rho*)"),
            (("1.87", "1.89"), "negative control: shifted down, [1.87, 1.89] (rho_hi < rho*)"))


def controls(count: int | None = None) -> list[Certificate]:
    """Negative controls (the first ``count`` of them, all by default): the ends swapped; the bracket
    shifted up (rho_lo past rho* ~ 1.9012: the cover must meet a box it cannot exclude) and down
    (rho_hi below rho*: no preimage to prove)."""
    return [certify_bracket(*ends, expected=False, example=example) for ends, example in CONTROLS[:count]]


def report_certificates(quick: bool = False, figdir=None) -> list[Certificate]:
    """Quick: the lower end proved for rho in [QUICK_RHO_MIN, rho_lo] only (stated so; 1945 boxes
    against 7989 from 3/2), the two fast controls."""
    if quick:
        return [certify_bracket(rho_min=QUICK_RHO_MIN, example="appendix_d, bracket [1.89, 1.91], lower "
                                f"end for rho in [{QUICK_RHO_MIN}, 1.89] only (quick report)")] + controls(2)
    return [certify_bracket()] + controls()


EXAMPLES = ("appendix_d bracket",)


def certify(rho_lo=RHO_LO, rho_hi=RHO_HI, **options) -> Certificate:
    """The registry's entry point: :func:`certify_bracket` on Appendix D's function (a fixed model,
    so the bracket ends and the cover's parameters are its arguments)."""
    return certify_bracket(rho_lo, rho_hi, **options)
