"""Theorem 2.2 — a real-analytic f with a bounded local maximizer SET has a hallucinated minimizer.

Statement (own words). Let f be real-analytic with a global minimizer x_star, and let X be a bounded,
connected local maximizer set: for some delta > 0, X is exactly the set of maximizers of f over its
closed delta-neighbourhood N_delta(X), with common value f(X). Then some x_h with grad f(x_h) != 0
minimizes f_SAM for some rho > 0. Isolatedness (Thm 2.1) is replaced by analyticity, which
supplies the Lojasiewicz inequality (Lemma 2.3): near each point p,
|f(p) - f(x)|^q <= C ||grad f(x)|| for some q in (0, 1) and C > 0.

Lemma A.9 (own words). Critical points of f cannot crowd around X: there is eps* > 0 such that a
critical point y in N_delta(X) with f(y) >= f(X) - eps* lies in X. (Inside a Lojasiewicz
neighbourhood U of X a critical point would force f(y) = f(X); outside U, on the compact rest of
N_delta(X), f stays below f(X) by some margin eps*.)

Proof structure checked here. eps = a fraction of min(eps*, f(X) - max over dN_delta(X) of f);
C_eps = the component of {f >= f(X) - eps} containing X lies in int N_delta(X), f = f(X) - eps on
its boundary, and the Lagrange construction of Thm 2.1 gives x_h, lambda > 0, rho with
x_h + rho u(x_h) = x_star.

Computation. X is given as a closed plane curve t -> p(t), t in [0, 2 pi), or as a single point.
N_delta(X) is sampled along normal lines of X (validated: each sample's distance to X equals its
normal coordinate). delta is the largest candidate for which f decreases along every sampled normal
ray (so X is the strict maximizer set of N_delta(X) on the samples). The Lojasiewicz exponent q and
constant C are fitted near X in the requested arithmetic (least squares of log ||grad f|| against
log |f(X) - f|; q = fitted slope, C = 1.1 x the largest ratio on the fitting samples) and tested on
held-out samples. Non-analytic objectives are refused (HypothesisError).
"""
from __future__ import annotations

import math
import pathlib
from dataclasses import dataclass
from typing import Any, Sequence

from verify.geometry import superlevel as S
from verify.core.claims import compare
from verify.core.display import decimal_text
from verify.geometry.lagrange import solve_lagrange
from verify.ctx import get_context
from verify.errors import HypothesisError, SamVerifyError, ShapeError
from verify.objectives.expr import compile_expr, parse
from verify.objectives.parse import split_vector
from verify.core.results import Certificate

from . import thm_2_1 as T

THEOREM = "Thm. 2.2"
TITLE = "Hallucinated minimizer from a bounded local maximizer set (real-analytic f)"
ORDER = 2.2
STATEMENT = ("If f is real-analytic with a global minimizer x_star and a bounded local maximizer set "
             "X, then (Lojasiewicz + Lemma A.9) a small superlevel component C_eps around X yields, "
             "by the Lagrange construction, x_h with x_h + rho u(x_h) = x_star and grad f(x_h) != 0.")
LOJ_SAFETY = "11/10"


@dataclass
class MaximizerSet:
    """A local maximizer set: a closed plane curve p(t), t in [0, 2 pi) (``exprs`` in t), or a
    point (``point``)."""
    description: str
    exprs: tuple | None = None
    point: Any = None

    @classmethod
    def curve(cls, exprs: Sequence[str] | str) -> "MaximizerSet":
        if isinstance(exprs, str):
            exprs = split_vector(exprs, "maximizer set")
        return cls(f"closed curve p(t) = ({', '.join(str(e).strip() for e in exprs)}), "
                   f"t in [0, 2 pi)", exprs=tuple(str(e) for e in exprs))

    @classmethod
    def single(cls, point) -> "MaximizerSet":
        return cls(f"single point {point}", point=point)

    def _compiled(self, ctx):
        out = []
        for e in self.exprs:
            expr, syms = parse(e, ["t"])
            out.append(compile_expr(expr, syms, ctx))
        return out

    def ctx_points(self, obj, ctx, n: int):
        """n points of X in ctx (exact parameters 2 pi k / n)."""
        if self.point is not None:
            return [T.as_point(self.point, obj, ctx)]
        fns = self._compiled(ctx)
        two_pi = ctx.scalar(2) * ctx.pi()
        pts = []
        for k in range(n):
            tk = two_pi * ctx.rational(k, n)
            pts.append(obj.point(ctx.stack([f([tk]) for f in fns]), ctx))
        return pts

    def float_param(self):
        fns = self._compiled(S.FLOAT)

        def param(t):
            return [S.broadcast_like(f([t]), t) for f in fns]
        return param

    def frame(self, obj, n: int):
        """(origins, directions) of the normal rays, float arrays of shape (N, d)."""
        if self.point is not None:
            c = T.floats(T.as_point(self.point, obj, S.FLOAT), S.FLOAT)
            D = S.directions(obj.dim, n)
            return S.repeat_rows(c, len(D)), D
        if obj.dim != 2 or len(self.exprs) != 2:
            raise ShapeError("maximizer sets are supported as single points (any d) or closed "
                             "curves in the plane (d = 2)")
        B, N = S.curve_frame(self.float_param(), n)
        return S.stack_rows(B, B), S.stack_rows(N, -N)

    def fine(self, obj, n: int = 4096):
        if self.point is not None:
            return S.repeat_rows(T.floats(T.as_point(self.point, obj, S.FLOAT), S.FLOAT), 1)
        return S.curve_frame(self.float_param(), n)[0]


def _min(vals, ctx):
    best = None
    for v in vals:
        best = v if best is None or ctx.less(v, best) else best
    return best


def _max(vals, ctx):
    best = None
    for v in vals:
        best = v if best is None or ctx.less(best, v) else best
    return best


def certified_delta(obj, X: MaximizerSet, fX: float, d0: float, n: int):
    """Largest delta = d0 0.85^k such that, on samples of the normal rays of length delta, f
    decreases away from X and the normal coordinate equals the distance to X."""
    O, D = X.frame(obj, n)
    fine = X.fine(obj, 1024)
    for k in range(40):
        delta = d0 * 0.85 ** k
        s = delta * S.linspace(1 / 24, 1, 24)
        P = S.ray_grid(O, D, s)
        radial = S.row_dot(S.grads(obj, P), S.ray_dirs(D, len(s)))
        if not float(radial.max()) < 0:
            continue
        sub = slice(None, None, 4)  # distance check on every 4th ray
        Ps = S.ray_grid(O[sub], D[sub], s)
        if float(abs(S.min_distance(Ps, fine) - S.tile(s, len(O[sub]))).max()) <= 1e-3 * delta:
            return delta
    return None


def lojasiewicz(obj, ctx, X: MaximizerSet, fX, delta_L: float, n_base: int, seed: int):
    """Samples y near X at normal distance s in (1e-4 delta_L, delta_L): (Delta f, ||grad f||)."""
    O, D = X.frame(obj, n_base)
    pairs = []
    svals = [delta_L * 10 ** (-j / 2) for j in range(9)] if seed == 0 else \
        list(delta_L * 10 ** (-4 * S.random_box([(0, 1)], 9, seed)[:, 0]))
    for i in range(len(O)):
        for s in svals:
            y = obj.point([O[i][j] + s * D[i][j] for j in range(obj.dim)], ctx)
            pairs.append((fX - obj.value(y, ctx), ctx.norm(obj.grad(y, ctx))))
    return pairs


def construct(obj, x_star, max_set: MaximizerSet, ctx=None, *, set_value=None, eps=None,
              eps_fraction: float = 0.5, box=None, example: str = "", quick: bool = False,
              certify_claims: bool = True) -> T.Construction:
    ctx = get_context(ctx or "mpmath")
    cert = T.new_certificate(example or obj.name, ctx, THEOREM, TITLE, STATEMENT)
    # -- hypotheses ---------------------------------------------------------------------------------
    obj.require_analytic(THEOREM)
    cert.hypothesis("f real-analytic", "f is declared (and parsed as) real-analytic", True,
                    f"smoothness {obj.smoothness!r}")
    d = obj.dim
    xs, xs_note = T.refine_critical(obj, T.as_point(x_star, obj, ctx), ctx, cert, "x_star")
    Xp = max_set.ctx_points(obj, ctx, 16 if quick else 64)
    fX = T.scalar_from_text(set_value, ctx) if set_value is not None else obj.value(Xp[0], ctx)
    scale = max(1.0, abs(ctx.to_float(fX)))
    tol = ctx.tol(scale, 1024)
    dev = _max([ctx.abs(obj.value(p, ctx) - fX) for p in Xp], ctx)
    gmax = _max([ctx.norm(obj.grad(p, ctx)) for p in Xp], ctx)
    ok = ctx.to_float(dev) <= ctx.to_float(tol) and ctx.to_float(gmax) <= ctx.to_float(tol)
    cert.hypothesis("X critical level set", "f = f(X) and grad f = 0 on X (samples)", ok,
                    f"{len(Xp)} points: max |f - f(X)| = {ctx.to_float(dev):.2e}, max ||grad f|| = "
                    f"{ctx.to_float(gmax):.2e}")
    if not ok:
        raise HypothesisError(f"{THEOREM}: the given set is not a critical set of constant value "
                              f"(max |f - f(X)| = {ctx.to_float(dev):.3e}, max ||grad f|| = "
                              f"{ctx.to_float(gmax):.3e})")
    top = max(ctx.to_float(ctx.eigvalsh(obj.hess(p, ctx))[d - 1]) for p in Xp[:8])
    if top > ctx.to_float(tol):
        raise HypothesisError(f"{THEOREM}: the Hessian of f on X has an eigenvalue {top:.4g} > 0, so X "
                              f"is not a local maximizer set (a convex f has none; Prop. A.1)")
    xs_f = T.floats(xs, ctx)
    fine = max_set.fine(obj)
    dist_star = float(S.min_distance([xs_f], fine)[0])
    box = box or T.default_box([xs_f] + [list(p) for p in fine[:: max(1, len(fine) // 64)]], 1.0)
    T.check_minimizer(obj, xs, ctx, cert, box, global_=True, refine_note=xs_note)
    n_rays = 256 if quick else 1024
    fXf = ctx.to_float(fX)
    delta = certified_delta(obj, max_set, fXf, 0.9 * dist_star, 128 if quick else 256)
    cert.hypothesis("X local maximizer set", "f decreases along every sampled normal ray of "
                    "N_delta(X) (normal coordinate = distance to X)", delta is not None,
                    f"delta = {delta:.6g}" if delta else "no delta found")
    if delta is None:
        raise HypothesisError(f"{THEOREM}: no delta-neighbourhood certifies X as a local maximizer set")
    # -- eps2: f(X) - max over dN_delta(X) ----------------------------------------------------------
    O, D = max_set.frame(obj, n_rays)
    m = float(S.values(obj, S.rays_to_points_each(O, delta, D)).max())
    # -- Lojasiewicz fit near X (in ctx) ------------------------------------------------------------
    delta_L = delta / 4
    fit = lojasiewicz(obj, ctx, max_set, fX, delta_L, 4 if quick else 8, seed=0)
    lx = [math.log(ctx.to_float(a)) for a, _ in fit]
    ly = [math.log(ctx.to_float(b)) for _, b in fit]
    a, q_fit, r2, max_res = S.linear_fit(lx, ly)
    q = ctx.scalar(decimal_text(q_fit, 4))
    ratios = [ctx.exp(q * ctx.log(df)) / gn for df, gn in fit]
    C = T.scalar_from_text(LOJ_SAFETY, ctx) * _max(ratios, ctx)
    cert.add_object("f_X", fX, label="f(X)")
    cert.add_object("delta", delta)
    cert.add_object("lojasiewicz_q", q, label="Lojasiewicz q")
    cert.add_object("lojasiewicz_C", C, label="Lojasiewicz C")
    cert.add_object("fit_r2", r2, label="fit R^2")
    cert.add_object("fit_max_residual", max_res, label="fit max |residual| (log)")
    cert.add_object("lojasiewicz_neighbourhood", delta_L, label="Lojasiewicz neighbourhood (normal distance)")
    # -- Lemma A.9: eps* from N_delta minus the Lojasiewicz tube ------------------------------------
    s_out = delta * S.linspace(delta_L / delta, 1, 24)
    P_out = S.ray_grid(O, D, s_out)
    eps_star = fXf - float(S.values(obj, P_out).max())
    eps2 = fXf - m
    if eps is None:
        eps_text = T.choose_eps(fXf, fXf - min(eps_star, eps2), eps_fraction)
        rule = f"eps = {eps_fraction:g} min(eps*, f(X) - m), 6 digits"
    else:
        eps_text, rule = str(eps), "eps given by the user"
    eps_c = T.scalar_from_text(eps_text, ctx)
    ok = 0 < ctx.to_float(eps_c) < min(eps_star, eps2)
    cert.hypothesis("eps rule (Lemma A.9 and dN_delta)", "0 < eps < min(eps*, f(X) - max f on "
                    "dN_delta(X))", ok, f"{rule}: eps = {eps_text}, eps* = {eps_star:.6g}, "
                    f"f(X) - m = {eps2:.6g}")
    if not ok:
        raise HypothesisError(f"{THEOREM}: eps = {eps_text} must satisfy 0 < eps < "
                              f"{min(eps_star, eps2):.6g}")
    level = fX - eps_c
    # -- C_eps by normal rays; farthest point; Newton -----------------------------------------------
    s, found = S.march_crossings(obj, O, D, ctx.to_float(level), smax=delta)
    boundary = S.rays_to_points_each(O, s, D)
    dist_b = S.where(found, s, delta)
    x0_f, _ = T.far_sample(boundary, xs_f)
    x_h, lam, info = solve_lagrange(obj, ctx, xs, level, obj.point(list(x0_f), ctx))
    rho = ctx.norm(x_h - xs)
    con = T.Construction(obj, ctx, xs, None, max_set.description, eps_c, x_h, rho, lam, cert,
                         f_max=fX, level=level, outer_radius=delta, boundary=boundary,
                         boundary_dist=dist_b, m_boundary=m, newton=info, box=box,
                         x_far_sample=x0_f, theorem=THEOREM, title=TITLE,
                         example=example or obj.name, set_points=fine)
    if certify_claims:
        _claims(con, max_set, fit, q, C, r2, eps_star, delta_L, quick)
        T.certify(con, containment="C_eps lies in int N_delta(X): every normal ray from X leaves "
                                   "{f >= f(X) - eps} before distance delta")
    return con


def _claims(con, max_set, fit, q, C, r2, eps_star, delta_L, quick):
    obj, ctx, cert = con.objective, con.ctx, con.certificate
    fX = con.f_max
    cert.add(compare("lojasiewicz_fit", "log-log fit of ||grad f|| against |f(X) - f| near X: R^2",
                     r2, ">=", "0.99", ctx, tol=0, note=f"{len(fit)} samples"))
    cert.add(compare("lojasiewicz_exponent_low", "Lojasiewicz exponent q > 0", q, ">", 0, ctx, tol=0))
    cert.add(compare("lojasiewicz_exponent_high", "Lojasiewicz exponent q < 1", q, "<", 1, ctx,
                     tol=0))
    held = lojasiewicz(obj, ctx, max_set, fX, delta_L, 3 if quick else 7, seed=5)
    worst = _max([ctx.exp(q * ctx.log(df)) / (C * gn) for df, gn in held], ctx)
    cert.add(compare("lojasiewicz_inequality", "held-out samples near X: |f(X) - f(y)|^q / "
                     "(C ||grad f(y)||) <= 1", worst, "<=", 1, ctx, tol=0,
                     note=f"C = {LOJ_SAFETY} x largest ratio on the fitting samples"))
    # Lemma A.9: a positive lower bound on ||grad f|| where f >= f(X) - eps, off X
    above = [(df, gn) for df, gn in fit + held if ctx.less_equal(df, con.eps)]
    low = _min([gn for _, gn in above], ctx) if above else ctx.scalar(0)
    loj_low = _min([gn * C / ctx.exp(q * ctx.log(df)) for df, gn in above], ctx) if above else \
        ctx.scalar(0)
    cert.add(compare("lemma_a9_gradient", "Lemma A.9: ||grad f(y)|| > 0 for samples y of "
                     "N_delta(X) minus X with f(y) >= f(X) - eps (smallest value)", low, ">", 0,
                     ctx, tol=0, note=f"{len(above)} samples; each obeys ||grad f|| >= "
                     "|f(X) - f|^q / C"))
    cert.add(compare("lemma_a9_lojasiewicz_bound", "on those samples ||grad f(y)|| C / "
                     "|f(X) - f(y)|^q >= 1", loj_low, ">=", 1, ctx, tol=0))
    cert.add(compare("lemma_a9_outside", "eps < eps* = f(X) - max f on N_delta(X) minus the "
                     "Lojasiewicz tube (no near-top critical point outside it)", con.eps, "<",
                     ctx.scalar(eps_star), ctx, tol=0, note="float64 samples"))


# -- examples ------------------------------------------------------------------------------------
def run_circle_max(ctx=None, quick: bool = False, **kw) -> T.Construction:
    from verify import zoo
    z = zoo.get("circle_max")
    return construct(z.objective, ("sqrt(3)", "0"), MaximizerSet.curve(("cos(t)", "sin(t)")), ctx,
                     set_value=z.maximizer_set_value, box=z.box, quick=quick,
                     example=kw.pop("example", "circle_max: X = unit circle, x_star = (sqrt 3, 0)"),
                     **kw)


def elliptic_circle_max():
    """circle_max composed with s = 4 x^2 / 9 + y^2: the maximizer set is the ellipse
    (3/2 cos t, sin t) (value 4/3); the ellipse s = 3 consists of global minimizers (value 0)."""
    from verify.objectives.objective import SympyObjective
    s = "(4*x**2/9 + y**2)"
    return SympyObjective(f"{s}**3/3 - 2*{s}**2 + 3*{s}", "x,y", name="elliptic circle_max")


def run_ellipse(ctx=None, quick: bool = False, **kw) -> T.Construction:
    return construct(elliptic_circle_max(), ("3*sqrt(3)/2", "0"),
                     MaximizerSet.curve(("3*cos(t)/2", "sin(t)")), ctx, set_value="4/3",
                     box=((-4, 4), (-4, 4)), quick=quick,
                     example=kw.pop("example", "elliptic circle_max: X = ellipse (3/2 cos t, sin t)"),
                     **kw)


def report_certificates(quick: bool = False, figdir: pathlib.Path | None = None) -> list[Certificate]:
    from verify import zoo
    ctx = get_context("mpmath", dps=50)
    certs = []
    con = run_circle_max(ctx, quick=quick)
    examples = [(con, "thm_2_2_circle_max")]
    if not quick:
        examples.append((run_ellipse(ctx), "thm_2_2_ellipse"))
    for c, stem in examples:
        if figdir is not None:
            name = T.figure(c, figdir, stem)
            if name:
                c.certificate.figures.append(name)
        certs.append(c.certificate)
    z = zoo.get("ring")
    ring = construct(z.objective, ("1", "0"), MaximizerSet.single(("0", "0")), ctx, quick=quick,
                     example="ring: X = {0} (a single point is a maximizer set)")
    certs.append(ring.certificate)
    certs += T.controls(con, "circle_max")
    for name, xs, X, why in (
            ("appendix_d", ("-31/20", "0"), MaximizerSet.single(("0.38", "0")),
             "non-analytic f (appendix_d, piecewise C^1)"),
            ("convex_lse", ("0", "0"), MaximizerSet.single(("0", "0")), "convex f (convex_lse)")):
        c = T.new_certificate(f"negative control: {why}", ctx, THEOREM, TITLE, STATEMENT,
                              expected=False)
        try:
            construct(zoo.get(name).objective, xs, X, ctx, quick=True)
            c.finish()
        except SamVerifyError as exc:
            c.refuse(str(exc))
        certs.append(c)
    return certs


# -- uniform entry point (theorems.REGISTRY) --------------------------------------------------------
EXAMPLES = {"circle_max": run_circle_max, "elliptic circle_max": run_ellipse}


def certify(objective, x_star, max_set: MaximizerSet, ctx=None, **options) -> Certificate:
    """Theorem 2.2 on ``objective`` with minimizer ``x_star`` and the bounded local maximizer set
    ``max_set`` in ``ctx``: :func:`construct` (``options`` are its keywords) and its certificate;
    the construction is ``cert.artifacts["construction"]``."""
    con = construct(objective, x_star, max_set, ctx, **options)
    con.certificate.artifacts["construction"] = con
    return con.certificate
