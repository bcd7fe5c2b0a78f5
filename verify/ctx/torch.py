"""torch context: tensors of an explicit dtype on an explicit device (CUDA when ``device='auto'``
finds one). float64 by default, because checks compare against tight tolerances."""
from __future__ import annotations

import math
from fractions import Fraction

from .base import Context, GridDecisions
from ..errors import BackendError, NonFiniteError


def resolve_device(device: str = "auto"):
    import torch
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise BackendError(f"unknown device {device!r} (auto, cpu, cuda, cuda:N)") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise BackendError(f"device {device!r} asked for, but this torch has no CUDA device "
                           f"(use --device auto or cpu)")
    return dev


class TorchContext(GridDecisions, Context):
    name = "torch"
    scalar_kind = "0-d torch tensor (the context's dtype and device)"

    def __init__(self, device: str = "auto", dtype: str = "float64"):
        import torch
        self.torch = torch
        self.device = resolve_device(device)
        self.dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
        self.prec = round(-math.log2(torch.finfo(self.dtype).eps)) + 1

    @property
    def precision_label(self) -> str:
        return f"{str(self.dtype).replace('torch.', '')} on {self.device} ({self.prec} bits)"

    def _t(self, v):
        return self.torch.as_tensor(v, dtype=self.dtype, device=self.device)

    def scalar(self, v):
        if isinstance(v, Fraction):
            v = v.numerator / v.denominator
        elif hasattr(v, "p") and hasattr(v, "q"):
            v = int(v.p) / int(v.q)
        return self._t(float(v)) if not self.torch.is_tensor(v) else v.to(device=self.device, dtype=self.dtype)

    def rational(self, p: int, q: int = 1):
        return self._t(p / q)

    def is_native(self, value) -> bool:
        return (self.torch.is_tensor(value) and value.dtype == self.dtype
                and value.device.type == self.device.type)

    def check_finite(self, value, what: str):
        # one reduction on the device, not a Python loop over d entries
        t = value if self.torch.is_tensor(value) else self.torch.as_tensor(value)
        if not bool(self.torch.isfinite(t).all()):
            raise NonFiniteError(f"{what} is not finite (NaN/inf among its {t.numel()} entries) in "
                                 f"{self.name}")
        return value

    def vector(self, values):
        if self.torch.is_tensor(values):
            return values.to(device=self.device, dtype=self.dtype).reshape(-1)
        import numpy as np
        return self._t(np.asarray(values, dtype=float).reshape(-1))

    def matrix(self, rows):
        import numpy as np
        return self._t(np.asarray(rows, dtype=float))

    def stack(self, items):
        return self.torch.stack([self.scalar(i) if not self.torch.is_tensor(i) else i for i in items])

    def to_float(self, s) -> float:
        return float(s)

    def to_str(self, s) -> str:
        return repr(float(s))

    def pi(self):
        return self._t(3.141592653589793)

    def __getattr__(self, name):
        if name in ("exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sinh", "cosh", "atan"):
            fn = getattr(self.__dict__["torch"], name)
            return lambda a: fn(a if self.torch.is_tensor(a) else self._t(a))
        raise AttributeError(name)

    def eye(self, n):
        return self.torch.eye(n, dtype=self.dtype, device=self.device)

    def zeros(self, n):
        return self.torch.zeros(n, dtype=self.dtype, device=self.device)

    def outer(self, a, b):
        return self.torch.outer(a, b)

    def solve(self, A, b):
        return self.torch.linalg.solve(A, b)

    def eigvalsh(self, S):
        return self.torch.linalg.eigvalsh(0.5 * (S + S.T))

    def eigh(self, S):
        return self.torch.linalg.eigh(0.5 * (S + S.T))

    def svdvals(self, A):
        return self.torch.linalg.svdvals(A)

    def eigvals(self, A):
        ev = self.torch.linalg.eigvals(A)
        order = sorted(range(len(ev)), key=lambda i: (float(ev[i].real), float(ev[i].imag)))
        return ev[order]

    def select(self, branches, otherwise=None):
        conds = [c() for c, _ in branches]
        if all(not self.torch.is_tensor(c) or c.dim() == 0 for c in conds):
            return super().select([((lambda c=c: bool(c)), t) for c, (_, t) in zip(conds, branches)],
                                  otherwise)
        out = otherwise() if otherwise is not None else self.torch.full_like(conds[0], float("nan"),
                                                                             dtype=self.dtype)
        for cond, (_, thunk) in reversed(list(zip(conds, branches))):
            out = self.torch.where(cond, thunk(), out)
        return out

    def to_list(self, v):
        return [float(x) for x in v.detach().reshape(-1).cpu()]
