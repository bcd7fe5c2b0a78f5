"""Kim et al. (2023), Theorem 1: saddle points can attract the unnormalized SAM flow.

Statement (our words). Let d be a critical point of f whose Hessian H = Q diag(lambda_j) Q^T has no
zero eigenvalue. The unnormalized SAM (USAM) vector field is w -> -grad f(w + rho grad f(w)); its
Jacobian at d is -H (I + rho H) = -Q diag(lambda_j + rho lambda_j^2) Q^T. If
lambda_j + rho lambda_j^2 > 0 for every j — automatic for lambda_j > 0, and equivalent to
rho > -1/lambda_j for lambda_j < 0 — the linearization is a strict sink and d attracts the USAM flow,
although plain gradient flow is repelled from it along the negative directions. For the discrete
iteration with step eta one also needs eta (lambda_j + rho lambda_j^2) < 2 for every j.

Contrast with the main paper: a saddle is a critical point of f, while a hallucinated minimizer is
not; the normalized SAM map is not even defined at a saddle (u needs grad f != 0).

Checks, on Kim's example x^2 - y^2 (eigenvalues 2, -2, threshold rho = 1/2) and on Beale's function
(saddle (0, 1), eigenvalues +-111/4, threshold rho = 4/111):

* hypotheses: d is critical, hyperbolic (no zero eigenvalue), and a saddle;
* the Jacobian of the USAM direction at d, from the library's exact operators, has the eigenvalues
  lambda_j + rho lambda_j^2 (Kim's formula), all positive for rho above the threshold;
* a USAM run started next to d (off its stable manifold) converges to d, while plain GD from the
  same start moves away;
* negative control: for rho below the threshold the same claims fail (USAM escapes too).
"""
from __future__ import annotations

import pathlib

from verify import sam, zoo
from verify.core.claims import boolean, compare
from verify.ctx import get_context
from verify.core.iterate import run
from verify.core.results import Certificate

THEOREM = "Kim et al. Thm 1"
TITLE = "Saddle points attract unnormalized SAM when rho > -1/lambda_min"
ORDER = 7.0

# (zoo name, saddle, start next to it, rho above threshold, rho below threshold, step size, steps)
CASES = [("kim_saddle", ("0", "0"), ("-0.3", "-0.01"), "1", "0.3", 0.02, 1500),
         ("beale", ("0", "1"), ("0.002", "0.99"), "0.1", "0.02", 0.002, 3000)]


def usam_jacobian(obj, d, rho, ctx):
    """Jacobian of w -> grad f(w + rho grad f(w)): H(w+)(I + rho H(w))."""
    H = obj.hess(d, ctx)
    return obj.hess(sam.usam_point(obj, d, rho, ctx), ctx) @ (ctx.eye(obj.dim) + rho * H)


def certify(name: str, saddle, start, rho, eta: float, steps: int, ctx=None,
            expected: bool = True) -> Certificate:
    ctx = ctx or get_context("mpmath", dps=30)
    z = zoo.get(name)
    obj = z.objective
    label = f"{name}, saddle {tuple(saddle)}, rho = {rho}"
    cert = Certificate(THEOREM, TITLE, label if expected else f"negative control: {label}",
                       statement=__doc__.split("\n\n")[1], context=ctx.name,
                       precision=ctx.precision_label, expected=expected)
    d = obj.point(saddle, ctx)
    rho_c = sam.check_rho(rho, ctx)
    tol = ctx.tol(10, units=64)
    # -- hypotheses ---------------------------------------------------------------------------------
    gnorm = ctx.norm(obj.grad(d, ctx))
    eig = ctx.eigvalsh(obj.hess(d, ctx))
    cert.hypothesis("critical", "d is a critical point of f", ctx.to_float(gnorm) <= ctx.to_float(tol),
                    f"||grad f(d)|| = {ctx.to_str(gnorm)}")
    cert.hypothesis("hyperbolic", "no Hessian eigenvalue at d is zero",
                    all(ctx.to_float(ctx.abs(e)) > ctx.to_float(tol) for e in eig),
                    f"eigenvalues {[ctx.to_str(e) for e in eig]}")
    cert.hypothesis("saddle", "d has eigenvalues of both signs",
                    ctx.to_float(eig[0]) < 0 < ctx.to_float(eig[-1]))
    # -- construction -------------------------------------------------------------------------------
    predicted = [e + rho_c * e * e for e in eig]
    measured = ctx.eigvalsh(usam_jacobian(obj, d, rho_c, ctx))  # symmetric at a critical point
    threshold = -1 / eig[0]
    cert.objects.update({"saddle": [ctx.to_str(v) for v in d], "rho": ctx.to_str(rho_c),
                         "hessian eigenvalues": [ctx.to_str(e) for e in eig],
                         "threshold -1/lambda_min": ctx.to_str(threshold),
                         "lambda + rho lambda^2": [ctx.to_str(p) for p in predicted]})
    # -- claims -------------------------------------------------------------------------------------
    for j, (m, p) in enumerate(zip(measured, sorted(predicted, key=ctx.to_float))):
        cert.add(compare(f"jacobian eigenvalue {j}", "eigenvalue of the USAM Jacobian at d equals "
                         "lambda + rho lambda^2 (Kim's formula)", m, "==", p, ctx, tol=tol * 100))
    cert.add(compare("sink", "every lambda_j + rho lambda_j^2 is positive (d attracts the flow)",
                     min(predicted, key=ctx.to_float), ">", 0, ctx))
    cert.add(compare("rho above threshold", "rho exceeds -1/lambda_min", rho_c, ">", threshold, ctx))
    cert.add(compare("discrete step", "eta * max_j (lambda_j + rho lambda_j^2) < 2, so the discrete "
                     "USAM map contracts too", ctx.scalar(repr(eta)) * max(predicted, key=ctx.to_float),
                     "<", 2, ctx))
    fp = get_context("float64")
    x0 = [float(s) for s in start]
    d_fp = obj.point(saddle, fp)
    usam = run(obj, x0, fp, "usam", rho=float(rho), eta=eta, steps=steps)
    gd = run(obj, x0, fp, "gd", eta=eta, steps=steps)
    dist0 = float(fp.norm(obj.point(x0, fp) - d_fp))
    dist_usam = float(fp.norm(usam.x - d_fp))
    dist_gd = float(fp.norm(gd.x - d_fp))
    cert.objects.update({"start": x0, "eta": eta, "steps": steps,
                         "USAM final distance to d": repr(dist_usam),
                         "GD final distance to d": repr(dist_gd)})
    cert.add(compare("USAM converges", "a USAM run started next to d ends much closer to d "
                     "(distance ratio final/initial)", dist_usam / dist0, "<", 1e-3, fp))
    cert.add(boolean("GD escapes", "plain GD from the same start moves away from d",
                     dist_gd > dist0, fp, f"GD distance {dist_gd:.3g} vs start {dist0:.3g}"))
    return cert.finish()


def report_certificates(quick: bool = False, figdir: pathlib.Path | None = None) -> list:
    certs = []
    for name, saddle, start, rho_hi, rho_lo, eta, steps in CASES[: 1 if quick else None]:
        certs.append(certify(name, saddle, start, rho_hi, eta, steps))
        certs.append(certify(name, saddle, start, rho_lo, eta, steps, expected=False))
    return certs
