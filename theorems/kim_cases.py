"""Kim et al. (2023), Section 4.1, Cases I-III with Figures 1, 3 and 4: on Beale's function SAM stalls
at the saddle (0, 1) while its perturbed point keeps crossing to the other side of the saddle's stable
manifold, and the cosine between grad f(w) and grad f(w^p) swings between -1 and 1.

Statement (our words). Near an index-one saddle d, if the ball of radius rho around w meets the
stable manifold W^s(d), the perturbed point w^p lands on the other side of it (Case III), so
-grad f(w^p) points back across the boundary and the iterate is pulled toward d instead of down
the unstable manifold; repeated, the gradients at w and w^p point in opposing directions and SAM
stays at d while GD, from the same start, reaches the minimum (Figures 1, 3, 4).

Measured form. The side of W^s(d) is read, near d, from the sign of the component along the Hessian's
unstable eigenvector e_u (W^s is tangent to the stable eigenvector there): w^p is across when
((w - d) . e_u)((w^p - d) . e_u) < 0. For USAM, linearly, (w^p - d) . e_u = (1 + rho lambda_u)
(w - d) . e_u, so Case III holds at every step near d iff rho > -1/lambda_u — the threshold of
Theorem 1 — and cos(grad f(w), grad f(w^p)) tends to sign(1 + rho lambda_u) = -1. For normalized
SAM the perturbation has length rho whatever ||w - d||, so near d the perturbed point sits on a
circle of radius rho and the cosine is not determined by the linearization.

Runs (float64, eta = 1e-3, 20000 steps; the paper's start and step size 1e-4 are not given / too
slow here): USAM with rho = 0.1 > 4/111 from (-1.2, -0.4), normalized SAM with rho = 0.1 from
(-0.4, 0.6), GD from the same starts. The near-saddle window is the set of steps with
1e-7 < ||w - d|| < 0.05 (above rounding). Claims: GD reaches the minimum (3, 1/2); SAM ends at the
saddle; Case III at every step of the window; the cosine: -> -1 for USAM; for normalized SAM it
keeps oscillating to the end (Figure 4) — here between about 0.5 and 0.9 once stalled; the full -1..1
swing of the paper's figure shows only while the run approaches the saddle (both ranges are kept).
Negative controls: radii below the threshold (USAM rho = 0.02, SAM rho = 0.01): the run reaches the
minimum, the window is empty.
"""
from __future__ import annotations

import functools
import pathlib

import numpy as np
import sympy as sp

from verify import zoo
from verify.core import stochastic as st
from verify.core.sam import perturbed_points_batch
from verify.core.claims import compare
from verify.core.results import Certificate
from verify.ctx import get_context

from ._rivals import float_certificate

THEOREM = "Kim et al. Cases I-III"
TITLE = "Beale: SAM stalls at the saddle while its perturbed point crosses the stable manifold"
ORDER = 7.01

SADDLE, MINIMUM = np.array([0.0, 1.0]), np.array([3.0, 0.5])
ETA, STEPS = 1e-3, 20000
WINDOW = (1e-7, 0.05)
RUNS = {"usam": ((-1.2, -0.4), 0.1, 0.02), "sam": ((-0.4, 0.6), 0.1, 0.01)}   # start, rho, control rho


@functools.lru_cache(maxsize=None)
def beale_grad():
    obj = zoo.get("beale").objective
    parts = sp.lambdify(obj.symbols, [sp.diff(obj.expr, s) for s in obj.symbols], "numpy")

    def grad(W):  # called once a step for one row: filled in place (np.stack's overhead is most of it)
        out = np.empty(W.shape)
        out[:, 0], out[:, 1] = parts(W[:, 0], W[:, 1])
        return out
    return grad, obj


def unstable_direction(obj) -> tuple[float, np.ndarray]:
    fp = get_context("float64")
    H = np.asarray(obj.hess(obj.point(["0", "1"], fp), fp), dtype=float)
    w, Q = np.linalg.eigh(H)
    return float(w[0]), Q[:, 0]


@functools.lru_cache(maxsize=8)
def runs(method: str, start: tuple, rhos: tuple, steps: int) -> dict:
    """rho -> the iterates (steps + 1, 2) of the run from ``start`` with that rho: all radii in one
    batched run (one chain each; the rows do not interact), cached: a run and its control share it."""
    grad, _ = beale_grad()
    rec = np.stack(st.run_chains(grad, np.array([start] * len(rhos)), method,
                                 np.array(rhos, dtype=float)[:, None], ETA, steps,
                                 record_at=tuple(range(steps + 1))).record)
    return {rho: rec[:, i, :] for i, rho in enumerate(rhos)}


def trace(method: str, start, rho: float, steps: int = STEPS) -> dict:
    """The run, its perturbed points, the cosine and the side test at every step."""
    grad, obj = beale_grad()
    _, rho_run, rho_control = RUNS.get(method, (None, None, None))
    rhos = (rho_run, rho_control) if rho in (rho_run, rho_control) else (rho,)
    P = runs(method, tuple(start), rhos, steps)[rho]
    G = grad(P)
    Pp = perturbed_points_batch(P, G, rho, method)
    Gp = grad(Pp)
    cos = np.sum(G * Gp, axis=1) / np.maximum(np.linalg.norm(G, axis=1) * np.linalg.norm(Gp, axis=1), 1e-300)
    lam_u, e_u = unstable_direction(obj)
    across = ((P - SADDLE) @ e_u) * ((Pp - SADDLE) @ e_u) < 0
    dist = np.linalg.norm(P - SADDLE, axis=1)
    window = (dist > WINDOW[0]) & (dist < WINDOW[1])
    gd_end = gd_end_point(tuple(start), steps)
    return {"P": P, "Pp": Pp, "cos": cos, "across": across, "window": window, "dist": dist,
            "gd_end": gd_end, "lambda_u": lam_u}


@functools.lru_cache(maxsize=8)
def gd_end_point(start: tuple, steps: int) -> np.ndarray:
    """GD's end from ``start`` (cached: a run and its control share it)."""
    grad, _ = beale_grad()
    return st.run_chains(grad, np.array([start]), "gd", 0.0, ETA, steps).W[0]


def certify(method: str, rho: float | None = None, steps: int = STEPS, expected: bool = True,
            figdir=None) -> Certificate:
    start, rho_default, _ = RUNS[method]
    rho = rho_default if rho is None else rho
    fp = get_context("float64")
    name = {"usam": "USAM (Kim)", "sam": "normalized SAM (Foret)"}[method]
    label = f"{name}, rho = {rho}, start {start}, eta = {ETA}, {steps} steps"
    cert = float_certificate(THEOREM, TITLE, label, __doc__.split("\n\n")[1], expected)
    t = trace(method, start, rho, steps)
    win = t["window"]
    cert.add_object("lambda_u", repr(t["lambda_u"]), label="lambda_u at the saddle")
    cert.add_object("threshold", repr(-1 / t["lambda_u"]), label="threshold -1/lambda_u")
    cert.add_object("one_plus_rho_lambda_u", repr(1 + rho * t["lambda_u"]), label="1 + rho lambda_u")
    cert.add_object("gd_end", t["gd_end"].tolist(), label="GD end")
    cert.add_object("sam_end", t["P"][-1].tolist(), label="SAM end")
    cert.add_object("window_steps", int(win.sum()), label="steps in the near-saddle window")
    cert.add(compare("GD reaches the minimum", "GD from the same start ends within 1e-2 of (3, 1/2)",
                     float(np.linalg.norm(t["gd_end"] - MINIMUM)), "<", 1e-2, fp))
    stall = 1e-6 if method == "usam" else 1e-2
    cert.add(compare("SAM stalls at the saddle", f"the run ends within {stall:g} of (0, 1)",
                     float(t["dist"][-1]), "<", stall, fp))
    frac = float(np.mean(t["across"][win])) if win.any() else 0.0
    cert.add(compare("Case III", "w^p is across the stable manifold's tangent at every step of the "
                     "near-saddle window", frac, "==", 1.0, fp, tol=0.0))
    if win.any():
        cert.add_object("cos_range_window", [float(t["cos"][win].min()), float(t["cos"][win].max())],
                        label="cos range in the window")
    if method == "usam":
        last = float(t["cos"][win][-1]) if win.any() else 1.0
        cert.add(compare("cos -> sign(1 + rho lambda_u)", "the cosine at the window's last step is "
                         "below -0.99 (the linearization predicts -1)", last, "<", -0.99, fp))
    else:
        late = t["cos"][len(t["cos"]) // 2:][win[len(win) // 2:]]
        spread = float(late.max() - late.min()) if late.size else 0.0
        cert.add_object("cos_range_last_half",
                        [float(late.min()), float(late.max())] if late.size else "no near-saddle steps",
                        label="cos range over the last half (stalled)")
        cert.add(compare("cos oscillates (Figure 4)", "over the last half of the run the cosine keeps "
                         "oscillating: its range in the near-saddle window spans at least 0.2", spread,
                         ">=", 0.2, fp))
    if figdir is not None:
        cert.figures.append(_figure(pathlib.Path(figdir), method, rho, t))
    return cert.finish()


def _figure(figdir, method, rho, t) -> str:
    from verify.report import figures as FG
    fig, axes = FG.new_figure(2, 1)
    win = t["window"]
    ax = axes[0, 0]
    ax.plot(t["P"][win, 0], t["P"][win, 1], ".", ms=2, label="w_t")
    ax.plot(t["Pp"][win, 0], t["Pp"][win, 1], ".", ms=2, label="w_t^p")
    ax.plot(*SADDLE, "k+", ms=12)
    ax.set_title(f"{method}, rho = {rho}: near-saddle window", fontsize=10)
    ax.set_xlabel("w1")
    ax.set_ylabel("w2")
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    ax.plot(t["cos"], lw=0.6)
    ax.set_xlabel("step")
    ax.set_ylabel("cosine")
    ax.set_title("cos(grad f(w_t), grad f(w_t^p))", fontsize=10)
    return FG.save(fig, figdir / f"kim_cases_{method}_rho{rho}.png")


def report_certificates(quick: bool = False, figdir: pathlib.Path | None = None) -> list:
    certs = []
    for method, (_, _, rho_low) in list(RUNS.items())[: 1 if quick else None]:  # quick: USAM only
        certs.append(certify(method, figdir=figdir))
        certs.append(certify(method, rho=rho_low, expected=False))
    return certs


# -- uniform entry point (theorems.REGISTRY) --------------------------------------------------------
EXAMPLES = RUNS
