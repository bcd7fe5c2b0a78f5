"""The rival papers' closed forms against the exact quantities (issue 16, item 3): every PROVED
disagreement re-checked by an independent route in mpmath at twice the Arb digits (the USAM step
iterated numerically, the OU variances expanded by a small-t quotient, mpmath's numerical derivative),
and a negative control per certificate that must not come out PROVED."""
from fractions import Fraction

import mpmath
import pytest

from theorems import rival_refutations as RR

DPS = 2 * RR.DPS


def _proved(cert) -> bool:
    return cert.passed and cert.findings and all(f.evidence_level == "PROVED" for f in cert.findings)


def test_every_proof_is_proved_and_grouped_with_its_sampled_finding():
    sources = {RR.DRIFT_FINDING, RR.COR1_FINDING, RR.C2_FINDING, RR.SIGN_FINDING, RR.RHO_FINDING}
    for cert in RR.proofs():
        assert _proved(cert), str(cert)
        assert (cert.findings[0].source, cert.findings[0].statement) in sources


def test_no_control_is_proved():
    for cert in RR.controls():
        assert not cert.expected and not cert.passed and not cert.findings, str(cert)


def _usam_drift_mp(lam, rho):
    """Independent: one USAM gradient evaluation w -> lam (w + rho lam w) at w = 1 in mpmath."""
    with mpmath.workdps(DPS):
        lam, rho = mpmath.mpf(lam.numerator) / lam.denominator, mpmath.mpf(rho.numerator) / rho.denominator
        grad = lambda w: lam * w  # noqa: E731
        return grad(1 + rho * grad(1))


def test_drift_rechecked_in_mpmath():
    cert = RR.refute_drift()
    stated = RR.LAM * (1 + RR.RHO * RR.LAM) ** 2
    exact = _usam_drift_mp(RR.LAM, RR.RHO)
    with mpmath.workdps(DPS):
        assert abs(exact + mpmath.mpf(4) / 5) < mpmath.mpf(10) ** -50
        assert abs(float(stated) - float(exact)) > 0.1
    assert "0.16" in cert.claims[0].value


def test_cor1_coefficient_rechecked_by_a_small_t_quotient():
    """(Delta_SGD - Delta_SAM) / t^2 at t = 1e-20 (60 digits) against both coefficients."""
    with mpmath.workdps(DPS):
        lam, rho, eta, B = (mpmath.mpf(v.numerator) / v.denominator
                            for v in map(Fraction, (RR.LAM, RR.RHO, RR.ETA, RR.B)))
        ou = lambda k, t: eta * abs(lam) / (2 * B * k) * (1 - mpmath.exp(-2 * k * t))  # noqa: E731
        t = mpmath.mpf(10) ** -20
        q = (ou(lam, t) - ou(_usam_drift_mp(RR.LAM, RR.RHO), t)) / t ** 2
        assert abs(q - eta * abs(lam) ** 3 * rho / B) < mpmath.mpf(10) ** -15
        assert abs(q - 2 * eta * abs(lam) ** 3 * rho / B) > mpmath.mpf(10) ** -4
    assert RR.refute_cor1().claims[0].verdict.value == "proved"


def test_thm3_constants_rechecked():
    assert RR.refute_c2().objects["stated"] == str(Fraction(1, 50))
    assert RR.refute_c2().objects["exact"] == "50"
    with mpmath.workdps(DPS):
        kappa = lambda r: -1 * (1 + r * -1) ** 2  # noqa: E731
        assert mpmath.diff(kappa, 2) < 0 < mpmath.diff(kappa, mpmath.mpf(1) / 2)
        c3 = mpmath.mpf(1) / 100 / (2 * kappa(mpmath.mpf(1) / 5))
    assert c3 < 0 and float(Fraction(RR.refute_signs().objects["C3"])) == pytest.approx(float(c3))
    assert RR.kappa_rho_derivative(-1, 2) == -2


@pytest.mark.parametrize("make", [lambda: RR.refute_drift(rho=Fraction(0)),
                                  lambda: RR.refute_c2(t=RR.ETA),
                                  lambda: RR.refute_signs(lam=Fraction(1)),
                                  lambda: RR.refute_rho_monotone(rho=Fraction(1, 2))])
def test_controls_fail_as_claims(make):
    cert = make()
    assert cert.claims[0].verdict.value == "fail"


# -- generated negatives: never a false PROVED ------------------------------------------------------------
from hypothesis import given, settings, strategies as hs  # noqa: E402

_q = hs.fractions(min_value=Fraction(1, 50), max_value=5, max_denominator=97)


@settings(max_examples=25, deadline=None)
@given(lam=_q, rho=_q, eta=_q, t=_q, neg=hs.booleans())
def test_generated_agreements_are_never_proved(lam, rho, eta, t, neg):
    lam = -lam if neg else lam
    for cert in (RR.refute_drift(lam=lam, rho=Fraction(0), expected=False),
                 RR.refute_cor1(lam=lam, rho=Fraction(0), expected=False),
                 RR.refute_c2(eta=eta, t=eta, expected=False),
                 RR.refute_signs(lam=abs(lam), rho=rho, expected=False),
                 RR.refute_rho_monotone(lam=-abs(lam), rho=rho / (abs(lam) * (1 + rho)), expected=False)):
        assert cert.claims[0].verdict.value != "proved", str(cert)


@settings(max_examples=25, deadline=None)
@given(lam=_q, rho=_q)
def test_generated_disagreements_match_mpmath(lam, rho):
    """Where the drift certificate proves a disagreement, mpmath at 60 digits sees the same sign."""
    lam = -lam
    cert = RR.refute_drift(lam=lam, rho=rho)
    with mpmath.workdps(DPS):
        stated = lam * (1 + rho * lam) ** 2          # exact Fraction
        diff = mpmath.mpf(stated.numerator) / stated.denominator - _usam_drift_mp(lam, rho)
    proved = cert.claims[0].verdict.value == "proved"
    assert proved == (diff != 0)
