"""Hand-written batched backpropagation for the MLPs of :func:`verify.nn.mlp.build_mlp`.

``BatchedMLP(model, X, y).grad_and_value(theta)`` takes S stacked flat parameter vectors
``theta`` (S, d), laid out as :func:`verify.objectives.torch_model.flatten_params` lays out one model
(``0.weight, 0.bias, 2.weight, 2.bias, ...``; a weight is (out, in), row-major), and returns
``(grad (S, d), loss (S,))`` of the full-batch mean softmax cross-entropy, the same numbers as
``torch.func.vmap(torch.func.grad_and_value(ModelObjective.fn))`` up to rounding, without autograd.

With ``A_0 = X`` and, for layer l, ``Z_l = A_{l-1} W_l^T + b_l``, ``A_l = act(Z_l)`` (no act on
the output layer), the loss ``mean_i [logsumexp(Z_L[i]) - Z_L[i, y_i]]`` has

    dZ_L = (softmax(Z_L) - onehot(y)) / n,
    dW_l = dZ_l^T A_{l-1},   db_l = sum_i dZ_l[i],   dZ_{l-1} = (dZ_l W_l) * act'(Z_{l-1}),

each product a batched matmul over the S seeds (``baddbmm`` with the bias as the added term in the
forward pass, ``bmm`` in the backward pass). Per gradient that is ``L`` forward, ``L`` weight-gradient
and ``L - 1`` input-gradient products (no gradient for X): :func:`matmul_flops` counts them.

Supported activations (the module classes with their default parameters) and the derivative used,
from the stored output ``a`` where it determines it, else from the pre-activation ``z``:

* tanh ``1 - a^2``; sigmoid ``a (1 - a)``; ELU (alpha = 1) ``1 if a > 0 else a + 1``;
  ReLU ``[a > 0]``; leaky ReLU ``1 if a > 0 else slope`` (the non-smooth points as torch takes them);
* softplus (beta = 1, threshold 20) ``sigmoid(z)`` (1 above the threshold, as torch);
  SiLU ``s + a (1 - s)`` with ``s = sigmoid(z)``; GELU (exact erf form) ``Phi(z) + z phi(z)``.

Anything else (the tanh-approximated GELU, other parameters, other layers) is not supported:
:meth:`BatchedMLP.supports` says so, and :class:`verify.nn.train.BatchedProblem` then falls back to the
torch.func path.

Activations are stored feature-major, (S, width, n): the narrow output layer is then a
(C x h)(h x n) product with the long side n, and the softmax runs over a non-inner axis of C
entries, vectorized over the samples (on CPU both several times faster than sample-major).
Intermediate buffers are allocated once per batch size S and reused; the activation and its
derivative are applied in place; the gradient goes through views into one (S, d) tensor (the
weight gradients via one contiguous buffer each: a bmm into a strided view runs seed by seed).
"""
from __future__ import annotations

import math

from ..errors import ShapeError


def _tanh(z):
    if z.is_cuda:
        return z.tanh_()
    return z.mul_(2).sigmoid_().mul_(2).sub_(1)        # 2 sigmoid(2z) - 1: 3-4x faster than CPU tanh


def _tanh_grad_(dh, a, z):
    dh.addcmul_(dh, a.square_(), value=-1)             # dh (1 - a^2), one pass over dh


def _sigmoid(z):
    return z.sigmoid_()


def _sigmoid_grad_(dh, a, z):
    dh.mul_(a.addcmul_(a, a, value=-1))                 # a - a^2


def _elu(z):
    import torch.nn.functional as F
    return F.elu_(z)


def _elu_grad_(dh, a, z):
    dh.mul_(a.add_(1).clamp_(max=1))                    # a + 1 for a <= 0 is exp(z); 1 for a > 0


def _relu(z):
    return z.relu_()


def _relu_grad_(dh, a, z):
    dh.mul_(a.gt_(0))


def _leaky_relu(z):
    import torch.nn.functional as F
    return F.leaky_relu_(z, _LEAKY_SLOPE)


def _leaky_relu_grad_(dh, a, z):
    dh.mul_(a.gt_(0).mul_(1 - _LEAKY_SLOPE).add_(_LEAKY_SLOPE))


def _softplus(z):
    import torch.nn.functional as F
    return F.softplus(z)


def _softplus_grad_(dh, a, z):
    big = z > _SOFTPLUS_THRESHOLD                       # torch's softplus is z itself there
    dh.mul_(z.sigmoid_().masked_fill_(big, 1))


def _silu(z):
    import torch.nn.functional as F
    return F.silu(z)


def _silu_grad_(dh, a, z):
    s = z.sigmoid_()                                    # a = z s, so silu' = s + z s (1 - s)
    dh.mul_(a.addcmul_(a, s, value=-1).add_(s))


def _gelu(z):
    import torch.nn.functional as F
    return F.gelu(z)


def _gelu_grad_(dh, a, z):
    import torch
    zphi = torch.mul(z, z, out=a).mul_(-0.5).exp_().mul_(z).mul_(1 / math.sqrt(2 * math.pi))
    dh.mul_(zphi.add_(torch.special.ndtr(z)))           # Phi(z) + z phi(z)


_LEAKY_SLOPE = 0.01
_SOFTPLUS_THRESHOLD = 20.0

# torch.nn class name -> (forward: in place on z when the derivative reads only a, else a new
# tensor; derivative: dh *= act'(z), free to overwrite a and z)
ACTIVATIONS = {
    "Tanh": (_tanh, _tanh_grad_), "Sigmoid": (_sigmoid, _sigmoid_grad_), "ELU": (_elu, _elu_grad_),
    "ReLU": (_relu, _relu_grad_), "LeakyReLU": (_leaky_relu, _leaky_relu_grad_),
    "Softplus": (_softplus, _softplus_grad_), "SiLU": (_silu, _silu_grad_),
    "GELU": (_gelu, _gelu_grad_),
}


def _default_parameters(m) -> bool:
    """Only the parameters the derivatives above assume (build_mlp's defaults)."""
    name = type(m).__name__
    if name == "ELU":
        return float(m.alpha) == 1.0
    if name == "LeakyReLU":
        return float(m.negative_slope) == _LEAKY_SLOPE
    if name == "Softplus":
        return float(m.beta) == 1.0 and float(m.threshold) == _SOFTPLUS_THRESHOLD
    if name == "GELU":
        return m.approximate == "none"
    return True


def _layers(model):
    """[(linear, activation or None)] of a Linear/act/.../Linear ``nn.Sequential``, or None."""
    import torch.nn as nn
    mods = list(model.children()) if isinstance(model, nn.Sequential) else []
    if len(mods) % 2 != 1:
        return None
    lins, acts = mods[0::2], mods[1::2]
    if not all(type(m) is nn.Linear and m.bias is not None for m in lins):
        return None
    if not all(type(m).__name__ in ACTIVATIONS and type(m) is getattr(nn, type(m).__name__)
               and _default_parameters(m) for m in acts):
        return None
    return list(zip(lins, acts + [None]))


def matmul_flops(widths, n: int, S: int = 1) -> int:
    """Multiply-add FLOPs (2 per product) of the matmuls of one gradient evaluation of S seeds:
    for widths (in, h_1, ..., out), forward and weight gradient of every layer, input gradient of
    every layer but the first."""
    total = 0
    for l, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        total += (3 if l > 0 else 2) * 2 * n * a * b
    return S * total


class BatchedMLP:
    """Batched value and gradient of the full-batch cross-entropy of an MLP (see the module
    docstring); ``X`` (n, in) and ``y`` (n,) fix the data, dtype and device."""

    def __init__(self, model, X, y):
        import torch
        layers = _layers(model)
        if layers is None:
            raise ShapeError("BatchedMLP needs an nn.Sequential of Linear layers with supported "
                             "activations between them (see verify.nn.batched_mlp)")
        self.torch = torch
        self.X, self.y = X, y
        self.n = int(X.shape[0])
        self.widths = [layers[0][0].in_features] + [lin.out_features for lin, _ in layers]
        self.acts = [ACTIVATIONS[type(act).__name__] for _, act in layers[:-1]]
        # (weight offset, bias offset) per layer in the flat vector, in named_parameters order
        self.offsets, i = [], 0
        for a, b in zip(self.widths[:-1], self.widths[1:]):
            self.offsets.append((i, i + a * b))
            i += a * b + b
        self.dim = i
        C = self.widths[-1]
        onehot = torch.zeros(C, self.n, dtype=X.dtype, device=X.device)
        self._onehot_n = onehot.scatter_(0, y.view(1, -1), 1.0 / self.n)   # onehot^T / n
        self._S, self._buf = None, None

    @staticmethod
    def supports(model) -> bool:
        return _layers(model) is not None

    def flops(self, S: int) -> int:
        """Matmul FLOPs of one :meth:`grad_and_value` of S seeds."""
        return matmul_flops(self.widths, self.n, S)

    def _buffers(self, S):
        if self._S != S:
            torch, n = self.torch, self.n
            new = lambda w: torch.empty(S, w, n, dtype=self.X.dtype, device=self.X.device)  # noqa: E731
            self._buf = {"z": [new(w) for w in self.widths[1:-1]],   # pre-activations / activations
                         "dh": [new(w) for w in self.widths[1:-1]],  # gradients w.r.t. activations
                         "logits": new(self.widths[-1]),
                         # weight gradients: a bmm into a strided view of the (S, d) gradient runs
                         # one small matmul per seed (slow with threads), so bmm here, then copy
                         "dW": [torch.empty(S, b, a, dtype=self.X.dtype, device=self.X.device)
                                for a, b in zip(self.widths[:-1], self.widths[1:])],
                         "Xt": self.X.t().expand(S, self.widths[0], n),   # shared data, no copy
                         "y": self.y.view(1, 1, n).expand(S, 1, n)}
            self._S = S
        return self._buf

    def _views(self, theta, l):
        """Weight (S, out, in) and bias (S, out, 1) of layer l, views of the rows of theta."""
        a, b = self.widths[l], self.widths[l + 1]
        w0, b0 = self.offsets[l]
        return theta[:, w0:w0 + a * b].view(-1, b, a), theta[:, b0:b0 + b].unsqueeze(2)

    def grad_and_value(self, theta, out=None, matmuls_only: bool = False):
        """(grad (S, d), loss (S,)) at the rows of ``theta``; ``out`` (S, d) receives the gradient
        (a new tensor when not given). ``matmuls_only`` runs the same matmul calls on the same
        buffers and nothing else (a benchmark's baseline; the numbers are then meaningless)."""
        torch = self.torch
        if theta.ndim != 2 or theta.shape[1] != self.dim:
            raise ShapeError(f"theta has shape {tuple(theta.shape)}, expected (S, {self.dim})")
        theta = theta.detach().contiguous()
        S, L = theta.shape[0], len(self.widths) - 1
        buf = self._buffers(S)
        grad = torch.empty_like(theta) if out is None else out
        with torch.no_grad():
            # forward, feature-major: Z_l^T = W_l A_{l-1}^T + b_l
            acts = [buf["Xt"]]
            for l in range(L):
                W, b = self._views(theta, l)
                z = buf["logits"] if l == L - 1 else buf["z"][l]
                torch.baddbmm(b, W, acts[-1], out=z)
                if l < L - 1:
                    acts.append(z if matmuls_only else self.acts[l][0](z))
            if matmuls_only:
                self._backward(theta, grad, buf["logits"], acts, None)
                return grad, None
            # loss and dZ_L = (softmax - onehot) / n, in place in the logits buffer
            dz = buf["logits"]
            dz.sub_(dz.amax(1, keepdim=True))
            zy = dz.gather(1, buf["y"])
            dz.exp_()
            s = dz.sum(1, keepdim=True)
            loss = (s.log() - zy).mean(dim=(1, 2))
            dz.div_(s.mul_(self.n)).sub_(self._onehot_n)
            self._backward(theta, grad, dz, acts, buf["z"])
        return grad, loss

    def _backward(self, theta, grad, dz, acts, zs):
        """dW_l = dZ_l^T A_{l-1}, db_l = sum over samples of dZ_l, dA_{l-1}^T = W_l^T dZ_l^T, then
        times act' (skipped when ``zs`` is None: matmuls only)."""
        torch = self.torch
        for l in range(len(self.widths) - 2, -1, -1):
            W, _ = self._views(theta, l)
            gW, gb = self._views(grad, l)
            gW.copy_(torch.bmm(dz, acts[l].transpose(1, 2), out=self._buf["dW"][l]))
            if zs is not None:
                torch.sum(dz, dim=2, keepdim=True, out=gb)
            if l > 0:
                dh = self._buf["dh"][l - 1]
                torch.bmm(W.transpose(1, 2), dz, out=dh)
                if zs is not None:
                    self.acts[l - 1][1](dh, acts[l], zs[l - 1])
                dz = dh
