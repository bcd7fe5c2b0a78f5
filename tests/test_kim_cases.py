"""Kim et al. (2023) Cases I-III / Figures 1, 3, 4 on Beale."""
import numpy as np
import pytest

from theorems import kim_cases as k


@pytest.mark.parametrize("rho, across", [(0.1, True), (0.02, False)])
def test_case_three_near_the_saddle_iff_rho_above_minus_one_over_lambda_u(rho, across):
    t = k.trace("usam", (0.002, 1.001), rho, steps=300)
    near = t["dist"] < 0.05
    assert bool(np.mean(t["across"][near]) == 1.0) == across
    assert -1 / t["lambda_u"] == pytest.approx(4 / 111)


@pytest.mark.slow
@pytest.mark.parametrize("method", list(k.RUNS))
def test_figures_1_3_4_and_controls(method, tmp_path):
    cert = k.certify(method, figdir=tmp_path)
    assert cert.passed and (tmp_path / cert.figures[0]).exists()
    control = k.certify(method, rho=k.RUNS[method][2], expected=False)
    assert not control.claim("SAM stalls at the saddle").passed and control.as_expected


def test_a_run_and_its_control_in_one_batch_match_the_runs_alone():
    """The rows of the batched run do not interact: each is bit for bit the run alone."""
    from verify.core import stochastic as st
    grad, _ = k.beale_grad()
    start, rho, control = k.RUNS["usam"]
    both = k.runs("usam", tuple(start), (rho, control), 300)
    for r in (rho, control):
        alone = st.run_chains(grad, np.array([start]), "usam", r, k.ETA, 300, record_at=tuple(range(301)))
        assert np.array_equal(np.stack(alone.record)[:, 0, :], both[r])
