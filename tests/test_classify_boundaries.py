"""classify at the edges of its rules: every comparison with the tolerance is tried with the measured
quantity exactly equal to the tolerance (all numbers dyadic, so exact in float64)."""
from __future__ import annotations

import math

import pytest

from verify.core.classify import classify, default_tol
from verify.errors import PrecisionError
from verify.objectives.objective import SympyObjective

XY = "x,y"


def test_default_tolerance_is_sqrt_eps_times_the_gradient_scale(fp, mp50):
    for ctx in (fp, mp50):
        root = math.sqrt(ctx.eps)
        assert ctx.to_float(default_tol(ctx)) == pytest.approx(root, rel=1e-12)
        assert ctx.to_float(default_tol(ctx, 0.01)) == pytest.approx(root, rel=1e-12)
        assert ctx.to_float(default_tol(ctx, 100.0)) == pytest.approx(100 * root, rel=1e-12)
    r = classify(SympyObjective("x**2 + y**2", XY), [3.0, 4.0], 0.5, fp)
    assert float(r.tol) == pytest.approx(10 * math.sqrt(fp.eps), rel=1e-12)   # ||grad f|| = 10


T = 2.0 ** -8   # the tolerance of the edge tests: dyadic, and inside the allowed range (<= 1e-2)


def test_gradient_equal_to_the_tolerance_counts_as_zero(fp):
    # a steep bowl 2^22 (x^2 + y^2)/2 at (2^-30, 0): ||grad f|| = 2^-8 = tol exactly, and the Newton
    # step 2^-30 is below the point's accuracy, so the gradient test alone decides
    bowl = SympyObjective("4194304*(x**2 + y**2)/2", XY)
    r = classify(bowl, [2.0 ** -30, 0.0], 0.5, fp, tol=T)
    assert r.kind == "minimizer" and r.tol == "0.00390625"
    assert classify(bowl, [2.0 ** -30, 0.0], 0.5, fp, tol=T / 2).kind == "not_stationary"


def test_hessian_eigenvalue_at_minus_tol_is_semidefinite(fp):
    r = classify(SympyObjective("x**2/2 - y**2/512", XY), [0.0, 0.0], 1.0, fp, tol=T)
    assert r.kind == "minimizer"                               # eigenvalue -1/256 = -tol
    r = classify(SympyObjective("x**2/2 - y**2/256", XY), [0.0, 0.0], 1.0, fp, tol=T)
    assert (r.kind, r.subkind) == ("critical_point", "saddle")


def test_maximizer_needs_every_eigenvalue_below_minus_tol(fp):
    r = classify(SympyObjective("-x**2/2 - y**2/512", XY), [0.0, 0.0], 1.0, fp, tol=T)
    assert (r.kind, r.subkind) == ("critical_point", "saddle")  # -1/256 is not below -tol
    r = classify(SympyObjective("-x**2/2 - y**2/256", XY), [0.0, 0.0], 1.0, fp, tol=T)
    assert (r.kind, r.subkind) == ("critical_point", "maximizer")


def test_shifted_gradient_equal_to_the_tolerance_counts_as_stationary(fp):
    # f = -(x^2 + y^2)/2 at (1, 0), rho = 255/256: x+ = (1/256, 0) and ||grad f(x+)|| = 1/256 exactly
    cap = SympyObjective("-(x**2 + y**2)/2", XY)
    r = classify(cap, [1.0, 0.0], "255/256", fp, tol=T)
    assert r.kind == "sam_stationary"                          # x+ is no minimizer of f
    assert float(r.shifted_grad_norm) == T and r.x_plus == ["0.00390625", "0.0"]
    assert classify(cap, [1.0, 0.0], "255/256", fp, tol=T / 2).kind == "not_stationary"


def test_sam_stationary_point_over_the_maximizer_is_not_a_minimizer(fp):
    """Ring, rho = 1/2 < 1: at ||x|| = rho, x + rho u(x) = 0 is the maximizer of f."""
    ring = SympyObjective("(x**2 + y**2 - 1)**2", XY)
    r = classify(ring, [0.5, 0.0], 0.5, fp)
    assert r.kind == "sam_stationary" and r.subkind == ""
    assert float(r.sampled_min_increase) < 0                  # f_SAM decreases nearby
    assert any("indefinite" in line for line in r.reasons)


def test_hallucinated_minimizer_routes(fp):
    ring = SympyObjective("(x**2 + y**2 - 1)**2", XY)
    r = classify(ring, [-0.25, 0.0], 1.25, fp)                 # x+ = (1, 0): a manifold of them
    assert r.kind == "hallucinated_minimizer" and r.subkind.startswith("non-isolated")
    assert float(r.sampled_min_increase) >= -float(r.tol)


def test_tolerance_below_the_roundoff_is_refused(fp):
    with pytest.raises(PrecisionError):
        classify(SympyObjective("x**2 + y**2", XY), [1.0, 0.0], 0.5, fp, tol=1e-20)


def test_sampling_defaults_are_reproducible(fp):
    """64 sampled neighbours from seed 0 by default: the same call gives the same numbers."""
    ring = SympyObjective("(x**2 + y**2 - 1)**2", XY)
    a = classify(ring, [-0.25, 0.0], 1.25, fp)
    assert any("min over 64 sampled neighbours" in line for line in a.reasons)
    assert a.sampled_min_increase == classify(ring, [-0.25, 0.0], 1.25, fp, samples=64,
                                              seed=0).sampled_min_increase
    assert a.sampled_min_increase != classify(ring, [-0.25, 0.0], 1.25, fp, seed=1).sampled_min_increase


def test_switching_functions_are_the_seams_of_each_piecewise_part():
    """lhs - rhs of a Piecewise condition, the argument of Abs / sign / Heaviside, and the
    differences of Max / Min arguments: each vanishes exactly on a seam."""
    import sympy as sp

    from verify.core.classify import switching_functions
    x, y = sp.symbols("x y", real=True)
    assert switching_functions(sp.Piecewise((x, x < 1), (2 - x, True))) == [x - 1]
    assert set(switching_functions(sp.Abs(x - 2) + sp.sign(y + 1) + sp.Heaviside(x - y))) == \
        {x - 2, y + 1, x - y}
    assert switching_functions(sp.Max(x, y ** 2)) in ([x - y ** 2], [y ** 2 - x])
    assert switching_functions(x ** 2 + sp.Abs(sp.Integer(3))) == []         # no free symbol: no seam


def test_seams_near_reports_only_seams_within_the_radius(fp):
    """|x - 1| has its seam at distance 0.25 from x = 1.25: reported for radius 0.3, not for 0.2;
    an analytic objective has none, and neither has a function given as code (no expression)."""
    from verify.core.classify import seams_near
    kink = SympyObjective("Abs(x - 1) + y**2", "x,y")
    at = kink.point(["1.25", "0"], fp)
    assert len(seams_near(kink, at, fp, 0.3)) == 1 and "x - 1 = 0" in seams_near(kink, at, fp, 0.3)[0]
    assert seams_near(kink, at, fp, 0.2) == []
    smooth = SympyObjective("(x - 1)**2 + y**2", "x,y")
    assert seams_near(smooth, smooth.point(["1", "0"], fp), fp, 1.0) == []
    from verify.objectives.objective import objective_from
    opaque = objective_from(lambda v: (v[0] - 1) ** 2, dim=1)    # no expression to read seams from
    assert not opaque.is_analytic and seams_near(opaque, opaque.point(["1"], fp), fp, 1.0) == []
