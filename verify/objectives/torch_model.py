"""Objectives from a torch ``nn.Module`` and data: the full-batch loss as a function of the flat
parameter vector theta.

``ModelObjective(model, X, y)`` is a :class:`verify.objectives.objective.TorchObjective` whose ``fn(theta)``
unflattens theta into the module's parameter tensors (views, no copies) and evaluates the mean
softmax cross-entropy with :func:`torch.func.functional_call`. Gradients and Hessian-vector products
come from torch.func (inherited), so every SAM operator of :mod:`verify.core.sam` applies to it unchanged
(with a :class:`verify.ctx.torch.TorchContext` of the same device and dtype).

Its smoothness is read from the module (:func:`verify.nn.mlp.module_smoothness`): an MLP with tanh,
sigmoid, softplus, SiLU or GELU is real-analytic (softmax cross-entropy and linear maps are); ELU is
C1; ReLU, leaky ReLU and max-pooling are C0, so analytic-only theorems refuse them with a
:class:`verify.errors.HypothesisError`.

``fn`` also accepts a batch of parameter vectors under :func:`torch.func.vmap`, which is how
:mod:`verify.nn.train` trains many seeds at once.
"""
from __future__ import annotations

import copy
import math
from typing import Callable

from ..errors import NonFiniteError, ShapeError
from ..nn.mlp import module_smoothness
from .objective import TorchObjective


def param_spec(model) -> list[tuple[str, tuple[int, ...]]]:
    return [(name, tuple(p.shape)) for name, p in model.named_parameters()]


def flatten_params(model, dtype=None, device=None):
    """The module's parameters as one flat tensor (in ``named_parameters`` order)."""
    import torch
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    return flat.to(dtype=dtype or flat.dtype, device=device or flat.device)


def unflatten(theta, spec) -> dict:
    """Views of ``theta`` (shape (d,) or any leading batch shape (..., d)) shaped like the params."""
    out, i = {}, 0
    lead = tuple(theta.shape[:-1])
    for name, shape in spec:
        n = math.prod(shape)
        out[name] = theta[..., i:i + n].reshape(lead + shape)
        i += n
    return out


def load_flat(model, theta) -> None:
    """Copy a flat vector back into the module's parameters (in place)."""
    import torch
    with torch.no_grad():
        for (name, t), p in zip(unflatten(theta, param_spec(model)).items(), model.parameters()):
            p.copy_(t.to(p.dtype))


def _class_labels(y, device):
    """y as int64 class indices; refuses labels that are negative or not whole numbers (a cast
    would truncate them silently)."""
    import torch
    t = torch.as_tensor(y, device=device)
    if t.ndim != 1:
        raise ShapeError(f"labels must be a vector of class indices, got shape {tuple(t.shape)}")
    if t.is_floating_point() and not bool((t == t.round()).all()):
        raise ShapeError("labels must be whole class indices, got non-integer values")
    t = t.to(torch.long)
    if len(t) and int(t.min()) < 0:
        raise ShapeError(f"labels must be >= 0, got {int(t.min())}")
    return t


class ModelObjective(TorchObjective):
    """Full-batch mean cross-entropy of ``model`` on (X, y) as a function of the flat parameters."""

    def __init__(self, model, X, y, loss: str = "cross_entropy", smoothness: str | None = None,
                 name: str | None = None, dtype=None, device=None):
        import torch
        import torch.nn.functional as F
        self.torch = torch
        dtype = dtype or torch.float64
        device = device or (X.device if torch.is_tensor(X) else torch.device("cpu"))
        # a copy: converting the user's own model to float64 in place would break their code
        self.model = copy.deepcopy(model).to(dtype=dtype, device=device)
        self.X = torch.as_tensor(X, dtype=dtype, device=device)
        self.y = _class_labels(y, device)
        if self.X.shape[0] != self.y.shape[0]:
            raise ShapeError(f"X has {self.X.shape[0]} rows but y has {self.y.shape[0]} labels")
        if not bool(torch.isfinite(self.X).all()):
            raise NonFiniteError("the inputs X contain NaN/inf")
        with torch.no_grad():
            n_out = self.model(self.X[:1]).shape[-1]
        if len(self.y) and int(self.y.max()) >= n_out:
            raise ShapeError(f"label {int(self.y.max())} needs at least {int(self.y.max()) + 1} "
                             f"outputs; the model has {n_out}")
        self.spec = param_spec(self.model)
        self.loss_name = loss
        if loss != "cross_entropy":
            raise ValueError("only loss='cross_entropy' (softmax cross-entropy) is implemented")
        # buffers (none for an MLP) are passed through unchanged
        self._buffers = dict(self.model.named_buffers())
        model_ = self.model
        spec = self.spec

        def logits_fn(theta, X):
            params = unflatten(theta, spec)
            return torch.func.functional_call(model_, (params, self._buffers), (X,))

        def fn(theta):
            return F.cross_entropy(logits_fn(theta, self.X), self.y)

        self.logits_fn: Callable = logits_fn
        detected = module_smoothness(self.model)
        super().__init__(fn, sum(math.prod(s) for _, s in spec), smoothness or detected,
                         name or f"{type(model).__name__} cross-entropy (n={len(self.y)})")
        self.dtype, self.device = dtype, device

    # -- conveniences ----------------------------------------------------------------------------
    def init(self) -> "object":
        """The model's current parameters as a flat vector."""
        return flatten_params(self.model, self.dtype, self.device)

    def accuracy(self, theta, X=None, y=None):
        X = self.X if X is None else self.torch.as_tensor(X, dtype=self.dtype, device=self.device)
        y = self.y if y is None else self.torch.as_tensor(y, dtype=self.torch.long, device=self.device)
        with self.torch.no_grad():
            return (self.logits_fn(theta, X).argmax(-1) == y).to(self.dtype).mean()

    def value_and_grad(self, theta):
        g, v = self.torch.func.grad_and_value(self.fn)(theta)
        return v, g

    def hess(self, x, ctx=None, chunk: int = 128):
        """Dense Hessian assembled from HVPs on unit vectors, ``chunk`` at a time under vmap (memory
        O(chunk x activations), unlike torch.func.hessian's O(d x activations)); symmetrized."""
        rows = self.hessian_rows(x, ctx)
        eye = self.torch.eye(self.dim, dtype=x.dtype, device=x.device)
        H = self.torch.cat([rows(eye[i:i + chunk]) for i in range(0, self.dim, chunk)], 0)
        return (H + H.T) / 2

    def with_data(self, X, y) -> "ModelObjective":
        """The same model on other data (e.g. the test set)."""
        return ModelObjective(self.model, X, y, self.loss_name, self.smoothness, dtype=self.dtype,
                              device=self.device)


def mlp_objective(data, width=32, depth=1, activation="tanh", seed: int = 0, dtype=None,
                  device=None, n_train: int | None = None) -> tuple["ModelObjective", object]:
    """(objective on the training set, initial theta) for an MLP on a :class:`verify.nn.data.Dataset`."""
    import torch
    from ..nn.mlp import build_mlp
    dtype = dtype or torch.float64
    model = build_mlp(data.n_features, width, depth, data.n_classes, activation, seed=seed)
    X, y = data.X_train[:n_train], data.y_train[:n_train]
    obj = ModelObjective(model, X, y, dtype=dtype, device=device)
    return obj, obj.init()
