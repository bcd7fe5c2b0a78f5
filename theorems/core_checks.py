"""Core engine cross-checks: the SAM mathematics every theorem relies on, checked independently.

Every theorem module builds on a few formulas of :mod:`verify.sam`. Here each one is compared with an
independent computation, in double precision and again with 50 significant digits, so that a wrong
formula cannot hide behind the precision of one arithmetic.

* The exact gradient of the SAM objective, ``grad f_SAM(x) = (I + rho Du)^T grad f(x+)``, agrees with
  central finite differences of ``f_SAM`` itself. The allowance is derived, not guessed: the truncation
  error is estimated from the difference between steps h and 2h (it scales like h^2), the rounding
  error as a multiple of the unit roundoff times the size of ``f_SAM`` and of its sensitivity to its
  argument, divided by h.
* The check can tell the transpose apart: on each example the untransposed product
  ``(I + rho Du) grad f(x+)`` differs from the exact gradient by more than the allowance. A negative
  control feeds that wrong formula to the same comparison; it must fail.
* The exact Hessian of ``f_SAM`` (which needs third derivatives of f) agrees with central differences
  of the exact gradient, and is symmetric.
* The paper's 2-D example (Appendix D) at x = (1.25, 0) with rho = 2.8: the gradient of f has norm about
  0.247, so x is not a critical point of f; yet the perturbed point x+ = x + rho grad f/||grad f|| lands
  exactly on the minimizer (-1.55, 0) of f, where f = 0 and grad f(x+) = 0. Hence grad f_SAM(x) = 0:
  x is a stationary point of the SAM objective that f knows nothing about — a hallucinated minimizer,
  with a positive semidefinite Hessian of f_SAM.
"""
from __future__ import annotations

import pathlib

import numpy as np

from verify import sam, zoo
from verify.claims import compare
from verify.contexts import get_context
from verify.results import Certificate

THEOREM = "Core"
TITLE = "Core engine cross-checks"
ORDER = 0.5

ARITHMETICS = (("float64", {}), ("mpmath", {"dps": 50}))

# (zoo function, point, rho): non-critical points where Du is far from symmetric, so that the
# transpose in the gradient formula matters, and (appendix_d) away from the seams of the pieces.
GRADIENT_CASES = [
    ("tilted_ring", ("0.6", "0.9"), "0.3"),
    ("double_well2", ("0.4", "1.3"), "0.25"),
    ("appendix_d", ("0.9", "0.3"), "1"),
    ("beale", ("1", "0.8"), "0.2"),
    ("tilted_ring3", ("0.3", "0.5", "0.7"), "0.2"),
]
QUICK_CASES = 2

# Appendix D: seams of the piecewise definition (f is analytic between them).
SEAMS_X = (-1.0, 0.0)
SEAMS_Y = (0.6, 5.6)


# -- helpers written once against a context ---------------------------------------------------------
def _ctx(name, kw):
    return get_context(name, **kw)


def _f(ctx, v) -> float:
    return ctx.to_float(v)


def _vnorm_inf(ctx, v):
    best = ctx.scalar(0)
    for a in ctx.to_list(v):
        a = -a if ctx.less(a, ctx.scalar(0)) else a
        if ctx.less(best, a):
            best = a
    return best


def _step(ctx, x):
    """h = eps^(1/3) (1 + ||x||_inf): balances truncation (h^2) against rounding (eps/h)."""
    return ctx.scalar(2) ** (-(ctx.prec // 3)) * (1 + _vnorm_inf(ctx, x))


def _central(fun, x, h, ctx, d):
    """Central differences of ``fun`` (scalar or vector valued) along the unit vectors."""
    cols = []
    for i in range(d):
        e = ctx.zeros(d)
        e[i] = h
        cols.append((fun(x + e) - fun(x - e)) / (2 * h))
    return cols


def _seam_distance(obj_name, points, ctx) -> float | None:
    if obj_name != "appendix_d":
        return None
    dist = np.inf
    for p in points:
        px, py = (_f(ctx, v) for v in ctx.to_list(p))
        dist = min(dist, *(abs(px - s) for s in SEAMS_X), *(abs(abs(py) - s) for s in SEAMS_Y))
    return float(dist)


def _fd_allowance(D1, D2, size, h, ctx, units=64):
    """Allowance for |D(h) - exact|: truncation ~ |D(2h) - D(h)|/3 (both errors ~ c h^2), rounding
    ~ units * eps * size / h; doubled for safety."""
    trunc = _vnorm_inf(ctx, D2 - D1) / 3
    rounding = ctx.scalar(units) * ctx.scalar(ctx.eps) * size / h
    return 2 * (trunc + rounding), trunc, rounding


def _hyp_smooth(cert, z, points, ctx, h):
    dist = _seam_distance(z.name, points, ctx)
    if dist is None:
        cert.hypothesis("smooth", "f is smooth near x and x+ (needed for the differences)",
                        z.objective.smoothness in ("analytic", "Cinf"),
                        f"f declared {z.objective.smoothness}")
    else:
        cert.hypothesis("smooth", "x and x+ lie inside one analytic piece of f (away from the seams "
                        "x = -1, 0 and |y| = 0.6, 5.6), farther than the difference steps",
                        dist > 100 * _f(ctx, h), f"distance to the nearest seam {dist:.4g}")


# -- certificates ------------------------------------------------------------------------------------
def gradient_certificate(name, point, rho, arith, wrong_formula=False) -> Certificate:
    """Exact grad f_SAM (or, for a negative control, the untransposed formula) vs central differences."""
    ctx = _ctx(*arith)
    z = zoo.get(name)
    obj, d = z.objective, z.dim
    title = ("Untransposed gradient (I + rho Du) grad f(x+) vs central differences — must fail"
             if wrong_formula else "Exact gradient of f_SAM vs central differences")
    cert = Certificate(THEOREM, title, f"{name} at x = ({', '.join(point)}), rho = {rho}",
                       context=ctx.name, precision=ctx.precision_label, expected=not wrong_formula)
    x, r = obj.point(list(point), ctx), sam.check_rho(rho, ctx)
    gr = sam.gradient(obj, x, ctx)
    cert.hypothesis("nonzero_gradient", "grad f(x) != 0, so u(x) and f_SAM are defined near x",
                    not ctx.is_zero_possible(gr.norm), f"||grad f(x)|| = {_f(ctx, gr.norm):.6g}")
    xp = x + r * gr.u
    w = obj.grad(xp, ctx)
    h = _step(ctx, x)
    _hyp_smooth(cert, z, [x, xp], ctx, h)

    exact = sam.sam_gradient(obj, x, r, ctx)
    untransposed = w + r * sam.du_matvec(obj, x, w, ctx, gr)
    tested = untransposed if wrong_formula else exact

    F = lambda y: sam.sam_value(obj, y, r, ctx)  # noqa: E731
    D1 = ctx.stack(_central(F, x, h, ctx, d))
    D2 = ctx.stack(_central(F, x, 2 * h, ctx, d))
    fx = F(x)
    size = (fx if not ctx.less(fx, ctx.scalar(0)) else -fx) + ctx.norm(w) * (_vnorm_inf(ctx, x) + r + 1)
    allow, trunc, rounding = _fd_allowance(D1, D2, size, h, ctx)
    err = _vnorm_inf(ctx, tested - D1)
    gap = _vnorm_inf(ctx, exact - untransposed)

    cert.objects.update({"x": ctx.to_list(x), "rho": rho, "x+": ctx.to_list(xp),
                         "grad f(x+)": ctx.to_list(w), "grad f_SAM(x) exact": ctx.to_list(exact),
                         "(I + rho Du) grad f(x+) (untransposed)": ctx.to_list(untransposed),
                         "central differences D(h)": ctx.to_list(D1), "h": h,
                         "truncation estimate |D(2h)-D(h)|/3": trunc, "rounding estimate": rounding})
    which = "untransposed formula" if wrong_formula else "exact gradient"
    cert.add(compare("fd_gradient", f"max-norm distance between the {which} and central differences "
                     "of f_SAM is within the derived allowance", err, "<=", allow, ctx,
                     note="allowance = 2 (|D(2h) - D(h)|/3 + 64 eps size/h), h = eps^(1/3)(1 + ||x||)"))
    cert.add(compare("discriminates", "the transpose matters here: ||(I + rho Du)^T w - (I + rho Du) w|| "
                     "exceeds the allowance, so the comparison tells the two formulas apart", gap, ">",
                     allow, ctx))
    return cert.finish()


def hessian_certificate(name, point, rho, arith) -> Certificate:
    """Exact Hessian of f_SAM vs central differences of the exact gradient; symmetry."""
    ctx = _ctx(*arith)
    z = zoo.get(name)
    obj, d = z.objective, z.dim
    cert = Certificate(THEOREM, "Exact Hessian of f_SAM vs differences of its gradient",
                       f"{name} at x = ({', '.join(point)}), rho = {rho}", context=ctx.name,
                       precision=ctx.precision_label)
    x, r = obj.point(list(point), ctx), sam.check_rho(rho, ctx)
    gr = sam.gradient(obj, x, ctx)
    cert.hypothesis("nonzero_gradient", "grad f(x) != 0", not ctx.is_zero_possible(gr.norm),
                    f"||grad f(x)|| = {_f(ctx, gr.norm):.6g}")
    xp = x + r * gr.u
    h = _step(ctx, x)
    _hyp_smooth(cert, z, [x, xp], ctx, h)
    if z.objective.smoothness not in ("analytic", "Cinf") and name != "appendix_d":
        return cert.refuse("third derivatives of f are needed")
    H = sam.sam_hessian(obj, x, r, ctx)
    G = lambda y: sam.sam_gradient(obj, y, r, ctx)  # noqa: E731
    C1 = ctx.stack(_central(G, x, h, ctx, d)).T   # column j = dG/dx_j
    C2 = ctx.stack(_central(G, x, 2 * h, ctx, d)).T
    Hn = _vnorm_inf(ctx, H.reshape(-1))
    size = Hn * (_vnorm_inf(ctx, x) + r + 1) + ctx.norm(G(x))
    allow, trunc, rounding = _fd_allowance(C1.reshape(-1), C2.reshape(-1), size, h, ctx, units=256)
    err = _vnorm_inf(ctx, (H - C1).reshape(-1))
    asym = _vnorm_inf(ctx, (H - H.T).reshape(-1))
    cert.objects.update({"x": ctx.to_list(x), "rho": rho, "x+": ctx.to_list(xp),
                         "Hess f_SAM(x) exact": [ctx.to_list(row) for row in H],
                         "differences of grad f_SAM": [ctx.to_list(row) for row in C1], "h": h,
                         "truncation estimate": trunc, "rounding estimate": rounding})
    cert.add(compare("fd_hessian", "max-norm distance between the exact Hessian of f_SAM and central "
                     "differences of the exact gradient is within the derived allowance", err, "<=",
                     allow, ctx, note="allowance = 2 (|C(2h) - C(h)|/3 + 256 eps size/h)"))
    cert.add(compare("symmetric", "the exact Hessian of f_SAM is symmetric", asym, "<=",
                     ctx.tol(Hn * d * (1 + r), units=64), ctx))
    return cert.finish()


def appendix_d_certificate(arith, figdir: pathlib.Path | None = None, quick: bool = False) -> Certificate:
    """Classification data of the hallucinated point (1.25, 0) of Appendix D at rho = 2.8."""
    ctx = _ctx(*arith)
    z = zoo.get("appendix_d")
    obj = z.objective
    cert = Certificate(THEOREM, "Appendix D: a stationary point of f_SAM that is not critical for f",
                       "appendix_d at x = (1.25, 0), rho = 2.8", context=ctx.name,
                       precision=ctx.precision_label)
    x, r = obj.point(["1.25", "0"], ctx), sam.check_rho("2.8", ctx)
    gr = sam.gradient(obj, x, ctx)
    xp = x + r * gr.u
    target = obj.point(["-1.55", "0"], ctx)
    cert.hypothesis("nonzero_gradient", "grad f(x) != 0, so f_SAM is defined near x",
                    not ctx.is_zero_possible(gr.norm), f"||grad f(x)|| = {_f(ctx, gr.norm):.6g}")
    _hyp_smooth(cert, z, [x, xp], ctx, _step(ctx, x))
    w = obj.grad(xp, ctx)
    gs = sam.sam_gradient(obj, x, r, ctx)
    H = sam.sam_hessian(obj, x, r, ctx)
    eig = ctx.eigvalsh(H)
    fxp = obj.value(xp, ctx)
    scale = 1 + r + _vnorm_inf(ctx, x)
    cert.objects.update({"x": ctx.to_list(x), "rho": "2.8", "grad f(x)": ctx.to_list(gr.g),
                         "||grad f(x)||": gr.norm, "x+": ctx.to_list(xp), "f(x)": obj.value(x, ctx),
                         "f(x+)": fxp, "grad f(x+)": ctx.to_list(w), "||grad f(x+)||": ctx.norm(w),
                         "grad f_SAM(x)": ctx.to_list(gs), "eigenvalues of Hess f_SAM(x)": ctx.to_list(eig)})
    cert.add(compare("grad_norm", "||grad f(x)|| is about 0.247 (the paper's value, 3 digits)",
                     gr.norm, "==", "0.247", ctx, tol=ctx.scalar("0.0005")))
    cert.add(compare("not_critical", "x is not a critical point of f: ||grad f(x)|| > 0.1", gr.norm, ">",
                     "0.1", ctx))
    cert.add(compare("x_plus", "x+ = x + rho u(x) is the minimizer (-1.55, 0) of f",
                     _vnorm_inf(ctx, xp - target), "<=", ctx.tol(scale), ctx))
    cert.add(compare("f_x_plus", "f(x+) = 0, the global minimum value of f", fxp, "==", 0, ctx,
                     tol=ctx.tol(scale)))
    cert.add(compare("shifted_gradient", "||grad f(x+)|| vanishes (to roundoff)", ctx.norm(w), "<=",
                     ctx.tol(scale * 4), ctx))
    cert.add(compare("sam_stationary", "grad f_SAM(x) = (I + rho Du)^T grad f(x+) vanishes: x is "
                     "stationary for SAM", _vnorm_inf(ctx, gs), "<=", ctx.tol(scale * 16), ctx))
    cert.add(compare("hessian_psd", "the Hessian of f_SAM at x is positive semidefinite (smallest "
                     "eigenvalue >= 0 up to roundoff)", eig[0], ">=", 0, ctx,
                     tol=ctx.tol(scale * 64)))
    cert.add(compare("hessian_positive", "its largest eigenvalue is positive", eig[-1], ">", 0, ctx))
    if figdir is not None:
        from verify import figures
        ts = np.linspace(-0.6, 0.6, 60)
        curve = np.c_[-1.55 * np.cos(ts / 1.5), ts]
        name = figures.landscape_figure(
            obj, 2.8, pathlib.Path(figdir) / "appendix_d_rho2.8.png", box=((-4, 4), (-4, 4)),
            n=121 if quick else 241, field_n=21 if quick else 29,
            curves={"minimizers of f": curve},
            marks={"x = (1.25, 0): stationary for f_SAM": [[1.25, 0.0]],
                   "x+ = (-1.55, 0): minimizer of f": [[_f(ctx, v) for v in ctx.to_list(xp)]]},
            suptitle="Appendix D, rho = 2.8: f, f_SAM and the field -grad f(x+)")
        cert.figures.append(name)
    return cert.finish()


def fd_convergence_figure(name, point, rho, figdir: pathlib.Path) -> str:
    """Error of central differences vs h in float64 (illustration: slope 2 then rounding)."""
    ctx = _ctx("float64", {})
    z = zoo.get(name)
    obj = z.objective
    x, r = obj.point(list(point), ctx), float(rho)
    exact = sam.sam_gradient(obj, x, r, ctx)
    wrong_w = obj.grad(sam.perturbed_point(obj, x, r, ctx), ctx)
    wrong = wrong_w + r * sam.du_matvec(obj, x, wrong_w, ctx)
    hs = np.logspace(-12, -1, 34)
    F = lambda y: sam.sam_value(obj, y, r, ctx)  # noqa: E731
    errs, errs_wrong = [], []
    for h in hs:
        D = np.array(_central(F, x, h, ctx, z.dim))
        errs.append(np.max(np.abs(D - exact)))
        errs_wrong.append(np.max(np.abs(D - wrong)))
    from verify import figures
    return figures.series_figure(
        {"exact (I + rho Du)^T grad f(x+)": (hs, errs), "untransposed (I + rho Du) grad f(x+)": (hs, errs_wrong)},
        pathlib.Path(figdir) / f"fd_convergence_{name}.png", xlabel="difference step h",
        ylabel="max |formula - central difference|", logx=True, logy=True,
        title=f"{name} at x = ({', '.join(point)}), rho = {rho}, float64",
        vlines={"h = eps^(1/3)": 2.0 ** -17 * (1 + float(np.max(np.abs(x))))})


# -- the report's entry point --------------------------------------------------------------------------
def report_certificates(quick: bool = False, figdir: pathlib.Path | None = None) -> list[Certificate]:
    cases = GRADIENT_CASES[:QUICK_CASES] if quick else GRADIENT_CASES
    certs = []
    for i, arith in enumerate(ARITHMETICS):  # the figure once, from the first (double precision) run
        certs.append(appendix_d_certificate(arith, figdir if i == 0 else None, quick))
    for i, (name, point, rho) in enumerate(cases):
        for arith in ARITHMETICS:
            cert = gradient_certificate(name, point, rho, arith)
            if i == 0 and arith is ARITHMETICS[0] and figdir is not None:
                cert.figures.append(fd_convergence_figure(name, point, rho, figdir))
            certs.append(cert)
            certs.append(hessian_certificate(name, point, rho, arith))
    # negative controls: the untransposed formula must fail the same comparison
    for name, point, rho in cases[:1] if quick else cases[:2]:
        for arith in ARITHMETICS:
            certs.append(gradient_certificate(name, point, rho, arith, wrong_formula=True))
    return certs
