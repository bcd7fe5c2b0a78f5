"""Objectives from torch modules: smoothness, derivatives, flat parameters, vmap."""
import pytest
import torch

from verify import sam
from verify.ctx.torch import TorchContext
from verify.nn.data import load_digits
from verify.errors import HypothesisError
from verify.nn.mlp import build_mlp, module_smoothness
from verify.objectives.torch_model import flatten_params, load_flat, mlp_objective, unflatten

CTX = TorchContext("cpu", "float64")


@pytest.fixture(scope="module")
def small():
    return load_digits().subset(40)


@pytest.mark.parametrize("act,expected", [("tanh", "analytic"), ("gelu", "analytic"),
                                          ("silu", "analytic"), ("softplus", "analytic"),
                                          ("sigmoid", "analytic"), ("elu", "C1"), ("relu", "C0"),
                                          ("leaky_relu", "C0")])
def test_activation_smoothness(act, expected):
    assert module_smoothness(build_mlp(4, 3, 2, 2, act)) == expected


def test_maxpool_and_unknown_modules():
    m = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Tanh(), torch.nn.Unflatten(1, (1, 4)),
                            torch.nn.MaxPool1d(2), torch.nn.Flatten())
    assert module_smoothness(m) == "C0"
    assert module_smoothness(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout())) == "unknown"


def test_non_analytic_refused(small):
    obj, _ = mlp_objective(small, 5, 1, "relu")
    with pytest.raises(HypothesisError, match="real-analytic"):
        obj.require_analytic("Theorem 3.2")
    obj, _ = mlp_objective(small, 5, 1, "elu")
    with pytest.raises(HypothesisError):
        obj.require_analytic("Theorem 2.2")
    mlp_objective(small, 5, 1, "tanh")[0].require_analytic("Theorem 2.2")


def test_value_grad_hvp_match_autograd(small):
    obj, th = mlp_objective(small, 5, 1, "tanh", seed=2)
    m = obj.model
    Xtr, ytr, _, _ = small.tensors()
    loss = torch.nn.functional.cross_entropy(m(Xtr), ytr)
    g_ref = torch.cat([p.reshape(-1) for p in torch.autograd.grad(loss, list(m.parameters()))])
    assert torch.allclose(obj.value(th, CTX), loss.detach())
    assert torch.allclose(obj.grad(th, CTX), g_ref, atol=1e-12)
    H = torch.func.hessian(obj.fn)(th)
    v = torch.randn(obj.dim, dtype=torch.float64)
    assert torch.allclose(obj.hvp(th, v, CTX), H @ v, atol=1e-10)


def test_flat_roundtrip_and_vmap(small):
    obj, th = mlp_objective(small, 5, 2, "tanh")
    P = unflatten(th, obj.spec)
    assert [tuple(t.shape) for t in P.values()] == [s for _, s in obj.spec]
    m2 = build_mlp(64, 5, 2, 10, "tanh", seed=99).double()
    load_flat(m2, th)
    assert torch.equal(flatten_params(m2), th)
    batch = torch.stack([th, th * 0.5])
    vals = torch.func.vmap(obj.fn)(batch)
    assert torch.allclose(vals[1], obj.fn(th * 0.5))


def test_core_sam_ops_run_on_model(small):
    obj, th = mlp_objective(small, 5, 1, "tanh")
    d = sam.diagnostics(obj, th, 1.0, CTX)
    assert float(d.grad_ratio) > 0
    g = sam.sam_gradient(obj, th, 1.0, CTX)
    # directional finite difference of f_SAM
    v = torch.randn(obj.dim, dtype=torch.float64)
    h = 1e-6
    fd = (sam.sam_value(obj, th + h * v, 1.0, CTX) - sam.sam_value(obj, th - h * v, 1.0, CTX)) / (2 * h)
    assert abs(float(fd - g @ v)) < 1e-6 * max(1.0, abs(float(fd)))


def test_model_objective_leaves_the_users_model_alone_and_checks_labels():
    from verify.errors import NonFiniteError, ShapeError
    from verify.objectives.torch_model import ModelObjective
    m = build_mlp(3, 4, 1, 2, "tanh", seed=0)                         # float32, as users build it
    X, y = torch.randn(5, 3), torch.tensor([0, 1, 1, 0, 1])
    obj = ModelObjective(m, X, y)
    assert next(m.parameters()).dtype == torch.float32 and m(X).shape == (5, 2)
    assert obj.dtype == torch.float64
    with pytest.raises(ShapeError, match="outputs"):
        ModelObjective(m, X, torch.tensor([0, 1, 2, 0, 1]))            # class 2 of a 2-output net
    with pytest.raises(ShapeError, match="whole"):
        ModelObjective(m, X, torch.tensor([0.0, 1.5, 1.0, 0.0, 1.0]))
    with pytest.raises(ShapeError, match=">= 0"):
        ModelObjective(m, X, torch.tensor([0, -1, 1, 0, 1]))
    with pytest.raises(NonFiniteError):
        ModelObjective(m, X.masked_fill(X > 1, float("nan")), y)
    ModelObjective(m, X, torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0]))     # whole floats are fine


def test_checkpoint_loading_runs_no_code(tmp_path):
    """Checkpoints load with weights_only: a pickled object with a payload is refused, typed."""
    from verify.errors import SamVerifyError
    from verify.nn.train import TrainResult
    marker = tmp_path / "ran.txt"

    class Payload:
        def __reduce__(self):
            return (marker.write_text, ("x",))
    bad = tmp_path / "evil.pt"
    torch.save({"format": "sam-verify-train-1", "extra": Payload()}, bad)
    with pytest.raises(SamVerifyError, match="loadable"):
        TrainResult.load(bad)
    assert not marker.exists()


def _func_path(monkeypatch):
    """Force TorchObjective onto its torch.func path (what it does inside a transform)."""
    from verify.objectives import objective as objective_module
    monkeypatch.setattr(objective_module, "_plain", lambda x: False)


def test_autograd_path_gives_torch_funcs_derivatives(small, monkeypatch):
    # outside transforms grad, hvp, hessian_rows and the dense Hessian come from torch.autograd;
    # they must be torch.func's up to rounding (the gradient: the same backward pass, bit for bit)
    obj, th = mlp_objective(small, 5, 1, "tanh", seed=3)
    V = torch.randn(3, obj.dim, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    ours = (obj.grad(th, CTX), obj.hvp(th, V[0], CTX), obj.hessian_rows(th, CTX)(V),
            obj.hessian_rows(th, CTX)(V[:1]), obj.hess(th, CTX))
    _func_path(monkeypatch)
    ref = (obj.grad(th, CTX), obj.hvp(th, V[0], CTX), obj.hessian_rows(th, CTX)(V),
           obj.hessian_rows(th, CTX)(V[:1]), obj.hess(th, CTX))
    assert torch.equal(ours[0], ref[0])
    scale = float(ref[4].abs().max())
    for a, b in zip(ours[1:], ref[1:]):
        assert a.shape == b.shape and not a.requires_grad
        assert float((a - b).abs().max()) <= 64 * torch.finfo(torch.float64).eps * scale


def test_torch_objective_derivatives_inside_transforms_and_of_linear_functions():
    from verify.objectives.objective import TorchObjective
    f = TorchObjective(lambda x: (x ** 3).sum() + torch.sin(x).prod(), 3, "analytic")
    X = torch.tensor([[0.3, -0.2, 0.5], [1.0, 0.1, -0.4]], dtype=torch.float64)
    # inside vmap the plain path must not be taken (torch.autograd does not compose with it)
    G = torch.func.vmap(lambda x: f.grad(x, CTX))(X)
    assert torch.allclose(G, torch.stack([f.grad(x, CTX) for x in X]), atol=1e-15)
    assert f.d3v(X[0], X[1], CTX).shape == (3, 3)  # jacfwd over hvp: the torch.func path
    # f linear (Hessian 0) and f constant (gradient 0): zeros, as torch.func gives them
    lin = TorchObjective(lambda x: (2.0 * x).sum(), 3)
    const = TorchObjective(lambda x: torch.tensor(1.0, dtype=x.dtype), 3)
    assert torch.equal(lin.grad(X[0], CTX), torch.full((3,), 2.0, dtype=torch.float64))
    assert torch.equal(lin.hvp(X[0], X[1], CTX), torch.zeros(3, dtype=torch.float64))
    assert torch.equal(lin.hessian_rows(X[0], CTX)(X), torch.zeros_like(X))
    assert torch.equal(const.grad(X[0], CTX), torch.zeros(3, dtype=torch.float64))


def test_model_derivatives_do_not_import_torch_dynamo():
    # torch.func's reverse mode imports torch._dynamo on first use (about 1 s of CPU a process);
    # the derivatives of a model outside transforms must not (the negative control: torch.func.grad
    # itself does)
    import pathlib
    import subprocess
    import sys
    root = pathlib.Path(__file__).resolve().parents[1]
    code = ("import sys, torch\n"
            "from verify.nn.data import load_digits\n"
            "from verify.objectives.torch_model import mlp_objective\n"
            "from verify.ctx.torch import TorchContext\n"
            "ctx = TorchContext('cpu', 'float64')\n"
            "obj, th = mlp_objective(load_digits().subset(20), 3, 1, 'tanh')\n"
            "obj.grad(th, ctx); obj.hvp(th, th, ctx); obj.hessian_rows(th, ctx)(th[None].repeat(2, 1))\n"
            "obj.hess(th, ctx)\n"
            "print('ours', 'torch._dynamo' in sys.modules)\n"
            "torch.func.grad(obj.fn)(th)\n"
            "print('control', 'torch._dynamo' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=root).stdout
    assert "ours False" in out and "control True" in out
