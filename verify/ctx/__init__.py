"""Context registry: ``get_context('float64' | 'mpmath' | 'arb' | 'torch', dps=..., device=...)``.

A table maps each name (and its aliases) to a factory, as autograd's ``VSpace.register`` maps types to
vector spaces: adding an arithmetic is one file in this folder and one :func:`register_context` line
here, and no code elsewhere tests which arithmetic it has.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

from ..errors import BackendError
from .base import Context
from .float64 import FloatContext
from ..errors import BackendError
from ..validate import check_dps
from . import arb as _arb, mp as _mp  # noqa: F401  (register their number types for convert)


@dataclass(frozen=True)
class ContextKind:
    name: str
    factory: Callable[..., Context]  # (dps, device, dtype) -> Context
    aliases: tuple[str, ...] = ()


REGISTRY: dict[str, ContextKind] = {}
ALIASES: dict[str, str] = {}


def register_context(name: str, factory: Callable[..., Context], aliases: tuple[str, ...] = ()) -> None:
    REGISTRY[name] = ContextKind(name, factory, aliases)
    for key in (name,) + tuple(aliases):
        ALIASES[key] = name


def _torch(dps, device, dtype):
    from .torch import TorchContext  # torch is imported only when asked for
    return TorchContext(device=device, dtype=dtype)


register_context("float64", lambda dps, device, dtype: FloatContext(), ("float", "fp", "numpy"))
register_context("mpmath", lambda dps, device, dtype: _mp.MPContext(dps), ("mp",))
register_context("arb", lambda dps, device, dtype: _arb.ArbContext(dps), ("interval", "iv"))
register_context("torch", _torch)


def get_context(kind: str | Context = "float64", dps: int = 50, device: str = "auto",
                dtype: str = "float64") -> Context:
    if isinstance(kind, Context):
        return kind
    name = ALIASES.get(str(kind).lower())
    if name is None:
        raise BackendError(f"unknown arithmetic context {kind!r}; choose one of {sorted(REGISTRY)}")
    return REGISTRY[name].factory(check_dps(dps), device, dtype)


@functools.lru_cache(maxsize=None)
def shared_context(kind: str, dps: int = 50) -> Context:
    """One context per (kind, dps) for the whole process, so that objectives compile their closures
    once per context (the interval proofs ask for the same precision many times)."""
    return get_context(kind, dps=dps)
