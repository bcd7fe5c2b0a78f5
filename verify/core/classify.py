"""Classify a point x for a radius rho.

Kinds, decided in this order:

* ``minimizer`` — grad f(x) ~ 0 and the Hessian of f is positive semidefinite (second order);
* ``critical_point`` — grad f(x) ~ 0 otherwise (``subkind`` maximizer or saddle);
* ``hallucinated_minimizer`` — grad f(x) != 0, grad f(x+) ~ 0, and x is a local minimizer of f_SAM:
  the exact Hessian of f_SAM is positive semidefinite, no sampled point near x has a smaller f_SAM,
  and (when f_SAM's Hessian is singular, as on a manifold of such points) x+ is itself a minimizer
  of f to second order — the route of Corollary A.6: f_SAM(y) = f(y+) >= f(x+) for y near x;
* ``sam_stationary`` — grad f(x+) ~ 0 but x is not a local minimizer of f_SAM;
* ``not_stationary`` — neither.

"~ 0" means at most ``tol``, by default sqrt(eps) * max(1, ||grad f(x)||) with eps the context's unit
roundoff (the square root allows for input points given to about half the working digits); the
tolerance used is part of the result.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import sam
from ..errors import PrecisionError


@dataclass
class Classification:
    kind: str
    subkind: str
    x: list
    rho: str
    f: str
    grad_norm: str
    shifted_grad_norm: str | None = None
    grad_ratio: str | None = None
    loss_gap: str | None = None
    f_sam: str | None = None
    x_plus: list | None = None
    hess_f_eigenvalues: list = field(default_factory=list)
    hess_f_at_x_plus_eigenvalues: list = field(default_factory=list)
    hess_f_sam_eigenvalues: list = field(default_factory=list)
    sampled_min_increase: str | None = None
    tol: str = ""
    context: str = ""
    precision: str = ""
    reasons: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    def __str__(self) -> str:
        lines = [f"kind: {self.kind}" + (f" ({self.subkind})" if self.subkind else ""),
                 f"  ||grad f(x)||  = {self.grad_norm}"]
        if self.shifted_grad_norm is not None:
            lines += [f"  ||grad f(x+)|| = {self.shifted_grad_norm}",
                      f"  GradRatio      = {self.grad_ratio}", f"  LossGap        = {self.loss_gap}",
                      f"  x+             = {self.x_plus}"]
        lines += [f"  tolerance {self.tol} ({self.context}, {self.precision})"]
        lines += [f"  - {r}" for r in self.reasons]
        return "\n".join(lines)


def default_tol(ctx, scale: float = 1.0):
    """The ``sampling`` tier (sqrt(eps)) times max(1, scale): ~ 0 is read from computed values."""
    return ctx.tol(max(1.0, scale), tier="sampling")


def classify(obj, x, rho, ctx, tol=None, samples: int = 64, seed: int = 0) -> Classification:
    x = obj.point(x, ctx)
    rho = sam.check_rho(rho, ctx)
    g = ctx.check_finite(obj.grad(x, ctx), "grad f(x)")
    gn = ctx.norm(g)
    if tol is not None:
        ctx.require_tol(tol, "classification tolerance")
        tol = ctx.scalar(tol)
    else:
        tol = default_tol(ctx, ctx.to_float(gn))
    s = ctx.to_str
    out = Classification("", "", [s(v) for v in x], s(rho), s(obj.value(x, ctx)), s(gn),
                         tol=s(tol), context=ctx.name, precision=ctx.precision_label)
    if ctx.to_float(gn) <= ctx.to_float(tol):
        eig = ctx.eigvalsh(obj.hess(x, ctx))
        out.hess_f_eigenvalues = [s(e) for e in eig]
        psd = ctx.to_float(eig[0]) >= -ctx.to_float(tol)
        out.kind = "minimizer" if psd else "critical_point"
        out.subkind = "" if psd else ("maximizer" if ctx.to_float(eig[-1]) < -ctx.to_float(tol)
                                      else "saddle")
        out.reasons.append(f"||grad f(x)|| <= tol; Hessian eigenvalues {out.hess_f_eigenvalues}")
        return out
    d = sam.diagnostics(obj, x, rho, ctx)
    out.shifted_grad_norm, out.grad_ratio, out.loss_gap = (s(d.shifted_grad_norm), s(d.grad_ratio),
                                                          s(d.loss_gap))
    out.f_sam, out.x_plus = s(d.f_sam), [s(v) for v in d.x_plus]
    if ctx.to_float(d.shifted_grad_norm) > ctx.to_float(tol):
        out.kind = "not_stationary"
        out.reasons.append("||grad f(x+)|| > tol: the SAM step moves")
        return out
    local_min = _local_min_evidence(obj, x, rho, ctx, tol, d, out, samples, seed)
    out.kind = "hallucinated_minimizer" if local_min else "sam_stationary"
    return out


def _local_min_evidence(obj, x, rho, ctx, tol, d, out, samples, seed) -> bool:
    """Second-order and sampled evidence that x is a local minimizer of f_SAM."""
    tolf = ctx.to_float(tol)
    eig_plus = ctx.eigvalsh(obj.hess(d.x_plus, ctx))
    out.hess_f_at_x_plus_eigenvalues = [ctx.to_str(e) for e in eig_plus]
    x_plus_psd = ctx.to_float(eig_plus[0]) >= -tolf
    try:
        eig_sam = ctx.eigvalsh(sam.sam_hessian(obj, x, rho, ctx))
        out.hess_f_sam_eigenvalues = [ctx.to_str(e) for e in eig_sam]
        sam_psd = ctx.to_float(eig_sam[0]) >= -tolf
        sam_pd = ctx.to_float(eig_sam[0]) > tolf
    except NotImplementedError:
        sam_psd = sam_pd = None
    increase = _sampled_increase(obj, x, rho, ctx, d.f_sam, samples, seed)
    out.sampled_min_increase = ctx.to_str(increase)
    sampled_ok = ctx.to_float(increase) >= -tolf
    out.reasons.append(f"Hessian of f at x+ eigenvalues {out.hess_f_at_x_plus_eigenvalues} "
                       f"({'PSD' if x_plus_psd else 'indefinite'})")
    if sam_psd is not None:
        out.reasons.append(f"Hessian of f_SAM eigenvalues {out.hess_f_sam_eigenvalues} "
                           f"({'PD' if sam_pd else 'PSD' if sam_psd else 'indefinite'})")
    out.reasons.append(f"min over {samples} sampled neighbours of f_SAM(y) - f_SAM(x) = "
                       f"{out.sampled_min_increase}")
    if sam_pd:
        out.subkind = "isolated (Hessian of f_SAM positive definite)"
    elif x_plus_psd and sampled_ok:
        out.subkind = "non-isolated: x+ is a minimizer of f (Corollary A.6 route)"
    return bool(sampled_ok and (sam_pd or (x_plus_psd and sam_psd is not False)))


def _sampled_increase(obj, x, rho, ctx, f0, samples, seed):
    rng = np.random.default_rng(seed)
    scale = max(1.0, ctx.to_float(ctx.norm(x)))
    worst = None
    for k in range(samples):
        r = scale * 10.0 ** (-2 - (k % 3))
        v = rng.standard_normal(obj.dim)
        v = ctx.vector([float(c) for c in r * v / np.linalg.norm(v)])
        diff = sam.sam_value(obj, x + v, rho, ctx) - f0
        worst = diff if worst is None or ctx.to_float(diff) < ctx.to_float(worst) else worst
    return worst


__all__ = ["classify", "Classification", "default_tol", "PrecisionError"]
