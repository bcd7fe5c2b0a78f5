"""Context registry: ``get_context('float64' | 'mpmath' | 'arb' | 'torch', dps=..., device=...)``."""
from __future__ import annotations

from .base import Context
from .float64 import FloatContext
from ..errors import BackendError
from ..validate import check_dps

ALIASES = {"float": "float64", "float64": "float64", "fp": "float64", "numpy": "float64",
           "mp": "mpmath", "mpmath": "mpmath", "arb": "arb", "interval": "arb", "iv": "arb",
           "torch": "torch"}


def get_context(kind: str | Context = "float64", dps: int = 50, device: str = "auto",
                dtype: str = "float64") -> Context:
    if isinstance(kind, Context):
        return kind
    key = ALIASES.get(str(kind).lower())
    if key == "float64":
        return FloatContext()
    if key == "mpmath":
        from .mp import MPContext
        return MPContext(check_dps(dps))
    if key == "arb":
        from .arb import ArbContext
        return ArbContext(check_dps(dps))
    if key == "torch":
        from .torch import TorchContext
        return TorchContext(device=device, dtype=dtype)
    raise BackendError(f"unknown arithmetic context {kind!r}; choose one of {sorted(set(ALIASES.values()))}")
