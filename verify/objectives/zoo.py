"""A zoo of analytic test functions with documented critical structure.

Each :class:`ZooFunction` records, besides the expression, what is known about it: its minimizers
(isolated points, or a manifold with a parametrization and its dimension), its local maximizers
(isolated points or a set), saddles, convexity and smoothness. Critical points that have no closed
form are stored as starting guesses and refined by Newton at the requested precision
(:func:`ZooFunction.critical`). ``tests/test_zoo.py`` checks every recorded fact.

Functions (in the notation s = x^2 + y^2 [+ z^2]):

* ``appendix_d`` — the paper's 2-D example (Appendix D); piecewise, only C^1. Minimizer curve
  x = -1.55 cos(y/1.5), |y| <= 0.6, value 0; a local maximizer on the positive x side.
* ``ring`` — (s - 1)^2: unit circle of minimizers (value 0), isolated maximizer at 0 (value 1).
* ``elliptic_ring`` — (x^2/a^2 + y^2/b^2 - 1)^2 with a = 1.5, b = 1: an ellipse of minimizers.
* ``ring3`` — the 3-D ring: unit sphere of minimizers (m = 2), maximizer at 0.
* ``tilted_ring`` — (s - 1)^2 + x/5: the ring tilted so that the global minimizer is an isolated
  point near (-1.024, 0); isolated maximizer near (0.050, 0); saddle near (0.974, 0).
* ``tilted_ring3`` — the same tilt in 3-D.
* ``circle_max`` — s^3/3 - 2 s^2 + 3 s: a circle of local maximizers (r = 1, value 4/3), an
  isolated minimizer at 0 and a circle of minimizers r = sqrt 3, both of value 0.
* ``double_well2`` — (x^2 - 1)^2 + (y^2 - 1)^2: four minimizers (+-1, +-1), maximizer at 0,
  saddles at (+-1, 0), (0, +-1).
* ``kim_saddle`` — x^2 - y^2 (Kim et al.): a saddle at 0, no minimizer.
* ``beale`` — the Beale function: global minimizer (3, 1/2), value 0.
* ``parabola_well`` — (mu - theta^2)^2: minimizers on the parabola mu = theta^2 (m = 1).
* ``convex_lse`` / ``convex_lse3`` — log-sum-exp plus a quadratic: strictly convex controls.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import sympy as sp

from .objective import SympyObjective
from ..core.solve import critical_point


@dataclass
class ZooFunction:
    name: str
    expr: str | Callable
    variables: str
    description: str
    smoothness: str | None = None
    min_value: str | None = None
    minimizers: list = field(default_factory=list)          # exact strings or Newton guesses
    maximizers: list = field(default_factory=list)
    saddles: list = field(default_factory=list)
    minimizer_manifold: Callable | None = None               # t (tuple) -> point (exact strings)
    manifold_dim: int = 0
    maximizer_set: Callable | None = None                   # t -> point on the maximizer set
    maximizer_set_value: str | None = None
    convex: bool = False
    exact_critical: bool = True                               # False: points are Newton guesses
    box: tuple = ((-3, 3), (-3, 3))

    @cached_property
    def objective(self) -> SympyObjective:
        expr = self.expr() if callable(self.expr) else self.expr
        return SympyObjective(expr, self.variables, self.smoothness, name=self.name)

    @property
    def dim(self) -> int:
        return self.objective.dim

    def critical(self, which: str, index: int, ctx):
        """A recorded critical point in ``ctx``: exact when known, else refined by Newton."""
        guess = getattr(self, which)[index]
        x = self.objective.point(guess, ctx)
        return x if self.exact_critical else critical_point(self.objective, x, ctx).x


def _appendix_d():
    x, y = sp.symbols("x y", real=True)
    R = sp.Rational
    wx = sp.Piecewise((0, x <= -1), (R(1, 2) * (1 - sp.cos(sp.pi * (x + 1))), x < 0), (1, True))
    wy = sp.Piecewise((0, y <= R(-28, 5)),
                      (R(1, 2) * (1 + sp.cos(sp.pi * (-y - R(3, 5)) / 5)), y < R(-3, 5)),
                      (1, y <= R(3, 5)),
                      (R(1, 2) * (1 + sp.cos(sp.pi * (y - R(3, 5)) / 5)), y < R(28, 5)),
                      (0, True))
    return (R(4, 5) * sp.exp(-(x**2 + y**2) / R(25, 4)) * wx
            - sp.exp(-(x + R(31, 20) * sp.cos(y / R(3, 2)))**2) * wy + 1)


def _ring_point(t):
    return (sp.cos(t[0]), sp.sin(t[0]))


ZOO: dict[str, ZooFunction] = {z.name: z for z in [
    ZooFunction("appendix_d", _appendix_d, "x,y",
                "Appendix D of the paper: a Gaussian bump switched on for x >= 0 minus a curved "
                "valley; piecewise with C^1 seams at x = -1, 0 and |y| = 0.6, 5.6.",
                smoothness="C1", min_value="0",
                minimizers=[("-1.55", "0")], maximizers=[("0.38", "0")], exact_critical=False,
                minimizer_manifold=lambda t: (-sp.Rational(31, 20) * sp.cos(t[0] / sp.Rational(3, 2)),
                                              t[0]),
                manifold_dim=1, box=((-4, 4), (-4, 4))),
    ZooFunction("ring", "(x**2 + y**2 - 1)**2", "x,y",
                "Circle of minimizers r = 1 around an isolated maximizer at the origin.",
                min_value="0", minimizers=[("1", "0"), ("0", "1")], maximizers=[("0", "0")],
                minimizer_manifold=_ring_point, manifold_dim=1),
    ZooFunction("elliptic_ring", "(x**2/(9/4) + y**2 - 1)**2", "x,y",
                "Ellipse x^2/1.5^2 + y^2 = 1 of minimizers around an isolated maximizer at 0.",
                min_value="0", minimizers=[("1.5", "0"), ("0", "1")], maximizers=[("0", "0")],
                minimizer_manifold=lambda t: (sp.Rational(3, 2) * sp.cos(t[0]), sp.sin(t[0])),
                manifold_dim=1),
    ZooFunction("ring3", "(x**2 + y**2 + z**2 - 1)**2", "x,y,z",
                "Unit sphere of minimizers (m = 2) around an isolated maximizer at 0.",
                min_value="0", minimizers=[("1", "0", "0")], maximizers=[("0", "0", "0")],
                minimizer_manifold=lambda t: (sp.cos(t[0]) * sp.cos(t[1]),
                                              sp.sin(t[0]) * sp.cos(t[1]), sp.sin(t[1])),
                manifold_dim=2, box=((-2, 2),) * 3),
    ZooFunction("tilted_ring", "(x**2 + y**2 - 1)**2 + x/5", "x,y",
                "The ring tilted by x/5: an isolated global minimizer near (-1.024, 0), an isolated "
                "maximizer near (0.050, 0) and a saddle near (0.974, 0).",
                minimizers=[("-1.02", "0")], maximizers=[("0.05", "0")], saddles=[("0.97", "0")],
                exact_critical=False),
    ZooFunction("tilted_ring3", "(x**2 + y**2 + z**2 - 1)**2 + x/5", "x,y,z",
                "The 3-D ring tilted by x/5: isolated global minimizer near (-1.024, 0, 0), isolated "
                "maximizer near (0.050, 0, 0).",
                minimizers=[("-1.02", "0", "0")], maximizers=[("0.05", "0", "0")],
                exact_critical=False, box=((-2, 2),) * 3),
    ZooFunction("circle_max", "(x**2+y**2)**3/3 - 2*(x**2+y**2)**2 + 3*(x**2+y**2)", "x,y",
                "A circle of local maximizers r = 1 (value 4/3) between an isolated minimizer at 0 "
                "and a circle of minimizers r = sqrt(3), all minima of value 0.",
                min_value="0", minimizers=[("0", "0")], maximizers=[],
                maximizer_set=_ring_point, maximizer_set_value="4/3",
                minimizer_manifold=lambda t: (sp.sqrt(3) * sp.cos(t[0]), sp.sqrt(3) * sp.sin(t[0])),
                manifold_dim=1),
    ZooFunction("double_well2", "(x**2 - 1)**2 + (y**2 - 1)**2", "x,y",
                "Separable double well: minimizers (+-1, +-1), maximizer 0, four saddles.",
                min_value="0", minimizers=[("1", "1"), ("-1", "1"), ("1", "-1"), ("-1", "-1")],
                maximizers=[("0", "0")], saddles=[("1", "0"), ("0", "1"), ("-1", "0"), ("0", "-1")]),
    ZooFunction("kim_saddle", "x**2 - y**2", "x,y",
                "Kim et al.'s saddle: critical point 0 is a saddle; f is unbounded below.",
                saddles=[("0", "0")]),
    ZooFunction("beale", "(3/2 - x + x*y)**2 + (9/4 - x + x*y**2)**2 + (21/8 - x + x*y**3)**2",
                "x,y", "Beale's function: global minimizer (3, 1/2) of value 0.",
                min_value="0", minimizers=[("3", "1/2")], box=((-4.5, 4.5), (-4.5, 4.5))),
    ZooFunction("parabola_well", "(mu - theta**2)**2", "mu,theta",
                "Double well (mu - theta^2)^2: the parabola mu = theta^2 of minimizers (m = 1).",
                min_value="0", minimizers=[("0", "0"), ("1", "1")],
                minimizer_manifold=lambda t: (t[0] ** 2, t[0]), manifold_dim=1),
    ZooFunction("convex_lse", "log(exp(x) + exp(y) + exp(-x-y)) + (x**2 + y**2)/10", "x,y",
                "Strictly convex control: log-sum-exp plus a quadratic; minimizer 0.",
                min_value=None, minimizers=[("0", "0")], convex=True),
    ZooFunction("convex_lse3", "log(exp(x) + exp(y) + exp(z)) + (x**2 + y**2 + z**2)/10 - x/3",
                "x,y,z", "Strictly convex 3-D control: log-sum-exp plus a quadratic and a tilt.",
                minimizers=[("-0.7", "-1.3", "-1.3")], convex=True, exact_critical=False,
                box=((-2, 2),) * 3),
]}


def get(name: str) -> ZooFunction:
    from ..errors import SamVerifyError
    if name not in ZOO:
        raise SamVerifyError(f"no zoo function {name!r}; known: {sorted(ZOO)}")
    return ZOO[name]
