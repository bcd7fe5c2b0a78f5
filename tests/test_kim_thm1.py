"""Kim et al. (2023) Theorem 1 in full: saddles of any index and maxima attract USAM above
rho = max -1/lambda_j; not below; discrete and continuous conditions separate; Figure 6."""
import pytest

from theorems import kim_thm1

IDS = [c[0] for c in kim_thm1.CASES]


@pytest.mark.parametrize("case", kim_thm1.CASES, ids=IDS)
def test_critical_point_attracts_usam_above_threshold(case):
    label, source, point, start, rho_hi, _, eta, steps = case
    cert = kim_thm1.certify(source, point, start, rho_hi, eta, steps, label=label)
    assert cert.passed, str(cert)


@pytest.mark.parametrize("case", kim_thm1.CASES, ids=IDS)
def test_negative_control_below_threshold_fails(case):
    label, source, point, start, _, rho_lo, eta, steps = case
    cert = kim_thm1.certify(source, point, start, rho_lo, eta, steps, expected=False, label=label)
    assert not cert.passed and cert.as_expected
    failed = {c.id for c in cert.claims if not c.passed}
    assert {"sink", "rho above threshold", "USAM converges"} <= failed


def test_index_two_threshold_is_set_by_the_eigenvalue_nearest_zero():
    # eigenvalues 2, -2, -4: -1/lambda gives 1/2 and 1/4; rho = 0.4 clears 1/4 but not 1/2
    cert = kim_thm1.certify(("x**2 - y**2 - 2*z**2", "x,y,z"), ("0", "0", "0"), ("0.1", "0.01", "-0.01"),
                            "0.4", 0.02, 200, expected=False)
    assert cert.objects["threshold"].startswith("0.5")
    assert not cert.claim("sink").passed


def test_step_above_discrete_bound_keeps_the_continuous_claim_and_fails_the_discrete_one():
    cert = kim_thm1.certify("kim_saddle", ("0", "0"), ("-0.3", "-0.01"), "1", 0.5, 50, expected=False)
    assert cert.claim("sink").passed and cert.claim("rho above threshold").passed
    assert not cert.claim("discrete step").passed and not cert.claim("USAM converges").passed


def test_figure6_positive_near_saddle_above_threshold_only(tmp_path):
    cert = kim_thm1.certify_figure6(0.1, figdir=tmp_path, n=61)
    assert cert.passed and (tmp_path / cert.figures[0]).exists()
    assert not kim_thm1.certify_figure6(0.02, expected=False, n=61).passed
