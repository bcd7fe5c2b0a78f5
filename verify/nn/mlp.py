"""MLP builder and the smoothness of torch modules.

``build_mlp(in_dim, width, depth, out_dim, activation)`` gives ``depth`` hidden layers of ``width``
units (``width`` may be a list), each followed by the activation, then a linear output layer.

Smoothness of activations (what the analytic-only theorems may rely on):

* real-analytic: ``tanh``, ``sigmoid``, ``softplus``, ``silu`` (x*sigmoid(x)), ``gelu`` (both the
  exact erf form and the tanh approximation) — compositions of exp/erf/tanh/rational functions whose
  denominators never vanish on the real line;
* ``elu`` (alpha = 1) is **not** analytic: it is x for x > 0 and exp(x) - 1 for x <= 0; value and
  first derivative match at 0, the second derivative jumps from 1 to 0, so ELU is C1 and no more
  (for alpha != 1 it is only C0). It is declared ``'C1'``; analytic-only theorems refuse it;
* ``relu``, ``leaky_relu`` and max-pooling are continuous but not differentiable everywhere:
  declared ``'C0'``.

The loss (softmax cross-entropy) and linear layers are analytic, so an MLP is analytic exactly when
every activation is.
"""
from __future__ import annotations

from typing import Sequence

from ..errors import SamVerifyError, ShapeError
from ..objectives.objective import smoothness_order

ACTIVATION_SMOOTHNESS = {
    "tanh": "analytic", "sigmoid": "analytic", "softplus": "analytic", "silu": "analytic",
    "gelu": "analytic", "gelu_tanh": "analytic", "elu": "C1", "relu": "C0", "leaky_relu": "C0",
}
ANALYTIC_ACTIVATIONS = tuple(k for k, v in ACTIVATION_SMOOTHNESS.items() if v == "analytic")


def activation_module(name: str):
    import torch.nn as nn
    table = {
        "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "softplus": nn.Softplus, "silu": nn.SiLU,
        "gelu": nn.GELU, "gelu_tanh": lambda: nn.GELU(approximate="tanh"), "elu": nn.ELU,
        "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU,
    }
    if name not in table:
        raise SamVerifyError(f"unknown activation {name!r}; choose one of {sorted(table)}")
    return table[name]()


def module_smoothness(model) -> str:
    """The weakest smoothness over the leaf modules of ``model`` ('analytic', 'C1', 'C0' or
    'unknown' for a module this table does not know)."""
    import torch.nn as nn
    analytic = (nn.Linear, nn.Tanh, nn.Sigmoid, nn.Softplus, nn.SiLU, nn.GELU, nn.Identity,
                nn.Flatten, nn.Sequential, nn.Conv1d, nn.Conv2d, nn.AvgPool1d, nn.AvgPool2d,
                nn.LogSoftmax, nn.Softmax, nn.Unflatten)
    c0 = (nn.ReLU, nn.LeakyReLU, nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.ReLU6, nn.Hardtanh,
          nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.PReLU)
    worst, worst_order = "analytic", float("inf")
    for m in model.modules():
        if list(m.children()):
            continue
        if isinstance(m, nn.ELU):
            s = "C1" if float(m.alpha) == 1.0 else "C0"
        elif isinstance(m, nn.CELU):
            s = "C1" if float(m.alpha) == 1.0 else "C0"
        elif isinstance(m, c0):
            s = "C0"
        elif isinstance(m, analytic):
            s = "analytic"
        else:
            s = "unknown"
        order = smoothness_order(s)
        if order < worst_order:
            worst, worst_order = s, order
    return worst


def build_mlp(in_dim: int, width: int | Sequence[int] = 32, depth: int = 1, out_dim: int = 10,
              activation: str = "tanh", seed: int | None = None, dtype=None):
    """An ``nn.Sequential`` MLP: ``depth`` hidden layers (default PyTorch initialization, drawn
    from ``torch.manual_seed(seed)`` when a seed is given)."""
    import torch
    import torch.nn as nn
    widths = [int(width)] * int(depth) if isinstance(width, int) else [int(w) for w in width]
    if not widths or min(widths) < 1 or min(int(in_dim), int(out_dim)) < 1:
        raise ShapeError(f"an MLP needs depth >= 1 and sizes >= 1, got in {in_dim}, hidden {widths}, "
                         f"out {out_dim}")
    activation_module(activation)       # an unknown name fails here, before any seed is drawn
    if seed is not None:
        torch.manual_seed(int(seed))
    layers, prev = [], int(in_dim)
    for w in widths:
        layers += [nn.Linear(prev, w), activation_module(activation)]
        prev = w
    layers.append(nn.Linear(prev, int(out_dim)))
    model = nn.Sequential(*layers)
    if dtype is not None:
        model = model.to(dtype)
    return model


def hidden_widths(model) -> list[int]:
    """Output sizes of every Linear layer but the last (the hidden widths of an MLP)."""
    import torch.nn as nn
    lins = [m for m in model.modules() if isinstance(m, nn.Linear)]
    return [m.out_features for m in lins[:-1]]
