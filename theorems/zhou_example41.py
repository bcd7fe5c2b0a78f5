"""Zhou et al. (2025), Example 4.1 and Figure 4(a): the two-phase picture on tanh(v tanh(u)), and
whether the assumptions of their theorems hold on it.

Statement (our words). Fitting one data point (x = 1, y = 0) with f(u, v) = tanh(v tanh(u)) under
the squared loss gives L(u, v) = tanh^2(v tanh u) / 2. Its global minima include the line M = {v = 0}
with sharpness tanh^2(u) there (a second valley lies around N = {u = 0}). Switching from (S)GD to SAM
late, SAM first leaves the sharp minimum GD found (P1), stays in the valley around M (P2), then
converges to a flatter point of M (P3), quickly (P4).

Assumptions, checked on the example (a finding when one fails):

* Assumption 4.1 (gradient-noise alignment, needed by Theorem 4.1 and Corollary 4.2): with a single
  data point the mini-batch gradient is the full gradient, Sigma = 0 and the best gamma is 0;
* Assumption 4.2(ii) (PL, needed by Theorem 4.3): inf ||grad L||^2 / (2 L) over a box, on a grid;
* Definition 4.2 (sub-quadratic, needed by Proposition 4.1) along v at fixed u: the largest valley
  [-2b, 2b] on which L''(|v|) does not increase, and whether Proposition 4.1's bounds then allow an
  escape from the minimum.

Run (full batch, the example has one data point): GD with step eta from (u0, v0) to its end, then
USAM with radius rho from there, with v moved by 1e-8 (standing in for SGD's noise: v = 0 is
invariant). The linear stability of the point (u, 0) is s < 2/eta for GD and s (1 + rho s) < 2/eta
for USAM, s = tanh^2 u. Claims over the stated horizon: GD's end is GD-stable and USAM-unstable; USAM
leaves it (P1), u keeps its sign and stays away from N (P2), USAM ends on M at a smaller sharpness
that is USAM-stable (P3). Negative control: a radius too small to destabilise GD's minimum — USAM does
not leave (P1 fails).
"""
from __future__ import annotations

import pathlib

import numpy as np

from verify.core import stochastic as st
from verify.core.claims import boolean, compare
from verify.core.results import Certificate
from verify.ctx import get_context

from ._rivals import float_certificate

THEOREM = "Zhou et al. Example 4.1"
TITLE = "tanh(v tanh u): the two-phase run, and which assumptions hold on the paper's illustration"
ORDER = 7.14
KICK = 1e-8


def loss(W):
    return 0.5 * np.tanh(W[..., 1] * np.tanh(W[..., 0])) ** 2


def grad(W):
    u, v = W[..., 0], W[..., 1]
    t = np.tanh(u)
    s = np.tanh(v * t)
    c = s * (1 - s ** 2)
    return np.stack([c * v * (1 - t ** 2), c * t], axis=-1)


def pl_ratio_on_box(half: float = 5.0, n: int = 801) -> float:
    """inf over a grid of the box of ||grad L||^2 / (2 L) (points with L > 1e-12)."""
    U, V = np.meshgrid(np.linspace(-half, half, n), np.linspace(-half, half, n))
    W = np.stack([U, V], axis=-1)
    L, g2 = loss(W), np.sum(grad(W) ** 2, axis=-1)
    keep = L > 1e-12
    return float(np.min(g2[keep] / (2 * L[keep])))


def subquadratic_reach(u: float, n: int = 20001, vmax: float = 20.0) -> float:
    """Largest c such that L''(|v|) (along v at fixed u) does not increase on [0, c]."""
    c = np.tanh(u)
    v = np.linspace(0, vmax, n)
    x = v * c
    second = c ** 2 * (1 - np.tanh(x) ** 2) * (1 - 3 * np.tanh(x) ** 2)
    rises = np.nonzero(np.diff(second) > 1e-15)[0]
    return float(v[rises[0]]) if rises.size else vmax


def certify_assumptions() -> Certificate:
    fp = get_context("float64")
    cert = Certificate(THEOREM, TITLE, "L(u, v) = tanh^2(v tanh u)/2, one data point",
                       statement=__doc__.split("\n\n")[2], context=fp.name, precision=fp.precision_label)
    pl = pl_ratio_on_box()
    u_star = 1.3455                                   # GD's end in the run below (eta = 2.5)
    reach = subquadratic_reach(u_star)
    b = reach / 2
    s = np.tanh(u_star) ** 2                          # a = L''(0) along v
    vv = np.linspace(-reach, reach, 4001)
    slope = np.max(np.abs(np.tanh(vv * np.tanh(u_star)) * (1 - np.tanh(vv * np.tanh(u_star)) ** 2)
                          * np.tanh(u_star)))
    eta_max = b / slope
    cert.add_object("gamma_star", "0 (one data point: Sigma = 0)", label="gamma* (Assumption 4.1)")
    cert.add_object("pl_constant", repr(pl), label="inf ||grad L||^2 / (2L) on [-5, 5]^2 (801^2 grid)")
    cert.add_object("subquadratic_reach", repr(reach), label="sub-quadratic reach along v at u = 1.3455")
    cert.add_object("eta_bound", repr(float(eta_max)), label="Prop 4.1 eta bound b / max_V |L'|")
    cert.add_object("escape_threshold", repr(float(2 / s)), label="escape threshold 2/a at rho = 0")
    cert.add(boolean("Assumption 4.1", "some gamma > 0 satisfies the alignment inequality", False, fp,
                     "one data point: the stochastic gradient equals the full gradient"))
    cert.add(compare("PL on the box", "inf ||grad L||^2/(2L) is bounded away from 0 (> 1e-3)", pl,
                     ">", 1e-3, fp))
    cert.add(compare("Prop 4.1 allows escape", "on the largest sub-quadratic valley along v, "
                     "b / max_V |L'| exceeds 2/a (an escaping eta is allowed)", eta_max, ">", 2 / s, fp))
    cert.finding("Zhou et al. 2025, Example 4.1 with Theorems 4.1, 4.3 and Corollary 4.2",
                 "the example illustrates the two-phase picture that the theorems explain",
                 f"with one data point there is no gradient noise, so Assumption 4.1 fails (gamma = 0) "
                 f"and Theorem 4.1 / Corollary 4.2 say nothing here; PL fails on [-5, 5]^2 "
                 f"(inf ||grad L||^2/(2L) = {pl:.2g}: L -> 1/2 with vanishing gradient as |v| grows), "
                 f"so Theorem 4.3's mu is ~0 there; along v at GD's end (u = {u_star}) the valley is "
                 f"sub-quadratic only on |v| <= {reach:.4g}, where Proposition 4.1 allows eta < "
                 f"{eta_max:.4g}, below the escape threshold 2/a = {2 / s:.4g}: it cannot cover the "
                 f"escape the example shows")
    return cert.finish()


def two_phase(eta: float, rho: float, start=(2.0, 0.5), steps: int = 3000):
    """GD to its end, then USAM from there (v kicked by 1e-8); returns (GD end, USAM record)."""
    gd_end = st.run_chains(grad, np.array([start]), "gd", 0.0, eta, steps).W[0]
    kicked = gd_end + np.array([0.0, KICK])
    sam = st.run_chains(grad, kicked[None, :], "usam", rho, eta, steps,
                        record_at=tuple(range(steps + 1)))
    return gd_end, np.stack(sam.record)[:, 0, :]


def certify_run(eta: float = 2.5, rho: float = 0.5, steps: int = 3000, expected: bool = True) -> Certificate:
    fp = get_context("float64")
    label = f"GD then USAM, eta = {eta}, rho = {rho}, start (2, 0.5), {steps} steps each"
    cert = float_certificate(THEOREM, TITLE, label, __doc__.split("\n\n")[3], expected)
    gd_end, path = two_phase(eta, rho, steps=steps)
    s_gd, s_sam = np.tanh(gd_end[0]) ** 2, np.tanh(path[-1, 0]) ** 2
    s_gd, s_sam = float(s_gd), float(s_sam)
    cert.add_object("gd_end", gd_end.tolist(), label="GD end (u, v)")
    cert.add_object("usam_end", path[-1].tolist(), label="USAM end (u, v)")
    cert.add_object("sharpness_gd_end", repr(s_gd), label="sharpness at GD end")
    cert.add_object("sharpness_usam_end", repr(s_sam), label="sharpness at USAM end")
    cert.add_object("two_over_eta", repr(2 / eta), label="2/eta")
    cert.add_object("max_v_after_switch", repr(float(np.max(np.abs(path[:, 1])))),
                    label="max |v| after the switch")
    cert.add(compare("GD on M", "GD ends on M: |v| < 1e-10", abs(float(gd_end[1])), "<", 1e-10, fp))
    cert.add(compare("GD-stable end", "GD's end is GD-stable: s < 2/eta", s_gd, "<", 2 / eta, fp))
    cert.add(compare("USAM-unstable there", "s (1 + rho s) > 2/eta at GD's end", s_gd * (1 + rho * s_gd),
                     ">", 2 / eta, fp))
    cert.add(compare("P1 escape", f"USAM moves |v| from {KICK:g} to above 1e-3 within {steps} steps",
                     float(np.max(np.abs(path[:, 1]))), ">", 1e-3, fp))
    same_side = np.all(np.sign(path[:, 0]) == np.sign(gd_end[0])) and np.all(np.abs(path[:, 0]) > 0.1)
    cert.add(boolean("P2 same valley", f"u keeps its sign and |u| > 0.1 (away from N) for {steps} steps",
                     bool(same_side), fp))
    cert.add(compare("P3 flatter", "USAM ends on M (|v| < 1e-10) at a smaller sharpness", s_sam, "<",
                     s_gd * (1 - 1e-6), fp))
    cert.add(compare("end USAM-stable", "USAM's end satisfies s (1 + rho s) < 2/eta",
                     s_sam * (1 + rho * s_sam), "<", 2 / eta, fp))
    cert.add(compare("on M", "USAM's end has |v| < 1e-10", abs(float(path[-1, 1])), "<", 1e-10, fp))
    return cert.finish()


def report_certificates(quick: bool = False, figdir: pathlib.Path | None = None) -> list:
    return [certify_assumptions(), certify_run(), certify_run(rho=0.02, expected=False)]


# -- uniform entry point (theorems.REGISTRY) --------------------------------------------------------
EXAMPLES = {"assumptions": certify_assumptions, "two-phase run": certify_run}


def certify(eta: float = 2.5, rho: float = 0.5, steps: int = 3000) -> Certificate:
    """The two-phase run on tanh(v tanh u) (a model: Zhou et al.'s Example 4.1; float64)."""
    return certify_run(eta, rho, steps)
