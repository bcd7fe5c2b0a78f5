"""The vectorised chain driver and its confidence intervals."""
import numpy as np
import pytest

from verify.core import stochastic as st
from verify.errors import SamVerifyError, ShapeError


def test_noise_free_chains_match_the_scalar_recursion():
    lam, rho, eta = -2.0, 0.8, 0.01
    out = st.run_chains(lambda W: lam * W, np.array([[0.3], [-0.1]]), "usam", rho, eta, 10)
    q = 1 - eta * lam * (1 + rho * lam)
    assert np.allclose(out.W[:, 0], np.array([0.3, -0.1]) * q ** 10)


def test_normalized_sam_leaves_critical_rows_unperturbed_and_divergence_is_frozen():
    out = st.run_chains(lambda W: W ** 3, np.array([[0.0], [1e3]]), "sam", 1.0, 1.0, 5)
    assert out.W[0, 0] == 0.0 and out.diverged.tolist() == [False, True]


def test_bad_input_gets_typed_errors():
    with pytest.raises(ShapeError):
        st.run_chains(lambda W: W, np.zeros(3))
    with pytest.raises(SamVerifyError, match="momentum"):
        st.run_chains(lambda W: W, np.zeros((2, 1)), momentum=1.0)
    with pytest.raises(SamVerifyError, match="noise_sd"):
        st.run_chains(lambda W: W, np.zeros((2, 1)), noise_sd=-1)
    with pytest.raises(SamVerifyError, match="NaN"):
        st.mean_ci([1.0, np.nan])


def test_intervals_cover_known_values():
    x = st.rng(1).standard_normal(20000)
    assert st.mean_ci(x, 0.001).contains(0.0)
    ci = st.proportion_ci(30, 1000, 0.01)
    assert ci.contains(0.03) and not ci.contains(0.06) and ci.low > 0
    assert st.proportion_ci(0, 100).low == 0.0


def test_minibatch_gradient_is_unbiased_and_checks_its_input():
    X = np.array([[1.0, 0.0], [0.0, 2.0]])
    grad = st.minibatch_least_squares(X, 1)
    W = np.tile([1.0, 1.0], (20000, 1))
    mean = grad(W, st.rng(5)).mean(axis=0)
    assert np.allclose(mean, X.T @ X @ [1.0, 1.0] / 2, atol=0.05)
    with pytest.raises(SamVerifyError, match="batch size"):
        st.minibatch_least_squares(X, 0)
