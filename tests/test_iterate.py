"""Iterations: SAM is attracted to the hallucinated point of the ring; switching and GD are not."""
import pytest

from verify import zoo
from verify.errors import SamVerifyError
from verify.core.iterate import run

RING = zoo.get("ring").objective


def test_sam_stalls_at_a_hallucinated_minimizer_of_the_ring(fp):
    t = run(RING, [-0.15, 0.02], fp, "sam", rho=1.2, eta=0.02, steps=3000)
    x = t.x
    assert t.grad_norm[-1] > 0.5 and t.shifted_grad_norm[-1] < 1e-8
    assert abs(float((x @ x) ** 0.5) - (1.2 - 1.0)) < 1e-6  # on the circle r = rho - 1
    assert t.loss_gap[-1] < -0.5


def test_gd_and_switching_reach_true_minimizers(fp):
    gd = run(RING, [-0.15, 0.02], fp, "gd", rho=1.2, eta=0.02, steps=3000)
    sw = run(RING, [-0.15, 0.02], fp, "sam", rho=1.2, eta=0.02, steps=3000, switch_fraction=0.3)
    assert gd.f[-1] < 1e-10
    assert sw.f[-1] < 1e-3 and sw.switch_step == 900


def test_usam_and_momentum_run_and_log(fp):
    t = run(RING, [0.5, 0.5], fp, "usam", rho=0.05, eta=0.01, steps=200, momentum=0.9)
    assert len(t.f) == len(t.grad_ratio) == len(t.loss_gap) >= 2
    assert t.f[-1] < t.f[0]


def test_fixed_point_stop_states_its_tolerance(fp):
    t = run(RING, [1.0, 0.0], fp, "gd", eta=0.1, steps=100)
    assert t.stop_reason.startswith("fixed point") and t.steps == 1


def test_bad_arguments(fp):
    with pytest.raises(SamVerifyError, match="unknown method"):
        run(RING, [1.0, 0.0], fp, "adam", rho=1.0)
    with pytest.raises(SamVerifyError, match="switch_fraction"):
        run(RING, [1.0, 0.0], fp, "sam", rho=1.0, switch_fraction=1.5)


def test_divergence_is_a_stop_reason_not_a_crash(fp):
    from verify.objectives.objective import SympyObjective
    f = SympyObjective("z**2/2 + z**4", "z")
    t = run(f, [0.9], fp, "usam", rho=0.9, eta=2.5, steps=200, tol=0.0)
    assert t.stop_reason.startswith("diverged") and len(t.xs) == len(t.f)
