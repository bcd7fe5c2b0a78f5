"""Compile sympy expressions into closures over a context's primitives.

One compiler serves every arithmetic: rational constants stay exact until the context converts them
(exactly, for intervals), functions are looked up on the context, and ``Piecewise`` branches are chosen
with the context's decisions — so an interval argument that straddles a seam raises
:class:`UndecidedError` instead of silently picking a side. Float inputs may be numpy grids.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Callable, Sequence

import sympy as sp

from ..ctx.base import integer_power
from ..errors import BackendError, UnknownSymbolError
from .parse import parse_expression, parse_number

_FUNCS = {sp.exp: "exp", sp.log: "log", sp.sin: "sin", sp.cos: "cos", sp.tan: "tan",
          sp.tanh: "tanh", sp.sinh: "sinh", sp.cosh: "cosh", sp.atan: "atan"}
_NON_ANALYTIC = (sp.Piecewise, sp.Abs, sp.Max, sp.Min, sp.sign, sp.Heaviside, sp.floor, sp.ceiling)


def parse(text: str, names: Sequence[str]) -> tuple[sp.Expr, tuple[sp.Symbol, ...]]:
    """Parse ``text`` with the declared variable names by the whitelist parser (never as Python
    code); decimal literals become exact rationals."""
    return parse_expression(text, names)


def as_expr(value, names: Sequence[str] = ()) -> sp.Expr:
    """A sympy expression from a sympy object or number (``sympify(strict=True)``: no string is
    ever evaluated) or from a string (the whitelist parser, in the variables ``names``)."""
    if isinstance(value, str):
        return parse_expression(value, names)[0]
    try:
        return sp.sympify(value, strict=True)
    except sp.SympifyError as exc:
        raise BackendError(f"cannot read {type(value).__name__} {value!r} as an expression") from exc


def constant(value, ctx):
    """An exact constant (a sympy number or a string such as '6/5' or 'sqrt(3)') in ``ctx``:
    rationals exactly where the arithmetic allows, anything else through the context's functions."""
    if isinstance(value, str):
        value = parse_number(value)
    return compile_expr(value, (), ctx)(None)


def exact_constants(expr: sp.Expr) -> sp.Expr:
    """Replace binary-float constants by the exact rationals they denote (never rounding them)."""
    floats = expr.atoms(sp.Float)
    return expr.xreplace({f: sp.Rational(f) for f in floats}) if floats else expr


def check_symbols(expr: sp.Expr, symbols: Sequence[sp.Symbol]) -> None:
    unknown = sorted(str(s) for s in expr.free_symbols if s not in set(symbols))
    if unknown:
        raise UnknownSymbolError(f"expression uses unknown symbol(s) {unknown}; declared variables "
                                 f"are {[str(s) for s in symbols]}")


def is_analytic(expr: sp.Expr) -> bool:
    """Composition of analytic elementary functions, with no piecewise or non-smooth parts."""
    return not any(expr.has(cls) for cls in _NON_ANALYTIC)


def compile_expr(expr: sp.Expr, symbols: Sequence[sp.Symbol], ctx) -> Callable:
    """Return ``fn(x)`` evaluating ``expr`` at the native vector ``x`` in context ``ctx``."""
    index = {s: i for i, s in enumerate(symbols)}
    return _build(exact_constants(as_expr(expr)), index, ctx)


def _build(e, index, ctx) -> Callable:
    if e.is_Symbol:
        i = index[e]
        return lambda x: x[i]
    if e.is_Rational:
        c = ctx.scalar(Fraction(int(e.p), int(e.q)))
        return lambda x: c
    if e is sp.pi:
        c = ctx.pi()
        return lambda x: c
    if e is sp.E:
        c = ctx.exp(ctx.scalar(1))
        return lambda x: c
    if e.is_Add:
        parts = [_build(a, index, ctx) for a in e.args]
        return lambda x: _sum(p(x) for p in parts)
    if e.is_Mul:
        parts = [_build(a, index, ctx) for a in e.args]
        return lambda x: _prod(p(x) for p in parts)
    if e.is_Pow:
        return _build_pow(e, index, ctx)
    if e.func in _FUNCS:
        name, arg = _FUNCS[e.func], _build(e.args[0], index, ctx)
        fn = getattr(ctx, name)
        return lambda x: fn(arg(x))
    if isinstance(e, sp.Piecewise):
        return _build_piecewise(e, index, ctx)
    raise BackendError(f"cannot evaluate {type(e).__name__} ({e}) in context {ctx.name}")


def _sum(items):
    items = iter(items)
    total = next(items)
    for v in items:
        total = total + v
    return total


def _prod(items):
    items = iter(items)
    total = next(items)
    for v in items:
        total = total * v
    return total


def _build_pow(e, index, ctx):
    base, exp = _build(e.base, index, ctx), e.exp
    if exp.is_Integer:
        n = int(exp)
        if n >= 0:
            return lambda x: integer_power(base(x), n)
        one = ctx.scalar(1)
        return lambda x: one / integer_power(base(x), -n)
    if exp == sp.Rational(1, 2):
        return lambda x: ctx.sqrt(base(x))
    if exp == sp.Rational(-1, 2):
        one = ctx.scalar(1)
        return lambda x: one / ctx.sqrt(base(x))
    power = _build(exp, index, ctx)
    return lambda x: ctx.exp(power(x) * ctx.log(base(x)))


_REL = {sp.StrictLessThan: "less", sp.LessThan: "less_equal", sp.StrictGreaterThan: "greater",
        sp.GreaterThan: "greater_equal"}


def _build_condition(c, index, ctx):
    if c is sp.true:
        return lambda x: True
    if c is sp.false:
        return lambda x: False
    if type(c) in _REL:
        lhs, rhs = _build(c.lhs, index, ctx), _build(c.rhs, index, ctx)
        # the context's relation: elementwise on float grids, by endpoints (or UndecidedError) on balls
        decide = ctx.relation(_REL[type(c)])
        return lambda x: decide(lhs(x), rhs(x))
    if isinstance(c, (sp.And, sp.Or)):
        parts = [_build_condition(a, index, ctx) for a in c.args]
        is_and = isinstance(c, sp.And)
        return lambda x: ctx.combine_conditions([p(x) for p in parts], is_and)
    raise BackendError(f"cannot evaluate the condition {c}")


def _build_piecewise(e, index, ctx):
    pieces = [(_build(v, index, ctx), _build_condition(c, index, ctx)) for v, c in e.args]

    def evaluate(x):
        return ctx.select([((lambda c=cond: c(x)), (lambda v=v: v(x))) for v, cond in pieces])
    return evaluate
