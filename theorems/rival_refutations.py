"""The rival papers' closed forms against the exact quantities they claim to give, decided in exact
rational arithmetic or Arb (issue 16, item 3).

The sections on Kim et al. (2023) find, from simulated chains and float formulas, that some of the
stated closed forms are not the quantity they name. Where both sides are closed forms, the
disagreement is decided here at one stated parameter point, by exact arithmetic (Fractions, sympy)
or by an Arb enclosure of the difference that excludes 0, so no sampling or rounding is trusted:

* Kim Thm 2 (15): the drift lambda (1 + rho lambda)^2 against the drift of the USAM step on the
  quadratic lambda w^2 / 2, i.e. d/dw grad f(w + rho grad f(w)), computed with the library's USAM
  point (:func:`verify.core.sam.usam_point`) in Arb: it is lambda (1 + rho lambda);
* Kim Cor 1 (16): the t^2 coefficient 2 eta |lambda|^3 rho / B of Delta_SGD - Delta_SAM against the
  exact one of the OU variances eta |lambda| / (2 B kappa) (1 - exp(-2 kappa t)) = eta |lambda| / B
  (t - kappa t^2 + O(t^3)), i.e. eta |lambda| (kappa_SAM - kappa_SGD) / B with the exact USAM drift;
* Kim Thm 3: the statement's C2 = eta / t against the proof's t / eta
  (:func:`theorems.kim_thm3.constants`, both readings); the signs of C3, C4 (stated positive) at a
  negative eigenvalue; the proof's "lambda (1 + rho lambda)^2 increases with rho", whose exact
  rho-derivative (sympy) is negative for lambda < 0, rho > -1/lambda.

Each certificate has a negative control at a point where the two sides agree (rho = 0; t = eta;
lambda > 0; rho < -1/lambda) that must not come out PROVED. A PROVED disagreement records a finding
with evidence level PROVED under the (source, statement) of the sampled finding it backs.
"""
from __future__ import annotations

from fractions import Fraction

import sympy as sp

from verify import sam
from verify.core.results import Certificate, Verdict
from verify.ctx import shared_context
from verify.objectives.objective import SympyObjective

from . import kim_thm3
from . import prove_hallucination as ph
from .kim_thm2 import cor1_leading, kim_drift

THEOREM = "Rival closed forms (proved)"
TITLE = "Kim et al.'s closed forms against the exact quantities, decided exactly or in Arb"
ORDER = 7.5
DPS = 30
LAM, RHO, ETA, B, T = Fraction(-1), Fraction(1, 5), Fraction(1, 100), 1, Fraction(1, 2)

# the (source, statement) of the sampled findings in theorems/kim_thm2.py and kim_thm3.py
DRIFT_FINDING = ("Kim et al. 2023, Theorem 2 (15) and its proof",
                 "sigma_j^2(t) = eta |lambda| / (2 B lambda (1 + rho lambda)^2) (1 - exp(-2 lambda (1 + rho "
                 "lambda)^2 t)) for SAM started at the saddle")
COR1_FINDING = ("Kim et al. 2023, Corollary 1 (16)",
                "Delta_SGD - Delta_SAM = 2 eta t^2 |lambda|^3 rho / B + O(eta t^3 lambda^4 / B)")
C2_FINDING = ("Kim et al. 2023, Theorem 3 vs its proof", "C2 = eta / t")
SIGN_FINDING = ("Kim et al. 2023, Theorem 3", "C1, C2, C3 and C4 are positive constants")
RHO_FINDING = ("Kim et al. 2023, Theorem 3 (rho) and its proof",
               "Delta_SAM decreases as rho increases, since lambda (1 + rho lambda)^2 increases with rho")


def _ctx():
    return shared_context("arb", DPS)


def _certificate(title, example, statement, expected) -> tuple[Certificate, object]:
    ctx = _ctx()
    cert = Certificate(THEOREM, title, example, statement=statement, expected=expected,
                       context=ctx.name, precision=ctx.precision_label)
    return cert, ctx


def _decide(cert, ctx, cid, text, sides: dict, finding, evidence) -> None:
    """Record the two sides (stated, exact; by name) and decide stated - exact != 0: PROVED when its
    enclosure (or exact value) excludes 0, FAIL when it is exactly 0, else UNDECIDED. A proof
    records the PROVED finding."""
    (stated_label, stated), (exact_label, exact) = sides.items()
    text_of = lambda v: str(v) if isinstance(v, Fraction) else ctx.to_str(v)  # noqa: E731
    cert.add_object("stated", text_of(stated), label=stated_label)
    cert.add_object("exact", text_of(exact), label=exact_label)
    d = ctx.scalar(stated - exact) if isinstance(stated, Fraction) else stated - exact
    verdict = (Verdict.PROVED if (d > 0 or d < 0) else
               Verdict.FAIL if (d.is_exact() and d == 0) else Verdict.UNDECIDED)
    cert.add(ph.interval_claim(cid, text, ctx.to_str(d), "!=", "0", verdict, ctx.name, ctx.precision_label))
    cert.claims[-1].tier = "exact"
    if verdict is Verdict.PROVED and cert.expected:
        cert.finding(*finding, evidence, "PROVED")


# -- Kim Thm 2: the drift ----------------------------------------------------------------------------------
def usam_drift(lam, rho, ctx):
    """d/dw grad f(w + rho grad f(w)) for f = lam w^2 / 2: the step's map is linear, so it is the value
    at w = 1, computed with the library's USAM point (Arb)."""
    obj = SympyObjective(sp.Rational(lam.numerator, lam.denominator) * sp.Symbol("w") ** 2 / 2, "w")
    w = ctx.vector([1])
    shifted = sam.usam_point(obj, w, ctx.scalar(rho), ctx) if rho else w   # rho = 0: the SGD step
    return obj.grad(shifted, ctx)[0]


def refute_drift(lam=LAM, rho=RHO, expected: bool = True, example: str = "") -> Certificate:
    cert, ctx = _certificate("Kim (15)'s drift against the USAM step's (proved)",
                             example or f"lambda = {lam}, rho = {rho}",
                             "the drift of (15), lambda (1 + rho lambda)^2, differs from the USAM drift",
                             expected)
    with ctx.working():
        exact = usam_drift(lam, rho, ctx)
        stated = kim_drift(ctx.scalar(lam), ctx.scalar(rho))
        _decide(cert, ctx, "drift_differs", "stated drift - USAM drift (Arb enclosure excludes 0)",
                {"stated drift lambda (1 + rho lambda)^2": stated,
                 "USAM drift d/dw grad f(w + rho grad f(w))": exact}, DRIFT_FINDING,
                f"Decided in Arb at lambda = {lam}, rho = {rho}: (15)'s drift lambda (1 + rho lambda)^2 = "
                f"{ctx.to_str(stated)}, the USAM step's d/dw grad f(w + rho grad f(w)) = "
                f"{ctx.to_str(exact)} (= lambda (1 + rho lambda)); the difference excludes 0.")
    return cert.finish()


# -- Kim Cor 1: the t^2 coefficient ------------------------------------------------------------------------
def refute_cor1(lam=LAM, rho=RHO, eta=ETA, batch=B, expected: bool = True, example: str = "") -> Certificate:
    cert, ctx = _certificate("Corollary 1's t^2 coefficient against the exact one (proved)",
                             example or f"lambda = {lam}, rho = {rho}, eta = {eta}, B = {batch}",
                             "(16)'s coefficient 2 eta |lambda|^3 rho / B differs from the exact t^2 "
                             "coefficient of Delta_SGD - Delta_SAM", expected)
    with ctx.working():
        stated = ctx.scalar(cor1_leading(lam, rho, eta, batch, 1))
        # the OU variance is eta |lam| / B (t - kappa t^2 + O(t^3)); SGD's kappa is lam
        exact = ctx.scalar(eta * abs(lam) / batch) * (usam_drift(lam, rho, ctx) - ctx.scalar(lam))
        _decide(cert, ctx, "cor1_coefficient_differs", "(16)'s t^2 coefficient - the exact one (excludes 0)",
                {"(16) t^2 coefficient": stated, "exact t^2 coefficient": exact}, COR1_FINDING,
                f"Decided in Arb at lambda = {lam}, rho = {rho}, eta = {eta}, B = {batch}: (16) gives the "
                f"t^2 coefficient {ctx.to_str(stated)}; the OU variances with the USAM drift give "
                f"{ctx.to_str(exact)} = eta |lambda|^3 rho / B, half of it.")
    return cert.finish()


# -- Kim Thm 3 -------------------------------------------------------------------------------------------
def refute_c2(eta=ETA, t=T, expected: bool = True, example: str = "") -> Certificate:
    cert, ctx = _certificate("Theorem 3's C2 against its proof's (proved)", example or f"eta = {eta}, t = {t}",
                             "the statement's C2 = eta / t differs from the proof's t / eta", expected)
    stated = kim_thm3.constants(LAM, RHO, eta, t)["C2"]
    proof = kim_thm3.constants(LAM, RHO, eta, t, "proof")["C2"]
    _decide(cert, ctx, "c2_differs", "statement's C2 - proof's C2 (exact rationals)",
            {"C2 (statement)": stated, "C2 (proof)": proof}, C2_FINDING, f"Exact at eta = {eta}, t = {t}: the statement's C2 = eta / t = {stated}, the "
                        f"proof's exponent gives C2 = t / eta = {proof}.")
    return cert.finish()


def refute_signs(lam=LAM, rho=RHO, expected: bool = True, example: str = "") -> Certificate:
    cert, ctx = _certificate("Theorem 3's C3 and C4 at a negative eigenvalue (proved)",
                             example or f"lambda = {lam}, rho = {rho}, eta = {ETA}, t = {T}",
                             "C3 < 0 and C4 < 0 (stated: positive constants)", expected)
    c = kim_thm3.constants(lam, rho, ETA, T)
    cert.add_named_objects({k: str(v) for k, v in c.items()})
    negative = [k for k in ("C3", "C4") if c[k] < 0]
    verdict = Verdict.PROVED if len(negative) == 2 else Verdict.FAIL
    cert.add(ph.interval_claim("c3_c4_negative", "C3 < 0 and C4 < 0 (exact rationals)", f"C3 = {c['C3']}, C4 = "
                       f"{c['C4']}", "<", "0", verdict, ctx.name, "exact rationals"))
    if verdict is Verdict.PROVED and expected:
        cert.finding(*SIGN_FINDING, f"Exact at lambda = {lam}, rho = {rho}, eta = {ETA}, t = {T}: C3 = "
                                    f"{c['C3']} and C4 = {c['C4']} are negative.", "PROVED")
    return cert.finish()


def kappa_rho_derivative(lam, rho) -> sp.Rational:
    """d/drho of the stated kappa = C4 / (2 t) (sympy, exact) at (lam, rho)."""
    L, r, e, t = sp.symbols("lam rho eta t")
    kappa = kim_thm3.constants(L, r, e, t)["C4"] / (2 * t)
    return sp.diff(sp.simplify(kappa), r).subs({L: sp.Rational(str(lam)), r: sp.Rational(str(rho))})


def refute_rho_monotone(lam=LAM, rho=Fraction(2), expected: bool = True, example: str = "") -> Certificate:
    cert, ctx = _certificate("lambda (1 + rho lambda)^2 does not increase with rho (proved)",
                             example or f"lambda = {lam}, rho = {rho} (> -1/lambda = {-1 / lam})",
                             "d/drho lambda (1 + rho lambda)^2 < 0 (the proof needs > 0)", expected)
    d = kappa_rho_derivative(lam, rho)
    cert.add_object("dkappa_drho", str(d), label="d kappa / d rho")
    verdict = Verdict.PROVED if d < 0 else Verdict.FAIL
    cert.add(ph.interval_claim("kappa_decreases", "d/drho lambda (1 + rho lambda)^2 (sympy, exact)", str(d), "<", "0",
                       verdict, ctx.name, "exact rationals"))
    if verdict is Verdict.PROVED and expected:
        cert.finding(*RHO_FINDING, f"Exact at lambda = {lam}, rho = {rho}: d/drho lambda (1 + rho lambda)^2 "
                                   f"= 2 lambda^2 (1 + rho lambda) = {d} < 0.", "PROVED")
    return cert.finish()


def proofs() -> list[Certificate]:
    return [refute_drift(), refute_cor1(), refute_c2(), refute_signs(), refute_rho_monotone()]


def controls() -> list[Certificate]:
    """Where the two sides agree: rho = 0 (drift, Cor 1), t = eta (C2), lambda > 0 (signs),
    rho < -1/lambda (monotone)."""
    return [refute_drift(rho=Fraction(0), expected=False, example="negative control: rho = 0 (SGD)"),
            refute_cor1(rho=Fraction(0), expected=False, example="negative control: rho = 0 (SGD)"),
            refute_c2(t=ETA, expected=False, example=f"negative control: t = eta = {ETA}"),
            refute_signs(lam=Fraction(1), expected=False, example="negative control: lambda = 1"),
            refute_rho_monotone(rho=Fraction(1, 2), expected=False,
                                example="negative control: lambda = -1, rho = 1/2 < -1/lambda")]


def report_certificates(quick: bool = False, figdir=None) -> list[Certificate]:
    return proofs() + controls()


EXAMPLES = {"Kim Thm 2 drift": refute_drift, "Kim Cor 1": refute_cor1, "Kim Thm 3 C2": refute_c2,
            "Kim Thm 3 C3, C4 signs": refute_signs, "Kim Thm 3 rho monotone": refute_rho_monotone}


def certify(name: str = "Kim Thm 2 drift", **parameters) -> Certificate:
    """The registry's entry point: the closed form ``name`` (a key of ``EXAMPLES``) against the exact
    quantity, at the given parameters (each refutation's keywords)."""
    if name not in EXAMPLES:
        from verify.errors import SamVerifyError
        raise SamVerifyError(f"no closed form named {name!r}; known: {', '.join(EXAMPLES)}")
    return EXAMPLES[name](**parameters)
