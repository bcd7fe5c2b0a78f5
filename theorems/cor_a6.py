"""Corollary A.6 — Theorem 2.1 with a merely local minimizer x_star, when grad f is locally Lipschitz.

Statement (own words). Keep the setting of Theorem 2.1 but let x_star be only a local minimizer:
f >= f(x_star) on the ball B_delta(x_star). If grad f is locally Lipschitz, the point x_h of the
Lagrange construction (with x_h + rho u(x_h) = x_star) is still a local minimizer of f_SAM, hence a
hallucinated minimizer.

Lemma A.5 (the tool). If ||grad f(y) - grad f(x)|| <= L ||y - x|| and both gradients are nonzero,
then the SAM map T(y) = y + rho u(y) moves at most by the factor (1 + 2 rho L / ||grad f(x)||):
||T(y) - T(x)|| <= (1 + 2 rho L / ||grad f(x)||) ||y - x||. (Triangle inequality plus the bound
||a/|a| - b/|b||| <= 2 ||a - b|| / |b|.)

Proof of the corollary, as checked: choose r with grad f != 0 on B_r(x_h) and an L valid there; put
r_star := min(delta / (1 + 2 rho L / ||grad f(x_h)||), r). For y in B_{r_star}(x_h), Lemma A.5 with
T(x_h) = x_star gives ||T(y) - x_star|| <= delta, so f_SAM(y) = f(T(y)) >= f(x_star) = f_SAM(x_h).

Here delta is certified by f increasing along sampled rays from x_star, r by ||grad f|| staying above
half of ||grad f(x_h)|| on samples, and L is the largest Hessian spectral norm over dense samples of
B_r(x_h) times a stated safety factor (the Hessian norm bounds the Lipschitz constant on a convex
set). Claims: Lemma A.5 on fresh samples, T(y) in B_delta(x_star) and f_SAM(y) >= f_SAM(x_h) on
samples of B_{r_star}(x_h), plus all claims of the Thm 2.1 construction. Negative controls: an
underestimated L (Lemma A.5 fails) and an inflated radius (local minimality fails).
"""
from __future__ import annotations

import math
import pathlib

from verify.geometry import superlevel as S
from verify.core.claims import compare
from verify.ctx import get_context
from verify.errors import ZeroGradientError
from verify.objectives.objective import SympyObjective
from verify.core.results import Certificate
from verify.core.sam import gradient, perturbed_point, sam_value
from verify.core.display import decimal_text
from verify.core.solve import critical_point

from . import thm_2_1 as T

THEOREM = "Cor. A.6"
TITLE = "Hallucinated minimizer from a local minimizer (locally Lipschitz gradient)"
ORDER = 2.15
STATEMENT = ("With x_star only a local minimizer (f >= f(x_star) on B_delta(x_star)) and grad f "
             "locally Lipschitz, x_h from the Thm 2.1 construction is a local minimizer of f_SAM on "
             "B_{r_star}(x_h), r_star = min(delta / (1 + 2 rho L / ||grad f(x_h)||), r).")
L_SAFETY = 1.25


def certified_delta(obj, xs_f, d0: float, n_dirs: int = 256):
    """Largest delta = d0 0.85^k with <grad f(y), y - x_star> > 0 on ray samples of B_delta."""
    for k in range(40):
        d = d0 * 0.85 ** k
        P = S.ball_points(xs_f, d, n_dirs, 24)
        if float(S.radial_derivative(P, S.grads(obj, P), xs_f).min()) > 0:
            return d
    return None


def gradient_ball(obj, xh_f, gnorm: float, r0: float, n_dirs: int = 128):
    """Largest r = r0 0.85^k with ||grad f|| >= ||grad f(x_h)|| / 2 on samples of B_r(x_h)."""
    for k in range(40):
        r = r0 * 0.85 ** k
        P = S.ball_points(xh_f, r, n_dirs, 16)
        if float(S.np_norms(S.grads(obj, P)).min()) >= gnorm / 2:
            return r
    return None


def lipschitz_estimate(obj, ctx, xh_f, r: float, n: int) -> float:
    """Largest spectral norm of the Hessian over samples of B_r(x_h) (float64 sampling)."""
    pts = list(S.ball_points(xh_f, r, max(8, n // 8), 8)) + list(S.random_box(
        [(c - r, c + r) for c in xh_f], n, seed=3))
    fctx = S.FLOAT
    best = 0.0
    for p in pts:
        if math.dist(p, xh_f) <= r:
            best = max(best, float(fctx.svdvals(obj.hess(obj.point(list(p), fctx), fctx))[0]))
    return best


def construct(obj, x_star, x_max, ctx=None, *, box=None, example: str = "", quick: bool = False,
              L_override=None, r_star_factor=None, expected: bool = True) -> T.Construction:
    """Thm 2.1 construction with a local x_star, then the quantities of Cor. A.6 and its claims.
    ``L_override`` / ``r_star_factor`` exist for negative controls."""
    ctx = get_context(ctx or "mpmath")
    con = T.construct(obj, x_star, x_max, ctx, box=box, x_star_global=False, example=example,
                      theorem=THEOREM, title=TITLE, statement=STATEMENT, certify_claims=False,
                      n_dirs=512 if quick else None)
    cert = con.certificate
    cert.expected = expected
    xs_f, xh_f = T.floats(con.x_star, ctx), T.floats(con.x_h, ctx)
    gr = gradient(obj, con.x_h, ctx)
    gn_f = ctx.to_float(gr.norm)
    delta = certified_delta(obj, xs_f, 0.5 * math.dist(xs_f, T.floats(con.x_max, ctx)))
    cert.hypothesis("x_star local minimizer on B_delta", "f increases along every sampled ray of "
                    "B_delta(x_star), so f >= f(x_star) there", delta is not None,
                    f"delta = {delta:.6g}" if delta else "no delta found")
    r = gradient_ball(obj, xh_f, gn_f, con.outer_radius / 2)
    cert.hypothesis("grad f != 0 on B_r(x_h)", "||grad f|| >= ||grad f(x_h)||/2 on samples of B_r(x_h)",
                    r is not None, f"r = {r:.6g}" if r else "no r found")
    if delta is None or r is None:
        from verify.errors import HypothesisError
        raise HypothesisError(f"{THEOREM}: could not certify delta or r")
    L_est = lipschitz_estimate(obj, ctx, xh_f, r, 64 if quick else 400)
    L = ctx.scalar(decimal_text(L_SAFETY * L_est, 8)) if L_override is None else ctx.scalar(L_override)
    cert.hypothesis("grad f locally Lipschitz", "L bounds ||grad f(y) - grad f(x_h)|| / ||y - x_h|| on "
                    "B_r(x_h)", True, f"max Hessian spectral norm on samples {L_est:.6g}; L = "
                    f"{L_SAFETY} x that = {ctx.to_str(L)[:12]}" + ("" if L_override is None else
                                                                   " (overridden)"))
    factor = ctx.scalar(1) + ctx.scalar(2) * con.rho * L / gr.norm
    r_star = ctx.scalar(delta) / factor
    if ctx.less(ctx.scalar(r), r_star):
        r_star = ctx.scalar(r)
    if r_star_factor is not None:
        r_star = r_star * ctx.scalar(r_star_factor)
    con.local_radius = ctx.to_float(r_star)
    cert.add_object("delta", delta)
    cert.add_object("r", r)
    cert.add_object("L", L)
    cert.add_object("factor", factor, label="1 + 2 rho L/||grad f(x_h)||")
    cert.add_object("r_star", r_star)
    T.certify(con)
    _claims(con, delta, r, L, factor, r_star, quick)
    return con


def _claims(con, delta, r, L, factor, r_star, quick):
    obj, ctx, cert = con.objective, con.ctx, con.certificate
    xh_f = T.floats(con.x_h, ctx)
    Th = perturbed_point(obj, con.x_h, con.rho, ctx)
    n = 48 if quick else 160
    # Lemma A.5 on fresh samples of B_r(x_h)
    worst = None
    for p in list(S.random_ball(xh_f, r, n, seed=7)) + list(S.sphere_points(xh_f, r / 50, 16)):
        y = obj.point(list(p), ctx)
        try:
            Ty = perturbed_point(obj, y, con.rho, ctx)
        except ZeroGradientError:
            continue
        q = ctx.norm(Ty - Th) / (factor * ctx.norm(y - con.x_h))
        if worst is None or ctx.less(worst, q):
            worst = q
    cert.add(compare("lemma_a5", "Lemma A.5 on samples y of B_r(x_h): ||T(y) - T(x_h)|| / "
                     "((1 + 2 rho L/||grad f(x_h)||) ||y - x_h||) <= 1", worst, "<=", 1, ctx,
                     tol=ctx.tol(1, 1024), note="T(y) = y + rho u(y)"))
    cert.add(compare("r_star", "r_star = min(delta / (1 + 2 rho L/||grad f(x_h)||), r) is positive",
                     r_star, ">", 0, ctx, tol=0))
    # T(y) lands in B_delta(x_star) and f_SAM(y) >= f_SAM(x_h) on B_{r_star}(x_h)
    rs = ctx.to_float(r_star)
    far = None
    fsh = sam_value(obj, con.x_h, con.rho, ctx)
    worst_f = None
    for p in list(S.random_ball(xh_f, rs, n, seed=11)) + list(S.sphere_points(xh_f, rs, 32)):
        y = obj.point(list(p), ctx)
        try:
            Ty = perturbed_point(obj, y, con.rho, ctx)
        except ZeroGradientError:
            continue
        dist = ctx.norm(Ty - con.x_star)
        far = dist if far is None or ctx.less(far, dist) else far
        diff = obj.value(Ty, ctx) - fsh
        worst_f = diff if worst_f is None or ctx.less(diff, worst_f) else worst_f
    cert.add(compare("landing_in_delta_ball", "max over samples y of B_{r_star}(x_h) of "
                     "||y + rho u(y) - x_star|| <= delta", far, "<=", delta, ctx, tol=0))
    cert.add(compare("sam_min_r_star", "min over samples y of B_{r_star}(x_h) of f_SAM(y) - "
                     "f_SAM(x_h) >= 0", worst_f, ">=", 0, ctx, tol=ctx.tol(1, 1024),
                     note="1024 units of roundoff"))
    cert.finish()


def tilted_double_well() -> SympyObjective:
    """(x^2 - 1)^2 + (y^2 - 1)^2 + x/5: global minimizers near (-1.02, +-1), LOCAL minimizers near
    (0.97, +-1), isolated maximizer near (0.05, 0)."""
    return SympyObjective("(x**2 - 1)**2 + (y**2 - 1)**2 + x/5", "x,y", name="tilted double well")


def run_example(ctx=None, quick: bool = False, **kw) -> T.Construction:
    ctx = get_context(ctx or "mpmath")
    obj = tilted_double_well()
    xs = critical_point(obj, obj.point(["0.97", "1"], ctx), ctx).x
    xm = critical_point(obj, obj.point(["0.05", "0"], ctx), ctx).x
    return construct(obj, xs, xm, ctx, box=((-2.5, 2.5),) * 2, quick=quick,
                     example=kw.pop("example", "tilted double well, local x_star near (0.97, 1)"), **kw)


def report_certificates(quick: bool = False, figdir: pathlib.Path | None = None) -> list[Certificate]:
    ctx = get_context("mpmath", dps=50)
    con = run_example(ctx, quick=quick)
    if figdir is not None:
        name = T.figure(con, figdir, "cor_a6_tilted_double_well")
        if name:
            con.certificate.figures.append(name)
    certs = [con.certificate]
    certs.append(run_example(ctx, quick=quick, L_override="0.05", expected=False,
                             example="negative control: Lipschitz constant underestimated "
                                     "(L = 0.05)").certificate)
    certs.append(run_example(ctx, quick=quick, r_star_factor=40, expected=False,
                             example="negative control: radius r_star inflated 40x").certificate)
    return certs


# -- uniform entry point (theorems.REGISTRY) --------------------------------------------------------
EXAMPLES = {"tilted_double_well": run_example}


def certify(objective, x_star, x_max, ctx=None, **options) -> Certificate:
    """Corollary A.6 on ``objective`` with a local minimizer ``x_star`` and an isolated local
    maximizer ``x_max`` in ``ctx``: :func:`construct` (``options`` are its keywords) and its
    certificate; the construction is ``cert.artifacts["construction"]``."""
    con = construct(objective, x_star, x_max, ctx, **options)
    con.certificate.artifacts["construction"] = con
    return con.certificate
