"""Charts of a minimizer manifold M: phi: R^m -> R^d with its Jacobian Dphi, compiled in one
context, and the parameter t with phi(t) = x_star. Theorem 3.1 traces its hallucinated manifold
over a chart; Theorem 3.2, Appendix D and the rho threshold walk the same charts."""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Callable

import sympy as sp

from ..objectives.expr import as_expr, compile_expr


@dataclass
class Chart:
    """phi: R^m -> R^d parametrizing M, compiled in one context, with its Jacobian Dphi (d x m)."""
    m: int
    phi: Callable
    dphi: Callable
    source: str


def zoo_chart(zf, ctx) -> Chart | None:
    """The chart of a zoo function's recorded minimizer manifold, or None if it records none."""
    if zf.minimizer_manifold is None:
        return None
    m = zf.manifold_dim
    ts = sp.symbols(f"t0:{m}", real=True)
    comps = [as_expr(c, [t.name for t in ts]) for c in zf.minimizer_manifold(ts)]
    fns = [compile_expr(c, ts, ctx) for c in comps]
    dfns = [[compile_expr(sp.diff(c, t), ts, ctx) for t in ts] for c in comps]
    phi = lambda t: ctx.stack([fn(t) for fn in fns])  # noqa: E731
    dphi = lambda t: ctx.stack([ctx.stack([g(t) for g in row]) for row in dfns])  # noqa: E731
    return Chart(m, phi, dphi, f"zoo parametrization of {zf.name}")


def chart_parameter(chart: Chart, x_star, ctx, span: float = math.pi, n: int = 121):
    """t with phi(t) = x_star: a float grid proposal refined by Gauss-Newton in ctx."""
    best, t_best = math.inf, None
    axis = [-span + 2 * span * i / (n - 1) for i in range(n)] if chart.m == 1 else \
        [-span + 2 * span * i / 40 for i in range(41)]
    xs = [ctx.to_float(v) for v in ctx.to_list(x_star)]
    for t in itertools.product(axis, repeat=chart.m):
        p = [ctx.to_float(v) for v in ctx.to_list(chart.phi(ctx.vector(list(t))))]
        r = sum((a - b) ** 2 for a, b in zip(p, xs))
        if r < best:
            best, t_best = r, t
    t = ctx.vector(list(t_best))
    for _ in range(60):
        J = chart.dphi(t)
        r = x_star - chart.phi(t)
        step = ctx.solve(J.T @ J, J.T @ r)
        t = t + step
        if ctx.to_float(ctx.norm(step)) <= 16 * ctx.eps * max(1.0, ctx.to_float(ctx.norm(t))):
            break
    return t
