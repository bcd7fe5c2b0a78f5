"""Zhou et al. (2025) Thm 4.3 at the edge of its (eta, rho) and Lemma C.1, exactly."""
import numpy as np
import pytest

from theorems import zhou_thm41, zhou_thm43 as z

DATA = zhou_thm41.datasets()


@pytest.mark.parametrize("name", list(DATA))
def test_rate_holds_at_the_edge(name):
    cert = z.certify(name, DATA[name])
    assert cert.passed, str(cert)


def test_worst_growth_bounds_every_simulated_start():
    X = zhou_thm41.reduce_to_range(DATA["d = 3, n = 6 (Gaussian rows)"])
    c = z.constants(X)
    eta, rho = z.edge(c, 2)
    worst = z.worst_growth(X, eta, rho, 2, 5)
    for theta0 in np.random.default_rng(1).standard_normal((20, 3)):
        losses = zhou_thm41.expected_losses(X, eta, rho, 2, theta0, 5)
        assert np.all(losses[1:] / losses[0] <= worst * (1 + 1e-12))


def test_tiny_allowed_radius_is_reported():
    cert = z.certify("d = 3, n = 6 (Gaussian rows)", DATA["d = 3, n = 6 (Gaussian rows)"])
    assert float(cert.objects["rho_L"]) < 1e-3 and cert.findings


def test_step_above_two_over_L_breaks_the_rate():
    control = z.certify("d = 3", DATA["d = 3, n = 6 (Gaussian rows)"], eta_times_L=2.2, expected=False)
    assert not control.claim("rate").passed and control.as_expected


def test_lemma_c1_and_its_false_pl_control():
    for name, X in DATA.items():
        assert z.certify_lemma_c1(name, X).passed
    control = z.certify_lemma_c1("d = 3", DATA["d = 3, n = 6 (Gaussian rows)"], mu_factor=2.0,
                                 expected=False)
    assert not control.claim("lower").passed and control.as_expected
