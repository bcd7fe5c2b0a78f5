"""Proposition A.1 — a convex function has no hallucinated minimizer.

Statement (own words). If f: R^d -> R is convex and differentiable, then no point x with
grad f(x) != 0 sends its SAM perturbation to a critical point: grad f(x + rho u(x)) != 0 for every
rho > 0, where u = grad f / ||grad f||. In particular x+ := x + rho u(x) is never a minimizer of f,
and no x with grad f(x) != 0 is a stationary point of the practical SAM update.

The paper's argument: if grad f(x+) = 0 then x+ minimizes f, yet convexity gives
f(x+) >= f(x) + <grad f(x), x+ - x> = f(x) + rho ||grad f(x)|| > f(x), a contradiction.

A sharper quantitative bound, proved here and checked below. Monotonicity of the gradient of a
convex function, <grad f(y) - grad f(x), y - x> >= mu ||y - x||^2 (mu >= 0 a strong-convexity
modulus, mu = 0 for plain convexity), applied with y = x+ and y - x = rho u gives

    <grad f(x+), u(x)> >= ||grad f(x)|| + mu rho,

hence, by Cauchy-Schwarz, ||grad f(x+)|| >= ||grad f(x)|| + mu rho, i.e. the ratio
||grad f(x+)|| / ||grad f(x)|| >= 1 + mu rho / ||grad f(x)|| >= 1. The SAM perturbation never
reduces the gradient norm of a convex function, and for a mu-strongly convex one ||grad f(x+)||
stays at least mu rho everywhere — so a search for zeros of x -> grad f(x+) must come back empty
with every residual >= mu rho.

Claims: the inequality chain on samples; the monotone projection and the ratio bound on samples; a
multistart Newton search for zeros of grad f(x+) that finds none and whose residuals all respect the
bound mu rho. Negative controls: a nonconvex f (the ring, which does have hallucinated points) and
an overstated modulus mu.
"""
from __future__ import annotations

import pathlib
from typing import Any, Sequence

from verify.geometry import superlevel as S
from verify.core.claims import boolean, compare
from verify.core import sam
from verify.core.operators import SamPoint
from verify.ctx import get_context
from verify.errors import HypothesisError, SamVerifyError, ShapeError
from verify.objectives.objective import SympyObjective
from verify.core.results import Certificate, renamed_keyword
from verify.core.sam import shifted_jacobian

THEOREM = "Prop. A.1"
TITLE = "Convex f: no hallucinated minimizers; ||grad f(x+)|| >= ||grad f(x)|| + mu rho"
ORDER = 1.0
STATEMENT = ("For convex f, grad f(x + rho u(x)) never vanishes when grad f(x) != 0; in fact "
             "||grad f(x+)|| >= ||grad f(x)|| + mu rho (mu the strong-convexity modulus, possibly 0).")


def _floats(x, ctx):
    return [ctx.to_float(v) for v in ctx.to_list(x)]


def _min(values, ctx):
    best = None
    for v in values:
        if best is None or ctx.less(v, best):
            best = v
    return best


def check_convexity(obj, ctx, points) -> tuple[Any, bool]:
    """Smallest Hessian eigenvalue over the sample points, and whether it is >= -tol."""
    low = _min([ctx.eigvalsh(obj.hess(p, ctx))[0] for p in points], ctx)
    return low, ctx.to_float(low) >= -ctx.to_float(ctx.tol(1, 1024))


@renamed_keyword("obj")
def certify(objective, ctx=None, *, rhos: Sequence = ("1/10", "1/2", "2"), box=None, mu: Any = 0,
            example: str = "", enforce: bool = True, n_samples: int = 48, n_starts: int = 8,
            expected: bool = True, seed: int = 0) -> Certificate:
    """Check Prop. A.1 and the ratio bound on ``objective``. ``mu`` is a strong-convexity modulus known
    for the example (0 when only convexity is claimed). With ``enforce`` a nonconvex f raises
    HypothesisError; without, the hypothesis is recorded as not met and the claims are evaluated."""
    obj = objective
    ctx = get_context(ctx or "mpmath")
    cert = Certificate(THEOREM, TITLE, example or obj.name, statement=STATEMENT, context=ctx.name,
                       precision=ctx.precision_label, expected=expected)
    d = obj.dim
    box = box or ((-3, 3),) * d
    if len(box) != d or any(not float(lo) < float(hi) for lo, hi in box):
        raise ShapeError(f"{THEOREM}: the box needs {d} intervals (lo, hi) with lo < hi, got {box}")
    P = [obj.point(list(p), ctx) for p in S.random_box(box, n_samples, seed)]
    # -- hypothesis: convexity (Hessian PSD on samples) --------------------------------------------
    low, convex = check_convexity(obj, ctx, P)
    cert.hypothesis("f convex", "Hessian of f positive semidefinite (on samples of the box)", convex,
                    f"smallest Hessian eigenvalue over {len(P)} samples: {ctx.to_float(low):.6g}")
    if not convex and enforce:
        raise HypothesisError(f"{THEOREM}: f = {obj.name} is not convex: a Hessian eigenvalue "
                              f"{ctx.to_float(low):.4g} < 0 was found")
    mu_c = ctx.scalar(mu) if not isinstance(mu, str) else ctx.scalar(_frac(mu))
    cert.hypothesis("strong-convexity modulus", "mu <= smallest Hessian eigenvalue", ctx.to_float(
        mu_c) <= ctx.to_float(low) + ctx.to_float(ctx.tol(1, 1024)) if convex else convex,
        f"mu = {ctx.to_str(mu_c)}")
    cert.add_object("rhos", list(rhos))
    cert.add_object("mu", mu_c)
    cert.add_object("samples", len(P))
    cert.add_object("box", box)
    cert.add_object("min_hessian_eigenvalue", low, label="min Hessian eigenvalue (samples)")
    # -- the inequality chain, projection and ratio on samples ---------------------------------------
    chain1, chain2, proj, ratio_gap, ratio = [], [], [], [], []
    for rho_t in rhos:
        rho = ctx.scalar(_frac(rho_t))
        for x in P:
            p = SamPoint(obj, x, rho, ctx)
            gr, fx, fp, gp = p.gradient, p.value, p.sam_value, p.shifted_grad
            chain1.append(fp - fx - rho * gr.norm)
            chain2.append(fp - fx)
            proj.append(gp @ gr.u - gr.norm - mu_c * rho)
            gpn = ctx.norm(gp)
            ratio_gap.append(gpn - gr.norm - mu_c * rho)
            ratio.append(gpn / gr.norm)
    tol = ctx.tol(10, 1024)
    note = "1024 units of roundoff x 10"
    cert.add(compare("chain_convexity", "f(x+) - f(x) - rho ||grad f(x)|| >= 0 (convexity)",
                     _min(chain1, ctx), ">=", 0, ctx, tol=tol, note=note))
    cert.add(compare("chain_strict", "f(x+) > f(x) (so x+ is not a minimizer)", _min(chain2, ctx),
                     ">", 0, ctx, tol=0))
    cert.add(compare("monotone_projection", "<grad f(x+), u(x)> - ||grad f(x)|| - mu rho >= 0 "
                     "(monotone gradient)", _min(proj, ctx), ">=", 0, ctx, tol=tol, note=note))
    cert.add(compare("ratio_bound", "||grad f(x+)|| - ||grad f(x)|| - mu rho >= 0",
                     _min(ratio_gap, ctx), ">=", 0, ctx, tol=tol, note=note))
    rmin = _min(ratio, ctx)
    cert.add_object("min_ratio", rmin, label="min ratio ||grad f(x+)||/||grad f(x)||")
    cert.add(compare("ratio_ge_one", "||grad f(x+)|| / ||grad f(x)|| >= 1", rmin, ">=", 1, ctx,
                     tol=tol, note=note))
    # -- multistart search for zeros of x -> grad f(x+) ---------------------------------------------
    # the search is a float64 heuristic; its end points are re-evaluated in ctx for the claims
    fctx = S.FLOAT
    starts = [list(p) for p in S.random_box(box, n_starts, seed + 1)]
    found, residuals = [], []
    for rho_t in rhos:
        rho_f = float(_frac(rho_t))
        for p0 in starts:
            x_end, converged = _search_zero(obj, rho_f, obj.point(p0, fctx), fctx)
            if converged:
                found.append((rho_t, [float(v) for v in x_end]))
            if x_end is None:
                x_end = p0
            try:
                x = obj.point([float(v) for v in x_end], ctx)
                rho = ctx.scalar(_frac(rho_t))
                residuals.append(ctx.norm(sam.shifted_gradient(obj, x, rho, ctx)))
            except SamVerifyError:
                residuals.append(ctx.scalar(0))
    cert.add_object("zeros_found", found[:5], label="zeros found")
    cert.add(boolean("no_zero_found", f"multistart Newton ({len(starts)} starts x {len(rhos)} rho) "
                     "finds no x with grad f(x+) = 0", not found, ctx,
                     evidence=f"{len(found)} converged" + (f", e.g. {found[0]}" if found else "")))
    rho_min = min(ctx.scalar(_frac(r)) for r in rhos)
    if residuals:
        cert.add(compare("search_residual_bound", "smallest ||grad f(x+)|| reached by the search "
                         ">= mu * min rho (the proved floor)", _min(residuals, ctx), ">=",
                         mu_c * rho_min, ctx, tol=tol, note=note))
    return cert.finish()


def _search_zero(obj, rho, x, ctx, iters: int = 30):
    """Damped Newton on F(x) = grad f(x + rho u(x)); returns (best point, converged)."""
    def F(y):
        return sam.shifted_gradient(obj, y, rho, ctx)
    try:
        r = F(x)
    except SamVerifyError:
        return x, False
    rn = ctx.norm(r)
    for _ in range(iters):
        if ctx.to_float(rn) <= ctx.to_float(ctx.tol(max(1.0, ctx.to_float(ctx.norm(x))), 64)):
            return x, True
        try:
            step = ctx.solve(shifted_jacobian(obj, x, rho, ctx), r)
        except (SamVerifyError, ArithmeticError, ValueError):
            return x, False
        t, moved = 1.0, False
        for _ in range(20):
            y = x - t * step
            try:
                ry = F(y)
            except SamVerifyError:
                t /= 2
                continue
            ryn = ctx.norm(ry)
            if ctx.to_float(ryn) < ctx.to_float(rn):
                x, r, rn, moved = y, ry, ryn, True
                break
            t /= 2
        if not moved:
            return x, False
    return x, ctx.to_float(rn) <= ctx.to_float(ctx.tol(max(1.0, ctx.to_float(ctx.norm(x))), 64))


def _frac(text):
    from verify.objectives.parse import parse_rational
    return parse_rational(text) if isinstance(text, str) else text


# -- generated convex functions ----------------------------------------------------------------------
def convex_objective(B: Sequence[Sequence[int]], shift: int, b: Sequence[int],
                     lse_rows: Sequence[Sequence[int]], weight: int, denom: int = 4):
    """f(x) = 1/2 x^T A x + b.x/denom + weight/denom * log(sum_j exp(a_j . x / denom)) with
    A = (B B^T + shift I)/denom^2 (positive definite for shift >= 1): convex, mu >= shift/denom^2.
    Integer inputs keep every constant exact. Returns (objective, mu as a string)."""
    d = len(B)
    names = [f"x{i}" for i in range(d)]
    A = [[sum(B[i][k] * B[j][k] for k in range(len(B[i]))) + (shift if i == j else 0)
          for j in range(d)] for i in range(d)]
    quad = " + ".join(f"({A[i][j]})*{names[i]}*{names[j]}/(2*{denom**2})"
                      for i in range(d) for j in range(d))
    lin = " + ".join(f"({b[i]})*{names[i]}/{denom}" for i in range(d))
    terms = " + ".join("exp((" + " + ".join(f"({a[i]})*{names[i]}" for i in range(d)) + f")/{denom})"
                       for a in lse_rows)
    expr = f"{quad} + {lin} + ({weight})/{denom}*log({terms})"
    return SympyObjective(expr, names, name=f"generated convex (d={d})"), f"{shift}/{denom**2}"


# -- report ------------------------------------------------------------------------------------------
def report_certificates(quick: bool = False, figdir: pathlib.Path | None = None) -> list[Certificate]:
    from verify import zoo
    ctx = get_context("mpmath", dps=30 if quick else 50)
    n = 12 if quick else 48
    starts = 3 if quick else 8
    certs = []
    for name in ("convex_lse", "convex_lse3"):
        z = zoo.get(name)
        certs.append(certify(z.objective, ctx, box=((-2, 2),) * z.dim, mu="1/5", example=name,
                             n_samples=n, n_starts=starts))
    gen, mu = convex_objective([[1, 2], [0, 1]], 1, [1, -2], [[1, 0], [0, 1], [-1, -1]], 2)
    certs.append(certify(gen, ctx, box=((-3, 3),) * 2, mu=mu, example="generated convex quadratic "
                         "+ log-sum-exp", n_samples=n, n_starts=starts))
    # negative controls
    ring = zoo.get("ring").objective
    certs.append(certify(ring, ctx, box=((-1, 1),) * 2, rhos=("1/2", "3/2"), enforce=False,
                         example="negative control: nonconvex ring (f not convex)", n_samples=n,
                         n_starts=max(starts, 6), expected=False))
    z = zoo.get("convex_lse")
    certs.append(certify(z.objective, ctx, box=((-2, 2),) * 2, mu="5", example="negative control: "
                         "modulus mu overstated (5 instead of 1/5)", n_samples=n, n_starts=starts,
                         expected=False))
    if figdir is not None:
        name = _figure(figdir)
        if name:
            certs[0].figures.append(name)
    return certs


def _figure(figdir) -> str | None:
    """Histogram-free picture: ||grad f(x+)|| / ||grad f(x)|| over a grid for convex_lse."""
    from verify import zoo
    from verify.report import figures as FG
    path = pathlib.Path(figdir) / "prop_a1_ratio.png"
    FG.ratio_field_figure(path, zoo.get("convex_lse").objective, ((-2, 2), (-2, 2)), rho=0.5,
                          title="Prop. A.1: ||grad f(x+)||/||grad f(x)|| on convex_lse, rho = 1/2")
    return path.name


# -- uniform entry point (theorems.REGISTRY) --------------------------------------------------------
EXAMPLES = ("convex_lse", "convex_lse3", "generated convex quadratic + log-sum-exp")
