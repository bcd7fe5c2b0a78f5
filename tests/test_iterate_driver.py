"""The one iteration driver: the batched numpy runs (run_batch) and the per-step generator in a
context (iterates) take the same steps — GD, SAM, USAM, heavy-ball momentum and switching, each
coded once — and hand every step to the caller's hook."""
import itertools

import numpy as np
import pytest

from verify import zoo
from verify.core import iterate, sam
from verify.errors import SamVerifyError, ZeroGradientError
from verify.geometry.superlevel import grads

RING = zoo.get("ring").objective
STARTS = np.array([[-0.15, 0.02], [0.5, 0.5], [1.3, -0.4]])


def ring_grad(W):
    return grads(RING, W)


def unbatched(fp, x0, method, rho, eta, steps, momentum=0.0, switch_step=0):
    run = iterate.iterates(RING, list(x0), fp, method, rho, eta, momentum, switch_step)
    last = None
    for st in itertools.islice(run, steps):
        last = st
    return np.asarray(last.x_next, dtype=float)


@pytest.mark.parametrize("method, rho, momentum, switch_step",
                         [("gd", 0.0, 0.0, 0), ("sam", 1.2, 0.0, 0), ("usam", 0.05, 0.0, 0),
                          ("sam", 1.2, 0.9, 0), ("sam", 1.2, 0.5, 7)])
def test_batched_rows_take_the_steps_of_the_unbatched_driver(fp, method, rho, momentum, switch_step):
    steps, eta = 25, 0.02
    W = iterate.run_batch(ring_grad, STARTS, method, rho, eta, steps, momentum, switch_step)
    # the two differ only by rounding (numpy row norms vs the context's norm): 25 steps keep it small
    for row, x0 in zip(W, STARTS):
        np.testing.assert_allclose(row, unbatched(fp, x0, method, rho, eta, steps, momentum, switch_step),
                                   rtol=1e-12, atol=1e-12)


def test_switching_is_gd_then_sam():
    """switch_step = k is exactly k GD steps followed by SAM from where GD ended (no momentum);
    negative control: the same run without the warm-up ends elsewhere."""
    W_switch = iterate.run_batch(ring_grad, STARTS, "sam", 1.2, 0.02, 30, switch_step=10)
    W_gd = iterate.run_batch(ring_grad, STARTS, "gd", 0.0, 0.02, 10)
    W_then = iterate.run_batch(ring_grad, W_gd, "sam", 1.2, 0.02, 20)
    np.testing.assert_array_equal(W_switch, W_then)
    assert np.abs(iterate.run_batch(ring_grad, STARTS, "sam", 1.2, 0.02, 30) - W_switch).max() > 1e-3


def test_heavy_ball_buffer():
    """v_1 = d_1, v_{k+1} = beta v_k + d_{k+1}; without momentum the direction itself."""
    d1, d2 = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    v = iterate.heavy_ball(None, d1, 0.9)
    np.testing.assert_array_equal(v, d1)
    np.testing.assert_array_equal(iterate.heavy_ball(v, d2, 0.9), 0.9 * d1 + d2)
    np.testing.assert_array_equal(iterate.heavy_ball(v, d2, None), d2)


def test_on_step_sees_every_step_in_order():
    seen = []
    W = iterate.run_batch(ring_grad, STARTS, "sam", 1.2, 0.02, 6, on_step=lambda k, W: seen.append((k, W.copy())))
    assert [k for k, _ in seen] == [1, 2, 3, 4, 5, 6]
    np.testing.assert_array_equal(seen[-1][1], W)


def test_the_generator_hands_each_step_its_sam_point(fp):
    """A SAM step carries the SamPoint at x_k (its direction is grad f(x_k+)); a warm-up step is GD
    with no SamPoint; x_{k+1} = x_k - eta v."""
    run = iterate.iterates(RING, [0.5, 0.5], fp, "sam", 1.2, 0.02, switch_step=2)
    s0, s1, s2 = itertools.islice(run, 3)
    assert (s0.method, s1.method, s2.method) == ("gd", "gd", "sam")
    assert s0.point is None and s2.point is not None
    np.testing.assert_array_equal(s2.direction, sam.shifted_gradient(RING, s2.x, 1.2, fp))
    np.testing.assert_array_equal(s1.x_next, s2.x)
    np.testing.assert_array_equal(s1.x_next, s1.x - s1.step)


def test_the_generator_stops_with_a_typed_error_where_u_is_undefined(fp):
    run = iterate.iterates(RING, [0.0, 0.0], fp, "sam", 1.2, 0.02)    # grad f = 0 at the origin
    with pytest.raises(ZeroGradientError):
        next(run)


def test_batched_sam_leaves_a_zero_gradient_row_in_place():
    W = iterate.run_batch(ring_grad, np.array([[0.0, 0.0], [0.5, 0.5]]), "sam", 1.2, 0.02, 3)
    np.testing.assert_array_equal(W[0], [0.0, 0.0])
    assert np.abs(W[1] - 0.5).max() > 0


def test_unknown_method_is_refused():
    with pytest.raises(SamVerifyError, match="unknown method"):
        iterate.run_batch(ring_grad, STARTS, "adam", 1.0, 0.01, 2)


def test_perturbed_points_batch_matches_the_context_formula(fp):
    """sam.perturbed_points_batch row by row equals sam.perturbed_point / usam_point; a zero
    gradient row gets the requested convention (0 or nan)."""
    G = ring_grad(STARTS)
    for method, point in (("sam", sam.perturbed_point), ("usam", sam.usam_point)):
        P = sam.perturbed_points_batch(STARTS, G, 0.7, method)
        for row, x in zip(P, STARTS):
            np.testing.assert_allclose(row, np.asarray(point(RING, fp.vector(list(x)), 0.7, fp)),
                                       rtol=1e-15, atol=1e-15)
    Z = np.zeros((1, 2))
    np.testing.assert_array_equal(sam.perturbed_points_batch(Z, Z, 0.7), Z)
    assert np.isnan(sam.perturbed_points_batch(Z, Z, 0.7, undefined=np.nan)).all()
