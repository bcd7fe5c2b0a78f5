"""Zhou et al. (2025) Thm 4.1 / Cor 4.2 with the exact second-moment operator of stochastic SAM."""
import itertools

import numpy as np
import pytest

from theorems import zhou_thm41 as z
from verify.errors import SamVerifyError

X3 = z.datasets()["d = 3, n = 6 (Gaussian rows)"]


def brute_force_second_moment(X, S, eta, rho, B):
    """E[M S M^T] by enumerating every pair of ordered batches (with replacement)."""
    n, d = X.shape
    batches = list(itertools.product(range(n), repeat=B))
    A = {b: sum(np.outer(X[i], X[i]) for i in b) / B for b in batches}
    out = np.zeros((d, d))
    for b1, b2 in itertools.product(batches, batches):
        M = np.eye(d) - eta * A[b2] @ (np.eye(d) + rho * A[b1])
        out += M @ S @ M.T
    return out / len(batches) ** 2


@pytest.mark.parametrize("B", [1, 2])
def test_operator_equals_the_enumerated_expectation(B):
    X = np.array([[1.0, 0.5], [-0.3, 2.0], [0.7, -1.1]])
    S = np.array([[2.0, 0.3], [0.3, 0.5]])
    T = z.operator(X, 0.2, 0.3, B)
    got = (T @ z.vec(S)).reshape(2, 2, order="F")
    assert np.allclose(got, brute_force_second_moment(X, S, 0.2, 0.3, B), rtol=1e-13, atol=1e-13)


def test_gamma_star_is_the_infimum_of_the_alignment_ratio():
    X = z.reduce_to_range(X3)
    G, n = z.gram(X), X.shape[0]
    g = z.gamma_star(X)
    thetas = np.random.default_rng(0).standard_normal((2000, X.shape[1]))
    ratios = []
    for th in thetas:
        xi = np.array([np.outer(x, x) @ th for x in X]) - G @ th
        sigma = xi.T @ xi / n
        ratios.append(np.trace(sigma @ G) / (th @ G @ th * np.sum(G * G)))
    assert min(ratios) >= g * (1 - 1e-10) and min(ratios) < 1.2 * g


@pytest.mark.parametrize("name", list(z.datasets()))
def test_theorem_and_corollary_hold_on_interpolating_linear_models(name):
    cert = z.certify(name, z.datasets()[name], n_chains=2000)
    assert cert.passed, str(cert)
    assert float(cert.objects["tightness"]) <= 1


def test_false_alignment_constant_breaks_the_one_step_inequality():
    control = z.certify("d = 3", X3, gamma_factor=2.0, n_chains=500, expected=False)
    assert not control.claim("one-step inequality").passed and control.as_expected


def test_one_data_point_makes_the_theorem_vacuous():
    cert = z.certify("one point", np.array([[1.0, 2.0]]))
    assert not cert.hypotheses_met and cert.explained and not cert.claims


def test_bad_data_is_refused():
    with pytest.raises(SamVerifyError, match="finite"):
        z.reduce_to_range([[np.nan, 1.0]])
    with pytest.raises(SamVerifyError, match="zero"):
        z.reduce_to_range(np.zeros((3, 2)))


def test_lemma_c2_example_and_a_wrong_formula():
    assert z.certify_lemma_c2(n_chains=3000).passed
    control = z.certify_lemma_c2(n_chains=3000, formula=lambda t: 2 + 2 * t, expected=False)
    assert not control.claim("norm grows").passed and control.as_expected


def test_tanh_features_are_the_gauss_newton_hessian_at_interpolation():
    import sympy as sp
    a, b, c = sp.symbols("a b c")
    xs, theta = (-1.0, 0.5, 2.0), {a: 0.7, b: -0.2, c: 1.3}
    ys = [float((c * sp.tanh(a * x + b)).subs(theta)) for x in xs]
    loss = sum((c * sp.tanh(a * x + b) - y) ** 2 for x, y in zip(xs, ys)) / (2 * len(xs))
    H = np.array(sp.hessian(loss, (a, b, c)).subs(theta), dtype=float)
    assert np.allclose(H, z.gram(z.tanh_network_features()), atol=1e-12)
