"""Kim et al. (2023), Theorem 1 in full: saddles and maxima attract the unnormalized SAM flow.

Statement (our words). Let d be a critical point of f whose Hessian H = Q diag(lambda_j) Q^T has no
zero eigenvalue and k >= 1 negative ones (an index-k saddle, or a maximum when k = n). The unnormalized
SAM (USAM) vector field is w -> -grad f(w + rho grad f(w)); its Jacobian at d is
-H (I + rho H) = -Q diag(lambda_j + rho lambda_j^2) Q^T. If lambda_j + rho lambda_j^2 > 0 for every j
— automatic for lambda_j > 0, and equivalent to rho > -1/lambda_j for lambda_j < 0, so
rho > max over negative lambda_j of -1/lambda_j (the paper's condition (10), stated for index one as
rho > -1/lambda_1) — d is a strict sink of the USAM flow, although gradient flow is repelled from it
along every negative direction.

The discrete iteration w <- w - eta grad f(w + rho grad f(w)) is a separate statement: its Jacobian at
d is I - eta H (I + rho H), which contracts iff 0 < eta (lambda_j + rho lambda_j^2) < 2 for every j.
The continuous condition can hold while the discrete one fails (eta too large): the flow is attracted,
the iteration is not. Both are checked, as separate claims.

Contrast with the main paper: a saddle is a critical point of f, while a hallucinated minimizer is
not; the normalized SAM map is not even defined at a saddle (u needs grad f != 0).

Checks, on Kim's x^2 - y^2 (eigenvalues 2, -2; also from Figure 5's start (-3, -0.01) with
rho = 1), Beale's saddle (0, 1) (eigenvalues +-111/4), an index-2 saddle of x^2 - y^2 - 2 z^2 in
three dimensions (threshold 1/2, set by the negative eigenvalue nearest 0), the maximum of the
3-D ring (r^2 - 1)^2 (index 3) and the one-dimensional double well's maximum (d = 1):

* hypotheses: d is critical, hyperbolic (no zero eigenvalue), and has k >= 1 negative eigenvalues;
* the Jacobian of the USAM direction at d, from the library's exact operators, has the eigenvalues
  lambda_j + rho lambda_j^2; all positive (continuous condition) for rho above the threshold;
* the discrete map's spectral radius max_j |1 - eta (lambda_j + rho lambda_j^2)| is below 1;
* a USAM run started next to d (off its stable manifold) converges to d within the stated number of
  steps (a finite horizon), while plain GD from the same start moves away;
* negative controls: rho below the threshold (both conditions and the run fail), and a step size
  above the discrete bound with rho above the threshold (the continuous claim still holds, the
  discrete claim and the run fail).

Figure 6: the smaller of lambda_j + rho lambda_j^2 over a grid around Beale's saddle, with the set
where it is positive; the claim is that it is positive on a disc around the saddle for rho above the
threshold (and not for rho below it).
"""
from __future__ import annotations

import pathlib

import numpy as np
import sympy as sp

from verify import sam, zoo
from verify.core.claims import boolean, compare
from verify.core.iterate import run
from verify.core.results import Certificate, renamed_keyword
from verify.ctx import get_context

from ._rivals import float_certificate
from verify.objectives.objective import SympyObjective

THEOREM = "Kim et al. Thm 1"
TITLE = "Saddles and maxima attract unnormalized SAM when rho > max -1/lambda_j over negative lambda_j"
ORDER = 7.0

# (label, zoo name or (expression, variables), critical point, start next to it, rho above the
#  threshold, rho below it, step size, steps)
CASES = [("kim_saddle", "kim_saddle", ("0", "0"), ("-0.3", "-0.01"), "1", "0.3", 0.02, 1500),
         ("Figure 5 start", "kim_saddle", ("0", "0"), ("-3", "-0.01"), "1", "0.3", 0.02, 1500),
         ("beale", "beale", ("0", "1"), ("0.002", "0.99"), "0.1", "0.02", 0.002, 3000),
         ("index-2 saddle, n = 3", ("x**2 - y**2 - 2*z**2", "x,y,z"), ("0", "0", "0"),
          ("0.1", "0.01", "-0.01"), "0.8", "0.4", 0.02, 2000),
         ("maximum of ring3 (index 3)", "ring3", ("0", "0", "0"), ("0.01", "-0.01", "0.005"),
          "0.5", "0.2", 0.01, 3000),
         ("maximum of the 1-D double well", ("(1 - t**2)**2", "t"), ("0",), ("0.01",), "0.5",
          "0.2", 0.01, 3000)]


def objective_of(source):
    """A zoo function by name, or a sympy objective from (expression, variables)."""
    if isinstance(source, str):
        return zoo.get(source).objective
    return SympyObjective(*source)


objective = objective_of  # its name before certify's first parameter took it


def threshold(eigenvalues, ctx):
    """max over negative lambda_j of -1/lambda_j: the smallest rho making every lambda + rho lambda^2 > 0."""
    return max((-1 / e for e in eigenvalues if ctx.to_float(e) < 0), key=ctx.to_float)


@renamed_keyword("source")
def certify(objective, point, start, rho, eta: float, steps: int, ctx=None, expected: bool = True,
            label: str | None = None) -> Certificate:
    """Kim et al.'s Theorem 1 at the critical point ``point`` of ``objective`` (a zoo name or an
    (expression, variables) pair, as :func:`objective_of` reads it)."""
    source = objective
    ctx = ctx or get_context("mpmath", dps=30)
    obj = objective_of(source)
    name = label or (source if isinstance(source, str) else source[0])
    text = f"{name}, critical point {tuple(point)}, rho = {rho}, eta = {eta}"
    cert = Certificate(THEOREM, TITLE, text if expected else f"negative control: {text}",
                       statement=__doc__.split("\n\n")[1], context=ctx.name,
                       precision=ctx.precision_label, expected=expected)
    d = obj.point(point, ctx)
    rho_c = sam.check_rho(rho, ctx)
    tol = ctx.tol(10, units=64)
    eig = _hypotheses(cert, obj, d, ctx, tol)
    if not cert.hypotheses_met:          # e.g. a minimum: no negative lambda_j, no threshold
        return cert.finish()
    predicted = [e + rho_c * e * e for e in eig]
    measured = ctx.eigvalsh(sam.usam_jacobian(obj, d, rho_c, ctx))  # symmetric at a critical point
    bound = threshold(eig, ctx)
    radius = max(abs(1 - ctx.scalar(repr(eta)) * p) for p in predicted)
    cert.add_object("critical_point", [ctx.to_str(v) for v in d], label="critical point")
    cert.add_object("rho", ctx.to_str(rho_c))
    cert.add_object("eta", eta)
    cert.add_object("hessian_eigenvalues", [ctx.to_str(e) for e in eig], label="hessian eigenvalues")
    cert.add_object("index_k", sum(ctx.to_float(e) < 0 for e in eig), label="index k (negative eigenvalues)")
    cert.add_object("threshold", ctx.to_str(bound), label="threshold max -1/lambda_j")
    cert.add_object("predicted_eigenvalues", [ctx.to_str(p) for p in predicted],
                    label="lambda + rho lambda^2")
    cert.add_object("spectral_radius", ctx.to_str(radius), label="discrete map spectral radius")
    for j, (m, p) in enumerate(zip(measured, sorted(predicted, key=ctx.to_float))):
        cert.add(compare(f"jacobian eigenvalue {j}", "eigenvalue of the USAM Jacobian at d equals "
                         "lambda + rho lambda^2 (Kim's formula)", m, "==", p, ctx, tol=tol * 100))
    cert.add(compare("sink", "continuous condition: every lambda_j + rho lambda_j^2 is positive "
                     "(d attracts the flow)", min(predicted, key=ctx.to_float), ">", 0, ctx))
    cert.add(compare("rho above threshold", "rho exceeds max -1/lambda_j over negative lambda_j",
                     rho_c, ">", bound, ctx))
    cert.add(compare("discrete step", "discrete condition: the USAM map's Jacobian at d, "
                     "I - eta H (I + rho H), has spectral radius < 1", radius, "<", 1, ctx))
    _runs(cert, obj, point, start, rho, eta, steps)
    return cert.finish()


def _hypotheses(cert, obj, d, ctx, tol):
    gnorm = ctx.norm(obj.grad(d, ctx))
    eig = ctx.eigvalsh(obj.hess(d, ctx))
    cert.hypothesis("critical", "d is a critical point of f", ctx.to_float(gnorm) <= ctx.to_float(tol),
                    f"||grad f(d)|| = {ctx.to_str(gnorm)}")
    cert.hypothesis("hyperbolic", "no Hessian eigenvalue at d is zero",
                    all(ctx.to_float(ctx.abs(e)) > ctx.to_float(tol) for e in eig),
                    f"eigenvalues {[ctx.to_str(e) for e in eig]}")
    cert.hypothesis("unstable for GD", "d has k >= 1 negative eigenvalues (a saddle, or a maximum "
                    "when k = n)", ctx.to_float(eig[0]) < 0)
    return eig


def _runs(cert, obj, point, start, rho, eta, steps) -> None:
    """The finite-horizon claim: USAM from the start ends next to d; GD from it moves away."""
    fp = get_context("float64")
    x0 = [float(s) for s in start]
    d_fp = obj.point(point, fp)
    usam = run(obj, x0, fp, "usam", rho=float(rho), eta=eta, steps=steps)
    gd = run(obj, x0, fp, "gd", eta=eta, steps=steps)
    dist0 = float(fp.norm(obj.point(x0, fp) - d_fp))
    dist_usam, dist_gd = (float(fp.norm(t.x - d_fp)) if np.all(np.isfinite(np.asarray(t.x, float)))
                          else float("inf") for t in (usam, gd))
    cert.add_object("start", x0)
    cert.add_object("steps", steps, label="steps (horizon)")
    cert.add_object("usam_final_distance", repr(dist_usam), label="USAM final distance to d")
    cert.add_object("gd_final_distance", repr(dist_gd), label="GD final distance to d")
    cert.add(compare("USAM converges", f"within {steps} steps a USAM run started next to d ends "
                     "much closer to d (distance ratio final/initial)", dist_usam / dist0, "<", 1e-3,
                     fp))
    cert.add(boolean("GD escapes", f"within {steps} steps plain GD from the same start moves away "
                     "from d", dist_gd > dist0, fp, f"GD distance {dist_gd:.3g} vs start {dist0:.3g}"))


# -- Figure 6 ---------------------------------------------------------------------------------------
def eigen_map(source, rho: float, box, n: int = 161):
    """min_j (lambda_j + rho lambda_j^2) of the Hessian on an n x n grid (vectorised, closed form
    for 2 x 2 symmetric matrices)."""
    obj = objective_of(source)
    hess = sp.lambdify(obj.symbols, sp.hessian(obj.expr, obj.symbols), "numpy")
    X, Y = np.meshgrid(np.linspace(*box[0], n), np.linspace(*box[1], n))
    H = np.asarray(hess(X, Y), dtype=object)
    a, b, c = (np.broadcast_to(np.asarray(H[i][j], float), X.shape) for i, j in ((0, 0), (0, 1), (1, 1)))
    mid, rad = (a + c) / 2, np.sqrt(((a - c) / 2) ** 2 + b ** 2)
    lam = np.stack([mid - rad, mid + rad])
    return X, Y, np.min(lam + rho * lam ** 2, axis=0)


def certify_figure6(rho: float = 0.1, radius: float = 0.05, figdir=None, expected: bool = True,
                    n: int = 161) -> Certificate:
    fp = get_context("float64")
    label = f"Beale, rho = {rho}, disc of radius {radius} around the saddle (0, 1), {n} x {n} grid"
    cert = float_certificate(THEOREM, TITLE, label, __doc__.split("\n\n")[-1], expected)
    X, Y, M = eigen_map("beale", rho, ((-radius, radius), (1 - radius, 1 + radius)), n)
    disc = X ** 2 + (Y - 1) ** 2 <= radius ** 2
    worst = float(M[disc].min())
    cert.add_object("min_over_disc", repr(worst),
                    label="min over the disc of min_j (lambda_j + rho lambda_j^2)")
    cert.add_object("grid_points", int(disc.sum()), label="grid points in the disc")
    cert.add(compare("positive near the saddle", "min_j (lambda_j + rho lambda_j^2) > 0 at every grid "
                     "point of the disc", worst, ">", 0, fp))
    if figdir is not None:
        cert.figures.append(_figure6(pathlib.Path(figdir), rho))
    return cert.finish()


def _figure6(figdir, rho) -> str:
    from verify.report import figures as FG
    X, Y, M = eigen_map("beale", rho, ((-4.5, 4.5), (-4.5, 4.5)), 241)
    fig, axes = FG.new_figure(2, 1)
    FG.contour(axes[0, 0], X, Y, np.sign(M) * np.log10(1 + np.abs(M)),
               title=f"m = min_j lambda_j + rho lambda_j^2, rho = {rho}", label="sign(m) log10(1 + |m|)")
    axes[0, 1].contourf(X, Y, (M > 0).astype(float), levels=[-0.5, 0.5, 1.5], colors=["#d62728", "#2ca02c"])
    axes[0, 1].set_title("green: both lambda_j + rho lambda_j^2 > 0", fontsize=10)
    for ax in axes[0]:
        ax.plot([0], [1], "k+", ms=12)
        ax.plot([3], [0.5], "y*", ms=12)
        ax.set_aspect("equal")
        ax.set_xlabel("w1")
        ax.set_ylabel("w2")
    return FG.save(fig, figdir / f"kim_fig6_rho{rho}.png")


def report_certificates(quick: bool = False, figdir: pathlib.Path | None = None) -> list:
    certs = []
    for label, source, point, start, rho_hi, rho_lo, eta, steps in CASES[: 3 if quick else None]:
        certs.append(certify(source, point, start, rho_hi, eta, steps, label=label))
        certs.append(certify(source, point, start, rho_lo, eta, steps, expected=False, label=label))
    label, source, point, start, rho_hi, _, _, _ = CASES[0]
    certs.append(certify(source, point, start, rho_hi, 0.5, 50, expected=False,
                         label=f"{label}, step above the discrete bound"))
    certs.append(certify_figure6(0.1, figdir=figdir))
    certs.append(certify_figure6(0.02, expected=False))
    return certs


# -- uniform entry point (theorems.REGISTRY) --------------------------------------------------------
EXAMPLES = CASES
