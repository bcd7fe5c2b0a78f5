"""Core engine cross-checks: the SAM mathematics every theorem relies on, checked independently.

Every theorem module builds on a few formulas of :mod:`verify.core.sam`. Here each one is compared with an
independent computation — central finite differences of the quantity it differentiates
(:mod:`verify.core.check`) — in double precision and again with 50 significant digits, so that a wrong
formula cannot hide behind the precision of one arithmetic.

* f's gradient, Hessian, Hessian-vector products and third derivatives; the Jacobian Du of
  u = grad f / ||grad f||; the Jacobian H(x+)(I + rho Du) of the shifted gradient; the exact gradient
  of the SAM objective, ``grad f_SAM(x) = (I + rho Du)^T grad f(x+)``; its exact Hessian; and the
  matrix-free forms of each against the dense ones.
* The check can tell the transpose apart: on each example the untransposed product
  ``(I + rho Du) grad f(x+)`` differs from the exact gradient by more than the allowance. A negative
  control feeds that wrong formula to the same comparison; it must fail.
* The paper's 2-D example (Appendix D) at x = (1.25, 0) with rho = 2.8: the gradient of f has norm about
  0.247, so x is not a critical point of f; yet the perturbed point x+ = x + rho grad f/||grad f|| lands
  exactly on the minimizer (-1.55, 0) of f, where f = 0 and grad f(x+) = 0. Hence grad f_SAM(x) = 0:
  x is a stationary point of the SAM objective that f knows nothing about — a hallucinated minimizer,
  with a positive semidefinite Hessian of f_SAM.

Finite differences need f smooth around the points used; Appendix D is only C^1 across its seams
(x = -1, 0 and |y| = 0.6, 5.6), so its points are kept inside one analytic piece and the certificate
states the distance to the nearest seam.
"""
from __future__ import annotations

import pathlib

import numpy as np

from verify import sam, zoo

from verify.core import check
from verify.core.claims import compare
from verify.ctx import get_context
from verify.core.results import Certificate

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
SEAMS_X, SEAMS_Y = (-1.0, 0.0), (0.6, 5.6)


def _seam_distance(points, ctx) -> float:
    dist = np.inf
    for p in points:
        px, py = (ctx.to_float(v) for v in ctx.to_list(p))
        dist = min(dist, *(abs(px - s) for s in SEAMS_X), *(abs(abs(py) - s) for s in SEAMS_Y))
    return float(dist)


def _hypotheses(cert, z, x, xp, gr, ctx) -> None:
    cert.hypothesis("nonzero_gradient", "grad f(x) != 0, so u(x) and f_SAM are defined near x",
                    not ctx.is_zero_possible(gr.norm), f"||grad f(x)|| = {ctx.to_float(gr.norm):.6g}")
    if z.name != "appendix_d":
        cert.hypothesis("smooth", "f is smooth near x and x+ (needed for the differences)",
                        z.objective.smoothness in ("analytic", "Cinf"),
                        f"f declared {z.objective.smoothness}")
        return
    order, h, _ = check.fd_plan(ctx, x)
    reach = order * ctx.to_float(h)  # the stencil at step 2h reaches order * h from x (and ~that from x+)
    dist = _seam_distance([x, xp], ctx)
    cert.hypothesis("smooth", "x and x+ lie inside one analytic piece of f (away from the seams "
                    "x = -1, 0 and |y| = 0.6, 5.6), ten times farther than the difference stencil "
                    "reaches", dist > 10 * reach, f"distance to the nearest seam {dist:.4g}, stencil "
                    f"reach {reach:.3g}")


def _setup(name, point, rho, arith, title, expected=True):
    ctx = get_context(arith[0], **arith[1])
    z = zoo.get(name)
    cert = Certificate(THEOREM, title, f"{name} at x = ({', '.join(point)}), rho = {rho}",
                       context=ctx.name, precision=ctx.precision_label, expected=expected)
    x, r = z.objective.point(list(point), ctx), sam.check_rho(rho, ctx)
    gr = sam.gradient(z.objective, x, ctx)
    xp = x + r * gr.u
    _hypotheses(cert, z, x, xp, gr, ctx)
    cert.add_object("x", ctx.to_list(x))
    cert.add_object("rho", rho)
    cert.add_object("x_plus", ctx.to_list(xp), label="x+")
    return ctx, z.objective, cert, x, r, gr


def _untransposed_gradient(obj, x, r, gr, ctx):
    """Deliberately wrong: (I + rho Du) grad f(x+) instead of (I + rho Du)^T grad f(x+)."""
    w = obj.grad(x + r * gr.u, ctx)
    return w + r * sam.du_matvec(obj, x, w, ctx, gr)


def operators_certificate(name, point, rho, arith) -> Certificate:
    """Every derivative of f and every SAM operator against finite differences (verify.core.check)."""
    ctx, obj, cert, x, r, gr = _setup(name, point, rho, arith,
                                      "Every SAM operator vs finite differences")
    for claim in check.check_derivatives(obj, x, ctx) + check.check_sam_operators(obj, x, r, ctx):
        cert.add(claim)
    exact = sam.sam_gradient(obj, x, r, ctx)
    gap = ctx.norm(exact - _untransposed_gradient(obj, x, r, gr, ctx))
    allowance = max((ctx.to_float(ctx.scalar(c.bound)) for c in cert.claims
                     if c.id.startswith("grad_f_sam")), default=0.0)
    order, h, _ = check.fd_plan(ctx, x)
    cert.add_object("grad_fsam_exact", ctx.to_list(exact), label="grad f_SAM(x) exact")
    cert.add_object("step_h", h, label="difference step h")
    cert.add_object("stencil_order", order, label="stencil order")
    disc = cert.add(compare("discriminates", "the transpose matters here: ||(I + rho Du)^T w - "
                            "(I + rho Du) w|| exceeds the largest allowance of the gradient checks, so "
                            "they tell the two formulas apart", gap, ">", allowance, ctx))
    if disc.passed:
        paper_formula_finding(cert, obj, x, rho, gr, ctx)
    return cert.finish()


def paper_formula_finding(cert, obj, x, rho, gr, ctx) -> None:
    """The paper writes grad f_SAM(x) = (I + rho grad u(x)) grad f(x+) and says grad u is the
    Jacobian of u. The chain rule gives the Jacobian's transpose: d/dx_j f(x + rho u(x)) =
    sum_i (delta_ij + rho du_i/dx_j) w_i with w = grad f(x+), i.e. (I + rho Du)^T w. The two
    differ unless Du = P H / ||g|| is symmetric (H commuting with P = I - u u^T). Where they differ,
    both are compared with central differences of f_SAM along each axis: the transposed formula
    (the library's) agrees within the allowance, the paper's as written does not. ``rho`` as given
    (a decimal string stays exact in the differences' higher-precision reference context)."""
    rho_of = lambda c: sam.check_rho(rho, c)  # noqa: E731
    r = rho_of(ctx)
    paper, exact = _untransposed_gradient(obj, x, r, gr, ctx), sam.sam_gradient(obj, x, r, ctx)
    per_axis = []
    for i in range(obj.dim):
        e = ctx.zeros(obj.dim)
        e[i] = ctx.scalar(1)
        fd = check.directional_fd(lambda y, c: sam.sam_value(obj, y, rho_of(c), c), x, e, ctx)
        per_axis.append((check.fd_claim("p", "", paper[i], fd, x, ctx),
                         check.fd_claim("e", "", exact[i], fd, x, ctx)))
    worst = lambda k, attr: max((ctx.scalar(getattr(c[k], attr)) for c in per_axis),  # noqa: E731
                                key=ctx.to_float)
    allowance = worst(1, "bound")
    p = cert.add(compare("paper_formula_vs_fd", "the paper's formula as written, (I + rho Du) grad "
                         "f(x+) with Du the Jacobian, differs from the central differences of f_SAM "
                         "(largest error over the axes) by more than the allowance",
                         worst(0, "value"), ">", allowance, ctx))
    t = cert.add(compare("transposed_formula_vs_fd", "the transposed formula (I + rho Du)^T grad f(x+) "
                         "agrees with them (largest error over the axes)", worst(1, "value"), "<=",
                         allowance, ctx))
    J = sam.du_matrix(obj, x, ctx, gr)
    asym = ctx.to_float(ctx.norm((J - J.T).reshape(-1)))
    if p.passed and t.passed:
        cert.finding("Section 2, gradient of f_SAM", "grad f_SAM(x) = (I + rho grad u(x)) grad f(x+), "
                     "where grad u(x) denotes the Jacobian of u(x).",
                     f"The chain rule needs the transpose of the Jacobian: grad f_SAM = (I + rho Du)^T "
                     f"grad f(x+). Here ||Du - Du^T||_F = {asym:.3g}; against central differences of "
                     f"f_SAM the formula as written errs by {ctx.to_float(ctx.scalar(p.value)):.3g}, the "
                     f"transposed one by {ctx.to_float(ctx.scalar(t.value)):.3g} (allowance "
                     f"{ctx.to_float(allowance):.3g}, {ctx.precision_label}). The library implements the "
                     "transpose; the two coincide only where Du is symmetric (e.g. radial f).")


def transpose_control(name, point, rho, arith) -> Certificate:
    """Negative control: the untransposed gradient fed to the same finite-difference comparison."""
    ctx, obj, cert, x, r, gr = _setup(
        name, point, rho, arith, "Untransposed gradient (I + rho Du) grad f(x+) vs finite differences "
        "— must fail", expected=False)
    wrong = _untransposed_gradient(obj, x, r, gr, ctx)
    rho_of = lambda c: sam.check_rho(rho, c)  # noqa: E731
    for i in range(obj.dim):
        e = ctx.zeros(obj.dim)
        e[i] = ctx.scalar(1)
        fd = check.directional_fd(lambda y, c: sam.sam_value(obj, y, rho_of(c), c), x, e, ctx)
        cert.add(check.fd_claim(f"untransposed.e{i}", f"component {i} of (I + rho Du) grad f(x+) "
                                "equals the difference quotient of f_SAM", wrong[i], fd, x, ctx))
    return cert.finish()


def appendix_d_certificate(arith, figdir: pathlib.Path | None = None, quick: bool = False) -> Certificate:
    """Classification data of the hallucinated point (1.25, 0) of Appendix D at rho = 2.8."""
    ctx, obj, cert, x, r, gr = _setup("appendix_d", ("1.25", "0"), "2.8", arith,
                                      "Appendix D: a stationary point of f_SAM that is not critical for f")
    xp = x + r * gr.u
    target = obj.point(["-1.55", "0"], ctx)
    w = obj.grad(xp, ctx)
    gs = sam.sam_gradient(obj, x, r, ctx)
    eig = ctx.eigvalsh(sam.sam_hessian(obj, x, r, ctx))
    fxp = obj.value(xp, ctx)
    scale = 1 + r + ctx.norm(x)
    cert.add_object("grad_f", ctx.to_list(gr.g), label="grad f(x)")
    cert.add_object("grad_f_norm", gr.norm, label="||grad f(x)||")
    cert.add_object("f_x", obj.value(x, ctx), label="f(x)")
    cert.add_object("f_x_plus", fxp, label="f(x+)")
    cert.add_object("grad_f_x_plus", ctx.to_list(w), label="grad f(x+)")
    cert.add_object("grad_f_x_plus_norm", ctx.norm(w), label="||grad f(x+)||")
    cert.add_object("grad_fsam", ctx.to_list(gs), label="grad f_SAM(x)")
    cert.add_object("hess_fsam_eigenvalues", ctx.to_list(eig), label="eigenvalues of Hess f_SAM(x)")
    cert.add(compare("grad_norm", "||grad f(x)|| is about 0.247 (the paper's value, 3 digits)",
                     gr.norm, "==", "0.247", ctx, tol=ctx.scalar("0.0005")))
    cert.add(compare("not_critical", "x is not a critical point of f: ||grad f(x)|| > 0.1", gr.norm, ">",
                     "0.1", ctx))
    cert.add(compare("x_plus", "x+ = x + rho u(x) is the minimizer (-1.55, 0) of f",
                     ctx.norm(xp - target), "<=", ctx.tol(scale), ctx))
    cert.add(compare("f_x_plus", "f(x+) = 0, the global minimum value of f", fxp, "==", 0, ctx,
                     tol=ctx.tol(scale)))
    cert.add(compare("shifted_gradient", "||grad f(x+)|| vanishes (to roundoff)", ctx.norm(w), "<=",
                     ctx.tol(scale * 4), ctx))
    cert.add(compare("sam_stationary", "grad f_SAM(x) = (I + rho Du)^T grad f(x+) vanishes: x is "
                     "stationary for SAM", ctx.norm(gs), "<=", ctx.tol(scale * 16), ctx))
    cert.add(compare("hessian_psd", "the Hessian of f_SAM at x is positive semidefinite (smallest "
                     "eigenvalue >= 0 up to roundoff)", eig[0], ">=", 0, ctx,
                     tol=ctx.tol(scale * 64)))
    cert.add(compare("hessian_positive", "its largest eigenvalue is positive", eig[-1], ">", 0, ctx))
    if figdir is not None:
        from verify.report import figures
        ts = np.linspace(-0.6, 0.6, 60)
        curve = np.c_[-1.55 * np.cos(ts / 1.5), ts]
        name = figures.landscape_figure(
            obj, 2.8, pathlib.Path(figdir) / "appendix_d_rho2.8.png", box=((-4, 4), (-4, 4)),
            n=121 if quick else 241, field_n=21 if quick else 29,
            curves={"minimizers of f": curve},
            marks={"x = (1.25, 0): stationary for f_SAM": [[1.25, 0.0]],
                   "x+ = (-1.55, 0): minimizer of f": [[ctx.to_float(v) for v in ctx.to_list(xp)]]},
            suptitle="Appendix D, rho = 2.8: f, f_SAM and the field -grad f(x+)")
        cert.figures.append(name)
    return cert.finish()


def fd_convergence_figure(name, point, rho, figdir: pathlib.Path) -> str:
    """Illustration in float64: the error of a plain two-point central difference against h, for the
    exact and the untransposed gradient (slope 2, then rounding takes over)."""
    ctx = get_context("float64")
    obj = zoo.get(name).objective
    x, r = obj.point(list(point), ctx), float(rho)
    gr = sam.gradient(obj, x, ctx)
    exact = sam.sam_gradient(obj, x, r, ctx)
    wrong = _untransposed_gradient(obj, x, r, gr, ctx)
    hs = np.logspace(-12, -1, 34)
    errs, errs_wrong = [], []
    for h in hs:
        D = np.array([(sam.sam_value(obj, x + h * e, r, ctx) - sam.sam_value(obj, x - h * e, r, ctx))
                      / (2 * h) for e in np.eye(obj.dim)])
        errs.append(np.max(np.abs(D - exact)))
        errs_wrong.append(np.max(np.abs(D - wrong)))
    from verify.report import figures
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
            cert = operators_certificate(name, point, rho, arith)
            if i == 0 and arith is ARITHMETICS[0] and figdir is not None:
                cert.figures.append(fd_convergence_figure(name, point, rho, figdir))
            certs.append(cert)
    for name, point, rho in cases[:1] if quick else cases[:2]:
        for arith in ARITHMETICS:
            certs.append(transpose_control(name, point, rho, arith))
    return certs


# -- uniform entry point (theorems.REGISTRY) --------------------------------------------------------
EXAMPLES = GRADIENT_CASES


def certify(objective: str, x, rho, ctx=None) -> Certificate:
    """Every derivative and SAM operator of the zoo function ``objective`` at ``x`` (decimal
    strings) against finite differences, in ``ctx`` (default float64)."""
    return operators_certificate(objective, tuple(x), rho, (ctx or "float64", {}))
