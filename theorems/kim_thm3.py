"""Kim et al. (2023), Theorem 3: momentum, batch size and rho in the spread of noisy SAM at a saddle.

Statement (our words). With heavy-ball momentum gamma (m <- gamma m + g, w <- w - eta m) and batch
size B, the mean squared displacement of SAM along eigen-direction j after time t is claimed to be

    Delta_SAM = C1 (1 - exp(-C2 (1 - gamma)))^2 / ((1 - gamma)^3 B) + C3 (1 - exp(-C4 / (1 - gamma))) / ((1 - gamma) B)

with C1 = eta^2 |lambda| / 2, C2 = eta / t, C3 = eta |lambda| / (2 lambda (1 + rho lambda)^2) and
C4 = 2 lambda (1 + rho lambda)^2 t, all said to be positive. Hence Delta_SAM (1) increases with gamma,
(2) decreases with B, and (3) decreases with rho, so SAM needs a larger gamma to spread like SGD.

Read against the proof. The proof's formula has exp(-(1 - gamma) t / eta) in the first term, i.e.
C2 = t / eta, not eta / t; and for a negative eigenvalue (the escape direction of a saddle, the case
the theorem is about) C3 and C4 are negative, not positive. The rho-monotonicity argument needs
lambda (1 + rho lambda)^2 to increase with rho, which fails for lambda < 0 once rho > -1/lambda.
Each of these is decided below, on the formula itself (exact evaluation on grids) and on the
dynamics (many heavy-ball chains).

Construction. Formula checks: the three monotonicities of (17) on fine grids of gamma, B and rho,
for both readings of C2 and for both signs of lambda; the signs of C1..C4. Dynamics: noisy USAM with
heavy-ball momentum on the quadratic lambda w^2 / 2, noise N(0, |lambda| / B), independent chains
from w = 0 (verify.core.stochastic, seeded), k = t / eta steps; each monotonicity is a paired
comparison (the chains of two settings share their noise), decided by a normal (CLT) interval for the
mean paired difference of w^2 at family-wise level 99% (Bonferroni over the comparisons). (17)'s value
is compared with the simulated E[w^2] in a table.

Negative control: the reversed monotonicity (Delta decreases with gamma) goes through the same paired
comparison and is rejected.
"""
from __future__ import annotations

import pathlib

import numpy as np

from verify.core import stochastic as st
from verify.core.claims import boolean
from verify.core.results import Certificate
from verify.ctx import get_context
from verify.engine import map_tasks

from .kim_thm2 import kim_drift

THEOREM = "Kim et al. Thm 3"
TITLE = "Momentum, batch size and rho in SAM's spread at a saddle: formula (17) and the dynamics"
ORDER = 7.03

# the docstring's paragraphs [1:4]: Theorem 3 in words, formula (17) and its constants
STATEMENT_17 = "\n\n".join(__doc__.split("\n\n")[1:4])
FAMILY_ALPHA = 0.01
SEED = 20230303
ETA, T = 0.01, 0.5


def constants(lam, rho, eta, t, c2_reading: str = "statement") -> dict:
    """C1..C4 of Theorem 3; ``c2_reading`` 'statement' (eta / t) or 'proof' (t / eta)."""
    kappa = kim_drift(lam, rho)
    return {"C1": eta ** 2 * abs(lam) / 2, "C2": eta / t if c2_reading == "statement" else t / eta,
            "C3": eta * abs(lam) / (2 * kappa) if kappa else float("inf"), "C4": 2 * kappa * t}


def msd17(lam, rho, eta, B, t, gamma, c2_reading: str = "statement"):
    """Theorem 3's (17), vectorised over gamma (and any broadcastable argument)."""
    c = constants(lam, rho, eta, t, c2_reading)
    g = 1 - np.asarray(gamma, float)
    # second term C3 (1 - exp(-C4/g)) / (g B) = Theorem 2's form at time t/g, divided by g
    # (one implementation, with its kappa -> 0 limit at rho = -1/lambda)
    second = st.ou_variance(lam, kim_drift(lam, rho), eta, B, t / g) / g
    return c["C1"] * (-np.expm1(-c["C2"] * g)) ** 2 / (g ** 3 * B) + second


def simulate_w2(lam, rho, gamma, B, n_chains, seed, eta=ETA, t=T) -> np.ndarray:
    chains = st.run_chains(lambda W: lam * W, np.zeros((n_chains, 1)), "usam", rho, eta,
                           int(round(t / eta)), noise_sd=np.sqrt(abs(lam) / B), momentum=gamma,
                           seed=seed)
    return chains.W[:, 0] ** 2


# -- formula checks ---------------------------------------------------------------------------------
def formula_monotonicity(lam, c2_reading) -> dict:
    """Does (17) increase with gamma, decrease with B, decrease with rho (fine grids)?"""
    gammas = np.linspace(0, 0.95, 96)
    inc_gamma = bool(np.all(np.diff(msd17(lam, 0.3, ETA, 4, T, gammas, c2_reading)) > 0))
    Bs = np.arange(1, 65)
    dec_B = bool(np.all(np.diff(msd17(lam, 0.3, ETA, Bs, T, 0.5, c2_reading)) < 0))
    rhos = np.linspace(0, 3 / abs(lam), 121)
    vals = np.array([msd17(lam, r, ETA, 4, T, 0.5, c2_reading) for r in rhos])
    rising = rhos[1:][np.diff(vals) > 0]
    return {"increases with gamma": inc_gamma, "decreases with B": dec_B,
            "decreases with rho": rising.size == 0,
            "first rho where it rises": f"{float(rising[0]):.4g}" if rising.size else "none"}


def certify_formula() -> Certificate:
    fp = get_context("float64")
    cert = Certificate(THEOREM, TITLE, f"formula (17), eta = {ETA}, t = {T}, lambda = +-1",
                       statement=STATEMENT_17, context=fp.name,
                       precision=fp.precision_label)
    table, signs = [], {}
    for lam in (1.0, -1.0):
        for reading in ("statement", "proof"):
            m = formula_monotonicity(lam, reading)
            table.append([repr(lam), reading] + [str(m[k]) for k in m])
        signs[repr(lam)] = {k: v > 0 for k, v in constants(lam, 0.3, ETA, T).items()}
    cert.add_object("monotonicity", {"columns": ["lambda", "C2 reading", "increases with gamma",
                                                        "decreases with B", "decreases with rho",
                                                        "first rho where it rises"], "rows": table},
                    label="monotonicity of (17)")
    cert.add_object("signs", signs, label="signs of C1..C4 (rho = 0.3)")
    for k, col in (("increases with gamma", 2), ("decreases with B", 3), ("decreases with rho", 4)):
        bad = [f"lambda={r[0]}, C2 {r[1]}" for r in table if r[col] != "True"]
        cert.add(boolean(f"(17) {k}", f"(17) {k} for both signs of lambda and both C2 readings",
                         not bad, fp, f"fails at {bad}" if bad else ""))
    negative = [k for k, v in signs["-1.0"].items() if not v]
    cert.add(boolean("constants positive", "C1..C4 are positive (as stated) for both signs of lambda",
                     not negative, fp, f"negative at lambda = -1: {negative}" if negative else ""))
    c2s, c2p = constants(1.0, 0.3, ETA, T)["C2"], constants(1.0, 0.3, ETA, T, "proof")["C2"]
    cert.add(boolean("C2 statement = proof", "the statement's C2 = eta/t equals the proof's t/eta",
                     np.isclose(c2s, c2p), fp, f"eta/t = {c2s:g}, t/eta = {c2p:g}"))
    _formula_findings(cert, table, negative, c2s, c2p)
    return cert.finish()


def _formula_findings(cert, table, negative, c2s, c2p) -> None:
    if c2s != c2p:
        cert.finding("Kim et al. 2023, Theorem 3 vs its proof", "C2 = eta / t",
                     f"the proof's formula has exp(-(1 - gamma) t / eta), i.e. C2 = t / eta "
                     f"({c2p:g} here, vs eta / t = {c2s:g}); the gamma-monotonicity argument uses only "
                     f"C2 > 0 and survives either reading")
    if negative:
        cert.finding("Kim et al. 2023, Theorem 3", "C1, C2, C3 and C4 are positive constants",
                     f"for a negative eigenvalue (the saddle's escape direction) {negative} are negative "
                     f"(both carry the sign of lambda); the second term stays positive as a product")
    rho_rows = [r for r in table if r[4] != "True"]
    if rho_rows:
        cert.finding("Kim et al. 2023, Theorem 3 (rho) and its proof",
                     "Delta_SAM decreases as rho increases, since lambda (1 + rho lambda)^2 increases "
                     "with rho",
                     "the derivative 2 lambda^2 (1 + rho lambda) is negative for lambda < 0 and "
                     "rho > -1/lambda, and (17) itself rises with rho there: "
                     + "; ".join(f"lambda={r[0]} (C2 {r[1]}): first rise at rho = {r[5]}"
                                 for r in rho_rows))


# -- dynamics ---------------------------------------------------------------------------------------
def comparisons(quick: bool) -> list[tuple]:
    """(label, lambda, (rho, gamma, B) low, (rho, gamma, B) high, expected sign of high - low)."""
    out = []
    for lam in (1.0, -1.0):
        out += [(f"gamma 0 -> 0.5, lambda={lam}", lam, (0.3, 0.0, 4), (0.3, 0.5, 4), +1),
                (f"gamma 0.5 -> 0.9, lambda={lam}", lam, (0.3, 0.5, 4), (0.3, 0.9, 4), +1),
                (f"B 4 -> 32, lambda={lam}", lam, (0.3, 0.5, 4), (0.3, 0.5, 32), -1),
                (f"rho 0 -> 0.5, lambda={lam}", lam, (0.0, 0.5, 4), (0.5, 0.5, 4), -1)]
    out.append(("rho 1.5 -> 3 (beyond -1/lambda), lambda=-1.0", -1.0, (1.5, 0.5, 4), (3.0, 0.5, 4), -1))
    return out[::2] if quick else out


def paired(comps, n_chains, seed, alpha, engine=None) -> list:
    """Per comparison i: the CI of E[w^2(high) - w^2(low)] from chains sharing their noise (seed
    ``seed + i``; B scales the noise only), and both samples. Every simulation is one task (of
    ``engine`` when given)."""
    args = [(lam, *setting, n_chains, seed + i) for i, (_, lam, lo, hi, _) in enumerate(comps)
            for setting in (lo, hi)]
    w2 = map_tasks(simulate_w2, args, engine, desc="Kim Thm 3 pairs")
    return [(st.mean_ci(b - a, alpha), a, b) for a, b in zip(w2[::2], w2[1::2])]


def certify_dynamics(quick: bool = False, n_chains: int | None = None, seed: int = SEED,
                     flip: bool = False, engine=None) -> Certificate:
    """Each stated monotonicity against paired chains; ``flip`` reverses every stated direction
    (the negative control). The simulations run as tasks of ``engine`` when given."""
    n_chains = n_chains or (3000 if quick else 20000)
    fp = get_context("float64")
    label = f"heavy-ball USAM chains, eta = {ETA}, t = {T}, {n_chains} chains per setting, seed {seed}"
    cert = Certificate(THEOREM, TITLE, label if not flip else f"negative control (directions "
                       f"reversed): {label}", statement=__doc__.split("\n\n")[4], context=fp.name,
                       precision=fp.precision_label, expected=not flip)
    comps = comparisons(quick)
    alpha = FAMILY_ALPHA / len(comps)
    rows, values = [], []
    for (text, lam, lo, hi, sign), (ci, a, b) in zip(comps, paired(comps, n_chains, seed, alpha,
                                                                    engine)):
        sign = -sign if flip else sign
        holds = ci.low > 0 if sign > 0 else ci.high < 0
        rows.append([text, "increases" if sign > 0 else "decreases", str(ci), str(holds)])
        values += [_value(lam, lo, a, alpha), _value(lam, hi, b, alpha)]
        cert.add(boolean(text, f"E[w^2] {'increases' if sign > 0 else 'decreases'} ({text})", holds,
                         fp, str(ci)))
    if not flip:
        _value_claim(cert, values, fp)
    cert.add_object("sampling", f"{n_chains} chains per setting, paired (shared noise); normal (CLT) interval "
                    f"per comparison at level 1 - {alpha:.3g} (Bonferroni, family-wise 99%)")
    cert.add_object("paired_comparisons", {"columns": ["comparison", "direction", "E[difference of w^2] (CI)",
                                           "holds"], "rows": rows}, label="paired comparisons")
    cert.add_object("formula_vs_simulated", {"columns": ["lambda", "rho", "gamma", "B", "simulated (CI)",
                                                 "(17), C2 = eta/t", "(17), C2 = t/eta"],
                                     "rows": [_value_row(v) for v in values]},
                    label="(17) vs simulated E[w^2]")
    return cert.finish()


def _value_claim(cert, values, fp) -> None:
    """(17)'s value (either C2 reading) against the simulated interval, setting by setting."""
    bad = [v for v in values if not (v["ci"].contains(v["stated"]) or v["ci"].contains(v["proof"]))]
    cert.add(boolean("(17) value", f"(17) with one of the C2 readings lies in the simulated interval "
                     f"[{len(values) - len(bad)}/{len(values)} settings]", not bad, fp))
    if bad:
        w = max(bad, key=lambda v: abs(np.log(v["proof"] / v["ci"].estimate)))
        cert.finding("Kim et al. 2023, Theorem 3 (17)",
                     "the mean squared displacement of SAM with momentum gamma and batch size B is (17)",
                     f"(17) misses the heavy-ball chains' interval at {len(bad)}/{len(values)} "
                     f"settings (both C2 readings); worst at lambda={w['lam']}, (rho, gamma, B) = "
                     f"{w['setting']}: simulated {w['ci']}, (17) gives {w['stated']:.5g} (C2 = eta/t) "
                     f"or {w['proof']:.5g} (C2 = t/eta). The monotonicities in gamma and B hold in the "
                     f"dynamics; the one in rho holds there too, beyond -1/lambda as well, because the "
                     f"dynamics' drift is lambda (1 + rho lambda), not (17)'s squared one")


def _value(lam, setting, w2, alpha) -> dict:
    rho, gamma, B = setting
    return {"lam": lam, "setting": setting, "ci": st.mean_ci(w2, alpha),
            "stated": float(msd17(lam, rho, ETA, B, T, gamma)),
            "proof": float(msd17(lam, rho, ETA, B, T, gamma, "proof"))}


def _value_row(v) -> list:
    return [repr(v["lam"]), *(repr(x) for x in v["setting"]), str(v["ci"]), f"{v['stated']:.5g}",
            f"{v['proof']:.5g}"]


def report_certificates(quick: bool = False, figdir: pathlib.Path | None = None) -> list:
    return [certify_formula(), certify_dynamics(quick), certify_dynamics(True, flip=True)]


# -- uniform entry point (theorems.REGISTRY) --------------------------------------------------------
EXAMPLES = {"formula (17)": certify_formula, "dynamics": certify_dynamics}


def certify(quick: bool = False, n_chains: int | None = None, seed: int = SEED) -> Certificate:
    """Formula (17)'s monotonicity in momentum, batch size and rho against paired simulated chains
    (a model: the noisy quadratic saddle; float64)."""
    return certify_dynamics(quick, n_chains, seed)
