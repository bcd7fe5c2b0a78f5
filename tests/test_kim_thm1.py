"""Kim et al. (2023) Theorem 1: saddles attract USAM above rho = -1/lambda_min; not below."""
import pytest

from theorems import kim_thm1


@pytest.mark.parametrize("case", kim_thm1.CASES, ids=[c[0] for c in kim_thm1.CASES])
def test_saddle_attracts_usam_above_threshold(case):
    name, saddle, start, rho_hi, _, eta, steps = case
    cert = kim_thm1.certify(name, saddle, start, rho_hi, eta, steps)
    assert cert.passed, str(cert)


@pytest.mark.parametrize("case", kim_thm1.CASES, ids=[c[0] for c in kim_thm1.CASES])
def test_negative_control_below_threshold_fails(case):
    name, saddle, start, _, rho_lo, eta, steps = case
    cert = kim_thm1.certify(name, saddle, start, rho_lo, eta, steps, expected=False)
    assert not cert.passed and cert.as_expected
    failed = {c.id for c in cert.claims if not c.passed}
    assert {"sink", "rho above threshold", "USAM converges"} <= failed


def test_step_size_above_discrete_bound_fails():
    cert = kim_thm1.certify("kim_saddle", ("0", "0"), ("-0.3", "-0.01"), "1", 0.5, 50, expected=False)
    assert not cert.claim("discrete step").passed
