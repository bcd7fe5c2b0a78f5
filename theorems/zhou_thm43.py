"""Zhou et al. (2025), Theorem 4.3 and Lemma C.1: the convergence rate of stochastic SAM, at the edge
of the allowed (eta, rho), against the exact worst case.

Statement (our words). Let the loss be L-smooth (||H|| <= L) and satisfy the Polyak-Lojasiewicz
inequality ||grad L||^2 >= 2 mu L(theta) (Assumption 4.2), and let the one-sample gradient noise obey
E||xi||^2 <= sigma^2 L(theta) (Assumption 4.3). If eta <= min{1/(2L), mu B/(2 L sigma^2)} and
rho <= min{1/(4L), mu B/(4 L sigma^2), eta mu^2/(24 L^2)}, stochastic SAM with batch size B has
E[L(theta_t)] <= (1 - eta mu / 2)^t L(theta_0) for every t. Lemma C.1 (our words): under
Assumption 4.2, 2 mu L <= ||grad L||^2 <= (2 L^2 / mu) L.

Exact construction. On the interpolating linear models of the Theorem 4.1 section
(L(theta) = (1/2n) sum_i (x_i . theta)^2, Hessian G) every constant is exact: L = lambda_max(G),
mu = the smallest nonzero eigenvalue of G (PL holds globally with it, directions outside the range of
G carry no loss), sigma^2 = 2 lambda_max(K_2, G) with K_2 = (1/n) sum_i a_i^2 - G^2 (a_i = x_i x_i^T).
The stochastic SAM step's second-moment operator T is exact (shared with the Theorem 4.1 section), so
the worst growth of E[L] over t steps and over all starting second moments is the generalized
eigenvalue c_t = lambda_max((T*)^t (G), G). At the edge (eta and rho equal to their bounds) the
claim is c_t <= (1 - eta mu / 2)^t for t = 1..30 (a finite horizon; c_1 <= 1 - eta mu/2 gives every t).

Vacuity. The allowed rho is at most eta mu^2 / (24 L^2): the perturbation changes the gradient by a
factor at most 1 + rho L. When rho L is tiny the theorem is a statement about SGD; the certificate
reports rho L and SAM's exact rate beside SGD's (rho = 0) as a finding.

Negative control: a step size above 2/L (the eta bound broken, everything else kept) — the worst case
grows, and the claimed rate fails. Lemma C.1's control uses a false PL constant 2 mu.
"""
from __future__ import annotations

import math
import numbers
import pathlib

import numpy as np
from scipy import linalg

from verify.core.claims import boolean, compare
from verify.core.results import Certificate
from verify.ctx import get_context
from verify.errors import OptionError

from ._rivals import float_certificate

from .zhou_thm41 import datasets, gram, operator, reduce_to_range, vec

THEOREM = "Zhou et al. Thm 4.3 / Lemma C.1"
TITLE = "Stochastic SAM's rate (1 - eta mu/2)^t at the edge of the allowed (eta, rho), exactly"
ORDER = 7.13
HORIZON = 30


def constants(X) -> dict:
    """L, mu and sigma^2 of Assumptions 4.2-4.3 on the range of G, exactly."""
    G, n = gram(X), X.shape[0]
    w = np.linalg.eigvalsh(G)
    K2 = sum(np.outer(x, x) @ np.outer(x, x) for x in X) / n - G @ G
    sigma2 = 2 * float(linalg.eigh((K2 + K2.T) / 2, G, eigvals_only=True)[-1])
    return {"L": float(w[-1]), "mu": float(w[0]), "sigma^2": max(sigma2, 0.0)}


def edge(c: dict, B: int) -> tuple[float, float]:
    """(eta, rho) at the edge of Theorem 4.3's conditions."""
    L, mu, s2 = c["L"], c["mu"], c["sigma^2"]
    eta = min(1 / (2 * L), mu * B / (2 * L * s2) if s2 > 0 else np.inf)
    rho = min(1 / (4 * L), mu * B / (4 * L * s2) if s2 > 0 else np.inf, eta * mu ** 2 / (24 * L ** 2))
    return float(eta), float(rho)


def worst_growth(X, eta, rho, B, steps: int) -> np.ndarray:
    """c_t = max over second moments of E[L_t] / E[L_0], t = 1..steps (generalized eigenvalues)."""
    G, d = gram(X), X.shape[1]
    Tt = operator(X, eta, rho, B).T
    g, out = vec(G), []
    for _ in range(steps):
        g = Tt @ g
        M = g.reshape(d, d, order="F")
        out.append(float(linalg.eigh((M + M.T) / 2, G, eigvals_only=True)[-1]))
    return np.array(out)


def _step_from_multiple(eta_times_L: float, c: dict) -> float:
    """eta = eta_times_L / L, refused where the stated rate 1 - eta mu/2 is not positive (eta mu/2 >= 1,
    far outside the theorem's eta <= 1/(2L)): no rate is claimed there to compare with."""
    if not (isinstance(eta_times_L, numbers.Real) and math.isfinite(eta_times_L) and eta_times_L > 0):
        raise OptionError(f"eta_times_L must be a positive finite number, got {eta_times_L!r}")
    eta = eta_times_L / c["L"]
    if eta * c["mu"] / 2 >= 1:
        raise OptionError(f"eta_times_L = {eta_times_L:g} gives eta mu/2 = {eta * c['mu'] / 2:.6g} >= 1: "
                          f"the stated rate 1 - eta mu/2 is not positive, so there is no rate to check "
                          f"(Theorem 4.3 asks eta <= 1/(2L); use eta_times_L < {2 * c['L'] / c['mu']:.6g})")
    return eta


def certify(name: str, X, B: int = 2, eta_times_L: float | None = None,
            expected: bool = True) -> Certificate:
    """At the edge of the allowed (eta, rho); ``eta_times_L`` replaces eta by that multiple of 1/L
    (the control: above 2/L, only the step-size condition broken)."""
    fp = get_context("float64")
    Xr = reduce_to_range(X)
    c = constants(Xr)
    eta, rho = edge(c, B)
    if eta_times_L is not None:
        eta = _step_from_multiple(eta_times_L, c)
    label = f"{name}, B = {B}, edge of (eta, rho)" + (
        f", eta = {eta_times_L:g}/L" if eta_times_L is not None else "")
    cert = float_certificate(THEOREM, TITLE, label, __doc__.split("\n\n")[1], expected)
    cert.hypothesis("Assumption 4.2", "L-smooth and PL with mu > 0", c["mu"] > 0,
                    f"L = {c['L']:.6g}, mu = {c['mu']:.6g} (exact on the range of G)")
    cert.hypothesis("Assumption 4.3", "E||xi||^2 <= sigma^2 L", True,
                    f"sigma^2 = {c['sigma^2']:.6g} (exact)")
    rate = 1 - eta * c["mu"] / 2
    growth = worst_growth(Xr, eta, rho, B, HORIZON)
    sgd = worst_growth(Xr, eta, 0.0, B, 1)[0]
    cert.add_named_objects({k: repr(v) for k, v in c.items()})
    cert.objects.update({"eta": repr(eta), "rho": repr(rho)})
    cert.add_object("rho_L", repr(rho * c["L"]), label="rho L")
    cert.add_object("stated_rate", repr(rate), label="stated rate 1 - eta mu/2")
    cert.add_object("worst_factor_sam", repr(float(growth[0])), label="exact worst one-step factor (SAM)")
    cert.add_object("worst_factor_sgd", repr(float(sgd)), label="exact worst one-step factor (SGD, rho = 0)")
    ratio = float(np.max(growth / rate ** np.arange(1, HORIZON + 1)))
    cert.add(compare("rate", f"worst case over all second moments: E[L_t]/E[L_0] <= (1 - eta mu/2)^t "
                     f"for 1 <= t <= {HORIZON} (max ratio)", ratio, "<=", 1, fp, tol=1e-12))
    if expected and rho * c["L"] < 0.01:
        cert.finding("Zhou et al. 2025, Theorem 4.3", "stochastic SAM converges at rate (1 - eta mu/2)^t",
                     f"at the edge of the allowed radius, rho L = {rho * c['L']:.3g}: the perturbation "
                     f"changes the gradient by under {100 * rho * c['L']:.2g}%, and SAM's exact worst "
                     f"one-step factor {growth[0]:.6g} is SGD's {sgd:.6g} to "
                     f"{abs(growth[0] - sgd):.1e}; the theorem covers SAM only where it is SGD (the "
                     f"stated rate {rate:.6g} is looser than both)")
    return cert.finish()


def certify_lemma_c1(name: str, X, mu_factor: float = 1.0, expected: bool = True) -> Certificate:
    """2 mu L <= ||grad L||^2 <= (2 L^2/mu) L, exactly: the range of ||grad L||^2 / L is
    [2 lambda_min(G), 2 lambda_max(G)] on the range of G."""
    fp = get_context("float64")
    Xr = reduce_to_range(X)
    c = constants(Xr)
    mu = mu_factor * c["mu"]
    label = f"{name}" + (f", PL constant {mu_factor:g} mu" if mu_factor != 1 else "")
    cert = Certificate("Zhou et al. Lemma C.1", "Gradient norm between 2 mu L and (2 L^2/mu) L",
                       label if expected else f"negative control: {label}",
                       statement=__doc__.split("\n\n")[1], context=fp.name,
                       precision=fp.precision_label, expected=expected)
    G = gram(Xr)
    lo, hi = (2 * v for v in linalg.eigh(G @ G, G, eigvals_only=True)[[0, -1]])
    cert.add_object("min_pl_ratio", repr(lo), label="min ||grad L||^2 / L")
    cert.add_object("max_pl_ratio", repr(hi), label="max ||grad L||^2 / L")
    cert.add_object("two_mu", repr(2 * mu), label="2 mu")
    cert.add_object("two_L2_over_mu", repr(2 * c["L"] ** 2 / mu), label="2 L^2 / mu")
    cert.add(compare("lower", "min ||grad L||^2 / L >= 2 mu", lo, ">=", 2 * mu, fp, tol=1e-12 * hi))
    cert.add(compare("upper", "max ||grad L||^2 / L <= 2 L^2 / mu", hi, "<=", 2 * c["L"] ** 2 / mu, fp,
                     tol=1e-12 * hi))
    cert.add(boolean("upper is loose by L/mu", "the exact upper constant is 2 L, below 2 L^2/mu by "
                     "the condition number", bool(np.isclose(hi, 2 * c["L"])), fp))
    return cert.finish()


def report_certificates(quick: bool = False, figdir: pathlib.Path | None = None) -> list:
    data = datasets()
    names = list(data)[: 1 if quick else None]
    certs = [certify(n, data[n]) for n in names]
    certs.append(certify(names[0], data[names[0]], eta_times_L=2.2, expected=False))
    certs += [certify_lemma_c1(n, data[n]) for n in names]
    certs.append(certify_lemma_c1(names[0], data[names[0]], mu_factor=2.0, expected=False))
    return certs


# -- uniform entry point (theorems.REGISTRY) --------------------------------------------------------
EXAMPLES = ("d = 3, n = 6 (Gaussian rows)", "d = 1, n = 3", "d = 5, n = 3 (over-parameterized)",
            "c tanh(a x + b) linearized at an interpolating minimum")  # zhou_thm41.datasets()
