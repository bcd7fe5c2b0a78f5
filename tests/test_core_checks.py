"""Core cross-checks: the finding that the paper's grad f_SAM formula needs a transpose."""
import pytest

from theorems import core_checks as C


def _transpose_findings(cert):
    return [f for f in cert.findings if "grad f_SAM" in f.statement]


@pytest.mark.parametrize("arith", C.ARITHMETICS, ids=[a[0] for a in C.ARITHMETICS])
def test_untransposed_paper_formula_is_reported_as_a_finding(arith):
    # tilted_ring at (0.6, 0.9): Du is far from symmetric, so the two products differ
    c = C.operators_certificate("tilted_ring", ("0.6", "0.9"), "0.3", arith)
    assert c.passed, str(c)
    (f,) = _transpose_findings(c)
    assert "Jacobian" in f.statement and "transpose" in f.evidence
    paper, exact = c.claim("paper_formula_vs_fd"), c.claim("transposed_formula_vs_fd")
    assert paper.passed and exact.passed       # paper formula off by more than the allowance; ours within
    assert float(paper.value) > 1e3 * float(exact.value)


def test_symmetric_du_gives_no_finding():
    # negative control: on the ring (radial f) H commutes with P, Du is symmetric and the two
    # formulas coincide: nothing to report
    c = C.operators_certificate("ring", ("0.6", "0.3"), "0.3", C.ARITHMETICS[0])
    assert not _transpose_findings(c)
    assert not c.claim("discriminates").passed
