"""Zhou et al. (2025) Prop. 4.1 / C.1 / C.2, Remark C.1 and Example C.1, with negative controls that
each break one hypothesis."""
import pytest

from theorems import zhou_prop41 as z
from verify.errors import SamVerifyError


@pytest.mark.parametrize("case", z.CASES, ids=["a=1", "a=3"])
def test_sam_escapes_the_minimum_but_stays_in_a_sub_quadratic_valley(case):
    cert = z.certify(*case, steps=200)
    assert cert.passed, str(cert)
    assert "t <= 200" in cert.claim("stays in valley").statement     # the horizon is stated


def test_eta_control_breaks_only_the_step_bound_and_leaves_the_valley():
    cert = z.certify(*z.ETA_CONTROL, expected=False, steps=200)
    assert cert.hypotheses_met and cert.claim("rho bound").passed
    assert not cert.claim("eta bound").passed and not cert.claim("stays in valley").passed


def test_shape_control_breaks_only_sub_quadratic_and_the_minimum_turns_stable():
    cert = z.certify(*z.SHAPE_CONTROL, expected=False, steps=200)
    assert [h.name for h in cert.hypotheses if not h.met] == ["sub-quadratic"]
    assert cert.claim("eta bound").passed and cert.claim("rho bound").passed
    assert not cert.claim("escapes the minimum").passed and cert.as_expected


def test_staying_does_not_need_the_sub_quadratic_shape():
    cert = z.certify(*z.BUMP, steps=200, assume_subquadratic=False)
    assert cert.passed and cert.objects["subquadratic"].startswith("False")
    assert any("staying needs less" in f.evidence for f in cert.findings)


def test_quadratic_landscape_escapes_and_its_control_does_not():
    assert z.certify_quadratic(1.0, 1.0, 1.5, 0.5).passed
    control = z.certify_quadratic(1.0, 1.0, 0.5, 0.5, expected=False)
    assert not control.passed and control.as_expected


def test_example_c1_recomputed_with_findings():
    cert = z.example_c1()
    assert cert.passed and len(cert.findings) == 2
    # with a = 1 the printed derivative is right: no finding about it
    assert all("a^2" not in f.evidence for f in z.example_c1(a=1).findings)


def test_remark_c1_is_vacuous_for_proposition_4_1():
    cert = z.remark_c1()
    assert cert.claim("valley walls").passed and not cert.claim("allowed rho positive").passed
    assert cert.explained


def test_prop_c2_and_its_step_control():
    assert z.certify_c2("log(cosh(10*z))/100", 1.0, 0.5, 2.5, 0.3, "c2", steps=150).passed
    control = z.certify_c2("log(cosh(10*z))/100", 1.0, 0.5, 22.5, 0.3, "c2", steps=150,
                           expected=False)
    assert not control.claim("stays").passed and control.as_expected


def test_losses_go_through_the_whitelist_parser():
    with pytest.raises(SamVerifyError):
        z.parse_loss("z**2 + w")         # an undeclared symbol is refused, typed
