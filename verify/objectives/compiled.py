"""Symbolic derivatives compiled once into straight-line code (sympy ``lambdify`` with ``cse``).

The closure tree of :mod:`verify.objectives.expr` walks the expression at every call: about 2 ms for a
2-D gradient of the piecewise Appendix D function in float64, which made it the largest single cost
of the report. Value, gradient, Hessian and third derivatives are instead compiled once per context
into one Python function each, with common subexpressions shared (``cse=True``), wherever the
context's decisions are plain comparisons: a context offers this through ``ctx.lambdify_modules()``
(float64: ``math`` for points and numpy for grids; mpmath: the context's own private functions and
constants, so its precision holds; Arb: ball methods, rationals as exact ball quotients, run inside
the context's ``working()``, the generated names checked against the context's namespace).
``Piecewise`` compiles to Python conditional expressions, decided by the same comparisons the
interpreter makes. The interval context keeps the interpreter for a ``Piecewise`` (it decides a
branch by endpoints, or raises :class:`UndecidedError` when a ball straddles a seam; a compiled
``if`` would pick a side) and compiles analytic expressions, such as the branches of
:class:`theorems.rho_bracket.BranchHull`; torch keeps the interpreter (its tensors stay on their
device).

Code generation (sympy printing and ``cse``) costs far more than a few evaluations, and contexts are
cheap objects made afresh (``get_context("float64")`` on every call), so the generated functions are
cached by the expressions, the variables and the shape of the context's modules (module names, and
the names a context supplies itself): another context of the same kind, or another objective with the
same expression, reuses the code, rebound to that context's own functions (an mpmath context's private
``exp`` at its precision).

Compiled and interpreted results agree to rounding (the operations are the same up to order and
sharing); ``tests/test_compiled.py`` checks it in float64 and at 50 digits on the zoo, and that compiled
and interpreted Arb enclosures overlap and contain 60-digit values on random boxes.
"""
from __future__ import annotations

import functools
import types
from collections import OrderedDict
from fractions import Fraction
from typing import Callable, Sequence

import numpy as np
import sympy as sp
from sympy.core.relational import Relational
from sympy.functions.elementary.piecewise import ExprCondPair
from sympy.logic.boolalg import BooleanAtom

from ..errors import BackendError
from .expr import exact_constants

# the expression node types compiled code may contain: arithmetic, the analytic elementary functions
# and piecewise choices decided by plain comparisons (what the point contexts' interpreter does too)
_COMPILABLE = (sp.Symbol, sp.Number, sp.Add, sp.Mul, sp.Pow, sp.exp, sp.log, sp.sin, sp.cos, sp.tan,
               sp.tanh, sp.sinh, sp.cosh, sp.atan, sp.core.numbers.Pi, sp.core.numbers.Exp1,
               sp.Piecewise, ExprCondPair, Relational, sp.And, sp.Or, BooleanAtom)


# generated functions kept across contexts and objectives; a report compiles a few dozen
CODE_CACHE_SIZE = 256
_code_cache: OrderedDict = OrderedDict()


@functools.lru_cache(maxsize=4096)  # asked again for every fresh context of an objective
def is_compilable(expr: sp.Expr) -> bool:
    """True when every node of ``expr`` is one compiled code evaluates as the interpreter does."""
    return all(isinstance(node, _COMPILABLE) for node in sp.preorder_traversal(expr))


def can_compile(exprs: Sequence[sp.Expr], ctx) -> bool:
    """A rigorous context compiles analytic expressions only: its interpreter decides a Piecewise
    by endpoints and raises on a ball that straddles a seam, where a compiled ``if`` picks a side."""
    if ctx.rigorous and any(e.has(sp.Piecewise) for e in exprs):
        return False
    return ctx.lambdify_modules() is not None and all(is_compilable(e) for e in exprs)


def compile_many(exprs: Sequence[sp.Expr], symbols: Sequence[sp.Symbol], ctx) -> Callable:
    """``fn(x) -> list`` of the values of ``exprs`` at the native vector ``x`` of ctx (or a float grid
    of shape (d, ...)), as one compiled function with shared subexpressions. Constant entries come
    back as scalars of ctx (on a grid: filled to its shape).

    Two variants, each built on first use: for a point, code on the context's scalar functions
    (float64: Python floats and ``math``, several times faster than numpy on scalars); for a grid,
    code on numpy. Where the scalar code stops on a domain or overflow error (``math.log(-1)``), the
    numpy code gives the NaN or inf that the interpreter gives, for ``check_finite`` to name."""
    exprs, symbols = tuple(exprs), tuple(symbols)
    variants: dict[bool, Callable] = {}
    constants = None

    def variant(grid: bool) -> Callable:
        if grid not in variants:
            modules = ctx.lambdify_modules(grid=grid)
            code = compiled_code(exprs, symbols, modules, getattr(ctx, "lambdify_printer", lambda: None)())
            variants[grid] = _at_working_precision(code, modules, ctx) if ctx.rigorous else code
        return variants[grid]

    def evaluate(x):
        nonlocal constants
        grid = np.ndim(x) > 1
        if grid:
            values = variant(True)(x)
        else:
            try:
                values = variant(False)(x.tolist() if hasattr(x, "tolist") else x)
            except (ValueError, OverflowError, ZeroDivisionError):
                with np.errstate(all="ignore"):
                    values = variant(True)(x)
        if constants is None:
            constants = {i: ctx.scalar(q) for i, q in _rational_entries(exprs).items()}
        for i, c in constants.items():
            values[i] = c
        if grid:  # constant entries fill the grid, so that entries stack into one array
            shape = np.shape(x)[1:]
            values = [v if np.shape(v) == shape else np.full(shape, v) for v in values]
        return values
    return evaluate


def _printer(cls, modules):
    """An instance of the printer class ``cls`` with the settings lambdify gives its own printer
    (names of the namespaces unqualified, so that they resolve to the context's functions)."""
    names = {k: k for m in modules if isinstance(m, dict) for k in m}
    return cls({"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": True,
                "user_functions": names})


def _at_working_precision(code: Callable, modules, ctx) -> Callable:
    """Run ``code`` at ``ctx``'s working precision, after checking that every global name it uses
    is one of the context's own (``modules[0]``): any other would be a library function that reads
    a ball's midpoint, and the enclosure would no longer be rigorous."""
    unknown = sorted(set(code.__code__.co_names) - set(modules[0]))
    if unknown:
        raise BackendError(f"compiled code for {ctx.name} uses {unknown}, which the context does not "
                           "supply; evaluate these expressions with the interpreter")

    def run(x):
        with ctx.working():
            return code(x)
    return run


def _rational_entries(exprs: tuple) -> dict[int, Fraction]:
    """{index: value} of the entries of ``exprs`` that are rational constants (returned exactly)."""
    out = {}
    for i, e in enumerate(exprs):
        if isinstance(e, (sp.Rational, sp.Float)):  # sympy folds every other constant of these
            e = exact_constants(e)
            out[i] = Fraction(int(e.p), int(e.q))
    return out


def _modules_signature(modules) -> tuple:
    """What the generated code depends on in ``modules``: module names as given, and for a
    namespace a context supplies, the names only (their values are bound per context)."""
    return tuple(("names", tuple(sorted(m))) if isinstance(m, dict) else m for m in modules)


def compiled_code(exprs: tuple, symbols: tuple, modules, printer=None) -> Callable:
    """``sp.lambdify([symbols], exprs, cse=True, modules=modules, printer=printer)``, generated once
    per expressions, variables, module signature and printer; a hit is rebound to the namespaces in
    ``modules``."""
    key = (exprs, symbols, _modules_signature(modules), printer)
    fn = _code_cache.get(key)
    if fn is None:
        processed = [exact_constants(sp.sympify(e)) for e in exprs]
        fn = sp.lambdify([list(symbols)], processed, cse=True, modules=modules,
                         printer=printer and _printer(printer, modules))
        _code_cache[key] = fn
        while len(_code_cache) > CODE_CACHE_SIZE:
            _code_cache.popitem(last=False)
        return fn
    _code_cache.move_to_end(key)
    own = [m for m in modules if isinstance(m, dict)]
    if not own:
        return fn
    namespace = dict(fn.__globals__)
    for m in reversed(own):  # the first namespace wins, as in lambdify
        namespace.update(m)
    return types.FunctionType(fn.__code__, namespace, fn.__name__, fn.__defaults__, fn.__closure__)
