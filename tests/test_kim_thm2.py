"""Kim et al. (2023) Thm 2 / Cor 1 against vectorised noisy chains, with a wrong-formula control."""
import numpy as np
import pytest

from theorems import kim_thm2 as k


def test_closed_forms_agree_where_they_should():
    lam, eta, B, t = -1.5, 1e-6, 2, 0.3
    # rho = 0: Kim's form and the OU form coincide; the discrete chain tends to both as eta -> 0
    assert k.kim_variance(lam, 0, eta, B, t) == pytest.approx(k.ou_variance(lam, 0, eta, B, t))
    assert k.discrete_variance(lam, 0.2, eta, B, t) == pytest.approx(
        k.ou_variance(lam, 0.2, eta, B, t), rel=1e-4)
    # kappa = 0 (rho = -1/lambda): the OU form's limit eta |lambda| t / B, no division by zero
    assert k.ou_variance(lam, -1 / lam, eta, B, t) == pytest.approx(eta * abs(lam) * t / B)
    assert k.discrete_variance(lam, -1 / lam, 0.01, B, t) == pytest.approx(0.01 * abs(lam) * t / B)


def test_variance_grid_discrete_form_holds_kim_fails_with_finding():
    cert = k.certify_variance(quick=True, n_chains=3000)
    assert cert.claim("discrete closed form").passed
    assert cert.claim("OU form").passed and cert.claim("SGD limit").passed
    assert not cert.claim("Kim (15)").passed and cert.explained
    assert "3000 chains" in cert.objects["sampling"]


def test_wrong_formula_is_rejected_by_the_same_comparison():
    cert = k.certify_wrong_formula(n_chains=3000)
    assert cert.claim("discrete closed form").passed
    assert not cert.claim("wrong formula").passed and cert.as_expected


def test_cor1_coefficient_two_fails_and_one_holds():
    stated = k.certify_cor1(quick=True, n_chains=3000)
    assert stated.claim("Cor 1 from (15)").passed       # their algebra from (15) is right
    assert not stated.claim("leading term").passed and stated.explained
    assert k.certify_cor1(quick=True, n_chains=3000, coefficient=1.0).passed


def test_same_seed_same_noise_paired_difference_is_tight():
    p = k.Point(-1.0, 0.2, 1e-3, 1, 0.05)
    a, b = k.simulate_w2(p, 500, seed=3), k.simulate_w2(p, 500, seed=3)
    assert np.array_equal(a, b)
