"""Many independent chains of GD / SAM / USAM with gradient noise, vectorised in numpy, and the
confidence intervals their verdicts state.

Chains are the rows of an ``(n_chains, d)`` array and advance together, one array operation per
step; the gradient is a vectorised callable ``grad(W) -> (n_chains, d)``. One step, for the methods of
:mod:`verify.core.iterate`:

* ``gd``:   direction g(w)
* ``usam``: direction g(w + rho g(w))                 (Kim et al.'s unnormalized SAM)
* ``sam``:  direction g(w + rho g(w) / ||g(w)||)      (Foret et al.; where g(w) = 0 the perturbation
  is 0, the convention of practical implementations, since u(w) is undefined there)

then additive noise ``direction + xi`` with ``xi = noise_sd * N(0, I)`` drawn fresh per chain and
step (``noise_sd`` a length-d vector: a diagonal covariance in the coordinates of W), and heavy-ball
momentum ``v <- gamma v + direction; w <- w - eta v`` (gamma = 0: the plain step). The perturbation
uses the noise-free gradient — the setting of Kim et al.'s Section 4.3 ("w^p computed exactly").
Rows that become non-finite are frozen as NaN and counted as diverged.

Randomness comes only from a ``numpy.random.Generator`` built from a stated seed, so every figure
and verdict is reproducible; two runs given the same seed see the same noise (common random numbers:
a paired SGD-vs-SAM difference has a much smaller variance than either moment).

Confidence intervals (:func:`mean_ci`): the normal (CLT) interval mean +- z s / sqrt(n) with the
sample standard deviation s, two-sided at level 1 - alpha; :func:`proportion_ci` is the Wilson score
interval for a fraction. Callers that test many grid points pass a Bonferroni-corrected alpha.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.special import ndtri  # = scipy.stats.norm.ppf, without importing scipy.stats (~0.3 s)

from . import iterate
from ..errors import SamVerifyError, ShapeError

METHODS = ("gd", "sam", "usam")


@dataclass
class Chains:
    """Final (or recorded) states of a chain ensemble and what produced them."""

    W: np.ndarray                  # (n_chains, d) final iterates, NaN rows diverged
    method: str
    rho: object                    # a number or one radius per chain
    eta: float
    steps: int
    momentum: float
    seed: int | None
    record: list | None = None     # (n_chains, d) snapshots at the requested steps

    @property
    def diverged(self) -> np.ndarray:
        return ~np.all(np.isfinite(self.W), axis=1)


def rng(seed: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(seed))


def run_chains(grad: Callable, W0, method: str = "usam", rho=0.0, eta: float = 0.01,
               steps: int = 100, noise_sd=None, momentum: float = 0.0, seed: int | None = 0,
               record_at: tuple = (), sampled: bool = False) -> Chains:
    """Advance every row of ``W0`` ``steps`` times; ``record_at`` lists steps to snapshot. ``rho``
    is a number or a column ``(n_chains, 1)`` of radii, one per chain (a whole rho sweep in one run).
    ``sampled``: ``grad(W, gen)`` is a mini-batch gradient drawing its own batch from ``gen`` at
    every call, so the perturbation and the update use independent batches. The steps are those of
    :func:`verify.core.iterate.run_batch`."""
    W0 = np.array(W0, dtype=float, copy=True)
    if W0.ndim != 2:
        raise ShapeError(f"W0 must be an (n_chains, d) array, got shape {W0.shape}")
    _check_numbers(method, rho, eta, steps, momentum)
    sd = None if noise_sd is None else np.broadcast_to(np.asarray(noise_sd, float), (W0.shape[1],))
    if sd is not None and (not np.all(np.isfinite(sd)) or np.any(sd < 0)):
        raise SamVerifyError(f"noise_sd must be finite and >= 0, got {noise_sd!r}")
    gen = rng(seed) if (sd is not None or sampled) else None
    g = (lambda X: grad(X, gen)) if sampled else grad
    noise = None if sd is None else (lambda shape: sd * gen.standard_normal(shape))
    record_at = set(record_at)
    snaps = [W0.copy()] if 0 in record_at else []

    def record(k, W):
        if k in record_at:
            snaps.append(W.copy())
    W = iterate.run_batch(g, W0, method, rho, eta, steps, momentum, noise=noise,
                          on_step=record if record_at else None)
    W[~np.all(np.isfinite(W), axis=1)] = np.nan
    return Chains(W, method, rho, eta, steps, momentum, seed, snaps or None)


def _check_numbers(method, rho, eta, steps, momentum) -> None:
    if method not in METHODS:
        raise SamVerifyError(f"unknown method {method!r}; use one of {METHODS}")
    r = np.asarray(rho, dtype=float)
    if not (np.all(np.isfinite(r)) and np.all(r >= 0)):
        raise SamVerifyError(f"rho must be finite and >= 0, got {rho!r}")
    if not (np.isfinite(eta) and eta > 0):
        raise SamVerifyError(f"step size eta must be a finite number > 0, got {eta!r}")
    if int(steps) != steps or steps < 0:
        raise SamVerifyError(f"steps must be a whole number >= 0, got {steps!r}")
    if not 0 <= momentum < 1:
        raise SamVerifyError(f"momentum must lie in [0, 1), got {momentum!r}")


def minibatch_least_squares(X: np.ndarray, batch: int) -> Callable:
    """grad(W, gen): for each chain, the gradient of (1/2B) sum_k (x_{i_k} . w)^2 over B indices drawn
    uniformly with replacement (so the batch noise covariance is exactly Sigma / B)."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or int(batch) != batch or batch < 1:
        raise SamVerifyError(f"need data X of shape (n, d) and a batch size >= 1, got {X.shape}, {batch}")

    def grad(W, gen):
        idx = gen.integers(0, X.shape[0], size=(W.shape[0], batch))
        Xb = X[idx]                                             # (chains, B, d)
        return np.einsum("cb,cbd->cd", np.einsum("cbd,cd->cb", Xb, W), Xb) / batch
    return grad


# -- confidence intervals ---------------------------------------------------------------------------
@dataclass
class Interval:
    estimate: float
    low: float
    high: float
    n: int
    level: float
    method: str

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def as_dict(self) -> dict:
        return {"estimate": self.estimate, "low": self.low, "high": self.high, "n": self.n,
                "level": self.level, "method": self.method}

    def __str__(self) -> str:
        return (f"{self.estimate:.6g} [{self.low:.6g}, {self.high:.6g}] "
                f"({100 * self.level:.4g}% {self.method}, n = {self.n})")


def mean_ci(samples, alpha: float = 0.01) -> Interval:
    """Normal (CLT) interval for the mean of i.i.d. samples; NaNs are refused, not dropped."""
    x = np.asarray(samples, dtype=float).ravel()
    if x.size < 2:
        raise SamVerifyError(f"a confidence interval needs at least 2 samples, got {x.size}")
    if not np.all(np.isfinite(x)):
        raise SamVerifyError("samples contain NaN or infinity (diverged chains?)")
    z = float(ndtri(1 - alpha / 2))
    m, half = float(x.mean()), z * float(x.std(ddof=1)) / np.sqrt(x.size)
    return Interval(m, m - half, m + half, int(x.size), 1 - alpha, "normal (CLT) interval")


def proportion_ci(successes: int, n: int, alpha: float = 0.01) -> Interval:
    """Wilson score interval for a binomial fraction."""
    if n < 1 or not 0 <= successes <= n:
        raise SamVerifyError(f"need 0 <= successes <= n and n >= 1, got {successes}/{n}")
    z = float(ndtri(1 - alpha / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half), n, 1 - alpha,
                    "Wilson score interval")


def ou_variance(lam, kappa, eta, B, t):
    """Variance at time t of the linear SDE dw = -kappa w dt + sqrt(eta |lam| / B) dW from w = 0:
    eta |lam| / (2 B kappa) (1 - exp(-2 kappa t)), with its kappa -> 0 limit eta |lam| t / B
    (vectorised over numpy arrays; the closed forms of Kim et al.'s Theorems 2 and 3 use it)."""
    kappa = np.asarray(kappa, float)
    safe = np.where(kappa == 0, 1.0, kappa)
    ratio = np.where(kappa == 0, 2 * t, -np.expm1(-2 * safe * t) / safe)
    return eta * np.abs(lam) / (2 * B) * ratio
