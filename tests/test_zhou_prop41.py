"""Zhou et al. (2025) Prop. 4.1 / C.1 and Example C.1, with negative controls."""
import pytest

from theorems import zhou_prop41


@pytest.mark.parametrize("case", zhou_prop41.CASES, ids=["a=1", "a=3"])
def test_sam_escapes_the_minimum_but_stays_in_a_sub_quadratic_valley(case):
    cert = zhou_prop41.certify(*case, steps=200)
    assert cert.passed, str(cert)


def test_negative_control_super_quadratic_walls_leave_the_valley():
    cert = zhou_prop41.certify("z**2/2 + z**4", 1.0, 2.5, 0.9, "super-quadratic", expected=False,
                               steps=100)
    assert not cert.hypotheses_met and not cert.claim("stays in valley").passed


def test_quadratic_landscape_escapes_and_its_control_does_not():
    assert zhou_prop41.certify_quadratic(1.0, 1.0, 1.5, 0.5).passed
    control = zhou_prop41.certify_quadratic(1.0, 1.0, 0.5, 0.5, expected=False)
    assert not control.passed and control.as_expected


def test_example_c1_recomputed_with_findings():
    cert = zhou_prop41.example_c1()
    assert cert.passed and len(cert.findings) == 2
    # with a = 1 the printed derivative is right: no finding about it
    assert all("a^2" not in f.evidence for f in zhou_prop41.example_c1(a=1).findings)
