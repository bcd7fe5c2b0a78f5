"""Targeted tests for decisions of the small theorem modules that a mutation run (tools/mutate.py)
showed no test could fail. Each states the rule it pins and checks it where the rule decides."""
from __future__ import annotations

import pytest

from theorems import cor_a6 as C
from verify.ctx import get_context
from verify.objectives.objective import SympyObjective

FP = get_context("float64")


# -- cor_a6.lipschitz_estimate: the largest Hessian spectral norm over samples of the ball ---------------
def test_lipschitz_estimate_is_the_largest_spectral_norm_not_a_floor_or_the_smallest():
    """On quadratics the Hessian is constant: the estimate is its largest singular value exactly,
    however small (no floor of 1), and never its smallest."""
    tiny = SympyObjective("(x**2 + y**2)/200", "x,y")               # Hessian I/100
    assert C.lipschitz_estimate(tiny, FP, [0.0, 0.0], 1.0, 16) == pytest.approx(0.01, rel=1e-12)
    flat = SympyObjective("x**2/2 + y**2/200", "x,y")               # Hessian diag(1, 1/100)
    assert C.lipschitz_estimate(flat, FP, [0.0, 0.0], 1.0, 16) == pytest.approx(1.0, rel=1e-12)


def test_lipschitz_estimate_samples_between_its_rays():
    """f = exp(-(50 (x^2 + y^2 - 0.88))^2) has its Hessian concentrated on a thin annulus around
    radius 0.938, between the radii k/8 of the estimate's ray samples (these see < 1e-8 there); its
    largest spectral norm, ~1.76e4, must be found by the box samples of the ball (for any seed:
    ~9 of the ~314 fall within the annulus' half width)."""
    annulus = SympyObjective("exp(-((x**2 + y**2 - 22/25)*50)**2)", "x,y")
    L = C.lipschitz_estimate(annulus, FP, [0.0, 0.0], 1.0, 400)
    assert 1e3 < L < 1.8e4                                           # a sample: never above the max
