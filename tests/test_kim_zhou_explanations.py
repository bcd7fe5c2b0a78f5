"""Three explanations side by side: where SAM stops on zoo functions, classified exactly."""
import numpy as np
import pytest

from theorems import rivals_explanations as ex


def test_ring_at_rho_1_5_stops_at_hallucinated_points():
    cert = ex.certify("ring", rhos=(1.5,), steps=3000)
    assert cert.passed, str(cert)
    k = cert.objects["ends_rho_1_5"]
    assert k["main paper"] >= 8 and k["Kim"] == 0


def test_unsettled_runs_are_not_classified():
    control = ex.certify("ring", rhos=(1.5,), steps=5, expected=False)
    assert not control.claim("settled").passed and control.as_expected
    assert control.objects["ends_rho_1_5"]["not settled"] >= 8


def test_refinement_picks_the_nearer_stationary_point():
    from verify import zoo
    from verify.ctx import get_context
    fp, obj = get_context("float64"), zoo.get("ring").objective
    x = ex.refine(obj, np.array([0.999, 0.0]), 0.5, fp)       # next to the minimizer circle
    assert abs(np.linalg.norm(np.asarray(x, float)) - 1) < 1e-10


# ---------------------------------------------------------------- the digits MLP's points
def _ev(**kw):
    """A measured point (verify.nn.point_check numbers) with the stalled seed's values by default."""
    ev = dict(f=2.285, grad_norm=0.092, grad_ratio=0.0088, lambda_min=-0.76, lambda_max=0.77,
              residual_min=1e-15, f_end=2.2852, follow_steps=200)
    ev.update(kw)
    return ev


def _accounting(ev, rho=3.0):
    return {k for k, e in ex.explanations(ev, rho).items() if e["accounts"]}


def test_explanations_at_a_stalled_point_and_at_a_descending_one():
    """The stalled seed's numbers: only the main paper's explanation accounts for the point.
    Control: a switching-trained point (GradRatio > 1, f still falling) is not called
    hallucinated, and neither is a stalled point whose SAM step has not vanished."""
    assert _accounting(_ev()) == {ex.HALLUCINATED}
    switching = _ev(f=0.082, grad_norm=0.042, grad_ratio=1.29, lambda_min=-0.24, lambda_max=1.58,
                    f_end=0.064)
    assert _accounting(switching) == set()
    assert ex.HALLUCINATED not in _accounting(_ev(grad_ratio=0.5))


def test_rival_explanations_account_for_their_own_points():
    """A critical point with an attracting negative curvature is Kim's; a flat positive
    semidefinite one is Zhou's; each loses it when one hypothesis is broken (repelling curvature:
    lambda + rho_eff lambda^2 < 0; sharpness above 2 (1 + mu) / eta)."""
    saddle = _ev(grad_norm=1e-5, grad_ratio=50.0, lambda_min=-0.5, f_end=2.285)
    assert _accounting(saddle) == {ex.KIM}
    assert _accounting(_ev(grad_norm=1e-5, grad_ratio=50.0, lambda_min=-0.5), rho=1e-6) == set()
    flat = _ev(f=0.01, grad_norm=1e-5, grad_ratio=50.0, lambda_min=0.0, lambda_max=10.0, f_end=0.01)
    assert _accounting(flat) == {ex.ZHOU}
    assert _accounting(dict(flat, lambda_max=500.0)) == set()


@pytest.mark.slow
def test_digits_mlp_stalled_point_is_hallucinated_and_switching_point_is_not():
    """End to end at --quick size: the stalled SAM-only seed's certificate passes (Kim's and
    Zhou's hypotheses fail there); the control at the switching seed fails its claims, and no
    explanation calls that point hallucinated."""
    stalled, control = ex.mlp_certificates(quick=True)
    assert stalled.passed, str(stalled)
    assert stalled.objects["accounts"][ex.HALLUCINATED]
    assert control.as_expected and not control.passed
    assert not control.objects["accounts"][ex.HALLUCINATED]
    assert not control.claim("sam_stationary").passed
