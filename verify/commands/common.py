"""Arguments shared by the commands: the function, its variables, the arithmetic."""
from __future__ import annotations

from ..contexts import get_context
from ..errors import NonFiniteError, ShapeError
from ..objective import SympyObjective


def add_function_args(p) -> None:
    p.add_argument("--f", required=True, help="expression, e.g. '(x**2+y**2-1)**2'; or zoo:NAME")
    p.add_argument("--vars", default=None, help="variable names, e.g. x,y (not needed for zoo:)")
    p.add_argument("--smoothness", default=None, help="declare smoothness: analytic, C1, C2, ...")
    p.add_argument("--dps", type=int, default=None, help="decimal digits: use mpmath at this precision")
    p.add_argument("--context", default=None, choices=["float64", "mpmath", "arb", "torch"],
                   help="arithmetic (default float64, or mpmath when --dps is given)")


def objective_from_args(args):
    if args.f.startswith("zoo:"):
        from ..zoo import get
        return get(args.f[4:]).objective
    if not args.vars:
        raise ShapeError("--vars is required with an expression (e.g. --vars x,y)")
    return SympyObjective(args.f, args.vars, args.smoothness)


def context_from_args(args):
    kind = args.context or ("mpmath" if args.dps else "float64")
    return get_context(kind, dps=args.dps or 50)


def parse_vector(text: str, dim: int, what: str) -> list[str]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) != dim:
        raise ShapeError(f"{what} has {len(parts)} coordinates, but the function has {dim} variables")
    for p in parts:
        try:
            value = float(p)
        except ValueError as exc:
            raise ShapeError(f"{what}: {p!r} is not a number") from exc
        if value != value or value in (float("inf"), float("-inf")):
            raise NonFiniteError(f"{what}: coordinate {p!r} is not finite")
    return parts
