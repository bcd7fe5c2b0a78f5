"""Objectives: a function f: R^d -> R with its derivatives, evaluable in one or more contexts.

Every objective offers, at a native vector ``x`` of a context ``ctx``:
``value(x, ctx)``, ``grad(x, ctx)``, ``hess(x, ctx)``, ``hvp(x, v, ctx)`` (Hessian-vector product) and
``d3v(x, v, ctx)`` (the third derivative contracted with v, a d x d matrix; needed for the exact
Hessian of f_SAM). Each declares its smoothness — ``'analytic'``, ``'C1'``, ``'C2'``, … or
``'unknown'`` — so that a theorem can refuse an objective that does not meet its hypotheses.

Three sources: :class:`SympyObjective` (exact symbolic derivatives, every context, constants exact),
:class:`AutogradObjective` (a numpy function, float64), :class:`TorchObjective` (a torch function of
a flat tensor, torch context; :mod:`verify.objectives.torch_model` builds one from an ``nn.Module`` and data).
"""
from __future__ import annotations

import math
from fractions import Fraction
from collections import OrderedDict
from typing import Callable, Sequence

import numpy as np
import sympy as sp

from ..errors import BackendError, HypothesisError, ShapeError
from .compiled import can_compile, compile_many
from .expr import as_expr, check_symbols, compile_expr, constant, is_analytic, parse
from .parse import declare, parse_number, split_vector

COMPILED_CONTEXTS_KEPT = 8
SMOOTHNESS = ("analytic", "Cinf") + tuple(f"C{k}" for k in range(0, 10)) + ("unknown",)


def smoothness_order(smoothness: str) -> float:
    """Number of continuous derivatives: inf for analytic/C-infinity, -1 for unknown."""
    if smoothness in ("analytic", "Cinf"):
        return math.inf
    if smoothness == "unknown":
        return -1
    return int(smoothness[1:])


class Objective:
    name = "objective"
    smoothness = "unknown"
    dim = 0
    contexts: tuple[str, ...] = ()

    # -- hypotheses ---------------------------------------------------------------------------------
    @property
    def is_analytic(self) -> bool:
        return self.smoothness == "analytic"

    def require_analytic(self, theorem: str) -> None:
        if not self.is_analytic:
            raise HypothesisError(f"{theorem} needs a real-analytic f, but {self.name} is declared "
                                  f"{self.smoothness!r}")

    def require_order(self, k: int, theorem: str) -> None:
        if smoothness_order(self.smoothness) < k:
            raise HypothesisError(f"{theorem} needs f of class C{k}, but {self.name} is declared "
                                  f"{self.smoothness!r}")

    # -- input validation ---------------------------------------------------------------------------
    def supports(self, ctx) -> bool:
        return ctx.name in self.contexts

    def _check_ctx(self, ctx) -> None:
        if not self.supports(ctx):
            raise BackendError(f"{self.name} cannot be evaluated in the {ctx.name} context; it "
                               f"supports {list(self.contexts)}")

    def point(self, x, ctx):
        """Convert ``x`` to a native vector of ``ctx``, checking its shape and finiteness."""
        self._check_ctx(ctx)
        if _has_strings(x):
            x = [_coordinate(c, ctx) if isinstance(c, str) else c for c in list(x)]
        v = ctx.convert(x)
        n = len(v) if not hasattr(v, "shape") else v.shape[0]
        if (hasattr(v, "shape") and len(v.shape) != 1) or n != self.dim:
            raise ShapeError(f"point has shape {tuple(getattr(v, 'shape', (n,)))}, but {self.name} "
                             f"takes vectors of length {self.dim}")
        return ctx.check_finite(v, "point x")

    # -- derivatives (override) ----------------------------------------------------------------------
    def value(self, x, ctx):
        raise NotImplementedError

    def grad(self, x, ctx):
        raise NotImplementedError

    def hess(self, x, ctx):
        raise NotImplementedError

    def hvp(self, x, v, ctx):
        return self.hess(x, ctx) @ v

    def hessian_operator(self, x, ctx):
        """v -> H(x) v, sharing the work done at x (an objective with a cheap dense Hessian forms it
        once; the others make one Hessian-vector product a call)."""
        return lambda v: self.hvp(x, v, ctx)

    def hessian_rows(self, x, ctx):
        """V -> the rows H(x) V[i] for a block V (k, d): Hessian-vector products that share the
        work done at x (torch: one linearization, vmapped over the block)."""
        def rows(V):
            out = [self.hvp(x, v, ctx) for v in V]
            return ctx.stack(out)
        return rows

    def d3v(self, x, v, ctx):
        raise NotImplementedError(f"{self.name} provides no third derivatives")

    def d3vv(self, x, a, v, ctx):
        """T[a] v: the third derivative contracted with a and v (the derivative of H(x) v along a)."""
        return self.d3v(x, a, ctx) @ v

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} d={self.dim} {self.smoothness}>"


def _has_strings(x) -> bool:
    if isinstance(x, (list, tuple)):
        return any(isinstance(c, str) for c in x)
    return isinstance(x, np.ndarray) and x.dtype.kind == "U"


def _coordinate(text: str, ctx):
    """A coordinate given as a string, read by the whitelist parser: exact rationals ('-0.2', '6/5',
    '1e-3') as Fractions, which every context converts exactly; others ('sqrt(3)') in ``ctx``."""
    value = parse_number(text, "point coordinate")
    return Fraction(int(value.p), int(value.q)) if value.is_Rational else constant(value, ctx)


class SympyObjective(Objective):
    """f given as a sympy expression (or a string) in named variables; derivatives are exact."""

    contexts = ("float64", "mpmath", "arb", "torch")

    def __init__(self, expr, variables: Sequence[str] | str, smoothness: str | None = None,
                 name: str | None = None):
        if isinstance(variables, str):
            variables = split_vector(variables, "variables")
        if isinstance(expr, str):
            expr, symbols = parse(expr, variables)
        else:
            symbols = declare([str(v) for v in variables])
            expr = as_expr(expr).xreplace({sp.Symbol(s.name): s for s in symbols})
        check_symbols(expr, symbols)
        self.expr, self.symbols, self.dim = expr, symbols, len(symbols)
        detected = "analytic" if is_analytic(expr) else "unknown"
        if smoothness is not None and smoothness not in SMOOTHNESS:
            raise HypothesisError(f"unknown smoothness {smoothness!r}; use one of {SMOOTHNESS}")
        if smoothness == "analytic" and detected != "analytic":
            raise HypothesisError(f"expression {expr} has non-analytic parts (piecewise, abs, max…) "
                                  f"and cannot be declared analytic")
        self.smoothness = smoothness or detected
        self.name = name or str(expr)
        # compiled closures per context (they hold the context); only the most recent few are kept
        self._compiled: OrderedDict = OrderedDict()
        self._grad_exprs = [sp.diff(expr, s) for s in symbols]
        self._hess_exprs = None
        self._d3_exprs = None

    # symbolic derivatives, built once and only when asked for
    def hess_exprs(self):
        if self._hess_exprs is None:
            self._hess_exprs = [[sp.diff(g, s) for s in self.symbols] for g in self._grad_exprs]
        return self._hess_exprs

    def d3_exprs(self):
        if self._d3_exprs is None:
            self._d3_exprs = [[[sp.diff(h, s) for s in self.symbols] for h in row]
                              for row in self.hess_exprs()]
        return self._d3_exprs

    def _exprs(self, key) -> list:
        """The expressions behind ``key``, flattened: value, gradient, Hessian rows, d3 tensor."""
        d = self.dim
        if key == "value":
            return [self.expr]
        if key == "grad":
            return list(self._grad_exprs)
        if key == "hess":
            return [e for row in self.hess_exprs() for e in row]
        return [self.d3_exprs()[i][j][k] for i in range(d) for j in range(d) for k in range(d)]

    def _fn(self, key, ctx):
        """``fn(x) -> flat list`` of the values of ``_exprs(key)``: compiled straight-line code where
        the context allows it, else the interpreter run at the context's precision."""
        last = self._compiled.get(id(ctx))
        if last is not None and last["ctx"] is ctx and key in last:  # the common case: no bookkeeping
            return last[key]
        cache = self._compiled.setdefault(id(ctx), {"ctx": ctx})
        if cache["ctx"] is not ctx:  # an id reused by a new context after the old one was freed
            cache = self._compiled[id(ctx)] = {"ctx": ctx}
        self._compiled.move_to_end(id(ctx))
        while len(self._compiled) > COMPILED_CONTEXTS_KEPT:
            self._compiled.popitem(last=False)
        if key not in cache:
            exprs = self._exprs(key)
            if can_compile(exprs, ctx):
                cache[key] = compile_many(exprs, self.symbols, ctx)
            else:
                cache[key] = self._interpreted(exprs, ctx)
        return cache[key]

    def _interpreted(self, exprs, ctx):
        parts = [compile_expr(e, self.symbols, ctx) for e in exprs]

        def evaluate(x):
            with ctx.working():
                return [p(x) for p in parts]
        return evaluate

    def value(self, x, ctx):
        return self._fn("value", ctx)(x)[0]

    def grad(self, x, ctx):
        return ctx.stack(self._fn("grad", ctx)(x))

    def hess(self, x, ctx):
        flat, d = self._fn("hess", ctx)(x), self.dim
        return ctx.stack([ctx.stack(flat[i * d:(i + 1) * d]) for i in range(d)])

    def hessian_operator(self, x, ctx):
        H = self.hess(x, ctx)  # d x d from the compiled derivatives: formed once at x
        return lambda v: H @ v

    def d3v(self, x, v, ctx):
        flat, d = self._fn("d3", ctx)(x), self.dim
        with ctx.working():
            return ctx.stack([ctx.stack([_dot_terms(flat[(i * d + j) * d:(i * d + j + 1) * d], v)
                                         for j in range(d)]) for i in range(d)])


def _dot_terms(terms, v):
    total = terms[0] * v[0]
    for t, vk in zip(terms[1:], v[1:]):
        total = total + t * vk
    return total


class AutogradObjective(Objective):
    """f given as a numpy function written with ``autograd.numpy``; float64 only."""

    contexts = ("float64",)

    def __init__(self, fn: Callable, dim: int, smoothness: str = "unknown", name: str | None = None):
        import autograd
        self.fn, self.dim, self.smoothness = fn, int(dim), smoothness
        self.name = name or getattr(fn, "__name__", "autograd objective")
        self._grad = autograd.grad(fn)
        self._hess = autograd.hessian(fn)
        self._hvp = autograd.grad(lambda x, v: autograd.numpy.dot(self._grad(x), v))
        self._d3v = autograd.jacobian(lambda x, v: autograd.numpy.dot(self._hess(x), v))

    def value(self, x, ctx):
        self._check_ctx(ctx)
        return float(self.fn(x))

    def grad(self, x, ctx):
        return np.asarray(self._grad(x), dtype=float)

    def hess(self, x, ctx):
        return np.asarray(self._hess(x), dtype=float)

    def hvp(self, x, v, ctx):
        return np.asarray(self._hvp(x, v), dtype=float)

    def d3v(self, x, v, ctx):
        return np.asarray(self._d3v(x, v), dtype=float)


def _torch():
    import torch
    return torch


def _plain(x) -> bool:
    """True for a tensor that takes no part in autograd, used outside every torch.func transform
    (vmap, grad, jvp): there torch.autograd computes exactly torch.func's derivatives. Inside a
    transform (``d3v``'s jacfwd, a vmapped batch) only torch.func composes with it."""
    functorch = getattr(_torch()._C, "_functorch", None)
    if functorch is None or not hasattr(functorch, "maybe_current_level"):
        return False
    return functorch.maybe_current_level() is None and not x.requires_grad


def _backward(out, y, grad_out, create_graph: bool):
    """d out / d y (contracted with ``grad_out``) by torch.autograd, zero where out does not
    depend on y (as torch.func returns it)."""
    if not out.requires_grad:
        return _torch().zeros_like(y)
    (g,) = _torch().autograd.grad(out, y, grad_out, create_graph=create_graph, allow_unused=True)
    return _torch().zeros_like(y) if g is None else g


class TorchObjective(Objective):
    """f given as a torch function of a flat parameter tensor; derivatives by torch.func."""

    contexts = ("torch",)

    def __init__(self, fn: Callable, dim: int, smoothness: str = "unknown", name: str | None = None):
        import torch.func as tf
        self.fn, self.dim, self.smoothness = fn, int(dim), smoothness
        self.name = name or getattr(fn, "__name__", "torch objective")
        self._tf = tf
        self._grad = tf.grad(fn)

    def value(self, x, ctx):
        return self.fn(x)

    def grad(self, x, ctx):
        if _plain(x):
            return self._recorded_grad(x, create_graph=False)[1]
        return self._grad(x)

    def _recorded_grad(self, x, create_graph: bool):
        """(y, grad f(y)) at a fresh leaf y = x by torch.autograd: the same backward pass as
        torch.func.grad, whose reverse mode imports torch._dynamo on its first call (about 1 s of
        CPU, once per process). ``create_graph`` keeps the pass for a second backward (HVPs)."""
        y = x.detach().requires_grad_(True)
        with _torch().enable_grad():
            return y, _backward(self.fn(y), y, None, create_graph)

    def hvp(self, x, v, ctx):
        # reverse-over-reverse: about two gradient evaluations on CPU
        if _plain(x) and _plain(v):
            y, g = self._recorded_grad(x, create_graph=True)
            return _backward(g, y, v, False)
        _, vjp_fn = self._tf.vjp(self._grad, x)
        return vjp_fn(v)[0]

    def hessian_rows(self, x, ctx):
        # the reverse pass through grad f is recorded once at x; each call then costs one (vmapped)
        # second backward: about 0.93 gradients a vector at d = 1e4 on 2 CPU cores, against 2.3
        # for a lone hvp (blocks of 4-16 cost 1.2-1.6 a vector there: the vmap overhead). Outside
        # transforms the pass is recorded by torch.autograd (no torch._dynamo import; same rows
        # up to rounding, about as fast: single rows, the report's usual call, slightly faster)
        if _plain(x):
            y, g = self._recorded_grad(x, create_graph=True)
            if not g.requires_grad:  # f at most linear: H = 0
                return lambda V: _torch().zeros_like(V)
            one = lambda v: _torch().autograd.grad(g, y, v, retain_graph=True)[0]  # noqa: E731
            block = self._tf.vmap(one)
            return lambda V: one(V[0]).unsqueeze(0) if V.shape[0] == 1 else block(V)
        _, vjp_fn = self._tf.vjp(self._grad, x)
        block = self._tf.vmap(lambda v: vjp_fn(v)[0])
        return lambda V: vjp_fn(V[0])[0].unsqueeze(0) if V.shape[0] == 1 else block(V)

    def hess(self, x, ctx):
        return self._tf.hessian(self.fn)(x)

    def d3v(self, x, v, ctx):
        return self._tf.jacfwd(lambda y: self.hvp(y, v, ctx))(x)

    def d3vv(self, x, a, v, ctx):
        # forward-over-(reverse-over-reverse): one directional derivative of the HVP
        return self._tf.jvp(lambda y: self.hvp(y, v, ctx), (x,), (a,))[1]


def objective_from(source, variables=None, *, dim: int | None = None, backend: str | None = None,
                   smoothness: str | None = None, name: str | None = None) -> Objective:
    """Build an objective from a sympy expression/string (with ``variables``), an autograd/numpy
    function (``backend='autograd'``, with ``dim``) or a torch function (``backend='torch'``)."""
    if isinstance(source, Objective):
        return source
    if isinstance(source, (str, sp.Basic)):
        if variables is None:
            raise BackendError("a symbolic objective needs its variable names, e.g. variables='x,y'")
        return SympyObjective(source, variables, smoothness, name)
    if callable(source):
        if dim is None:
            raise ShapeError("a function objective needs its input dimension: pass dim=")
        if backend == "torch":
            return TorchObjective(source, dim, smoothness or "unknown", name)
        return AutogradObjective(source, dim, smoothness or "unknown", name)
    raise BackendError(f"cannot build an objective from {type(source).__name__}")
