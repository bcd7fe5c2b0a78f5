"""Three explanations side by side: where SAM stops on zoo functions, classified exactly."""
import numpy as np

from theorems import rivals_explanations as ex


def test_ring_at_rho_1_5_stops_at_hallucinated_points():
    cert = ex.certify("ring", rhos=(1.5,), steps=3000)
    assert cert.passed, str(cert)
    k = cert.objects["rho = 1.5: ends by explanation"]
    assert k["main paper"] >= 8 and k["Kim"] == 0


def test_unsettled_runs_are_not_classified():
    control = ex.certify("ring", rhos=(1.5,), steps=5, expected=False)
    assert not control.claim("settled").passed and control.as_expected
    assert control.objects["rho = 1.5: ends by explanation"]["not settled"] >= 8


def test_refinement_picks_the_nearer_stationary_point():
    from verify import zoo
    from verify.ctx import get_context
    fp, obj = get_context("float64"), zoo.get("ring").objective
    x = ex.refine(obj, np.array([0.999, 0.0]), 0.5, fp)       # next to the minimizer circle
    assert abs(np.linalg.norm(np.asarray(x, float)) - 1) < 1e-10
