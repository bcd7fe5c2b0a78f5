"""Generated negatives and positives (hypothesis): the library's verdicts must never be wrong.

Negatives — no hallucinated minimizer exists, so no "hallucinated_minimizer" classification and no
PROVED existence proof may appear:

* convex functions (positive-definite quadratics, convex quartics, log-sum-exp) in 1-6 variables at
  random points and radii. For convex f a SAM-stationary point with grad f(x) != 0 cannot exist:
  grad f(x+) = 0 makes x+ a global minimizer, yet <grad f(x), x - x+> = -rho ||grad f(x)|| < 0
  contradicts f(x) >= f(x+). Theorem 2.1's construction must refuse them (no local maximizer);
* rings f = a (||x||^2 - R^2)^2 (d = 1: a double well) below their hallucination threshold rho < R,
  at random points: x + rho u(x) has radius | ||x|| - rho | inside the ball and ||x|| + rho outside,
  which never reaches the minimizer sphere, so nothing is hallucinated;
* SAM-stationary points that are not minimizers of f_SAM: on the same rings with rho < R, the sphere
  ||x|| = rho, where x + rho u(x) = 0 is the maximizer (f_SAM(x) = max f).

Positives — hallucinated minimizers constructed by Theorem 2.1 (``theorems.thm_2_1.construct``) for
random rings and separable double wells in 2-4 variables, and in closed form for rings with
R < rho < 2R (||x_h|| = rho - R, d = 1-6). classify must call them hallucinated minimizers; the
existence proof may be UNDECIDED but never FAILS, and the fraction PROVED is reported.

The default suite runs a fast profile (about 200 examples); ``--runslow`` runs the full count
(over 1000 negatives) and prints the counts.
"""
from __future__ import annotations

import functools
from fractions import Fraction

import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from theorems import prove_hallucination as ph
from theorems import thm_2_1
from verify.core.classify import classify
from verify.ctx import get_context
from verify.errors import HypothesisError
from verify.objectives.objective import AutogradObjective, SympyObjective

FP = get_context("float64")
COUNTS = {"negatives": 0, "positives": 0, "false verdicts": 0, "proofs on negatives": 0,
          "proofs on positives": 0, "positives proved": 0, "positives classified": 0}
HALLUCINATED = "hallucinated_minimizer"


def profile(n: int):
    return settings(max_examples=n, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


def wrong(condition: bool, what: str) -> None:
    """Record and fail on a false verdict."""
    if condition:
        COUNTS["false verdicts"] += 1
        raise AssertionError(what)


# -- strategies ------------------------------------------------------------------------------------------
EIGHTHS = st.integers(-16, 16).map(lambda k: Fraction(k, 8))
RHO = st.floats(1e-3, 10.0, allow_nan=False, allow_infinity=False)


def names(d):
    return [f"x{i}" for i in range(1, d + 1)]


@st.composite
def spd(draw, d):
    """A symmetric positive definite matrix B B^T + I/4 with rational entries (eighths)."""
    B = np.array([[draw(EIGHTHS) for _ in range(d)] for _ in range(d)], dtype=object)
    return B @ B.T + np.eye(d, dtype=object) * Fraction(1, 4)


def quad_text(A, c, v):
    return " + ".join(f"({A[i, j] / 2})*({v[i]} - ({c[i]}))*({v[j]} - ({c[j]}))"
                      for i in range(len(v)) for j in range(len(v)))


@st.composite
def convex_case(draw):
    """(kind, autograd f, sympy text, variables, minimizer guess) of a random convex function."""
    d = draw(st.integers(1, 6))
    kind = draw(st.sampled_from(["quadratic", "quartic", "logsumexp"]))
    v = names(d)
    A = draw(spd(d))
    c = [draw(EIGHTHS) for _ in range(d)]
    Af, cf = A.astype(float), np.array(c, dtype=float)
    if kind == "quadratic":
        fn = lambda x: 0.5 * anp.dot(x - cf, anp.dot(Af, x - cf))  # noqa: E731
        text = quad_text(A, c, v)
    elif kind == "quartic":
        W = [[draw(EIGHTHS) for _ in range(d)] for _ in range(draw(st.integers(1, 3)))]
        Wf = np.array(W, dtype=float)
        fn = lambda x: (0.5 * anp.dot(x - cf, anp.dot(Af, x - cf))  # noqa: E731
                        + anp.sum(anp.dot(Wf, x - cf) ** 4))
        text = quad_text(A, c, v) + "".join(
            " + (" + " + ".join(f"({w[i]})*({v[i]} - ({c[i]}))" for i in range(d)) + ")**4"
            for w in W)
    else:
        K = draw(st.integers(1, 4))
        W = [[draw(EIGHTHS) for _ in range(d)] for _ in range(K)]
        b = [draw(EIGHTHS) for _ in range(K)]
        Wf, bf = np.array(W, dtype=float), np.array(b, dtype=float)
        mu = Fraction(draw(st.integers(0, 4)), 4)
        fn = lambda x: (anp.log(anp.sum(anp.exp(anp.dot(Wf, x) + bf)))  # noqa: E731
                        + 0.5 * float(mu) * anp.dot(x, x))
        text = "log(" + " + ".join("exp(" + " + ".join(f"({w[i]})*{v[i]}" for i in range(d))
                                   + f" + ({bk}))" for w, bk in zip(W, b)) + ")" + \
            f" + ({mu / 2})*(" + " + ".join(f"{n}**2" for n in v) + ")"
    scale = draw(st.sampled_from([1e-3, 0.1, 1.0, 5.0]))
    x = cf + scale * np.array([draw(st.floats(-1, 1)) for _ in range(d)])
    return kind, AutogradObjective(fn, d, "analytic", name=f"{kind} d={d}"), text, v, x, draw(RHO)


@functools.lru_cache(maxsize=None)
def ring(d: int, R: Fraction, a: Fraction) -> SympyObjective:
    """a (||x||^2 - R^2)^2: minimizers on the sphere of radius R, maximizer at 0 (d = 1: a double
    well). Cached: objectives compile once per parameter set."""
    v = names(d)
    return SympyObjective(f"({a})*(" + " + ".join(f"{n}**2" for n in v) + f" - ({R})**2)**2",
                          ",".join(v), name=f"ring d={d} R={R} a={a}")


@functools.lru_cache(maxsize=None)
def double_well(cs: tuple, a: Fraction) -> SympyObjective:
    v = names(len(cs))
    return SympyObjective(" + ".join(f"({a})*({n}**2 - ({c})**2)**2" for n, c in zip(v, cs)),
                          ",".join(v), name=f"double well c={cs} a={a}")


RING_PARAMS = st.tuples(st.integers(1, 6), st.sampled_from([Fraction(1, 2), Fraction(1), Fraction(3, 2)]),
                        st.sampled_from([Fraction(1), Fraction(2)]))


def unit(draw, d):
    v = np.array([draw(st.floats(-1, 1)) for _ in range(d)])
    n = np.linalg.norm(v)
    return v / n if n > 1e-3 else np.eye(d)[0]


@st.composite
def below_threshold_case(draw):
    d, R, a = draw(RING_PARAMS)
    rho = float(R) * draw(st.floats(0.01, 0.95))
    r = float(R) * draw(st.floats(0.01, 3.0))
    if abs(r - rho) < 1e-3 * float(R):       # the SAM-stationary sphere is the next family
        r += 0.1 * float(R)
    return ring(d, R, a), r * unit(draw, d), rho, R


@st.composite
def stationary_case(draw):
    """||x|| = rho < R: x + rho u(x) = 0, the maximizer."""
    d, R, a = draw(RING_PARAMS)
    rho = float(R) * draw(st.floats(0.05, 0.95))
    return ring(d, R, a), rho * unit(draw, d), rho, R


# -- the checks -------------------------------------------------------------------------------------------
def classify_negative(obj, x, rho):
    k = classify(obj, list(x), rho, FP)
    COUNTS["negatives"] += 1
    wrong(k.kind == HALLUCINATED, f"{obj.name}: x = {list(x)}, rho = {rho} classified {k.kind}")
    return k


def prove_negative(obj, x, rho, x_star=None):
    cert = ph.prove(obj, [float(t) for t in x], float(rho), x_star=x_star, crosscheck=False,
                    floor=Fraction(1, 2 ** 20))
    COUNTS["proofs on negatives"] += 1
    wrong(cert.objects["verdict"] == "PROVED",
          f"{obj.name}: x = {list(x)}, rho = {rho}: existence PROVED for a negative")


def check_convex(case, prove_every: int):
    kind, obj, text, v, x, rho = case
    k = classify_negative(obj, x, rho)
    assert k.kind != "sam_stationary", (kind, list(x), rho)   # impossible for convex f (module doc)
    if COUNTS["negatives"] % prove_every == 0:
        sym = SympyObjective(text, ",".join(v))
        prove_negative(sym, x, rho)
        with pytest.raises(HypothesisError):                 # no isolated local maximizer
            thm_2_1.construct(sym, list(x), list(x + 1), FP)


def check_below_threshold(case, prove_every: int):
    obj, x, rho, R = case
    classify_negative(obj, x, rho)
    if COUNTS["negatives"] % prove_every == 0:
        prove_negative(obj, x, rho)
        prove_negative(obj, x, rho, x_star=[float(R) * t / np.linalg.norm(x) for t in x])


def check_stationary(case, prove_every: int):
    obj, x, rho, R = case
    k = classify_negative(obj, x, rho)
    assert k.kind in ("sam_stationary", "not_stationary"), k.kind
    if COUNTS["negatives"] % prove_every == 0:
        prove_negative(obj, x, rho)
        prove_negative(obj, x, rho, x_star=[0.0] * obj.dim)   # x+ = 0 is no global minimizer


def check_positive(obj, x_h, rho, x_star, prove: bool):
    COUNTS["positives"] += 1
    k = classify(obj, [float(t) for t in x_h], float(rho), FP)
    COUNTS["positives classified"] += k.kind == HALLUCINATED
    wrong(k.kind != HALLUCINATED, f"{obj.name}: constructed x_h = {list(x_h)}, rho = {rho} "
                                  f"classified {k.kind}")
    if prove:
        cert = ph.prove(obj, [float(t) for t in x_h], float(rho), x_star=x_star, crosscheck=False)
        COUNTS["proofs on positives"] += 1
        COUNTS["positives proved"] += cert.objects["verdict"] == "PROVED"
        wrong(cert.objects["verdict"] == "FAILS", f"{obj.name}: a constructed x_h was refuted")


def rational_unit(t: list[Fraction]) -> list[Fraction]:
    """An exact rational point of the unit sphere in 1 + len(t) dimensions (inverse stereographic
    projection), so that x_star = -R e is exactly a minimizer."""
    n2 = sum(q * q for q in t)
    return [2 * q / (n2 + 1) for q in t] + [(n2 - 1) / (n2 + 1)]


@st.composite
def closed_form_positive(draw):
    d, R, a = draw(RING_PARAMS)
    rho = float(R) * draw(st.floats(1.05, 1.95))
    e = rational_unit([draw(EIGHTHS) for _ in range(d - 1)])
    x_h = [(rho - float(R)) * float(t) for t in e]
    return ring(d, R, a), x_h, rho, [str(-R * t) for t in e]


@st.composite
def constructed_positive(draw):
    d = draw(st.integers(2, 4))
    if draw(st.booleans()):
        R, a = draw(RING_PARAMS)[1:]
        obj, x_star = ring(d, R, a), [str(R)] + ["0"] * (d - 1)
    else:
        cs = tuple(draw(st.sampled_from([Fraction(1, 2), Fraction(1), Fraction(3, 2)])) for _ in range(d))
        obj, x_star = double_well(cs, Fraction(draw(st.integers(1, 3)))), [str(c) for c in cs]
    con = thm_2_1.construct(obj, x_star, ["0"] * d, FP, certify_claims=False)
    return obj, [FP.to_float(t) for t in con.x_h], FP.to_float(con.rho), x_star


# -- the tests: a fast profile and the full count --------------------------------------------------------
FAST = {"convex": 110, "below": 45, "stationary": 25, "closed": 15, "constructed": 5}
FULL = {"convex": 600, "below": 300, "stationary": 150, "closed": 60, "constructed": 30}


def family_tests(sizes, prove_every):
    @profile(sizes["convex"])
    @given(convex_case())
    def convex(case):
        COUNTS.setdefault(f"convex examples, profile {sizes['convex']}", 0)
        COUNTS[f"convex examples, profile {sizes['convex']}"] += 1
        check_convex(case, prove_every)

    @profile(sizes["below"])
    @given(below_threshold_case())
    def below(case):
        check_below_threshold(case, prove_every)

    @profile(sizes["stationary"])
    @given(stationary_case())
    def stationary(case):
        check_stationary(case, prove_every)

    @profile(sizes["closed"])
    @given(closed_form_positive())
    def closed(case):
        check_positive(*case, prove=True)

    @profile(sizes["constructed"])
    @given(constructed_positive())
    def constructed(case):
        check_positive(*case, prove=True)

    return convex, below, stationary, closed, constructed


(test_convex_negatives, test_below_threshold_negatives, test_sam_stationary_negatives,
 test_closed_form_positives, test_constructed_positives) = family_tests(FAST, prove_every=10)

_full = [pytest.mark.slow(t) for t in family_tests(FULL, prove_every=4)]
(test_full_convex_negatives, test_full_below_threshold_negatives, test_full_sam_stationary_negatives,
 test_full_closed_form_positives, test_full_constructed_positives) = _full


def test_zz_counts(request, capsys):
    """Printed summary; with --runslow the full count must reach 1000 negatives."""
    with capsys.disabled():
        proved = COUNTS["positives proved"] / max(1, COUNTS["proofs on positives"])
        print(f"\nproperty suite: {COUNTS['negatives']} negatives ({COUNTS['proofs on negatives']} "
              f"existence proofs attempted), {COUNTS['positives']} positives "
              f"({COUNTS['positives classified']} classified hallucinated; "
              f"{COUNTS['positives proved']}/{COUNTS['proofs on positives']} = {proved:.0%} PROVED, "
              f"the rest UNDECIDED), false verdicts: {COUNTS['false verdicts']}")
    assert COUNTS["false verdicts"] == 0
    if COUNTS.get(f"convex examples, profile {FULL['convex']}"):   # the full profile ran
        assert COUNTS["negatives"] >= 1000
