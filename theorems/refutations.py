"""Refutations that are proofs: Arb certificates that a statement of the paper fails (issue 16).

The other sections show with float64 and 50-digit evidence that some statements fail; here the same
failures are decided by interval arithmetic (python-flint's Arb), so that no rounding or sampling has
to be trusted.

Eigenvalue hypothesis of Theorem 3.2 / Corollary B.3 (own words): at the hallucinated minimizers the
theorem is applied to, 1 + rho lambda_min(Sym Du) > 0, with u = grad f / ||grad f|| and Du its
Jacobian. A refutation on a box X needs no eigen-solver: for every y in X and every nonzero vector t,

    1 + rho lambda_min(Sym Du(y)) = lambda_min(I + rho Sym Du(y)) <= t^T (I + rho Sym Du(y)) t / t^T t

(rho > 0; Rayleigh). With t an exact dyadic vector (the float least eigenvector of the midpoint
matrix) the right side is enclosed in Arb over X; an enclosure below 0 proves the hypothesis false at
every point of X. If instead I + rho Sym Du(X) is proved positive definite (congruence + Gershgorin,
:func:`verify.rigorous.krawczyk.positive_definite`) the hypothesis holds there and the refutation
claim is FAIL; otherwise UNDECIDED. A refutation is PROVED only when the point itself is enclosed
too:

(1) at a constructed x_h (ring, tilted ring, a tilted 2-D double well built by Theorem 2.1's
    construction): the existence prover (:mod:`theorems.prove_hallucination`) proves a box X that
    holds exactly one hallucinated minimizer x_h (manifold route: x_h + rho u(x_h) = x*; isolated
    route: grad f(x_h + rho u(x_h)) = 0 with Hess f_SAM positive definite), and the Rayleigh bound is
    negative on X;
(2) the descent inequality of the proof of Theorem 3.2, f_SAM(x1) <= f_SAM(x0) - eta (gamma -
    L eta/2) ||grad f(x0+)||^2 with L = max ||Hess f|| on N_delta(H), on circle_max (H the circle
    r = sqrt 3 - rho): gamma, L and M are bounded rigorously (rotation invariance reduces the annulus
    to a radial segment, covered by boxes), eta is proved admissible, x0 is proved in the start region,
    and the first SAM step is enclosed; the inequality is decided with the bounds that make it
    weakest, so a violation there is a violation with the true constants;
(3) on the hallucinated curve of Appendix D at rho = 2.8: the minimizer arc x*(s) = (-1.55 cos(s/1.5),
    s), |s| <= 3/5, is cut into parameter intervals S_k; on each, Krawczyk on G(y) = y + rho u(y) -
    x*(s), with x*(s) enclosed over all of S_k, proves a box X_k holding, for every s in S_k, exactly
    one point y(s) of the curve traced from x_h = (1.25, 0); the Rayleigh bound is negative on X_k. The
    boxes cover that curve over the whole arc (every point y(s)).
Each refutation has negative controls (the hypothesis holds: d = 1, circle_max; L_SAM in place of
L) that must come out FAIL or UNDECIDED, never PROVED. A PROVED refutation records a finding with
evidence level PROVED under the (source, statement) of the sampled finding it backs, so the report
groups them.
"""
from __future__ import annotations

import functools
import math
from fractions import Fraction
from typing import Any, Sequence

import numpy as np

from verify import sam, zoo
from verify.core.operators import SamPoint
from verify.core.results import Certificate, Claim, Verdict
from verify.core.solve import newton
from verify.ctx import get_context, shared_context
from verify.rigorous.krawczyk import (INTERVAL_FAILURES, excludes_zero, krawczyk, mid_floats,
                                      positive_definite, range_lower_bound, smooth_near,
                                      to_fraction, upper_float)

from . import prove_hallucination as ph

THEOREM = "Proved refutations"
TITLE = "Paper statements that fail, proved by interval arithmetic (Arb)"
ORDER = 5.1
DPS = 30

CONDITION = "1 + rho lambda_min(Sym Du) > 0"
# the (source, statement) of the sampled findings in theorems/thm_3_2.py, so the report groups them
CONDITION_SOURCE = "Corollary B.3 / Theorem 3.2 with Theorem 3.1"
CONDITION_STATEMENT = ("The eigenvalue hypothesis 1 + rho lambda_min(Sym Du(x_h)) > 0 is assumed at a "
                       "hallucinated minimizer x_h constructed in the proof of Theorem 2.1.")


# -- the Rayleigh bound ---------------------------------------------------------------------------------
def condition_matrix(obj, X, rho, ctx):
    """I + rho Sym Du(y) = Sym(I + rho Du), enclosed over the box X (Arb)."""
    A = SamPoint(obj, X, rho, ctx).I_plus_rho_Du.dense()
    return (A + A.T) / 2


def rayleigh_decision(obj, X, rho, ctx) -> dict:
    """Decide the eigenvalue hypothesis on the box X: 'fails' (Rayleigh quotient enclosure < 0),
    'holds' (I + rho Sym Du proved positive definite on X) or 'unknown'. ``bound`` is the enclosure
    of t^T A t / t^T t, an upper bound of 1 + rho lambda_min(Sym Du(y)) for every y in X."""
    out: dict[str, Any] = {"status": "unknown", "bound": None, "t": None, "reason": ""}
    with ctx.working():
        try:
            A = condition_matrix(obj, X, rho, ctx)
        except INTERVAL_FAILURES as exc:
            out["reason"] = f"Sym Du not enclosed over X: {exc}"
            return out
        Am = mid_floats(A)
        if not np.all(np.isfinite(Am)):
            out["reason"] = "the enclosure of Sym Du over X is not finite"
            return out
        t = np.linalg.eigh((Am + Am.T) / 2)[1][:, 0]
        tv = ctx.vector([float(v) for v in t])       # exact dyadic rationals
        q = (tv @ A @ tv) / (tv @ tv)
        out.update(bound=q, t=[float(v) for v in t])
        if q < 0:
            out.update(status="fails", reason="t^T (I + rho Sym Du) t / t^T t < 0 on all of X")
            return out
        pd = positive_definite(A, ctx)
        if pd.status == "positive":
            out.update(status="holds", reason="I + rho Sym Du is positive definite on X: " + pd.reason)
        else:
            out["reason"] = "neither a negative Rayleigh quotient nor positive definiteness: " + pd.reason
    return out


def _iv(b) -> str:
    return f"[{float(b.lower()):.10g}, {float(b.upper()):.10g}]" if b is not None else "not enclosed"


_CONDITION_VERDICT = {"fails": Verdict.PROVED, "holds": Verdict.FAIL, "unknown": Verdict.UNDECIDED}


def exact_claim(cid, statement, value, relation, bound, verdict, precision, note="") -> Claim:
    return Claim(cid, statement, str(value), relation, str(bound), "0", verdict, "arb", precision,
                 note, "exact")


# -- (1) the hypothesis at a constructed x_h -----------------------------------------------------------------
def proved_box(cert: Certificate, ctx):
    """The box an existence certificate proved (centre and radius are exact binary floats)."""
    c = [float(v) for v in cert.objects["box_center"]]
    return ctx.box(c, Fraction(cert.objects["box_radius_float"]))


def refute_at_xh(obj, x, rho, *, x_star: Sequence | None = None, example: str = "",
                 expected: bool = True, dps: int = DPS) -> Certificate:
    """Prove 1 + rho lambda_min(Sym Du) < 0 on a box proved to hold the hallucinated minimizer x_h
    near ``x`` (manifold route with ``x_star``, else the isolated route)."""
    cert = Certificate(THEOREM, "The eigenvalue hypothesis fails at a constructed x_h (proved)",
                       example or f"{obj.name}, x_h near {tuple(map(str, x))}, rho = {rho}",
                       statement=f"A box X holds a hallucinated minimizer x_h (proved), and "
                                 f"{CONDITION} fails at every point of X.", expected=expected)
    ctx = shared_context("arb", dps)
    cert.context, cert.precision = ctx.name, ctx.precision_label
    rho_q = to_fraction(rho, "rho")
    existence = ph.prove(obj, x, rho_q, x_star=x_star, dps=dps, crosscheck=False)
    if existence.refused:
        return cert.refuse(existence.refused)
    cert.add(exact_claim("x_h_enclosed", "a box X holds exactly one hallucinated minimizer x_h "
                    f"({existence.objects.get('route')} route of the existence prover)",
                    existence.objects.get("verdict"), "==", "PROVED",
                    {"PROVED": Verdict.PROVED, "FAILS": Verdict.FAIL}.get(
                        existence.objects.get("verdict"), Verdict.UNDECIDED), ctx.precision_label,
                    existence.objects.get("reason", "")))
    X = proved_box(existence, ctx)
    cert.objects.update({"rho": str(rho_q), "box_center": existence.objects["box_center"],
                         "box_radius": existence.objects["box_radius"],
                         "box_radius_float": existence.objects["box_radius_float"],
                         "existence_claims": {c.id: c.verdict.value for c in existence.claims}})
    if x_star is not None:
        cert.add_object("x_star", [str(v) for v in x_star])
    dec = rayleigh_decision(obj, X, ctx.scalar(rho_q), ctx)
    _condition_claim(cert, dec, "X", ctx)
    if cert.passed:
        cert.finding(CONDITION_SOURCE, CONDITION_STATEMENT,
                     f"Proved in Arb ({ctx.precision_label}): the box centred at "
                     f"({', '.join(existence.objects['box_center'])}) with radius "
                     f"{existence.objects['box_radius']} holds exactly one hallucinated minimizer x_h "
                     f"(rho = {rho_q}), and 1 + rho lambda_min(Sym Du) <= {_iv(dec['bound'])} < 0 on "
                     f"the whole box (Rayleigh quotient for t = {dec['t']}).", "PROVED")
    return cert.finish()


def _condition_claim(cert, dec, where: str, ctx) -> None:
    cert.add(exact_claim("condition_fails", f"{CONDITION} fails on {where}: the Rayleigh quotient "
                    "t^T (I + rho Sym Du) t / t^T t, an upper bound of 1 + rho lambda_min, is < 0",
                    _iv(dec["bound"]), "<", "0", _CONDITION_VERDICT[dec["status"]],
                    ctx.precision_label, dec["reason"]))
    cert.add_object("rayleigh_vector_t", dec["t"])
    cert.add_object("condition_upper_bound", _iv(dec["bound"]))


# -- (3) a hallucinated curve, covered by boxes ----------------------------------------------------------------
def appendix_d_arc(s, ctx):
    """x*(s) = (-1.55 cos(s/1.5), s), the Appendix D minimizer arc (|s| <= 3/5); s a number or a ball."""
    s = ctx.scalar(s)
    return ctx.vector([-ctx.scalar(Fraction(31, 20)) * ctx.cos(s * ctx.scalar(Fraction(2, 3))), s])


def appendix_d_minimizers(s_lo: Fraction, s_hi: Fraction, xs, ctx) -> bool:
    """Is every x*(s), s in S, a global minimizer of the Appendix D f? f >= 0 on R^2 is proved by
    range analysis (once, in :func:`curve_certificate`); f(x*(s)) = 0 when |s| <= 3/5 (the valley
    switch W_Y is 1) and x*(s) <= -1 (the bump switch W_X is 0), since the valley exponent vanishes
    on the arc: f = 0 - 1 + 1. Both are decided here for the whole interval [s_lo, s_hi] (exact
    rational ends; x*(S) enclosed)."""
    with ctx.working():
        return bool(-Fraction(3, 5) <= s_lo and s_hi <= Fraction(3, 5) and xs[0] < -1)


def circle_arc(radius_sq):
    """x*(s) = sqrt(radius_sq) (cos s, sin s)."""
    def arc(s, ctx):
        s, r = ctx.scalar(s), ctx.sqrt(ctx.scalar(radius_sq))
        return ctx.vector([r * ctx.cos(s), r * ctx.sin(s)])
    return arc


def curve_point(obj, arc, s: float, rho, guess, mp):
    """y(s) with y + rho u(y) = x*(s), by mpmath Newton (a centre only; the proof is Krawczyk's)."""
    res, jac = ph.preimage_system(obj, rho, arc(mp.scalar(s), mp), mp)
    return [float(v) for v in newton(res, jac, mp.vector(guess), mp, what="curve point").x]


def curve_box(obj, arc, s_lo: Fraction, s_hi: Fraction, rho_q: Fraction, ctx, mp, guess,
              on_minimizers=None, y_lo=None) -> dict:
    """One parameter interval S = [s_lo, s_hi]: Krawczyk on G(y) = y + rho u(y) - x*(s) for all s
    in S at once (x*(S) enclosed), then the Rayleigh bound on the proved box X. ``y_lo``: the
    curve point y(s_lo) when a neighbouring box has solved for it already (its Newton is not
    repeated)."""
    rho = ctx.scalar(rho_q)
    first = y_lo if y_lo is not None else curve_point(obj, arc, float(s_lo), mp.scalar(rho_q), guess, mp)
    ends = [first, first if s_hi == s_lo else curve_point(obj, arc, float(s_hi), mp.scalar(rho_q),
                                                            guess, mp)]
    c = [(a + b) / 2 for a, b in zip(*ends)]
    spread = max(abs(a - b) for a, b in zip(*ends))
    r = Fraction(spread) + Fraction(1, 2 ** 30)          # the half spread, doubled, plus a margin
    out: dict[str, Any] = {"s": (s_lo, s_hi), "center": c, "radius": r, "next_guess": ends[1],
                           "condition": {"bound": None, "status": "unknown"}, "grad_index": None,
                           "smooth": (None, "not reached"), "minimizers": None}
    with ctx.working():
        S = ctx.ball((s_lo + s_hi) / 2, (s_hi - s_lo) / 2)
        xs = arc(S, ctx)
        X = ctx.box(c, r)
        out["X"] = X
        try:
            out["minimizers"] = on_minimizers(s_lo, s_hi, xs, ctx) if on_minimizers else True
            out["grad_index"] = excludes_zero(obj.grad(X, ctx))
            out["smooth"] = smooth_near(obj, [X], ctx)
            kr = krawczyk(*ph.preimage_system(obj, rho, xs, ctx), ctx.vector(c), r, ctx)
        except INTERVAL_FAILURES as exc:
            out["status"], out["reason"] = "unknown", f"interval evaluation failed: {exc}"
            return out
    out["krawczyk"] = kr
    out["condition"] = rayleigh_decision(obj, X, rho, ctx)
    problems = ["" if kr.unique else kr.reason,
                "" if out["minimizers"] else "x*(S) not shown to be minimizers of f",
                "" if out["grad_index"] is not None else "grad f may vanish on X",
                "" if out["smooth"][0] is True else out["smooth"][1],
                "" if out["condition"]["status"] == "fails" else out["condition"]["reason"]]
    out["status"] = "unknown" if any(problems) else "proved"
    out["reason"] = "; ".join(p for p in problems if p)
    return out


def cover_curve(obj, arc, rho_q, cuts, guess, ctx, mp, on_minimizers=None) -> list[dict]:
    """:func:`curve_box` on each [cuts[k], cuts[k+1]], each Newton started where the last ended;
    a box starts from the curve point its neighbour found at their shared cut."""
    boxes, shared = [], None
    for a, b in zip(cuts, cuts[1:]):
        try:
            box = curve_box(obj, arc, a, b, rho_q, ctx, mp, guess, on_minimizers, y_lo=shared)
        except INTERVAL_FAILURES + (ph.SamVerifyError,) as exc:
            box = {"s": (a, b), "status": "unknown", "reason": f"no centre: {exc}",
                   "condition": {"bound": None, "status": "unknown"}}
        guess = box.get("next_guess", guess)
        shared = box.get("next_guess")
        boxes.append(box)
    return boxes


def curve_certificate(obj, arc, rho, s_range, n_boxes: int, guess, *, example: str, arc_text: str,
                      expected: bool = True, on_minimizers=None, finding=None,
                      dps: int = DPS) -> Certificate:
    """Prove the eigenvalue hypothesis false on the whole hallucinated curve y(s) (y + rho u(y) =
    x*(s) = ``arc(s)``), s in ``s_range`` cut into ``n_boxes`` equal intervals. ``on_minimizers(S,
    s_hi, x*(S), ctx)`` decides that every x*(s), s in S, is a global minimizer of f (None: the arc is a
    minimizer set by construction, stated in ``arc_text``); ``finding`` = (source, statement)."""
    rho_q = to_fraction(rho, "rho")
    lo, hi = (to_fraction(v, "s") for v in s_range)
    cert = Certificate(THEOREM, "The eigenvalue hypothesis fails on a whole hallucinated curve "
                       "(proved on a box cover)", example,
                       statement=(f"For every s in [{lo}, {hi}] the curve point y(s) (y + rho u(y) = "
                                  f"x*(s), {arc_text}) lies in a box proved to hold exactly one such "
                                  f"point, and {CONDITION} fails on every box."), expected=expected)
    ctx = shared_context("arb", dps)
    mp = shared_context("mpmath", max(dps, 30))
    cert.context, cert.precision = ctx.name, ctx.precision_label
    if not (hi > lo and n_boxes >= 1):
        return cert.refuse(f"need s_lo < s_hi and n_boxes >= 1, got [{lo}, {hi}], {n_boxes}")
    if rho_q <= 0:
        return cert.refuse(f"rho must be > 0, got {rho}")
    cuts = [lo + (hi - lo) * k / n_boxes for k in range(n_boxes + 1)]
    boxes = cover_curve(obj, arc, rho_q, cuts, guess, ctx, mp, on_minimizers)
    cert.artifacts["boxes"] = boxes  # for the independent re-check
    _cover_record(cert, obj, boxes, rho_q, lo, hi, ctx, on_minimizers, finding)
    return cert.finish()


def _cover_record(cert, obj, boxes, rho_q, lo, hi, ctx, on_minimizers, finding) -> None:
    n = len(boxes)
    n_ok = sum(b["status"] == "proved" for b in boxes)
    bounds = [b["condition"]["bound"] for b in boxes if b["condition"].get("bound") is not None]
    worst = max((float(q.upper()) for q in bounds), default=math.inf)
    cert.objects.update({
        "rho": str(rho_q), "s_range": [str(lo), str(hi)], "boxes": n,
        "cover": [{"s": [str(b["s"][0]), str(b["s"][1])], "status": b["status"],
                   "center": [repr(v) for v in b.get("center", [])],
                   "radius": f"{float(b['radius']):.3g}" if "radius" in b else "",
                   "condition_upper_bound": _iv(b["condition"].get("bound")),
                   "reason": b["reason"]} for b in boxes],
    })
    cert.hypothesis("smooth", "one analytic formula describes f near every box",
                    True if all(b.get("smooth", (None,))[0] is True for b in boxes) else None,
                    "decided per box (for a piecewise f: every Piecewise condition decided on a "
                    "strictly larger box, so the boxes stay off the seams)")
    if on_minimizers is not None:
        lb = range_lower_bound(obj.expr)
        on_arc = all(b.get("minimizers") for b in boxes)
        cert.hypothesis("minimizers", "every x*(s) of the range is a global minimizer of f",
                        True if (lb.value == 0 and on_arc) else None,
                        f"f >= {lb.value} on R^2 ({lb.method}); f(x*(s)) = 0 decided per interval "
                        f"({'all' if on_arc else 'not all'} intervals) by {on_minimizers.__name__}")
    kr_ok = sum(bool(b.get("krawczyk") and b["krawczyk"].unique) for b in boxes)
    cert.add(exact_claim("curve_enclosed", "on every parameter interval S_k, Krawczyk proves a box X_k with "
                    "exactly one y(s) for each s in S_k, and grad f != 0 on X_k (count of intervals)",
                    sum(bool(b.get("krawczyk") and b["krawczyk"].unique and b.get("grad_index")
                             is not None) for b in boxes), "==", n,
                    Verdict.PROVED if kr_ok == n else Verdict.UNDECIDED, ctx.precision_label))
    holds = any(b["condition"].get("status") == "holds" for b in boxes)
    cert.add(exact_claim("condition_fails", f"{CONDITION} fails on every box X_k (count of boxes with a "
                    "negative Rayleigh quotient)", sum(b["condition"].get("status") == "fails"
                                                       for b in boxes), "==", n,
                    Verdict.PROVED if n_ok == n else (Verdict.FAIL if holds else Verdict.UNDECIDED),
                    ctx.precision_label,
                    f"largest upper bound of 1 + rho lambda_min over the boxes: {worst:.6g}"))
    if cert.passed and finding:
        cert.finding(*finding, f"Proved in Arb ({ctx.precision_label}): the hallucinated curve y(s), "
                     f"s in [{lo}, {hi}], at rho = {rho_q} lies in {n} Krawczyk-proved boxes (one curve "
                     f"point per s in each), and on every box 1 + rho lambda_min(Sym Du) <= "
                     f"{worst:.4g} < 0 (Rayleigh quotient bound): the eigenvalue hypothesis of "
                     "Theorem 3.2 fails on the whole curve.", "PROVED")


APPENDIX_D_FINDING = ("Appendix D", "The conditions of Theorem 3.2 are satisfied on this example.")


def refute_appendix_d(rho="2.8", s_range=("-3/5", "3/5"), n_boxes: int = 120, **kw) -> Certificate:
    """(3): Appendix D's hallucinated curve, the image of the whole minimizer arc |s| <= 3/5."""
    rho_q = to_fraction(rho, "rho")
    return curve_certificate(
        zoo.get("appendix_d").objective, appendix_d_arc, rho_q, s_range, n_boxes,
        [float(rho_q) - 1.55, float(to_fraction(s_range[0]))],
        example=kw.pop("example", f"appendix_d, rho = {rho_q}, the curve over the minimizer arc "
                                  f"s in [{s_range[0]}, {s_range[1]}], {n_boxes} boxes"),
        arc_text="x*(s) = (-1.55 cos(s/1.5), s) on the minimizer arc", on_minimizers=appendix_d_minimizers,
        finding=APPENDIX_D_FINDING, **kw)


# -- (2) the descent inequality of the proof of Theorem 3.2 ------------------------------------------------
# the (source, statement) of the sampled finding in theorems/thm_3_2.py
DESCENT_FINDING = ("Theorem 3.2, proof (Appendix B.2)",
                   "With 0 < eta < min(delta/2M, 2 gamma/L) and L = max ||Hess f|| on N_delta(H), every "
                   "SAM step satisfies f_SAM(x_{k+1}) <= f_SAM(x_k) - eta (gamma - L eta/2) ||grad f(x_k+)||^2.")


def rotation_invariant(obj) -> bool:
    """f(x, y) depends on x^2 + y^2 only: its angular derivative x f_y - y f_x is identically 0
    (an exact polynomial identity, decided by sympy's expansion)."""
    import sympy as sp
    if obj.dim != 2:
        return False
    x, y = obj.symbols
    e = obj.expr
    return sp.expand(x * sp.diff(e, y) - y * sp.diff(e, x)) == 0


def _segment(ctx, lo: Fraction, hi: Fraction, n: int) -> list:
    """Boxes [r_k, r_k+1] x {0} covering the segment {(r, 0): lo <= r <= hi}."""
    cuts = [lo + (hi - lo) * k / n for k in range(n + 1)]
    return [ctx.vector([ctx.ball((a + b) / 2, (b - a) / 2), ctx.scalar(0)]) for a, b in zip(cuts, cuts[1:])]


def _frobenius_upper(A, ctx) -> float:
    """An upper bound of the Frobenius norm (>= the 2-norm) of every matrix enclosed by A."""
    tops = [ctx.scalar(upper_float(abs(a))) for a in np.asarray(A, dtype=object).reshape(-1)]
    return upper_float(ctx.sqrt(sum(t * t for t in tops)))


def _least_gershgorin_lower(S) -> float:
    n = S.shape[0]
    return min(float((S[i, i] - sum((abs(S[i, j]) for j in range(n) if j != i), 0)).lower())
               for i in range(n))


def radial_constants(obj, rho, r_lo, r_hi, r_m, n, ctx) -> dict:
    """Rigorous bounds of the proof's constants for a rotation invariant f, whose norms and
    eigenvalues at y equal those at (|y|, 0): over the annulus r_lo <= |y| <= r_hi (= N_delta(H)),
    gamma >= gamma_lo, L = max ||Hess f|| <= L_hi (Frobenius), L_SAM = max ||Hess f_SAM|| <= Lsam_hi;
    M = max ||grad f|| over the disc |y| <= r_m (a superset of the rho-neighbourhood) <= M_hi."""
    with ctx.working():
        seg = _segment(ctx, r_lo, r_hi, n)
        lam = min(_least_gershgorin_lower(sam.sym_du(obj, Y, ctx)) for Y in seg)
        return {"gamma_lo": 1 + float(rho.upper() if lam < 0 else rho.lower()) * lam - 2.0 ** -40,
                "L_hi": max(_frobenius_upper(obj.hess(Y, ctx), ctx) for Y in seg),
                "Lsam_hi": max(_frobenius_upper(sam.sam_hessian(obj, Y, rho, ctx), ctx) for Y in seg),
                "M_hi": max(_frobenius_upper(obj.grad(Y, ctx), ctx)
                            for Y in _segment(ctx, Fraction(0), r_m, 4 * n))}


@functools.lru_cache(maxsize=8)
def _circle_max_constants(rho_q: Fraction, r_lo: Fraction, r_hi: Fraction, r_m: Fraction, n: int,
                          dps: int) -> dict:
    """:func:`radial_constants` of circle_max, cached per process: the refutation and its negative
    control (L_SAM in place of L) bound the same constants on the same annulus."""
    ctx = shared_context("arb", dps)
    with ctx.working():
        return radial_constants(zoo.get("circle_max").objective, ctx.scalar(rho_q), r_lo, r_hi, r_m,
                                n, ctx)


def refute_descent(*, eta="1/70", x0=("29/50", "0"), rho="6/5", delta="1/5", n: int = 400,
                   use_L_sam: bool = False, expected: bool = True, example: str = "",
                   dps: int = DPS) -> Certificate:
    """(2) on circle_max: H = the circle r0 = sqrt 3 - rho (each point jumps onto the minimizer circle
    r = sqrt 3). The constants are bounded rigorously (:func:`radial_constants`), the first SAM step
    from x0 is enclosed in Arb, and the inequality is decided with the bounds that make it weakest
    (gamma_lo, L_hi: if it fails with them it fails with the true constants). ``use_L_sam`` puts an
    upper bound of L_SAM in place of L: the negative control (the descent lemma then proves it)."""
    obj = zoo.get("circle_max").objective
    rho_q, eta_q, delta_q = (to_fraction(v, k) for v, k in ((rho, "rho"), (eta, "eta"), (delta, "delta")))
    which = "L_SAM (bound of max ||Hess f_SAM||)" if use_L_sam else "the paper's L = max ||Hess f||"
    cert = Certificate(THEOREM, "The descent inequality of the proof of Theorem 3.2 fails at a SAM step "
                       "(proved)", example or f"circle_max, rho = {rho_q}, H = circle r = sqrt 3 - rho, "
                       f"delta = {delta_q}, eta = {eta_q}, x0 = {tuple(x0)}, with {which}",
                       statement=("f_SAM(x1) > f_SAM(x0) - eta (gamma - L eta/2) ||grad f(x0+)||^2 for "
                                  "the SAM step x1 = x0 - eta grad f(x0+), with eta admissible"),
                       expected=expected)
    ctx = shared_context("arb", dps)
    cert.context, cert.precision = ctx.name, ctx.precision_label
    P = ctx.precision_label
    if min(rho_q, eta_q, delta_q) <= 0 or len(x0) != obj.dim:
        return cert.refuse(f"need rho, eta, delta > 0 and x0 with {obj.dim} coordinates, got rho = "
                           f"{rho_q}, eta = {eta_q}, delta = {delta_q}, x0 = {tuple(x0)}")
    with ctx.working():
        rho_b, eta_b = ctx.scalar(rho_q), ctx.scalar(eta_q)
        r0 = ctx.sqrt(3) - rho_b
        d = ctx.scalar(delta_q)
        _descent_hypotheses(cert, obj, rho_b, r0, d, ctx)
        r_lo = Fraction(math.floor(float((r0 - d).lower()) * 2 ** 20), 2 ** 20)
        r_hi = Fraction(math.ceil(float((r0 + d).upper()) * 2 ** 20), 2 ** 20)
        r_m = Fraction(math.ceil(float((r0 + d / 2 + rho_b).upper()) * 2 ** 20), 2 ** 20)
        try:   # an annulus that leaves 0 < |y| < 1 meets grad f = 0 (|y| = 0 or 1): u is undefined
            k = _circle_max_constants(rho_q, r_lo, r_hi, r_m, n, dps)
        except INTERVAL_FAILURES as exc:
            return cert.refuse(f"the constants are not enclosed on the annulus [{r_lo}, {r_hi}]: {exc}")
        L = k["Lsam_hi"] if use_L_sam else k["L_hi"]
        cert.add_named_objects({k2: repr(v) for k2, v in k.items()})
        cert.add_object("annulus", [str(r_lo), str(r_hi)], label="annulus_N_delta(H)")
        cert.add_object("disc_for_M", str(r_m))
        cert.add_object("L_used", repr(L))
        cert.add(exact_claim("eta_admissible", "eta < min(delta / 2 M_hi, 2 gamma_lo / L_hi) <= the paper's "
                        "bound min(delta/2M, 2 gamma/L)", str(eta_q), "<",
                        f"{min(float(delta_q) / (2 * k['M_hi']), 2 * k['gamma_lo'] / k['L_hi']):.6g}",
                        Verdict.PROVED if (eta_b < ctx.scalar(delta_q) / (2 * ctx.scalar(k["M_hi"])) and
                                           eta_b < 2 * ctx.scalar(k["gamma_lo"]) / ctx.scalar(k["L_hi"]))
                        else Verdict.UNDECIDED, P))
        x = ctx.vector([to_fraction(v, "x0") for v in x0])
        fsam0, fsam_b = sam.sam_value(obj, x, rho_b, ctx), _boundary_fsam(obj, rho_b, r0, d, ctx)
        cert.add(exact_claim("x0_in_start_region", "x0 lies in N_{delta/2}(H) and f_SAM(x0) is below f_SAM on "
                        "the boundary of N_{delta/2}(H) (the start region of the proof)",
                        _iv(fsam0), "<", _iv(fsam_b),
                        Verdict.PROVED if (abs(ctx.norm(x) - r0) < d / 2 and fsam0 < fsam_b)
                        else Verdict.UNDECIDED, P))
        w = sam.shifted_gradient(obj, x, rho_b, ctx)
        x1 = x - eta_b * w
        lhs = sam.sam_value(obj, x1, rho_b, ctx)
        rhs = fsam0 - eta_b * (ctx.scalar(k["gamma_lo"]) - ctx.scalar(L) * eta_b / 2) * (w @ w)
        gap = lhs - rhs
        verdict = Verdict.PROVED if gap > 0 else (Verdict.FAIL if gap < 0 else Verdict.UNDECIDED)
        cert.add(exact_claim("descent_fails", "f_SAM(x1) - [f_SAM(x0) - eta (gamma - L eta/2) ||w||^2] > 0 "
                        f"with gamma >= gamma_lo and L <= {L:.6g} ({which}); w = grad f(x0 + rho u(x0))",
                        _iv(gap), ">", "0", verdict, P,
                        f"f_SAM(x1) in {_iv(lhs)}; right side in {_iv(rhs)}; x1 = "
                        f"({', '.join(_iv(v) for v in x1)})"))
    if cert.passed and not use_L_sam:
        cert.finding(*DESCENT_FINDING, f"Proved in Arb ({P}) on circle_max, rho = {rho_q}, H the circle "
                     f"r = sqrt 3 - rho, delta = {delta_q}: with rigorous bounds gamma >= "
                     f"{k['gamma_lo']:.6g}, L <= {k['L_hi']:.6g}, M <= {k['M_hi']:.6g}, the step "
                     f"eta = {eta_q} is admissible, and the first SAM step from x0 = {tuple(x0)} "
                     f"(in the start region) violates the inequality by {_iv(gap)} > 0. With an upper "
                     f"bound L_SAM <= {k['Lsam_hi']:.6g} of the Lipschitz constant of grad f_SAM in "
                     "place of L the violation disappears (negative control).", "PROVED")
    return cert.finish()


def _boundary_fsam(obj, rho, r0, d, ctx):
    """min of f_SAM on the two circles |y| = r0 -+ d/2 (f_SAM is rotation invariant with f)."""
    vals = [sam.sam_value(obj, ctx.vector([r0 + sgn * d / 2, ctx.scalar(0)]), rho, ctx) for sgn in (-1, 1)]
    return vals[0] if vals[0] < vals[1] else (vals[1] if vals[1] < vals[0] else
                                              ctx.scalar(min(float(v.lower()) for v in vals)))


H_ARGUMENT = ("f = g(q), q = |y|^2, g(q) = q (q - 3)^2 / 3 >= 0 = g(3). Where 0 < |y| < 1, g'(q) = "
              "(q - 1)(q - 3) > 0, so u(y) = y/|y| and f_SAM(y) = g((|y| + rho)^2); its r-derivative "
              "2 (r + rho) g'((r + rho)^2) vanishes on the annulus (where (r + rho)^2 > 1) only at "
              "(r + rho)^2 = 3, i.e. r = r0: H holds the only critical points of f_SAM in N_delta(H), "
              "all global minimizers of f_SAM (value g(3) = 0 = min f), and grad f != 0 on H.")


def _descent_hypotheses(cert, obj, rho, r0, d, ctx) -> None:
    """H = {|y| = r0} is a set of hallucinated minimizers isolated in N_delta(H) (:data:`H_ARGUMENT`;
    its interval parts decided here)."""
    lb = range_lower_bound(obj.expr)
    lo, hi = r0 - d, r0 + d
    ann_ok = bool(lo > 0 and hi < 1 and (lo + rho) ** 2 > 1)
    cert.hypothesis("analytic", "f is real-analytic (a polynomial) and rotation invariant",
                    obj.is_analytic and rotation_invariant(obj), "sympy: x f_y - y f_x expands to 0")
    cert.hypothesis("H", "H = {|y| = sqrt 3 - rho} is a bounded connected set of hallucinated minimizers, "
                    "with no other minimizer of f_SAM in N_delta(H)", lb.value == 0 and ann_ok,
                    f"f >= {lb.value} ({lb.method}); on the annulus 0 < |y| < 1 and (|y| + rho)^2 > 1 "
                    f"({'proved' if ann_ok else 'NOT proved'} in Arb). " + H_ARGUMENT)
    cert.add_object("r0", ctx.to_str(r0), label="r0 = sqrt 3 - rho")


# -- the cases --------------------------------------------------------------------------------------------
TILTED_DOUBLE_WELL = "(x**2 - 1)**2 + (y**2 - 1)**2 + x/5"


def tilted_double_well_case(digits: int = 20) -> dict:
    """The Theorem 2.1 construction (:func:`theorems.thm_2_1.construct`, mpmath) on a tilted 2-D double
    well: x* near (-1.024, 1) (a global minimizer), x_max near (0.0501, 0) (the local maximizer);
    x_h, x* and rho are passed on as decimal strings of ``digits`` digits (exact rationals), so the
    proof is about those exact values."""
    import mpmath

    from verify.objectives.objective import SympyObjective

    from . import thm_2_1
    obj = SympyObjective(TILTED_DOUBLE_WELL, "x,y", name="tilted double well")
    con = thm_2_1.construct(obj, ("-1.0241203002150503", "1"), ("0.050125946983772554", "0"),
                            "mpmath", certify_claims=False)
    text = lambda v: mpmath.nstr(v, digits)  # noqa: E731
    return dict(obj=obj, x=[text(v) for v in con.x_h], rho=text(con.rho),
                x_star=[text(v) for v in con.x_star],
                example=f"tilted double well {TILTED_DOUBLE_WELL}, the x_h and rho of the Theorem 2.1 "
                        f"construction towards x* near (-1.024, 1) (rho = {text(con.rho)[:8]}...)")


def cases_at_xh() -> list[dict]:
    obj_t, xh_t, rho_t = ph.tilted_ring_case()
    ring = zoo.get("ring").objective
    return [
        dict(obj=ring, x=["-1/2", "0"], rho="3/2", x_star=["1", "0"],
             example="ring (|x|^2 - 1)^2, rho = 3/2, constructed x_h = (-1/2, 0) towards x* = (1, 0)"),
        dict(obj=obj_t, x=xh_t, rho=rho_t,
             example="tilted_ring (|x|^2 - 1)^2 + x/5, rho = 3/2, constructed isolated x_h near "
                     "(0.476, 0)"),
        tilted_double_well_case(),
    ]


def negative_controls() -> list[dict]:
    from verify.objectives.objective import SympyObjective
    well = SympyObjective("(x**2 - 1)**2 + x/5", "x", name="tilted double well, d = 1")
    return [
        dict(obj=well, x=["0.476"], rho="3/2", x_star=["-1.0241203002150503"], expected=False,
             example="negative control: tilted double well in d = 1 (Du = 0, the hypothesis holds: "
                     "value 1), x_h near 0.476, rho = 3/2"),
        dict(obj=zoo.get("circle_max").objective, x=["0.532", "0"], rho="6/5",
             x_star=["1.7320508075688772", "0"], expected=False,
             example="negative control: circle_max, rho = 6/5, x_h near (0.532, 0) (Sym Du = P/r "
                     "there: the hypothesis holds, value 1)"),
    ]


def run_at_xh(case: dict) -> Certificate:
    kw = {k: v for k, v in case.items() if k not in ("obj", "x", "rho")}
    return refute_at_xh(case["obj"], case["x"], case["rho"], **kw)


def curve_controls() -> list[Certificate]:
    """Negative controls for (3): circle_max at rho = 6/5, whose hallucinated circle r = sqrt 3 - rho
    meets the hypothesis (value 1): the cover is built, the refutation must not be PROVED."""
    return [curve_certificate(zoo.get("circle_max").objective, circle_arc(3), "6/5", ("-1/2", "1/2"), 128,
                              [0.532, -0.27], expected=False,
                              arc_text="x*(s) = sqrt 3 (cos s, sin s), the minimizer circle",
                              example="negative control: circle_max, rho = 6/5, the curve over the "
                                      "minimizer circle, s in [-1/2, 1/2] (the hypothesis holds)")]


def descent_controls() -> list[Certificate]:
    """Negative control for (2): the same step with an upper bound of L_SAM in place of L."""
    return [refute_descent(use_L_sam=True, expected=False,
                           example="negative control: circle_max as above with L_SAM (the Lipschitz "
                                   "constant of grad f_SAM, bounded) in place of the paper's L")]


def report_certificates(quick: bool = False, figdir=None) -> list[Certificate]:
    certs = [run_at_xh(c) for c in cases_at_xh() + negative_controls()]
    certs += [refute_appendix_d(n_boxes=120)] + curve_controls()
    return certs + [refute_descent()] + descent_controls()


# -- uniform entry point (theorems.REGISTRY) --------------------------------------------------------
EXAMPLES = ("ring", "tilted_ring", "tilted double well", "appendix_d curve", "circle_max descent")


def certify(objective, x, rho, ctx=None, **options) -> Certificate:
    """Prove that the eigenvalue hypothesis fails at the hallucinated minimizer of ``objective``
    near ``x`` (:func:`refute_at_xh`). The proof always runs in Arb; ``ctx`` only gives its
    precision (its ``dps``); ``options`` are :func:`refute_at_xh`'s keywords."""
    if ctx is not None:
        options.setdefault("dps", get_context(ctx).dps)
    return refute_at_xh(objective, x, rho, **options)
