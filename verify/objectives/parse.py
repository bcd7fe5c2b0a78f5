"""The one reader of user strings: expressions and numbers become sympy objects, never Python code.

A string is parsed by Python's own parser (``ast``, which only builds a tree) and the tree is walked
against a whitelist; sympy objects are built directly from the allowed nodes. Nothing is evaluated
as Python, so ``__import__('os')``, attribute access, subscripts, lambdas, comprehensions, strings
and keywords are refused with an :class:`ExpressionError` that names the offending piece.

Grammar (a subset of Python's expression syntax; see README, *Expressions and numbers*):

* numbers: decimal literals ``12``, ``2.8``, ``.5``, ``1e-3``, ``2.5E+4`` — exact: ``2.8`` is 14/5;
* names: the declared variables and the constants ``pi`` and ``E``;
* operators: ``+ - * / **``, ``^`` (power, as ``**``), unary ``+ -``, parentheses;
* calls of :data:`FUNCTIONS` with positional arguments; ``Piecewise((value, condition), ...)``,
  where a condition is a comparison ``< <= > >=`` (chains allowed) or several joined by
  ``& | and or``, or ``True``.
"""
from __future__ import annotations

import ast
import keyword
import re
from fractions import Fraction
from functools import lru_cache
from typing import Sequence

import sympy as sp

from ..errors import (ExpressionError, NonFiniteError, SamVerifyError, ShapeError,
                      UnknownSymbolError)

FUNCTIONS = {
    "exp": sp.exp, "log": sp.log, "ln": sp.log, "sqrt": sp.sqrt,
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh,
    "asin": sp.asin, "acos": sp.acos, "atan": sp.atan,
    # non-analytic: the library recognises them (objectives declare themselves non-analytic)
    "Abs": sp.Abs, "abs": sp.Abs, "Max": sp.Max, "Min": sp.Min, "sign": sp.sign,
    "Heaviside": sp.Heaviside, "floor": sp.floor, "ceiling": sp.ceiling, "Piecewise": sp.Piecewise,
}
CONSTANTS = {"pi": sp.pi, "E": sp.E}
NOT_FINITE = {"nan", "inf", "infinity", "oo", "zoo", "NaN", "Inf", "Infinity"}
FLOAT_MAX = sp.Rational(int(1.7976931348623157e308))
MAX_BITS = 1 << 16   # numbers written as literals or powers stay below ~20000 digits (no hangs)

_BINARY = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
           ast.Div: lambda a, b: a / b, ast.Pow: lambda a, b: a ** b}
_UNARY = {ast.UAdd: lambda a: +a, ast.USub: lambda a: -a}
_RELATIONS = {ast.Lt: sp.Lt, ast.LtE: sp.Le, ast.Gt: sp.Gt, ast.GtE: sp.Ge}
_DECIMAL = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?(\d+))?")
_REFUSED = {ast.Attribute: "attribute access", ast.Subscript: "indexing", ast.Lambda: "a lambda",
            ast.IfExp: "a conditional expression", ast.ListComp: "a comprehension",
            ast.SetComp: "a comprehension", ast.DictComp: "a comprehension",
            ast.GeneratorExp: "a comprehension", ast.List: "a list", ast.Tuple: "a tuple",
            ast.Set: "a set", ast.Dict: "a dict", ast.Starred: "unpacking",
            ast.NamedExpr: "an assignment", ast.JoinedStr: "a string", ast.Await: "await",
            ast.Compare: "a comparison (only inside a Piecewise condition)",
            ast.BoolOp: "a boolean operator (only inside a Piecewise condition)"}


def declare(names: Sequence[str]) -> tuple[sp.Symbol, ...]:
    """Real symbols for the variable names, refusing empty, repeated, non-identifier, keyword,
    dunder and reserved (function or constant) names."""
    names = [str(n).strip() for n in names]
    for n in names:
        if not n:
            raise ExpressionError(f"variable names {names}: an empty name")
        if not n.isidentifier() or keyword.iskeyword(n) or n.startswith("__"):
            raise ExpressionError(f"variable name {n!r} is not a plain identifier")
        if n in FUNCTIONS or n in CONSTANTS or n in NOT_FINITE:
            raise ExpressionError(f"variable name {n!r} is reserved (a function or constant)")
        if names.count(n) > 1:
            raise ExpressionError(f"variable name {n!r} is declared twice in {names}")
    return tuple(sp.Symbol(n, real=True) for n in names)


def parse_expression(text: str, names: Sequence[str]) -> tuple[sp.Expr, tuple[sp.Symbol, ...]]:
    """``text`` as a sympy expression in the declared variables ``names`` (whitelist grammar above)."""
    symbols = declare(names)
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be a string, got {type(text).__name__}")
    source = text.strip().replace("^", "**")  # ^ is power, as it was with sympy's convert_xor
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        reason = getattr(exc, "msg", None) or type(exc).__name__
        raise ExpressionError(f"cannot parse expression {text!r}: {reason}") from None
    reader = _Reader(text, source, {s.name: s for s in symbols})
    try:
        expr = reader.expr(tree.body)
    except SamVerifyError:
        raise
    except RecursionError:
        raise ExpressionError(f"cannot parse expression {text!r}: nested too deeply") from None
    except (TypeError, ValueError, ArithmeticError, sp.SympifyError) as exc:
        raise ExpressionError(f"cannot parse expression {text!r}: {_one_line(exc)}") from None
    if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise NonFiniteError(f"expression {text!r} is not finite ({expr})")
    if expr.has(sp.I):
        raise ExpressionError(f"expression {text!r} is not real ({expr})")
    return expr, symbols


@lru_cache(maxsize=4096)
def _number(text: str) -> sp.Expr:
    value, _ = parse_expression(text, ())
    if value.is_finite is False:
        raise NonFiniteError(f"{text!r} is not finite")
    if value.is_real is not True:
        raise ExpressionError(f"{text!r} is not a real number ({value})")
    if bool(abs(value) > FLOAT_MAX):  # every arithmetic, float64 included, must hold a user's number
        raise NonFiniteError(f"{text!r} is beyond the float64 range (|value| > 1.8e308)")
    return value


def parse_number(text, what: str = "number") -> sp.Expr:
    """An exact real constant: ``2.8`` (14/5), ``6/5``, ``1e-3``, ``-0.2``, ``sqrt(3)``, ``pi/4``."""
    try:
        return _number(str(text))
    except SamVerifyError as exc:
        raise type(exc)(f"{what}: {exc}") from None


def parse_rational(text, what: str = "number") -> Fraction:
    """An exact rational (for the interval prover, whose inputs must be exact): ``2.8``, ``14/5``."""
    value = parse_number(text, what)
    if not value.is_Rational:
        raise ExpressionError(f"{what}: {text!r} = {value} is not rational; give a decimal or p/q")
    return Fraction(int(value.p), int(value.q))


def split_vector(text: str, what: str) -> list[str]:
    """Comma-separated coordinates at the top level (commas inside parentheses belong to a call such
    as ``Max(t, 0)``); an empty coordinate (``1,,0``, a trailing comma) is refused."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    parts = [p.strip() for p in parts]
    if not all(parts):
        raise ShapeError(f"{what} {text!r} has an empty coordinate (write it as 1,0 or 1,0,2.5)")
    return parts


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


class _Reader:
    """Builds sympy objects from whitelisted ``ast`` nodes; everything else is refused."""

    def __init__(self, text: str, source: str, variables: dict):
        self.text, self.source, self.variables = text, source, variables

    def refuse(self, node, what: str):
        piece = ast.get_source_segment(self.source, node) or type(node).__name__
        raise ExpressionError(f"cannot parse expression {self.text!r}: {what} {piece!r} is not "
                              f"allowed (allowed: numbers, the variables {sorted(self.variables)}, "
                              f"+ - * / ** ^ ( ), pi, E and the functions {sorted(FUNCTIONS)})")

    def expr(self, node):
        chain = []  # a long left-leaning chain (x + x + ... + x) is walked without recursion
        while isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            chain.append(node)
            node = node.left
        value = self.atom(node)
        for op_node in reversed(chain):
            right = self.expr(op_node.right)
            if isinstance(op_node.op, ast.Pow):
                self.check_size(op_node, value, right)
            value = _BINARY[type(op_node.op)](value, right)
        return value

    def check_size(self, node, base, exponent):
        """Refuse a power of numbers too large to hold (9**9**9 would never finish)."""
        if base.is_number and exponent.is_Rational and base not in (0, 1, -1):
            bits = max(int(base.p).bit_length(), int(base.q).bit_length()) if base.is_Rational else 64
            if bits * (abs(exponent.p) // exponent.q) > MAX_BITS:
                self.refuse(node, "a number too large:")

    def atom(self, node):
        if isinstance(node, ast.BinOp):
            self.refuse(node, f"the operator {type(node.op).__name__}")
        if isinstance(node, ast.UnaryOp):
            if type(node.op) not in _UNARY:
                self.refuse(node, "the operator 'not'/'~'")
            return _UNARY[type(node.op)](self.expr(node.operand))
        if isinstance(node, ast.Constant):
            return self.number(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        self.refuse(node, _REFUSED.get(type(node), type(node).__name__))

    def number(self, node):
        literal = ast.get_source_segment(self.source, node) or ""
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            kind = "a string" if isinstance(node.value, (str, bytes)) else "the literal"
            self.refuse(node, kind)
        match = _DECIMAL.fullmatch(literal)
        if not match:
            self.refuse(node, "the literal (only decimal numbers such as 12, 2.8, 1e-3)")
        if match.group(1) and int(match.group(1)) * 10 > 3 * MAX_BITS:
            self.refuse(node, "a number too large:")
        return sp.Rational(literal) if ("." in literal or "e" in literal.lower()) else sp.Integer(literal)

    def name(self, node):
        n = node.id
        if n in self.variables:
            return self.variables[n]
        if n in CONSTANTS:
            return CONSTANTS[n]
        if n in NOT_FINITE:
            raise NonFiniteError(f"expression {self.text!r} is not finite ({n})")
        if n in FUNCTIONS:
            self.refuse(node, "the function name without a call:")
        if n.startswith("__"):
            self.refuse(node, "the dunder name")
        unknown = sorted({m.id for m in ast.walk(ast.parse(self.source, mode="eval"))
                          if isinstance(m, ast.Name) and m.id not in self.variables
                          and m.id not in CONSTANTS and m.id not in FUNCTIONS})
        if not self.variables:
            raise UnknownSymbolError(f"{self.text!r} is not a number: unknown name(s) {unknown}")
        raise UnknownSymbolError(f"expression uses unknown symbol(s) {unknown}; declared variables "
                                 f"are {list(self.variables)}")

    def call(self, node):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            what = "a call of" if isinstance(node.func, ast.Name) else "a call"
            self.refuse(node.func if isinstance(node.func, ast.Name) else node, what)
        if node.keywords:
            self.refuse(node, "a keyword argument in")
        if node.func.id == "Piecewise":
            return sp.Piecewise(*[self.piece(a) for a in node.args])
        return FUNCTIONS[node.func.id](*[self.expr(a) for a in node.args])

    def piece(self, node):
        if not (isinstance(node, ast.Tuple) and len(node.elts) == 2):
            self.refuse(node, "a Piecewise argument that is not (value, condition):")
        return self.expr(node.elts[0]), self.condition(node.elts[1])

    def condition(self, node):
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return sp.true if node.value else sp.false
        if isinstance(node, ast.Compare):
            if not all(type(op) in _RELATIONS for op in node.ops):
                self.refuse(node, "the comparison (only < <= > >=)")
            terms = [self.expr(t) for t in [node.left, *node.comparators]]
            return sp.And(*[_RELATIONS[type(op)](a, b)
                            for op, a, b in zip(node.ops, terms, terms[1:])])
        if isinstance(node, ast.BoolOp):
            join = sp.And if isinstance(node.op, ast.And) else sp.Or
            return join(*[self.condition(v) for v in node.values])
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitAnd, ast.BitOr)):
            join = sp.And if isinstance(node.op, ast.BitAnd) else sp.Or
            return join(self.condition(node.left), self.condition(node.right))
        self.refuse(node, "the condition")
