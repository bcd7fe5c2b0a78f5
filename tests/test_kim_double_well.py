"""Kim et al. (2023) Appendix B: rho_c at 50 digits, and the trap table for SAM and USAM."""
import mpmath as mp
import pytest

from theorems import kim_double_well as dw
from verify.errors import SamVerifyError


def test_critical_rho_matches_sqrt_mu_over_two_at_50_digits_for_several_mu():
    for mu in (1, 3):
        cert = dw.certify_threshold(mu=mu)
        assert cert.passed, str(cert)
        with mp.workdps(50):
            assert abs(dw.critical_rho(mu) - mp.sqrt(mp.mpf(mu) / 2)) < mp.mpf(10) ** -45


def test_wrong_threshold_is_rejected():
    control = dw.certify_threshold(compare_to=lambda mu: mp.sqrt(mu) / 2, expected=False)
    assert not control.claim("rho_c").passed and control.as_expected


def test_outer_minimizer_refuses_radii_it_is_not_defined_for():
    with pytest.raises(SamVerifyError, match="0 < rho < sqrt"):
        dw.outer_minimizer(2.0)


def test_normalized_sam_reproduces_the_trap_column_and_contradicts_the_drop():
    cert = dw.certify_table("SAM (normalized, Foret)", n_starts=600, rhos=[0.0, 0.17, 0.425, 0.9])
    assert cert.passed, str(cert)
    frac = cert.objects["fractions_by_rho"]
    assert frac["0.0"]["trapped"]["estimate"] == 0.0
    assert any("drops to zero" in f.statement for f in cert.findings)


def test_usam_traps_only_above_theorem_1_threshold():
    cert = dw.certify_table("USAM (unnormalized, Kim)", n_starts=600, rhos=[0.085, 0.34])
    assert cert.claim("no trap below Thm 1 threshold").passed
    assert cert.claim("trap above Thm 1 threshold").passed
    assert not cert.claim("trap below rho_c").passed and cert.explained


def test_gd_control_has_no_trap():
    control = dw.certify_table("SAM (normalized, Foret)", n_starts=300, rhos=[0.0], expected=False)
    assert not control.claim("trap below rho_c").passed and control.as_expected
