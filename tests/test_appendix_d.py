"""Appendix D: the hallucinated curve at rho = 2.8 by tracing, the paper's statements, and the zeros
of grad f(x+) met by SAM runs."""
import pytest

from theorems import appendix_d as D
from verify.ctx import get_context


@pytest.fixture(scope="module")
def fp():
    return get_context("float64")


@pytest.fixture(scope="module")
def H(fp):
    return D.trace_H(fp, n_steps=4)


def test_x_h_on_the_axis_is_closed_form(fp):
    y = D.hallucinated_point(fp)
    assert abs(float(y[0]) - 1.25) < 1e-13 and abs(float(y[1])) < 1e-13


def test_thm_3_1_conclusion_off_the_seams(fp):
    c = D.certificate_thm_3_1(fp, quick=True)
    assert c.passed, str(c)
    assert float(c.claim("trace_residual").value) <= 1e-12
    assert c.objects["dimension"] == 1 and c.objects["traced_dimension"] == 1
    assert "not real-analytic" in c.objects["hypotheses_not_met"]
    assert float(c.objects["distance_to_seams"]) > 1e-3


def test_thm_3_2_condition_fails_but_the_curve_attracts(fp, H):
    c = D.certificate_thm_3_2(fp, quick=True, H=H)
    assert not c.expected and c.as_expected
    assert float(c.objects["paper_condition_max_on_H"]) < 0
    assert c.objects["observed"].startswith("converged")
    assert c.claim("exact_matches_observed").passed and c.claim("rate_matches").passed


def test_paper_statements(fp, H):
    c = D.certificate_statements(fp, quick=True, H=H)
    for cid in ("C1", "not_C2", "arc_is_minimal", "nothing_else_minimal", "curve_traced",
                "curve_on_the_right", "drift_closed_form", "drift_outward",
                "no_hallucination_below_threshold", "hallucination_above_threshold", "attractor_exact"):
        assert c.claim(cid).passed, (cid, str(c.claim(cid)))
    assert not c.claim("thm_3_2_condition").passed
    sources = [f.statement for f in c.findings]
    assert any("conditions of Theorem 3.2" in s for s in sources)


def test_zeros_classified(fp, H):
    c = D.certificate_zeros(fp, quick=True, H=H)
    assert c.passed, str(c)
    assert c.claim("sam_ends_on_traced_curve").passed


def test_report_with_figures(tmp_path):
    certs = D.report_certificates(quick=True, figdir=tmp_path)
    names = [f for c in certs for f in c.figures]
    assert {"appendix_d_fig1.png", "appendix_d_fig10_fsam_sweep.png",
            "appendix_d_fig11_field_sweep.png", "appendix_d_thm_3_1_trace.png"} <= set(names)
    for n in names:
        assert (tmp_path / n).stat().st_size > 1000
    for c in certs:
        c.to_json()
