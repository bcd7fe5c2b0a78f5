"""Classify a point x for a radius rho.

Kinds, decided in this order:

* ``minimizer`` — x is stationary (below) and the Hessian of f is positive semidefinite;
* ``critical_point`` — x is stationary otherwise (``subkind`` maximizer or saddle);
* ``near_stationary`` — ||grad f(x)|| is below the absolute tolerance, but not small against the
  curvature of f along it (below): no critical point lies within the point's accuracy, so none of
  the kinds above is claimed; the measured ratio is part of the result;
* ``hallucinated_minimizer`` — grad f(x) != 0, grad f(x+) ~ 0, and x is a local minimizer of f_SAM:
  the exact Hessian of f_SAM is positive semidefinite, no sampled point near x has a smaller f_SAM,
  and (when f_SAM's Hessian is singular, as on a manifold of such points) x+ is itself a minimizer
  of f to second order — the route of Corollary A.6: f_SAM(y) = f(y+) >= f(x+) for y near x;
* ``sam_stationary`` — grad f(x+) ~ 0 but x is not a local minimizer of f_SAM;
* ``not_stationary`` — neither.

"~ 0" means at most ``tol``, by default sqrt(eps) * max(1, ||grad f(x)||) with eps the context's unit
roundoff (the square root allows for input points given to about half the working digits); the
tolerance used is part of the result.

Stationarity rule (scale-relative). An absolute bound on ||grad f(x)|| alone calls every point of a
flat tail stationary (exp(x) + y^2 at x = -40 has ||grad f|| = 4e-18). x is *stationary* when
grad f(x) = 0, or when ||grad f(x)|| <= tol and a Newton step to a stationary point is at most the
point's accuracy a = sqrt(eps) * max(1, ||x||): the gradient is judged against the curvature of f
(its Hessian H) and the precision, not against 1. Two steps are measured and the shorter counts:
the step along the gradient line, ||grad f|| / |u^T H u| (u = grad f/||grad f||), and the full
least-squares step ||H^+ grad f|| (eigenvalues of H at most d eps ||H|| count as zero; a part of
grad f along them larger than sqrt(eps) ||grad f|| makes the step infinite) — the first sees a
degenerate minimizer like x^4 at x = 1e-9, the second a point next to a saddle whose gradient line
has no curvature. ``stationarity_ratio`` = step / a is reported (<= 1: stationary). For
exp(x) + y^2 at x = -40 both steps have length 1 and the ratio is 1/(1.05e-8 * 40) ~ 2.4e6.

Seams. For a piecewise f (Piecewise, Abs, Max, Min, sign, Heaviside in the expression) the
second-order tests use the Hessian of the branch the evaluation picks; on a seam, where the
branches meet and the Hessian may jump, that is one side only. When x lies within
sqrt(eps) * max(1, ||x||) of a seam (distance |h(x)|/||grad h(x)|| for each switching function h),
a :class:`SeamWarning` is issued, ``on_seam`` is set and ``seams`` names them.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from . import sam
from ..errors import PrecisionError
from ..objectives.parse import parse_number
from ..validate import check_count


class SeamWarning(UserWarning):
    """The point lies on a seam of a piecewise f: second-order verdicts use a one-sided Hessian."""


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
    stationarity_ratio: str = ""
    stationarity_rule: str = ""
    on_seam: bool = False
    seams: list = field(default_factory=list)

    def to_dict(self) -> dict:
        from .results import SCHEMA_VERSION
        return {"schema_version": SCHEMA_VERSION, **self.__dict__}

    def certificate(self):
        """This classification as a :class:`~verify.core.results.Certificate` (the library's one
        result type): every field an object under its name, the decisive quantities labelled."""
        from .results import Certificate, object_key
        cert = Certificate("classify", "Classification of a point for a radius rho",
                           f"x = ({', '.join(self.x)}), rho = {self.rho}", context=self.context,
                           precision=self.precision)
        for key, value in self.__dict__.items():
            cert.add_object(object_key(key), value, label=_LABELS.get(key, ""))
        return cert.finish()

    def __str__(self) -> str:
        """Readable: 6 significant digits, whole vectors; ``to_dict`` keeps every digit."""
        from .display import in_text, number, tolerance, wrapped
        lines = [f"kind: {self.kind}" + (f" ({self.subkind})" if self.subkind else ""),
                 f"  ||grad f(x)||  = {number(self.grad_norm)}"]
        if self.shifted_grad_norm is not None:
            lines += [f"  ||grad f(x+)|| = {number(self.shifted_grad_norm)}",
                      f"  GradRatio      = {number(self.grad_ratio)}",
                      f"  LossGap        = {number(self.loss_gap)}",
                      wrapped("x+            ", [str(v) for v in self.x_plus])]
        lines += [f"  tolerance {tolerance(self.tol)} ({self.context}, {self.precision})"]
        if self.stationarity_ratio:
            lines += [f"  stationarity ratio {number(self.stationarity_ratio)} (<= 1: stationary; "
                      f"{self.stationarity_rule})"]
        if self.on_seam:
            lines += [f"  WARNING: on a seam of f ({'; '.join(self.seams)}): second-order "
                      "verdicts use a one-sided Hessian"]
        lines += [f"  - {in_text(str(r))}" for r in self.reasons]
        return "\n".join(lines)


_LABELS = {"grad_norm": "||grad f(x)||", "shifted_grad_norm": "||grad f(x+)||",
           "grad_ratio": "GradRatio", "loss_gap": "LossGap", "f_sam": "f_SAM(x)", "x_plus": "x+"}


def default_tol(ctx, scale: float = 1.0):
    """The ``sampling`` tier (sqrt(eps)) times max(1, scale): ~ 0 is read from computed values."""
    return ctx.tol(max(1.0, scale), tier="sampling")


def classify(obj, x, rho, ctx, tol=None, samples: int = 64, seed: int = 0) -> Classification:
    samples = check_count(samples, "samples")
    x = obj.point(x, ctx)
    rho = sam.check_rho(rho, ctx)
    g = ctx.check_finite(obj.grad(x, ctx), "grad f(x)")
    gn = ctx.norm(g)
    if tol is not None:
        tol = parse_number(tol, "tol") if isinstance(tol, str) else tol  # '1e-8', '1/1000'
        ctx.require_tol(tol, "classification tolerance")
        tol = ctx.scalar(tol)
    else:
        tol = default_tol(ctx, ctx.to_float(gn))
    s = ctx.to_str
    out = Classification("", "", [s(v) for v in x], s(rho), s(obj.value(x, ctx)), s(gn),
                         tol=s(tol), context=ctx.name, precision=ctx.precision_label)
    _flag_seams(obj, x, ctx, out)
    if ctx.to_float(gn) <= ctx.to_float(tol):
        H = obj.hess(x, ctx)
        eig = ctx.eigvalsh(H)
        out.hess_f_eigenvalues = [s(e) for e in eig]
        psd = ctx.to_float(eig[0]) >= -ctx.to_float(tol)
        shape = "" if psd else ("maximizer" if ctx.to_float(eig[-1]) < -ctx.to_float(tol) else "saddle")
        if not _stationary(x, g, gn, H, ctx, out):
            out.kind, out.subkind = "near_stationary", "Hessian " + ("PSD" if psd else "indefinite")
            out.reasons.append(f"||grad f(x)|| <= tol, but not against the curvature along grad f "
                               f"(ratio {out.stationarity_ratio} > 1): no critical point within the "
                               f"point's accuracy; Hessian eigenvalues {out.hess_f_eigenvalues}")
            return out
        out.kind = "minimizer" if psd else "critical_point"
        out.subkind = shape
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
    _flag_seams(obj, d.x_plus, ctx, out, "x+")
    local_min = _local_min_evidence(obj, x, rho, ctx, tol, d, out, samples, seed)
    out.kind = "hallucinated_minimizer" if local_min else "sam_stationary"
    return out


STATIONARITY_RULE = ("stationary iff grad f = 0, or ||grad f|| <= tol and a Newton step (along grad f, "
                     "||grad f|| / |u^T Hess f u|, or the least-squares step ||Hess f^+ grad f||) is "
                     "<= sqrt(eps) max(1, ||x||)")


def _stationary(x, g, gn, H, ctx, out) -> bool:
    """The scale-relative rule of the module docstring; records the ratio and the rule in ``out``."""
    out.stationarity_rule = STATIONARITY_RULE
    gnf = ctx.to_float(gn)
    if gnf == 0:
        out.stationarity_ratio = "0"
        return True
    u = g / gn
    curvature = abs(ctx.to_float(u @ H @ u))
    along = gnf / curvature if curvature > 0 else math.inf
    accuracy = ctx.to_float(default_tol(ctx, ctx.to_float(ctx.norm(x))))
    ratio = min(along, _least_squares_step(g, gnf, H, ctx)) / accuracy
    out.stationarity_ratio = f"{ratio:.3g}"
    return ratio <= 1


def _least_squares_step(g, gnf, H, ctx) -> float:
    """||H^+ g|| with eigenvalues at most d eps ||H|| taken as zero; infinite when g has a part
    larger than sqrt(eps) ||g|| along them (no step explains it)."""
    lam, Q = ctx.eigh(H)
    lam = [ctx.to_float(v) for v in ctx.to_list(lam)]
    coef = [ctx.to_float(v) for v in ctx.to_list(Q.T @ g)]
    cutoff = len(lam) * ctx.eps * max(abs(v) for v in lam)
    step2 = sum((c / v) ** 2 for c, v in zip(coef, lam) if abs(v) > cutoff)
    rest = math.sqrt(sum(c * c for c, v in zip(coef, lam) if abs(v) <= cutoff))
    return math.sqrt(step2) if rest <= math.sqrt(ctx.eps) * gnf else math.inf


# -- seams of a piecewise f -------------------------------------------------------------------------
def switching_functions(expr) -> list:
    """Expressions h whose zero sets are the seams of a piecewise expression: lhs - rhs of every
    Piecewise condition, the arguments of Abs, sign and Heaviside, differences of Max/Min args."""
    out = []
    for pw in expr.atoms(sp.Piecewise):
        for _, cond in pw.args:
            out += [r.lhs - r.rhs for r in cond.atoms(sp.core.relational.Relational)]
    for fn in (sp.Abs, sp.sign, sp.Heaviside):
        out += [a.args[0] for a in expr.atoms(fn)]
    for fn in (sp.Max, sp.Min):
        for m in expr.atoms(fn):
            out += [a - b for i, a in enumerate(m.args) for b in m.args[i + 1:]]
    return list(dict.fromkeys(h for h in out if h.free_symbols))


def seams_near(obj, x, ctx, radius) -> list[str]:
    """The seams h = 0 of a piecewise sympy objective within ``radius`` of x (distance estimated by
    |h(x)| / ||grad h(x)||). Objectives without an expression report none."""
    from ..objectives.expr import compile_expr
    if getattr(obj, "is_analytic", True) or not hasattr(obj, "expr"):
        return []
    found = []
    for h in switching_functions(obj.expr):
        value = abs(ctx.to_float(compile_expr(h, obj.symbols, ctx)(x)))
        slope = math.sqrt(sum(ctx.to_float(compile_expr(sp.diff(h, v), obj.symbols, ctx)(x)) ** 2
                              for v in obj.symbols))
        distance = value / slope if slope > 0 else (0.0 if value == 0 else math.inf)
        if distance <= radius:
            found.append(f"{h} = 0 (distance {distance:.2g})")
    return found


def _flag_seams(obj, x, ctx, out, where: str = "x") -> None:
    """Seams near ``where`` (x, or x+ whose Hessian the f_SAM verdicts use): flag and warn."""
    radius = ctx.to_float(default_tol(ctx, ctx.to_float(ctx.norm(x))))
    found = [f"{where}: {s}" for s in seams_near(obj, x, ctx, radius)]
    if found:
        out.seams += found
        out.on_seam = True
        warnings.warn(f"{where} = {[ctx.to_str(v) for v in x]} lies on a seam of f "
                      f"({'; '.join(found)}): the Hessian used for the second-order verdicts is "
                      "that of one side", SeamWarning, stacklevel=3)


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
    local_min = bool(sampled_ok and (sam_pd or (x_plus_psd and sam_psd is not False)))
    if local_min:          # the route that showed it; a refuted point keeps subkind ""
        out.subkind = ("isolated (Hessian of f_SAM positive definite)" if sam_pd else
                       "non-isolated: x+ is a minimizer of f (Corollary A.6 route)")
    return local_min


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


__all__ = ["classify", "Classification", "SeamWarning", "default_tol", "seams_near", "PrecisionError"]
