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


ONE_D = DATA["d = 1, n = 3"]   # one eigenvalue: L = mu, so eta = 2/L makes eta mu/2 = 1 exactly


@pytest.mark.parametrize("k", [2.0, 2.2])
def test_a_step_with_no_positive_stated_rate_is_refused_by_name(k):
    """eta mu/2 >= 1 (outside Theorem 4.3, which has eta <= 1/(2L), so eta mu/2 <= 1/4): the stated
    rate 1 - eta mu/2 is not positive and no ratio to it can be formed. At eta mu/2 = 1 exactly this
    divided by zero before; now an OptionError names the step and the rate."""
    from verify.errors import OptionError
    with pytest.raises(OptionError, match=r"eta mu/2 = 1(\.1)?\b.*not positive"):
        z.certify("d = 1", ONE_D, eta_times_L=k, expected=False)


@pytest.mark.parametrize("k", [0.0, -1.0, float("nan"), float("inf")])
def test_a_step_that_is_not_a_positive_number_is_refused(k):
    from verify.errors import OptionError
    with pytest.raises(OptionError, match="eta_times_L"):
        z.certify("d = 1", ONE_D, eta_times_L=k, expected=False)


def test_a_step_just_below_eta_mu_two_is_checked():
    """Neighbouring valid input: eta = 1.99/L in d = 1 (eta mu/2 = 0.995, rate 0.005) is outside the
    theorem's step-size condition: the ratio to the stated rate is a finite number, the exact worst
    case exceeds the rate, and the claim is decided, and fails."""
    control = z.certify("d = 1", ONE_D, eta_times_L=1.99, expected=False)
    assert np.isfinite(float(control.claim("rate").value))
    assert not control.claim("rate").passed and control.as_expected
