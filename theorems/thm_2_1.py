"""Theorem 2.1 — an isolated local maximizer next to a global minimizer produces a hallucinated
minimizer.

Statement (own words). Let f be C^1 on R^d, let x_star minimize f globally and let x_max be an
isolated local maximizer (some neighbourhood U of x_max has f < f(x_max) and grad f != 0 on
U minus x_max). Then for some radius rho > 0 there is a point x_h with grad f(x_h) != 0 that is a
local minimizer of f_SAM(x) = f(x + rho u(x)), u = grad f / ||grad f||.

The construction checked here (Appendix A.1). Take a closed ball C around x_max on which f decreases
strictly along every ray leaving x_max (this certifies f < M := f(x_max) and grad f != 0 on C minus
x_max on the samples), let m be the largest value of f on the sphere dC, and pick 0 < eps < M - m.
C_eps is the connected component of {f >= M - eps} containing x_max. Lemma A.2: C_eps lies inside
int C (so it is compact); Lemma A.3: f = M - eps on dC_eps. The point x_h of C_eps farthest from
x_star maximizes g(x) = ||x - x_star||^2 on the level set {f = M - eps}, so the Lagrange condition
holds. Sign convention written out: grad g(x) = 2 (x - x_star), and for the constraint f >= M - eps
the multiplier rule reads grad g(x_h) = -lambda grad f(x_h), i.e.

    2 (x_star - x_h) = lambda grad f(x_h),   lambda >= 0   (KKT multiplier of f >= M - eps).

Lemma A.4: lambda > 0, because moving from x_h along grad f(x_h) stays feasible and may not increase
g, so <x_h - x_star, grad f(x_h)> <= 0. Taking norms, lambda ||grad f(x_h)|| = 2 rho with
rho := ||x_h - x_star||, hence x_h + rho u(x_h) = x_star and f_SAM(x_h) = f(x_star) = min f: x_h is a
global (so local) minimizer of f_SAM although grad f(x_h) != 0.

What the code does: x_h is found by Newton on the Lagrange system
[2 (x_star - x) - lambda grad f(x) = 0, f(x) - (M - eps) = 0] in the requested arithmetic (50 digits
by default), started from the farthest of many float64 boundary points (rays from x_max bisected at
the level crossing), and it is confirmed to be the global maximum of g over those boundary samples.
The second-order condition of the farthest-point problem — the Hessian 2 I + lambda H(x_h) of the
Lagrangian g + lambda f is negative semidefinite on the tangent space grad f(x_h)^perp — is checked, and
1 + rho lambda_min(Sym Du(x_h)) is recorded for Section 3.

Note on the paper's sign: the displayed "grad g(x_h) = lambda grad f(x_h)" and
"2 (x_star - x_h) = lambda grad f(x_h)" agree only if grad g is read as 2 (x_star - x); with
grad g = 2 (x - x_star) the multiplier of the first display is -lambda. The certificate records this.
"""
from __future__ import annotations

import math
import pathlib
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from verify.geometry import superlevel as S
from verify.core.claims import boolean, compare
from verify.core.operators import SamPoint
from verify.ctx import get_context
from verify.errors import HypothesisError, SamVerifyError, ZeroGradientError
from verify.objectives.expr import constant
from verify.objectives.parse import split_vector
from verify.objectives.objective import Objective
from verify.core.results import Certificate
from verify.core.sam import du_matrix, gradient, sam_value
from verify.core.display import decimal_text
from verify.core.solve import critical_point
from verify.geometry.lagrange import lagrange_system, solve_lagrange  # noqa: F401 (re-exported)

THEOREM = "Thm. 2.1"
TITLE = "Hallucinated minimizer from an isolated local maximizer (Lagrange construction)"
ORDER = 2.1
STATEMENT = ("If f is C^1 with a global minimizer x_star and an isolated local maximizer x_max, the "
             "point x_h of a small superlevel component C_eps around x_max farthest from x_star "
             "satisfies x_h + rho u(x_h) = x_star with rho = ||x_h - x_star||, so it minimizes f_SAM "
             "while grad f(x_h) != 0.")

FLOAT = S.FLOAT
SAMPLING_TOL = "1e-10"  # relative allowance of float64-bisected boundary samples
REFINE_RADIUS = "1e-6"  # a given critical point may move this far (x max(1, ||x||)) under Newton


@dataclass
class Construction:
    """The objects of the proof of Thm 2.1 / 2.2, in the arithmetic ``ctx``."""
    objective: Objective
    ctx: Any
    x_star: Any
    x_max: Any                      # native point, or None for a maximizer set
    max_set: str | None             # description of the maximizer set, or None
    eps: Any
    x_h: Any
    rho: Any
    lam: Any
    certificate: Certificate
    f_max: Any = None               # M = f(x_max) or f(X_max)
    level: Any = None               # M - eps
    outer_radius: float = 0.0       # radius of the ball C (or delta of N_delta(X))
    boundary: Any = None            # float64 samples of dC_eps, shape (N, d)
    boundary_dist: Any = None       # distance of each sample from x_max (or from X)
    m_boundary: float = 0.0         # m = max f on dC (sampled)
    newton: dict = field(default_factory=dict)
    box: Any = None
    closed_form: Callable | None = None
    x_far_sample: Any = None
    theorem: str = THEOREM
    title: str = TITLE
    example: str = ""
    set_points: Any = None          # float samples of a maximizer set (for figures)
    local_radius: float | None = None  # radius of the f_SAM local-minimality check (default r/3)


# ------------------------------------------------------------------------------------------------
# small helpers (arithmetic only through the ctx API)
# ------------------------------------------------------------------------------------------------
def floats(x, ctx) -> list[float]:
    return [ctx.to_float(v) for v in ctx.to_list(x)]


def scalar_from_text(text, ctx):
    """A number in ``ctx`` from a number or an expression such as '3/2' or 'sqrt(3)' (exact)."""
    if not isinstance(text, str):
        return ctx.convert(text)
    return constant(text, ctx)  # the whitelist number parser: data, never code


def as_point(values, obj, ctx):
    """Convert a point given as a comma-separated string, a list of numbers/expressions, or a native
    vector of ``ctx`` to a native vector (checked by ``obj.point``)."""
    if isinstance(values, str):
        values = split_vector(values, "point")
    if isinstance(values, (list, tuple)):
        values = ctx.stack([scalar_from_text(v, ctx) for v in values])
    return obj.point(values, ctx)


def new_certificate(example: str, ctx, theorem: str = THEOREM, title: str = TITLE,
                    statement: str = STATEMENT, expected: bool = True) -> Certificate:
    return Certificate(theorem, title, example, statement=statement, context=ctx.name,
                       precision=ctx.precision_label, expected=expected)


def default_box(points: list[list[float]], pad: float):
    d = len(points[0])
    return tuple((min(p[i] for p in points) - pad, max(p[i] for p in points) + pad) for i in range(d))


# ------------------------------------------------------------------------------------------------
# hypotheses
# ------------------------------------------------------------------------------------------------
def check_isolated_maximizer(obj, xm, ctx, cert, theorem=THEOREM, refine_note: str = "") -> float:
    """grad f(x_max) = 0 and a negative-definite Hessian (or a certified neighbourhood, checked
    later by the radial-decrease test of the ball C). Raises HypothesisError otherwise."""
    g = obj.grad(xm, ctx)
    gn = ctx.norm(g)
    scale = max(1.0, abs(ctx.to_float(obj.value(xm, ctx))))
    gtol = ctx.tol(scale, units=1024)
    if ctx.to_float(gn) > ctx.to_float(gtol):
        raise HypothesisError(f"{theorem}: x_max = {floats(xm, ctx)} is not a critical point of f "
                              f"(||grad f|| = {ctx.to_float(gn):.3e}); a local maximizer is needed"
                              f"{refine_note}")
    ev = ctx.eigvalsh(obj.hess(xm, ctx))
    top = ctx.to_float(ev[len(ev) - 1])
    low = ctx.to_float(ev[0])
    if top > 0 and low > 0:
        raise HypothesisError(
            f"{theorem}: x_max = {floats(xm, ctx)} is a strict local MINIMIZER (Hessian eigenvalues "
            f"all > 0, smallest {low:.4g}); an isolated local maximizer is needed. A convex f has "
            f"none, and by Prop. A.1 it has no hallucinated minimizer at all")
    if top > 0:
        raise HypothesisError(f"{theorem}: x_max = {floats(xm, ctx)} is a saddle (Hessian eigenvalue "
                              f"{top:.4g} > 0); an isolated local maximizer is needed")
    cert.hypothesis("x_max critical", "grad f(x_max) = 0", True,
                    f"||grad f(x_max)|| = {ctx.to_float(gn):.3e} <= {ctx.to_float(gtol):.1e}")
    return top


def record_isolation(cert, top: float, r: float) -> None:
    """x_max isolated: negative-definite Hessian, or (degenerate Hessian) the certified ball C."""
    how = "negative-definite Hessian" if top < 0 else "degenerate Hessian; isolation from ball C"
    cert.hypothesis("x_max isolated local maximizer", "Hessian of f at x_max negative definite, or a "
                    "certified neighbourhood where f < f(x_max) and grad f != 0", True,
                    f"largest Hessian eigenvalue {top:.6g} ({how}, r = {r:.6g})")


def check_minimizer(obj, xs, ctx, cert, box, global_: bool = True, refine_note: str = ""):
    """grad f(x_star) = 0 and (global_) f(x_star) <= the smallest f a Sobol search of the box finds,
    or (local) a positive-definite Hessian. Raises HypothesisError if not met."""
    g = obj.grad(xs, ctx)
    fs = obj.value(xs, ctx)
    scale = max(1.0, abs(ctx.to_float(fs)))
    gn = ctx.to_float(ctx.norm(g))
    if gn > ctx.to_float(ctx.tol(scale, units=1024)):
        raise HypothesisError(f"x_star = {floats(xs, ctx)} is not a critical point of f "
                              f"(||grad f|| = {gn:.3e}){refine_note}")
    cert.hypothesis("x_star critical", "grad f(x_star) = 0", True, f"||grad f(x_star)|| = {gn:.3e}")
    fmin, _, evals = S.box_minimum(obj, box)
    search = f"{evals} float64 evaluations (Sobol sample + L-BFGS-B)"
    fsf = ctx.to_float(fs)
    if global_:
        ok = fmin >= fsf - 1e-9 * scale
        cert.hypothesis("x_star global minimizer", "f(x_star) <= f on the region of interest", ok,
                        f"smallest f found on {box} by {search} is {fmin:.12g}; f(x_star) = "
                        f"{fsf:.12g} (allowance 1e-9 x {scale:.3g})")
        if not ok:
            raise HypothesisError(f"x_star = {floats(xs, ctx)} is not a global minimizer on {box}: "
                                  f"f reaches {fmin:.6g} < f(x_star) = {fsf:.6g} (use Cor. A.6 for a "
                                  f"local minimizer)")
    else:
        ev = ctx.eigvalsh(obj.hess(xs, ctx))
        low = ctx.to_float(ev[0])
        if not low > 0:
            raise HypothesisError(f"x_star = {floats(xs, ctx)}: Hessian eigenvalue {low:.4g} <= 0; "
                                  f"a strict local minimizer is needed")
        cert.hypothesis("x_star local minimizer", "Hessian of f at x_star positive definite", True,
                        f"smallest eigenvalue {low:.6g}; smallest f found on the box by {search} "
                        f"{fmin:.6g} {'<' if fmin < fsf - 1e-9 * scale else '>='} f(x_star) = {fsf:.6g}")


def refine_critical(obj, x, ctx, cert, label: str):
    """Newton on grad f = 0 from a given point, in the working precision: a point typed to float64
    accuracy is a critical point only to ~1e-16, which a 50-digit check rejects. The refined point is
    used when Newton converges within REFINE_RADIUS x max(1, ||x||) of the given one (the distance
    is recorded); otherwise the given point is kept and the returned note says why (the critical-
    point check then decides). Returns (point, note)."""
    allowed = ctx.to_float(scalar_from_text(REFINE_RADIUS, ctx)) * max(1.0, ctx.to_float(ctx.norm(x)))
    try:
        res = critical_point(obj, x, ctx)
    except (ArithmeticError, ValueError) as exc:  # SamVerifyError is a ValueError
        return x, f"; Newton refinement from the given point failed: {exc}"
    dist = ctx.norm(res.x - x)
    if ctx.to_float(dist) > allowed:
        return x, (f"; Newton from the given point converges to the critical point {floats(res.x, ctx)} "
                   f"at distance {ctx.to_float(dist):.3e} > {allowed:.1e} (give that point instead)")
    cert.add_object(f"{label}_refinement_distance", dist, label=f"{label} refinement distance")
    cert.add_object(f"{label}_as_given", floats(x, ctx), label=f"{label} as given")
    return res.x, ""


def certified_ball(obj, xm_f: list[float], r0: float, n_dirs: int, n_radii: int = 24):
    """Largest r = r0 * 0.85^k such that f decreases strictly along every sampled ray of B_r(x_max)
    (<grad f(y), y - x_max> < 0 at every sample y != x_max). Returns r or None."""
    for k in range(40):
        r = r0 * 0.85 ** k
        P = S.ball_points(xm_f, r, n_dirs, n_radii)
        G = S.grads(obj, P)
        radial = S.radial_derivative(P, G, xm_f)
        if S.finite(radial) and float(radial.max()) < 0:
            return r
    return None


def choose_eps(M: float, m: float, fraction: float) -> str:
    """The proof's rule: 0 < eps < M - m; here eps = fraction (M - m), rounded to 6 digits (an exact
    decimal, so every arithmetic sees the same eps)."""
    e = fraction * (M - m)
    text = decimal_text(e)
    if not 0 < float(text) < M - m:
        text = decimal_text(e, 12)
    return text


# ------------------------------------------------------------------------------------------------
# construction
# ------------------------------------------------------------------------------------------------
# lagrange_system and solve_lagrange live in the engine (verify.geometry.lagrange).


def far_sample(boundary, x_star_f):
    d2 = S.sq_dist(boundary, x_star_f)
    i = int(d2.argmax())
    return boundary[i], float(d2[i])


def construct(objective, x_star, x_max, ctx=None, *, eps=None, eps_fraction: float = 0.5,
              box=None, x_star_global: bool = True, n_dirs: int | None = None, example: str = "",
              closed_form: Callable | None = None, theorem: str = THEOREM, title: str = TITLE,
              statement: str = STATEMENT, certify_claims: bool = True, enforce_eps: bool = True,
              expected: bool = True) -> Construction:
    """Run the construction of Thm 2.1 and (``certify_claims``) its claims. Raises HypothesisError
    when f, x_star or x_max do not meet the hypotheses (e.g. a convex f has no local maximizer)."""
    ctx = get_context(ctx or "mpmath")
    obj = objective
    cert = new_certificate(example or obj.name, ctx, theorem, title, statement, expected)
    # -- hypotheses ---------------------------------------------------------------------------------
    obj.require_order(1, theorem)
    cert.hypothesis("f in C^1", "f is continuously differentiable", True,
                    f"declared smoothness {obj.smoothness!r}")
    xs, xs_note = refine_critical(obj, as_point(x_star, obj, ctx), ctx, cert, "x_star")
    xm, xm_note = refine_critical(obj, as_point(x_max, obj, ctx), ctx, cert, "x_max")
    top = check_isolated_maximizer(obj, xm, ctx, cert, theorem, xm_note)
    xs_f, xm_f = floats(xs, ctx), floats(xm, ctx)
    dist = math.dist(xs_f, xm_f)
    if dist == 0:
        raise HypothesisError("x_star and x_max coincide")
    box = box or default_box([xs_f, xm_f], pad=max(1.0, dist))
    check_minimizer(obj, xs, ctx, cert, box, global_=x_star_global, refine_note=xs_note)
    d = obj.dim
    n_dirs = n_dirs or (2048 if d == 2 else 3000 if d == 3 else 4000)
    # -- the ball C and the eps rule ----------------------------------------------------------------
    r = certified_ball(obj, xm_f, r0=0.95 * dist, n_dirs=min(n_dirs, 512 if d == 2 else 800))
    if r is None:
        raise HypothesisError(f"{theorem}: no ball around x_max = {xm_f} on which f decreases along "
                              f"every ray was found: x_max is not certified as isolated")
    cert.hypothesis("ball C certified", "f decreases strictly along every ray of C = B_r(x_max) "
                    "(so f < f(x_max) and grad f != 0 on C minus x_max), on samples", True,
                    f"r = {r:.6g}")
    record_isolation(cert, top, r)
    M = obj.value(xm, ctx)
    Mf = ctx.to_float(M)
    m = float(S.values(obj, S.sphere_points(xm_f, r, n_dirs)).max())
    if eps is None:
        eps_text = choose_eps(Mf, m, eps_fraction)
        rule = f"eps = {eps_fraction:g} (M - m) rounded to 6 digits"
    else:
        eps_text = str(eps)
        rule = "eps given by the user"
    eps_c = scalar_from_text(eps_text, ctx)
    ok = 0 < ctx.to_float(eps_c) < Mf - m
    cert.hypothesis("eps rule", "0 < eps < M - m with m = max of f on dC", ok,
                    f"{rule}: eps = {eps_text}, M - m = {Mf - m:.6g}")
    if not ok and enforce_eps:
        raise HypothesisError(f"{theorem}: eps = {eps_text} must satisfy 0 < eps < M - m = "
                              f"{Mf - m:.6g} (ball C of radius {r:.4g} around x_max)")
    level = M - eps_c
    # -- C_eps by rays from x_max; farthest point; Newton -------------------------------------------
    dirs = S.directions(d, n_dirs)
    s, found = S.march_crossings(obj, [xm_f], dirs, ctx.to_float(level), smax=r)
    boundary = S.rays_to_points(xm_f, s, dirs)
    dist_b = S.where(found, s, r)  # a ray that never crossed reaches dC: Lemma A.2 then fails
    x0_f, _ = far_sample(boundary, xs_f)
    x_h, lam, info = solve_lagrange(obj, ctx, xs, level, obj.point(list(x0_f), ctx))
    rho = ctx.norm(x_h - xs)
    con = Construction(obj, ctx, xs, xm, None, eps_c, x_h, rho, lam, cert, f_max=M, level=level,
                       outer_radius=r, boundary=boundary, boundary_dist=dist_b, m_boundary=m,
                       newton=info, box=box, closed_form=closed_form, x_far_sample=x0_f,
                       theorem=theorem, title=title, example=example or obj.name)
    if certify_claims:
        certify(con)
    return con


# ------------------------------------------------------------------------------------------------
# claims
# ------------------------------------------------------------------------------------------------
def certificate_of(con: Construction, containment: str | None = None) -> Certificate:
    """Add the claims of the proof to ``con.certificate`` for the objects stored in ``con`` (which a
    negative control may have tampered with) and finish the certificate."""
    obj, ctx, cert = con.objective, con.ctx, con.certificate
    xs, x_h, rho, lam = con.x_star, con.x_h, con.rho, con.lam
    fs = obj.value(xs, ctx)
    scale = max(1.0, ctx.to_float(ctx.norm(xs)), ctx.to_float(rho), abs(ctx.to_float(con.f_max)))
    tol = ctx.tol(scale, units=1024)
    tol_txt = f"1024 units of roundoff x {scale:.3g}"
    samp_tol = scalar_from_text(SAMPLING_TOL, ctx) * scale
    g = obj.grad(x_h, ctx)
    gn = ctx.norm(g)
    # objects
    cert.objects.update({"x_star": xs, "x_max": con.x_max if con.x_max is not None else con.max_set,
                         "eps": con.eps, "M": con.f_max})
    cert.add_object("level", con.level, label="level M-eps")
    if con.x_max is not None:
        cert.add_object("ball_radius", con.outer_radius, label="ball radius r")
    else:
        cert.add_object("delta", con.outer_radius)
    cert.add_object("m", con.m_boundary, label="m (max f on dC)")
    cert.objects.update({"x_h": x_h, "rho": rho, "lambda": lam})
    cert.add_object("grad_norm_x_h", gn, label="||grad f(x_h)||")
    cert.add_object("newton_iterations", con.newton.get("iterations"), label="newton iterations")
    cert.add_object("newton_residual", con.newton.get("residual"), label="newton residual")
    cert.add_object("boundary_samples", len(con.boundary), label="boundary samples")
    # Lemma A.2
    far = float(con.boundary_dist.max())
    what = containment or "C_eps lies in int C: every ray from x_max leaves {f >= M - eps} before dC"
    cert.add(compare("lemma_a2", f"Lemma A.2: {what} (max distance of dC_eps samples vs radius)",
                     far, "<", con.outer_radius, ctx, tol=0,
                     note=f"{len(con.boundary)} float64 rays bisected at the level crossing"))
    cert.add(compare("eps_rule", "eps < M - m (m = max f on dC, sampled)", con.eps, "<",
                     con.f_max - ctx.scalar(con.m_boundary), ctx, tol=0))
    # Lemma A.3
    fb = S.values(obj, con.boundary)
    lvl_f = ctx.to_float(con.level)
    dev = float(abs(fb - lvl_f).max())
    cert.add(compare("lemma_a3_samples", "Lemma A.3: f = M - eps on the sampled boundary of C_eps",
                     dev, "<=", 0, ctx, tol=samp_tol, tier="sampling",
                     note=f"float64 bisection; allowance {SAMPLING_TOL} x {scale:.3g}"))
    cert.add(compare("lemma_a3_x_h", "Lemma A.3 at x_h: |f(x_h) - (M - eps)|",
                     ctx.abs(obj.value(x_h, ctx) - con.level), "<=", 0, ctx, tol=tol, note=tol_txt))
    # Lagrange condition and Lemma A.4
    lag = ctx.norm(ctx.scalar(2) * (xs - x_h) - lam * g)
    cert.add(compare("lagrange", "Lagrange condition ||2 (x_star - x_h) - lambda grad f(x_h)||",
                     lag, "<=", 0, ctx, tol=tol,
                     note="grad g(x) = 2 (x - x_star); multiplier of f >= M - eps: grad g = -lambda "
                          "grad f"))
    cert.add(compare("lemma_a4", "Lemma A.4: lambda > 0 (x_star - x_h and grad f(x_h) point the same "
                     "way)", lam, ">", 0, ctx, tol=0))
    cert.add(compare("lemma_a4_direction", "Lemma A.4 proof step: <x_h - x_star, grad f(x_h)> < 0",
                     (x_h - xs) @ g, "<", 0, ctx, tol=0))
    cert.add(compare("lambda_norm", "lambda ||grad f(x_h)|| = 2 rho", lam * gn, "==",
                     ctx.scalar(2) * rho, ctx, tol=tol, note=tol_txt))
    cert.add(compare("grad_nonzero", "grad f(x_h) != 0: ||grad f(x_h)|| exceeds the allowance",
                     gn, ">", tol, ctx, tol=0))
    # identity, f_SAM
    try:
        at_h = SamPoint(obj, x_h, rho, ctx)
        u = at_h.u
        ident = ctx.norm(at_h.x_plus - xs)
        fsam = at_h.sam_value
    except ZeroGradientError as exc:
        u, ident, fsam = None, None, None
        cert.finding(cert.theorem, "grad f(x_h) = 0", str(exc))
    if ident is not None:
        cert.add(compare("identity", "x_h + rho u(x_h) = x_star: ||x_h + rho u(x_h) - x_star||",
                         ident, "<=", 0, ctx, tol=tol, note=tol_txt))
        cert.add(compare("f_sam_value", "f_SAM(x_h) = f(x_star)", fsam, "==", fs, ctx, tol=tol,
                         note=tol_txt))
        _claim_sam_minimizer(con, fsam, tol, tol_txt)
    # farthest point: global over boundary samples, second order
    gx = ctx.to_float((x_h - xs) @ (x_h - xs))
    gmax = float(S.sq_dist(con.boundary, floats(xs, ctx)).max())
    cert.add(compare("farthest_global", "x_h maximizes g = ||x - x_star||^2 over dC_eps: max of g "
                     "on the boundary samples <= g(x_h)", gmax, "<=", gx, ctx,
                     tol=scalar_from_text(SAMPLING_TOL, ctx) * max(1.0, gx),
                     note="float64 samples; allowance 1e-10 relative"))
    if u is not None:
        _claim_second_order(con, g, gn, u, tol)
    if con.closed_form is not None:
        xc, rc = con.closed_form(con)
        cert.add(compare("closed_form_x_h", "x_h agrees with the closed form", ctx.norm(x_h - xc),
                         "<=", 0, ctx, tol=tol, note=tol_txt))
        cert.add(compare("closed_form_rho", "rho agrees with the closed form", rho, "==", rc, ctx,
                         tol=tol, note=tol_txt))
    return cert.finish()


def sign_finding(cert: Certificate, lam, ctx) -> None:
    """The paper's two displays of the Lagrange condition differ in the sign of the multiplier."""
    cert.finding("Sec. 2.1 / App. A.1", "sign of the Lagrange multiplier",
                 "the displays grad g(x_h) = lambda grad f(x_h) and 2(x_star - x_h) = lambda "
                 "grad f(x_h) are consistent only if grad g is read as 2(x_star - x); with "
                 "grad g = 2(x - x_star) the first multiplier is -lambda. The checks use "
                 "2(x_star - x_h) = lambda grad f(x_h), lambda > 0 (KKT multiplier of "
                 "f >= M - eps); measured lambda = " + ctx.to_str(lam)[:20])


def _claim_sam_minimizer(con, fsam, tol, tol_txt):
    """f_SAM(y) >= f_SAM(x_h) for samples y in a ball around x_h (in ctx)."""
    obj, ctx, cert = con.objective, con.ctx, con.certificate
    xh_f = floats(con.x_h, ctx)
    rad = con.local_radius if con.local_radius is not None else con.outer_radius / 3
    P = list(S.sphere_points(xh_f, rad / 100, 16)) + list(S.sphere_points(xh_f, rad / 10, 32)) + \
        list(S.sphere_points(xh_f, rad, 48)) + list(S.random_ball(xh_f, rad, 48, seed=1))
    worst = None
    for p in P:
        y = obj.point(list(p), ctx)
        try:
            diff = sam_value(obj, y, con.rho, ctx) - fsam
        except ZeroGradientError:
            continue
        worst = diff if worst is None else ctx.minimum(worst, diff)
    cert.add(compare("sam_local_min", f"x_h is a local minimizer of f_SAM: min over {len(P)} samples "
                     f"y in B(x_h, {rad:.3g}) of f_SAM(y) - f_SAM(x_h)", worst, ">=", 0, ctx,
                     tol=tol, note=tol_txt + ("; global because f_SAM(y) = f(y+) >= min f = "
                     "f_SAM(x_h) when x_star is a global minimizer" if any(
                         h.name == "x_star global minimizer" for h in cert.hypotheses) else
                         "; x_star is only a local minimizer: local check")))


def _tangent_top(obj, x_h, lam, u, ctx):
    """Largest eigenvalue of 2 I + lambda H(x_h) on u^perp (d >= 2): the eigenvalues of P A P whose
    eigenvectors are (nearly) orthogonal to u; P A P has the extra eigenvalue 0 on u."""
    d = obj.dim
    I = ctx.eye(d)
    A = ctx.scalar(2) * I + lam * obj.hess(x_h, ctx)
    P = I - ctx.outer(u, u)
    vals, vecs = ctx.eigh(P @ A @ P)
    tangent = [vals[k] for k in range(d)
               if ctx.to_float(ctx.abs(ctx.stack([vecs[i][k] for i in range(d)]) @ u)) < 0.5]
    top = tangent[0]
    for t in tangent[1:]:
        if ctx.less(top, t):
            top = t
    return top


def _claim_second_order(con, g, gn, u, tol):
    """Second-order condition of max g on {f = M - eps}: 2 I + lambda H(x_h) <= 0 on grad f^perp."""
    obj, ctx, cert = con.objective, con.ctx, con.certificate
    d = obj.dim
    J = du_matrix(obj, con.x_h, ctx)
    ev = ctx.eigvalsh((J + J.T) / 2)
    value = ctx.scalar(1) + con.rho * ev[0]
    cert.add_object("attraction_margin", value, label="1 + rho*lambda_min(Sym Du(x_h))")
    cert.add_object("sym_du_eigenvalues", ev, label="eig Sym Du(x_h)")
    if d == 1:
        cert.add(boolean("farthest_second_order", "second-order condition of the farthest-point "
                         "problem: vacuous in d = 1 (the tangent space grad f(x_h)^perp is {0}; the "
                         "level set is a finite set of points, compared by the farthest_global claim)",
                         True, ctx, "d = 1: no tangent direction to test"))
        return
    top = _tangent_top(obj, con.x_h, con.lam, u, ctx)
    cert.add(compare("farthest_second_order", "second-order condition of the farthest-point problem: "
                     "largest eigenvalue of 2 I + lambda H(x_h) on the tangent space grad f(x_h)^perp",
                     top, "<=", 0, ctx, tol=tol, note="Lagrangian g + lambda f"))
    cert.add_object("lambda_max_tangent", top, label="lambda_max tangent (2I + lambda H)")
    # For a unit tangent v, v.Sym(Du)v = v.H v/||grad f|| and lambda ||grad f|| = 2 rho, so
    # 1 + rho v.Sym(Du)v = (2 + lambda v.H v)/2; Rayleigh: lambda_min(Sym Du) <= v.Sym(Du)v.
    cert.add(compare("sym_du_vs_second_order", "1 + rho lambda_min(Sym Du(x_h)) <= (largest tangent "
                     "eigenvalue of 2 I + lambda H(x_h)) / 2 (Rayleigh quotient on a tangent vector)",
                     value, "<=", top / 2, ctx, tol=tol))
    if cert.expected and ctx.to_float(top) <= 0:
        cert.finding("Thm 3.2 vs App. A.1 / A.4", "the constructed x_h never meets the hypothesis "
                     "1 + rho lambda_min(Sym Du(x_h)) > 0 of Thm 3.2 when d >= 2",
                     "x_h maximizes ||x - x_star||^2 on {f = M - eps}, so the second-order condition "
                     "gives 1 + rho v.Sym(Du)v = (2 + lambda v.H v)/2 <= 0 for every unit tangent v, "
                     "hence 1 + rho lambda_min(Sym Du(x_h)) <= 0. Measured here: "
                     + ctx.to_str(value)[:16] + ". Thm 3.2 can only apply to sets H of hallucinated "
                     "minimizers that avoid the farthest-point x_h (or in d = 1).")


# ------------------------------------------------------------------------------------------------
# examples, negative controls, figures
# ------------------------------------------------------------------------------------------------
def ring_closed_form(con):
    """Ring family (s - 1)^2 with x_max = 0 and |x_star| = 1: r_eps = sqrt(1 - sqrt(1 - eps)),
    x_h = -r_eps x_star / |x_star|, rho = 1 + r_eps."""
    ctx = con.ctx
    one = ctx.scalar(1)
    r = ctx.sqrt(one - ctx.sqrt(one - con.eps))
    return -r * con.x_star / ctx.norm(con.x_star), one + r


def _zoo_example(name, x_star, x_max=None, closed_form=None, local=False):
    return {"zoo": name, "x_star": x_star, "x_max": x_max, "closed_form": closed_form,
            "local": local}


EXAMPLES = [
    _zoo_example("ring", ("1", "0"), closed_form=ring_closed_form),
    _zoo_example("tilted_ring", None),
    _zoo_example("ring3", ("1", "0", "0"), closed_form=ring_closed_form),
    _zoo_example("elliptic_ring", ("3/2", "0")),
    _zoo_example("double_well2", ("1", "1")),
    _zoo_example("appendix_d", ("-31/20", "0")),
    _zoo_example("tilted_ring3", None),
]
QUICK = ("ring", "tilted_ring", "ring3")


def run_zoo(name, ctx=None, x_star=None, x_max=None, closed_form=None, **kw) -> Construction:
    """Thm 2.1 on a zoo function (x_star / x_max default to its recorded minimizer / maximizer)."""
    from verify import zoo
    z = zoo.get(name)
    ctx = get_context(ctx or "mpmath")
    obj = z.objective
    xs = as_point(x_star, obj, ctx) if x_star is not None else z.critical("minimizers", 0, ctx)
    xm = as_point(x_max, obj, ctx) if x_max is not None else z.critical("maximizers", 0, ctx)
    return construct(obj, xs, xm, ctx, box=z.box, closed_form=closed_form,
                     example=kw.pop("example", name), **kw)


def controls(con: Construction, label: str) -> list[Certificate]:
    """Negative controls on a finished construction: each tampers with one object."""
    ctx = con.ctx
    out = []

    def fresh(what):
        c = new_certificate(f"negative control: {what} ({label})", ctx, con.theorem, con.title,
                            con.certificate.statement, expected=False)
        c.hypotheses = list(con.certificate.hypotheses)
        return c

    rho2 = con.rho * (ctx.scalar(1) + ctx.rational(1, 20))
    out.append(certify(replace(con, rho=rho2, certificate=fresh("rho perturbed by +5%"))))
    out.append(certify(replace(con, x_h=move_along_level(con), certificate=fresh(
        "x_h moved along the level set" if con.objective.dim > 1 else
        "x_h moved to the other point of the level set (d = 1)"))))
    out.append(certify(replace(con, lam=-con.lam, certificate=fresh("multiplier sign flipped"))))
    if con.x_max is not None:
        out.append(certify(replace(con, x_h=con.x_max, certificate=fresh(
            "x_h replaced by the maximizer (grad f = 0)"))))
    half = 0.5 * float(con.boundary_dist.max())
    out.append(certify(replace(con, outer_radius=half, certificate=fresh(
        "radius of C or N_delta shrunk below the extent of C_eps"))))
    return out


def move_along_level(con: Construction, fraction: float = 0.15):
    """A point of {f = M - eps} near x_h but not x_h: step along the tangent, then Newton back to
    the level along grad f. In d = 1 (no tangent; the level set is a finite set) start instead from
    the sampled boundary point of C_eps nearest x_star, at the other end of C_eps."""
    obj, ctx = con.objective, con.ctx
    d = obj.dim
    if d == 1:
        near = con.boundary[int(S.sq_dist(con.boundary, floats(con.x_star, ctx)).argmin())]
        y = obj.point([float(near[0])], ctx)
    else:
        u = gradient(obj, con.x_h, ctx).u
        # a tangent vector: Gram-Schmidt of the coordinate axis least aligned with u
        k = min(range(d), key=lambda i: abs(ctx.to_float(u[i])))
        e = ctx.stack([ctx.scalar(1 if i == k else 0) for i in range(d)])
        t = e - u * (e @ u)
        t = t / ctx.norm(t)
        y = con.x_h + ctx.scalar(fraction * con.outer_radius) * t
    for _ in range(200):
        gy = obj.grad(y, ctx)
        r = obj.value(y, ctx) - con.level
        if ctx.to_float(ctx.abs(r)) <= ctx.to_float(ctx.tol(1, 64)):
            break
        y = y - r * gy / (gy @ gy)
    return y


def figure(con: Construction, figdir: pathlib.Path, stem: str) -> str | None:
    from verify.report import figures as FG
    if con.objective.dim != 2:
        return None
    ctx = con.ctx
    xs, xh = floats(con.x_star, ctx), floats(con.x_h, ctx)
    rho = ctx.to_float(con.rho)
    xp = floats(SamPoint(con.objective, con.x_h, con.rho, ctx).x_plus, ctx)
    xm = floats(con.x_max, ctx) if con.x_max is not None else None
    centre = xm or (S.centroid(con.set_points) if con.set_points is not None else xh)
    half = 1.15 * max(math.dist(centre, xs), con.outer_radius, rho)
    box = ((centre[0] - half, centre[0] + half), (centre[1] - half, centre[1] + half))
    path = pathlib.Path(figdir) / f"{stem}.png"
    FG.construction_figure(path, con.objective, box, x_star=xs, x_h=xh, x_plus=xp, x_max=xm,
                           boundary=con.boundary, set_points=con.set_points,
                           ball=(centre, con.outer_radius) if xm else None,
                           title=f"{con.theorem}: {con.example}, rho = {rho:.4g}")
    return path.name


def report_certificates(quick: bool = False, figdir: pathlib.Path | None = None) -> list[Certificate]:
    from verify import zoo
    ctx = get_context("mpmath", dps=50)
    certs = []
    first = None
    for ex in EXAMPLES:
        if quick and ex["zoo"] not in QUICK:
            continue
        con = run_zoo(ex["zoo"], ctx, x_star=ex["x_star"], x_max=ex["x_max"],
                      closed_form=ex["closed_form"], n_dirs=512 if quick else None)
        if figdir is not None:
            name = figure(con, figdir, f"thm_2_1_{ex['zoo']}")
            if name:
                con.certificate.figures.append(name)
        certs.append(con.certificate)
        first = first or con
    sign_finding(first.certificate, first.lam, ctx)
    certs += controls(first, first.example)
    # convex f: the construction is refused
    z = zoo.get("convex_lse")
    c = new_certificate("negative control: convex f (convex_lse)", ctx, expected=False)
    try:
        construct(z.objective, ("0", "0"), ("0", "0"), ctx)
        c.finish()
    except SamVerifyError as exc:
        c.refuse(str(exc))
    certs.append(c)
    return certs


# -- uniform entry point (theorems.REGISTRY) --------------------------------------------------------
def certify(objective, x_star=None, x_max=None, ctx=None, *, containment: str | None = None,
            **options) -> Certificate:
    """Theorem 2.1 on ``objective`` with minimizer ``x_star`` and isolated local maximizer ``x_max``
    in ``ctx``: :func:`construct` (``options`` are its keywords) and its certificate; the
    construction is ``cert.artifacts["construction"]``. Given a finished :class:`Construction`
    instead (``certify(con[, containment])``, the form of earlier releases), its claims again."""
    if isinstance(objective, Construction):
        return certificate_of(objective, containment if containment is not None else x_star)
    con = construct(objective, x_star, x_max, ctx, **options)
    con.certificate.artifacts["construction"] = con
    return con.certificate
