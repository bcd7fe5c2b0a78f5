"""Arguments shared by the commands: the function, its variables, the arithmetic."""
from __future__ import annotations

import math

import sympy as sp

from ..ctx import get_context
from ..errors import NonFiniteError, ShapeError
from ..objectives.objective import SympyObjective


def add_function_args(p) -> None:
    p.add_argument("--f", required=True, help="expression, e.g. '(x**2+y**2-1)**2'; or zoo:NAME")
    p.add_argument("--vars", default=None, help="variable names, e.g. x,y (default: none; required with an expression, not with zoo:)")
    p.add_argument("--smoothness", default=None, help="declare smoothness: analytic, C1, C2, ... (default: inferred from the expression)")
    p.add_argument("--dps", type=int, default=None, help="decimal digits: use mpmath at this precision (default: none, float64 arithmetic)")
    p.add_argument("--context", default=None, choices=["float64", "mpmath", "arb", "torch"],
                   help="arithmetic (default float64, or mpmath when --dps is given)")


def objective_from_args(args):
    if args.f.startswith("zoo:"):
        from ..objectives.zoo import get
        return get(args.f[4:]).objective
    if not args.vars:
        raise ShapeError("--vars is required with an expression (e.g. --vars x,y)")
    return SympyObjective(args.f, args.vars, args.smoothness)


def context_from_args(args):
    kind = args.context or ("mpmath" if args.dps else "float64")
    return get_context(kind, dps=args.dps or 50)


def parse_vector(text: str, dim: int, what: str) -> list[str]:
    """Comma-separated coordinates, each a decimal, p/q or an exact expression such as sqrt(3);
    returned as the strings given, after checking count and finiteness."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) != dim:
        raise ShapeError(f"{what} has {len(parts)} coordinates, but the function has {dim} variables")
    for p in parts:
        if not math.isfinite(_number(p, what)):
            raise NonFiniteError(f"{what}: coordinate {p!r} is not finite")
    return parts


def _number(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        value = sp.sympify(text, rational=True)
    except (sp.SympifyError, SyntaxError, TypeError) as exc:
        raise ShapeError(f"{what}: {text!r} is not a number") from exc
    if not (value.is_number and value.is_real):
        raise ShapeError(f"{what}: {text!r} is not a real number")
    return float(value)
