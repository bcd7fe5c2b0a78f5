"""Targeted tests for decisions of the Appendix D, MLP and refutation modules that a mutation run
(tools/mutate.py, issue 14) showed no test could fail. Each test states the rule it pins and checks
it on both sides of its boundary; they go through public functions and certificates only."""
from __future__ import annotations

from fractions import Fraction

from theorems import kim_thm3
from theorems import rival_refutations as RR


# -- rival_refutations: the signs of C3, C4 and the report section ------------------------------------------
def test_signs_need_both_constants_below_zero_not_below_one():
    """'C3 < 0 and C4 < 0' compares with 0: at lambda = 1/2 both constants are positive but below 1
    (C3 = 1/242, C4 = 121/200), so the refutation must come out FAIL; at lambda = -1 both are
    negative and it is PROVED."""
    c = kim_thm3.constants(Fraction(1, 2), RR.RHO, RR.ETA, RR.T)
    assert 0 < c["C3"] < 1 and 0 < c["C4"] < 1
    assert RR.refute_signs(lam=Fraction(1, 2), expected=False).claims[0].verdict.value == "fail"
    assert RR.refute_signs().claims[0].verdict.value == "proved"


def test_rival_report_section_is_the_proofs_then_their_controls():
    certs = RR.report_certificates()
    assert len(certs) == len(RR.proofs()) + len(RR.controls()) == 10
    assert [c.expected for c in certs] == [True] * 5 + [False] * 5
    assert all(c.as_expected for c in certs), [str(c) for c in certs if not c.as_expected]


# -- rho_threshold: the nearest point of argmin f includes the ends of the chart domain -----------------------
def _appendix_d_arc_end(sign, mp):
    """x*(+-3/5) = (-1.55 cos(2/5), +-3/5), at mp's precision (independent of the chart)."""
    return mp.vector([-mp.scalar(31) / 20 * mp.mp.cos(mp.scalar(2) / 5), sign * mp.scalar(3) / 5])


import pytest  # noqa: E402


@pytest.mark.parametrize("sign", [1, -1])
def test_nearest_point_of_the_arc_can_be_either_end(sign):
    """A point beyond an end of Appendix D's minimizer arc has that end as its nearest point of
    argmin f (the distance still falls there): both ends of the sampled parameter range count."""
    from theorems import rho_threshold as R
    from verify.ctx import get_context
    from verify.objectives import zoo
    mp = get_context("mpmath", dps=30)
    c = mp.vector([-1.2, sign * 1.0])
    d, t, _ = R.nearest_on_manifold(zoo.get("appendix_d"), c, mp)
    exact = mp.norm(_appendix_d_arc_end(sign, mp) - c)
    assert abs(mp.to_float(d - exact)) < 1e-12 and abs(mp.to_float(t) - sign * 0.6) < 1e-12
    # control: an interior nearest point (not an end) is found too
    inner = mp.vector([-1.0, sign * 0.1])
    d_in, t_in, _ = R.nearest_on_manifold(zoo.get("appendix_d"), inner, mp)
    ends = [mp.to_float(mp.norm(_appendix_d_arc_end(e, mp) - inner)) for e in (1, -1)]
    assert 0 < sign * mp.to_float(t_in) < 0.59 and mp.to_float(d_in) < min(ends)


# -- report order: the Appendix D, threshold, refutation and MLP sections read in the paper's order ---------
def test_sections_follow_the_papers_order():
    """The report sorts sections by ORDER: Appendix D's example after Theorem 3.2, the measured rho
    threshold next, then its proved bracket; the proved refutations after the existence prover they
    use; Section 4's MLP after them, closing the paper's part before the rivals' index; the rivals'
    closed forms (proved) after every Kim et al. section whose findings they back."""
    from verify.report.build import discover
    names = [s.name for s in discover()]
    paper = ["thm_3_2", "appendix_d", "rho_threshold", "rho_bracket", "prove_hallucination",
             "refutations", "mlp_check", "rivals_index"]
    assert [n for n in names if n in paper] == paper
    kim = [n for n in names if n.startswith("kim_")]
    assert kim and names.index("rival_refutations") > max(names.index(n) for n in kim)
