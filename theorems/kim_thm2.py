"""Kim et al. (2023), Theorem 2 and Corollary 1: the spread of noisy SAM started at a saddle, and
SGD against SAM.

Statement (our words). Near a critical point d with Hessian eigenvalues lambda_j, model the
mini-batch noise as Gaussian with covariance |H| / B (the Fisher approximation) and the loss by its
quadratic part. Started at d, the unnormalized SAM diffusion (their SDE (11), time t = k eta after k
steps of size eta) is Gaussian around d, and along eigenvector j its variance is claimed to be

    sigma_j^2(t) = eta |lambda_j| / (2 B kappa_j) * (1 - exp(-2 kappa_j t)),  kappa_j = lambda_j (1 + rho lambda_j)^2.

Corollary 1 (our words): for |lambda_j| t << 1 the mean squared displacement of SGD (rho = 0)
exceeds that of SAM by 2 eta t^2 |lambda_j|^3 rho / B, up to O(eta t^3 lambda_j^4 / B): SAM spreads
out of the saddle more slowly.

What the algorithm does. One noisy USAM step on the quadratic is w <- w - eta (H (w + rho H w) + xi):
the drift along eigenvector j is kappa_j = lambda_j (1 + rho lambda_j) — the same factor as in
Theorem 1 — not lambda_j (1 + rho lambda_j)^2, which is the gradient of w -> l(w + rho grad l(w))
that the proof differentiates instead. So three closed forms are compared:

* Kim (15): the statement above;
* OU: the same Ornstein-Uhlenbeck variance with the algorithm's drift lambda (1 + rho lambda),
  exact for the SDE (11) itself;
* discrete: the exact variance of the k-step chain, eta^2 s^2 (1 - q^(2k)) / (1 - q^2) with
  q = 1 - eta lambda (1 + rho lambda) and s^2 = |lambda| / B — no time-continuum approximation.

Construction. For each grid point (lambda, rho, eta, B) independent chains (rows of one numpy array,
seeded generator) start at d = 0 and take k = t / eta noisy USAM steps; the sample mean of w^2 is
the simulated variance, with a normal (CLT) confidence interval whose level is Bonferroni-corrected
over the grid (family-wise 99%). A formula *holds* at a grid point when it lies inside that interval.
For Corollary 1 the SGD and SAM chains share their noise (common random numbers), so the paired
difference of w^2 has a tight interval.

Claims and controls:

* the discrete closed form lies in every interval (the simulation and the interval are sound);
* at rho = 0 (SGD) all three forms agree and hold where eta |kappa| is small;
* Kim (15) is checked at every grid point; where it leaves the interval, a finding records how far
  and why (the squared factor; for lambda < 0 and rho > -1/lambda it predicts exponential growth,
  while the chains settle, as Theorem 1's attraction implies);
* Corollary 1's leading term against the paired simulated difference, in the regime
  |lambda| t << 1 and rho |lambda| << 1 where its remainder is small;
* negative control: a deliberately wrong formula (the OU form with one factor changed, 2B -> B) is
  put through the same comparison and must be rejected.
"""
from __future__ import annotations

import pathlib
from dataclasses import dataclass

import numpy as np

from verify.core import stochastic as st
from verify.core.claims import boolean, compare
from verify.core.results import Certificate
from verify.ctx import get_context
from verify.engine import map_tasks

from ._rivals import float_certificate

THEOREM = "Kim et al. Thm 2 / Cor 1"
TITLE = "Variance of noisy SAM at a saddle, and SGD vs SAM escape, against many simulated chains"
ORDER = 7.02

FAMILY_ALPHA = 0.01        # family-wise error of the whole grid (Bonferroni)
SEED = 20230115


# -- closed forms (lam, rho, eta, B, t); all vectorised over numpy arrays --------------------------
def kim_drift(lam, rho):
    """The drift of Kim et al. (15): lambda (1 + rho lambda)^2 (any numbers: floats, Fractions, balls)."""
    return lam * (1 + rho * lam) ** 2


def kim_variance(lam, rho, eta, B, t):
    """Kim et al. (15): drift lambda (1 + rho lambda)^2."""
    return st.ou_variance(lam, kim_drift(lam, rho), eta, B, t)


def ou_variance(lam, rho, eta, B, t):
    """The SDE (11) with the USAM drift lambda (1 + rho lambda)."""
    return st.ou_variance(lam, lam * (1 + rho * lam), eta, B, t)


def discrete_variance(lam, rho, eta, B, t):
    """Exact variance after k = t / eta noisy USAM steps from w = 0."""
    k = np.rint(t / eta)
    q2 = (1 - eta * lam * (1 + rho * lam)) ** 2
    geometric = np.where(np.isclose(q2, 1.0, rtol=0, atol=1e-15), k,
                         (1 - q2 ** k) / np.where(q2 == 1, 2.0, 1 - q2))
    return eta ** 2 * np.abs(lam) / B * geometric


def wrong_variance(lam, rho, eta, B, t):
    """Negative control: the OU form with 2B replaced by B (one factor changed)."""
    return 2 * ou_variance(lam, rho, eta, B, t)


FORMULAS = {"Kim (15)": kim_variance, "OU (USAM drift)": ou_variance,
            "discrete chain": discrete_variance}


def cor1_leading(lam, rho, eta, B, t, coefficient: float = 2):
    """Corollary 1's leading term coefficient * eta t^2 |lam|^3 rho / B (Kim: coefficient 2)."""
    return coefficient * eta * t ** 2 * abs(lam) ** 3 * rho / B   # abs: exact for Fractions too


# -- simulation -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Point:
    lam: float
    rho: float
    eta: float
    B: int
    t: float

    @property
    def steps(self) -> int:
        return int(round(self.t / self.eta))

    def args(self):
        return self.lam, self.rho, self.eta, self.B, self.steps * self.eta


def simulate_w2(p: Point, n_chains: int, seed: int, method: str = "usam") -> np.ndarray:
    """w^2 after p.steps noisy steps from the saddle, one sample per chain (1-D eigen-coordinate)."""
    lam = p.lam
    chains = st.run_chains(lambda W: lam * W, np.zeros((n_chains, 1)), method=method,
                           rho=p.rho if method != "gd" else 0.0, eta=p.eta, steps=p.steps,
                           noise_sd=np.sqrt(abs(lam) / p.B), seed=seed)
    return chains.W[:, 0] ** 2


def grid(quick: bool) -> list[Point]:
    lams = (-2.0, 1.0)
    rhos = (0.0, 0.02, 0.3, 0.8)          # 0.8 > -1/lambda = 0.5: Theorem 1's attracting regime
    etas = (0.002, 0.05) if not quick else (0.002,)
    Bs = (1, 32) if not quick else (4,)
    return [Point(l, r, e, b, 0.5) for l in lams for r in rhos for e in etas for b in Bs]


def variance_table(points, n_chains: int, seed: int = SEED, formulas=None, engine=None) -> dict:
    """Simulated variance with its interval and every formula's verdict, per grid point. Each
    point's chains are one task, seeded ``seed + i`` (on ``engine`` when given: the same numbers)."""
    formulas = formulas or FORMULAS
    alpha = FAMILY_ALPHA / len(points)
    samples = map_tasks(simulate_w2, [(p, n_chains, seed + i) for i, p in enumerate(points)],
                        engine, desc="Kim Thm 2 grid")
    rows = []
    for p, w2 in zip(points, samples):
        ci = st.mean_ci(w2, alpha)
        values = {name: float(f(*p.args())) for name, f in formulas.items()}
        rows.append({"point": p, "ci": ci, "values": values,
                     "holds": {name: ci.contains(v) for name, v in values.items()}})
    return {"rows": rows, "alpha_per_point": alpha, "n_chains": n_chains}


def _reason(row) -> str:
    p, v = row["point"], row["values"]
    eta_kappa = p.eta * p.lam * (1 + p.rho * p.lam)
    parts = []
    if not row["holds"].get("Kim (15)", True):
        parts.append(f"squared factor: Kim/OU = {v['Kim (15)'] / v['OU (USAM drift)']:.3g}")
    if not row["holds"].get("OU (USAM drift)", True):
        gap = v["discrete chain"] / v["OU (USAM drift)"] - 1
        parts.append(f"finite step: eta kappa = {eta_kappa:.3g}, discrete/OU - 1 = {gap:.3g}")
    return "; ".join(parts) or "holds"


def table_object(table) -> dict:
    names = list(table["rows"][0]["values"])
    columns = ["lambda", "rho", "eta", "B", "steps", "simulated E[w^2] (CI)"] + \
        [f"{n}" for n in names] + [f"{n} in CI" for n in names] + ["why not"]
    rows = []
    for r in table["rows"]:
        p, ci = r["point"], r["ci"]
        rows.append([repr(p.lam), repr(p.rho), repr(p.eta), str(p.B), str(p.steps),
                     f"{ci.estimate:.5g} [{ci.low:.5g}, {ci.high:.5g}]"]
                    + [f"{r['values'][n]:.5g}" for n in names]
                    + [str(r["holds"][n]) for n in names] + [_reason(r)])
    return {"columns": columns, "rows": rows}


# -- certificates -----------------------------------------------------------------------------------
# the docstring's paragraphs: [1] Theorem 2 in words, [2] its formula (15), [3] Corollary 1
THM2_STATEMENT = "\n\n".join(__doc__.split("\n\n")[1:3])
COR1_STATEMENT = __doc__.split("\n\n")[3]


def _new(example: str, expected: bool = True, statement: str = THM2_STATEMENT) -> Certificate:
    return float_certificate(THEOREM, TITLE, example, statement, expected)


def _sampling_note(table) -> str:
    return (f"{table['n_chains']} chains per grid point; normal (CLT) interval at level "
            f"1 - {table['alpha_per_point']:.3g} per point (Bonferroni, family-wise 99%)")


def certify_variance(quick: bool = False, n_chains: int | None = None, seed: int = SEED,
                     engine=None) -> Certificate:
    """Theorem 2: simulated variance vs Kim (15), the OU form and the exact discrete form (the
    grid's simulations as tasks of ``engine`` when given)."""
    n_chains = n_chains or (4000 if quick else 20000)
    points = grid(quick)
    cert = _new(f"{len(points)} grid points (lambda, rho, eta, B), t = 0.5, seed {seed}")
    table = variance_table(points, n_chains, seed, engine=engine)
    fp = get_context("float64")
    _hypotheses(cert)
    cert.add_object("sampling", _sampling_note(table))
    cert.add_object("seed", seed)
    cert.add_object("variance_table", table_object(table), label="variance table")
    rows = table["rows"]
    cert.add(_all_hold("discrete closed form", "the exact variance of the k-step chain lies in "
                       "every interval (simulation and interval sound)", rows, "discrete chain", fp))
    small_step = [r for r in rows if _small_step(r["point"])]
    sgd = [r for r in small_step if r["point"].rho == 0]
    if sgd:
        cert.add(_all_hold("SGD limit", "at rho = 0 and eta |lambda| <= 0.005, Kim (15) (= the OU "
                           "form there) lies in every interval", sgd, "Kim (15)", fp))
    if small_step:
        cert.add(_all_hold("OU form", "with the algorithm's drift lambda (1 + rho lambda), the OU "
                           "form lies in every interval where eta |lambda| <= 0.005", small_step,
                           "OU (USAM drift)", fp))
    kim = cert.add(_all_hold("Kim (15)", "Kim's closed form (15) lies in the interval at every grid "
                             "point", rows, "Kim (15)", fp))
    if not kim.passed:
        _kim_finding(cert, rows)
    return cert.finish()


def _hypotheses(cert: Certificate) -> None:
    cert.hypothesis("quadratic", "second-order Taylor model of the loss near d", True,
                    "the simulated loss is exactly quadratic, l = lambda w^2 / 2 per eigen-direction")
    cert.hypothesis("Fisher noise", "gradient noise covariance |H| / B (approximation (13))", True,
                    "noise drawn as N(0, |lambda| / B) per step, perturbation noise-free (Section 4.3)")
    cert.hypothesis("start at d", "w_0 = d", True, "every chain starts at w = 0")


def _all_hold(claim_id, statement, rows, name, fp):
    bad = [r for r in rows if not r["holds"][name]]
    where = ", ".join(f"(lambda={r['point'].lam}, rho={r['point'].rho}, eta={r['point'].eta}, "
                      f"B={r['point'].B})" for r in bad[:6])
    return boolean(claim_id, statement + f" [{len(rows) - len(bad)}/{len(rows)} points]",
                   not bad, fp, f"outside at {where}" if bad else "")


def _small_step(p: Point) -> bool:
    """Where the time-continuum forms are meant to apply (discretization gap below the intervals)."""
    return p.eta * abs(p.lam) <= 0.005


def _kim_finding(cert, rows) -> None:
    bad = [r for r in rows if not r["holds"]["Kim (15)"]]
    own = [r for r in bad if _small_step(r["point"]) and r["point"].rho > 0]
    step = [r for r in bad if not _small_step(r["point"])]
    worst = max(bad, key=lambda r: abs(np.log(r["values"]["Kim (15)"] / r["ci"].estimate)))
    p = worst["point"]
    attract = [r for r in bad if r["point"].lam < 0 and r["point"].rho * -r["point"].lam > 1]
    cert.finding(
        "Kim et al. 2023, Theorem 2 (15) and its proof",
        "sigma_j^2(t) = eta |lambda| / (2 B lambda (1 + rho lambda)^2) (1 - exp(-2 lambda (1 + rho "
        "lambda)^2 t)) for SAM started at the saddle",
        f"leaves the {100 * (1 - FAMILY_ALPHA):.0f}% family-wise interval at {len(bad)}/{len(rows)} grid "
        f"points: {len(own)} with small steps (eta |lambda| <= 0.005) and rho > 0, where the OU form "
        f"with drift lambda (1 + rho lambda) holds, so the squared factor is the cause; {len(step)} "
        f"with large steps (eta |lambda| > 0.005), where the time-continuum limit is not reached "
        f"(see the discrete column). Worst at "
        f"lambda={p.lam}, rho={p.rho}, eta={p.eta}, B={p.B}: formula "
        f"{worst['values']['Kim (15)']:.4g} vs simulated {worst['ci']}. The USAM step has drift "
        f"lambda (1 + rho lambda) (as in Theorem 1); the proof's H (I + rho H)^2 w is the gradient "
        f"of w -> l(w + rho grad l(w)), not grad l evaluated at w^p. "
        + (f"For lambda < 0 and rho > -1/lambda ({len(attract)} points) (15) grows exponentially in "
           f"t for every rho, while the chains settle (Theorem 1's attraction)." if attract else ""))


def certify_cor1(quick: bool = False, n_chains: int | None = None, seed: int = SEED + 7,
                 coefficient: float = 2.0, expected: bool = True, engine=None) -> Certificate:
    """Corollary 1's leading term vs the paired (common-noise) simulated SGD - SAM difference (the
    simulations as tasks of ``engine`` when given)."""
    n_chains = n_chains or (4000 if quick else 20000)
    points = [Point(l, r, 2.5e-5, 1, 0.005) for l in (-1.0, 0.5) for r in (0.05, 0.2)]
    alpha = FAMILY_ALPHA / len(points)
    fp = get_context("float64")
    label = f"|lambda| t <= 0.005, paired chains, coefficient {coefficient:g}"
    cert = _new(label, expected, COR1_STATEMENT)
    _hypotheses(cert)
    rows = []
    algebra_ratio = []
    w2 = map_tasks(simulate_w2, [(p, n_chains, seed + i, m) for i, p in enumerate(points)
                                 for m in ("gd", "usam")], engine, desc="Kim Cor 1 pairs")
    for i, p in enumerate(points):
        ci = st.mean_ci(w2[2 * i] - w2[2 * i + 1], alpha)     # GD - USAM on shared noise
        lead = float(cor1_leading(*p.args(), coefficient=coefficient))
        kim_exact = float(kim_variance(p.lam, 0, p.eta, p.B, p.t) - kim_variance(*p.args()))
        algebra_ratio.append(kim_exact / float(cor1_leading(*p.args())))
        rows.append([repr(p.lam), repr(p.rho), str(p.steps), f"{ci.estimate:.5g} [{ci.low:.5g}, "
                     f"{ci.high:.5g}]", f"{lead:.5g}", f"{kim_exact:.5g}", str(ci.contains(lead))])
    cert.add_object("sampling", f"{n_chains} paired chains per point; normal (CLT) interval at level "
                    f"1 - {alpha:.3g} per point (Bonferroni, family-wise 99%); seed {seed}")
    cert.add_object("cor1_table", {"columns": ["lambda", "rho", "steps", "simulated SGD - SAM (CI)",
                                          f"{coefficient:g} eta t^2 |lambda|^3 rho / B",
                                          "difference of Kim's (15)", "leading term in CI"],
                              "rows": rows}, label="Corollary 1 table")
    cert.add(compare("Cor 1 from (15)", "Corollary 1's leading term is the expansion of (15): "
                     "((15) at rho=0 - (15)) / leading term, worst point, equals 1 up to rho |lambda| "
                     "+ 2 |lambda| t (its first-order part is rho lambda / 2 - 4 lambda t / 3)", max(abs(r - 1) for r in algebra_ratio), "<=",
                     max(p.rho * abs(p.lam) + 2 * abs(p.lam) * p.t for p in points), fp))
    inside = [row[-1] == "True" for row in rows]
    cert.add(boolean("leading term", f"the leading term lies in every paired interval "
                     f"[{sum(inside)}/{len(rows)} points]", all(inside), fp))
    if expected and not all(inside) and coefficient == 2.0:
        cert.finding("Kim et al. 2023, Corollary 1 (16)",
                     "Delta_SGD - Delta_SAM = 2 eta t^2 |lambda|^3 rho / B + O(eta t^3 lambda^4 / B)",
                     "the simulated USAM chains give about half of it (coefficient 1: the drift is "
                     "lambda (1 + rho lambda), not lambda (1 + rho lambda)^2); the sign, and hence "
                     "'SAM spreads more slowly than SGD', survives. The remainder of (16) also omits "
                     "the rho^2 lambda^4 t^2 term of (15)'s own expansion. Table: "
                     + "; ".join(f"lambda={r[0]}, rho={r[1]}: sim {r[3]} vs {r[4]}" for r in rows))
    return cert.finish()


def certify_wrong_formula(quick: bool = True, n_chains: int | None = None,
                          seed: int = SEED + 13, engine=None) -> Certificate:
    """Negative control: the OU form with 2B -> B goes through the same comparison and fails."""
    n_chains = n_chains or 4000
    points = [p for p in grid(quick) if p.rho in (0.0, 0.02)]
    cert = _new("OU form with 2B replaced by B", expected=False)
    table = variance_table(points, n_chains, seed,
                           formulas={"discrete chain": discrete_variance, "wrong (B for 2B)":
                                     wrong_variance}, engine=engine)
    fp = get_context("float64")
    _hypotheses(cert)
    cert.add_object("sampling", _sampling_note(table))
    cert.add_object("variance_table", table_object(table), label="variance table")
    cert.add(_all_hold("discrete closed form", "the exact discrete form lies in every interval",
                       table["rows"], "discrete chain", fp))
    cert.add(_all_hold("wrong formula", "the altered formula lies in every interval",
                       table["rows"], "wrong (B for 2B)", fp))
    return cert.finish()


def report_certificates(quick: bool = False, figdir: pathlib.Path | None = None) -> list:
    return [certify_variance(quick), certify_cor1(quick),
            certify_cor1(quick, coefficient=1.0),  # the coefficient the algorithm's drift gives
            certify_wrong_formula()]


# -- uniform entry point (theorems.REGISTRY) --------------------------------------------------------
EXAMPLES = {"variance (15)": certify_variance, "Corollary 1": certify_cor1,
            "wrong formula (negative control)": certify_wrong_formula}


def certify(quick: bool = False, n_chains: int | None = None, seed: int = SEED) -> Certificate:
    """Kim et al.'s variance formula (15) against simulated chains (a model: the noisy quadratic
    saddle; float64)."""
    return certify_variance(quick, n_chains, seed)
