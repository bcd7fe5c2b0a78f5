"""The explicit batched backprop (verify.nn.batched_mlp) against the torch.func path, in float64."""
import pytest
import torch

from verify.nn import batched_mlp
from verify.nn.batched_mlp import BatchedMLP
from verify.nn.data import load_digits
from verify.nn.train import BatchedProblem

SUPPORTED = ("tanh", "sigmoid", "softplus", "silu", "gelu", "elu", "relu", "leaky_relu")
WIDTHS = {1: 7, 2: [7, 5]}          # unequal widths: a transposed block cannot fit by accident


@pytest.fixture(scope="module")
def data():
    return load_digits().subset(200)


def _rel(a, b):
    return float((a - b).norm() / b.norm())


def _both(data, activation, depth, scale=1.0, seeds=(0, 1, 2)):
    """(explicit, torch.func) gradient and loss at scaled initializations of several seeds."""
    prob = BatchedProblem(data, WIDTHS[depth], depth, activation, "float64", "cpu")
    assert prob.explicit
    theta = scale * prob.init(seeds)
    return prob, theta, prob.grad_and_value(theta), prob._vgv(theta)


@pytest.mark.parametrize("depth", [1, 2])
@pytest.mark.parametrize("activation", SUPPORTED)
@pytest.mark.parametrize("scale", [1.0, 30.0])  # 30: saturated units, softplus past its threshold
def test_explicit_equals_torch_func(data, activation, depth, scale):
    _, _, (g, f), (g0, f0) = _both(data, activation, depth, scale)
    assert _rel(g, g0) < 1e-12
    assert torch.allclose(f, f0, rtol=1e-12, atol=0)


def test_softplus_threshold_is_exercised(data):
    prob, theta, _, _ = _both(data, "softplus", 1, 30.0)
    W, b = prob._mlp._views(theta, 0)
    assert (torch.baddbmm(b, W, prob._mlp._buffers(3)["Xt"]) > 20).any()


def test_wrong_derivative_is_detected(data, monkeypatch):
    fwd, _ = batched_mlp.ACTIVATIONS["Tanh"]
    monkeypatch.setitem(batched_mlp.ACTIVATIONS, "Tanh", (fwd, lambda dh, a, z: dh.mul_(1 - a)))
    _, _, (g, _), (g0, _) = _both(data, "tanh", 2)
    assert _rel(g, g0) > 1e-3


def test_transposed_layout_is_detected(data):
    """Reading each weight block as (in, out) instead of torch's (out, in) changes the numbers."""
    prob, theta, _, (g0, f0) = _both(data, "tanh", 2)
    mlp, swapped = prob._mlp, theta.clone()
    for l, (w0, _) in enumerate(mlp.offsets):
        a, b = mlp.widths[l], mlp.widths[l + 1]
        block = theta[:, w0:w0 + a * b]
        swapped[:, w0:w0 + a * b] = block.view(-1, b, a).transpose(1, 2).reshape(-1, a * b)
    g, f = mlp.grad_and_value(swapped)
    assert _rel(g, g0) > 1e-3 and (f - f0).abs().max() > 1e-6


def test_every_block_is_compared(data):
    """Perturbing any one weight or bias entry moves the gradient by far more than the tolerance."""
    prob, theta, (g, _), _ = _both(data, "tanh", 2)
    for w0, b0 in prob._mlp.offsets:
        for i in (w0, b0):
            t = theta.clone()
            t[:, i] += 1e-6
            assert _rel(prob.grad_and_value(t)[0], g) > 1e-9


def test_buffers_out_and_batch_sizes(data):
    prob = BatchedProblem(data, [7, 5], 2, "silu", "float64", "cpu")
    theta = prob.init(range(4))
    g, f = prob.grad_and_value(theta)
    g1, f1 = prob.grad_and_value(theta[:2])                 # other S: new buffers
    out = torch.full_like(theta, float("nan"))
    g2, f2 = prob._mlp.grad_and_value(theta, out=out)       # back to S = 4, into out
    assert g2 is out and torch.equal(g2, g) and torch.equal(f2, f)
    assert torch.equal(g1, g[:2]) and torch.equal(f1, f[:2])
    g3, _ = prob.grad_and_value(theta.t().contiguous().t())  # column-major rows
    assert torch.equal(g3, g)


def test_flop_count_is_what_runs(data):
    """The documented matmul count equals torch's own count of the bmm/baddbmm calls, with and
    without the elementwise work; depth 1 gives the textbook forward + two backward products."""
    from torch.utils.flop_counter import FlopCounterMode
    prob = BatchedProblem(data, [7, 5], 2, "tanh", "float64", "cpu")
    theta = prob.init(range(3))
    for only in (False, True):
        with FlopCounterMode(display=False) as fc:
            prob._mlp.grad_and_value(theta, matmuls_only=only)
        assert fc.get_total_flops() == prob._mlp.flops(3)
    n, fin, h, C = 200, 64, 7, 10
    textbook = 2 * n * (fin * h + h * C) + 2 * n * fin * h + 4 * n * h * C
    assert batched_mlp.matmul_flops([fin, h, C], n) == textbook


def test_unsupported_falls_back_to_torch_func(data):
    prob = BatchedProblem(data, 7, 1, "gelu_tanh", "float64", "cpu")
    assert not prob.explicit and not BatchedMLP.supports(prob.model)
    forced = BatchedProblem(data, 7, 1, "tanh", "float64", "cpu", explicit=False)
    assert not forced.explicit
    theta = prob.init((0, 1))
    g, f = prob.grad_and_value(theta)
    assert g.shape == theta.shape and f.shape == (2,)
    with pytest.raises(ValueError):
        BatchedMLP(prob.model, prob.obj.X, prob.obj.y)
