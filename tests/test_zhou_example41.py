"""Zhou et al. (2025) Example 4.1: assumptions on the illustration and the two-phase run."""
import numpy as np

from theorems import zhou_example41 as z


def test_gradient_matches_finite_differences():
    W = np.array([[0.7, -0.4], [1.5, 0.2]])
    h = 1e-6
    for k in range(2):
        e = np.zeros(2)
        e[k] = h
        fd = (z.loss(W + e) - z.loss(W - e)) / (2 * h)
        assert np.allclose(z.grad(W)[:, k], fd, atol=1e-8)


def test_assumptions_fail_on_the_illustration_with_a_finding():
    cert = z.certify_assumptions()
    assert not cert.claim("Assumption 4.1").passed and not cert.claim("PL on the box").passed
    assert cert.explained


def test_two_phase_run_and_its_small_radius_control():
    assert z.certify_run(steps=2000).passed
    control = z.certify_run(rho=0.02, steps=2000, expected=False)
    assert not control.claim("P1 escape").passed and control.as_expected
