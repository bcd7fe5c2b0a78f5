"""Kim et al. (2023) Theorem 3: (17)'s monotonicities and constants, and the heavy-ball dynamics."""
import numpy as np
import pytest

from theorems import kim_thm2, kim_thm3 as k


def test_formula_reduces_where_it_should():
    # second term at gamma = 0 is Theorem 2's (15); kappa = 0 (rho = -1/lambda) stays finite
    lam, rho, eta, B, t = 1.0, 0.3, 0.01, 4, 0.5
    first = k.constants(lam, rho, eta, t)["C1"] * (-np.expm1(-eta / t)) ** 2 / B
    assert k.msd17(lam, rho, eta, B, t, 0.0) == pytest.approx(
        first + kim_thm2.kim_variance(lam, rho, eta, B, t))
    assert np.isfinite(k.msd17(-1.0, 1.0, eta, B, t, 0.5))


def test_formula_checks_record_the_three_findings():
    cert = k.certify_formula()
    assert cert.claim("(17) increases with gamma").passed and cert.claim("(17) decreases with B").passed
    assert not cert.claim("(17) decreases with rho").passed
    assert not cert.claim("constants positive").passed
    assert not cert.claim("C2 statement = proof").passed
    assert cert.explained and len(cert.findings) == 3


def test_dynamics_monotonicities_hold_and_the_value_does_not():
    cert = k.certify_dynamics(quick=True, n_chains=2000)
    assert all(c.passed for c in cert.claims if c.id != "(17) value")
    assert not cert.claim("(17) value").passed and cert.explained


def test_reversed_monotonicities_are_rejected():
    control = k.certify_dynamics(quick=True, n_chains=2000, flip=True)
    assert not any(c.passed for c in control.claims) and control.as_expected
