"""Arguments shared by the commands: the function, its variables, the arithmetic, and the one reader
of the numbers a user types (:mod:`verify.objectives.parse`, a whitelist parser: never Python code)."""
from __future__ import annotations

from ..ctx import get_context
from ..errors import ShapeError
from ..objectives.objective import SympyObjective
from ..objectives.parse import parse_number, split_vector
from ..validate import check_dps, check_real


def add_function_args(p, dps_default=None, context_default=None,
                      contexts=("float64", "mpmath", "arb", "torch")) -> None:
    p.add_argument("--f", required=True, help="expression, e.g. '(x**2+y**2-1)**2'; or zoo:NAME")
    p.add_argument("--vars", default=None, help="variable names, e.g. x,y (default: none; required with an expression, not with zoo:)")
    p.add_argument("--smoothness", default=None, help="declare smoothness: analytic, C1, C2, ... (default: inferred from the expression)")
    p.add_argument("--dps", type=int, default=dps_default,
                   help="decimal digits, 15 to 10000: use mpmath at this precision"
                        + (f" (default {dps_default})" if dps_default else " (default: none, float64 arithmetic)"))
    if contexts:
        p.add_argument("--context", default=context_default, choices=list(contexts),
                       help="arithmetic (default float64, or mpmath when --dps is given)"
                       if context_default is None else f"arithmetic (default {context_default})")


def objective_from_args(args):
    if args.f.startswith("zoo:"):
        from ..objectives.zoo import get
        return get(args.f[4:]).objective
    if not args.vars:
        raise ShapeError("--vars is required with an expression (e.g. --vars x,y)")
    return SympyObjective(args.f, args.vars, args.smoothness)


def context_from_args(args):
    if args.dps is not None:
        check_dps(args.dps, "--dps")
    kind = args.context or ("mpmath" if args.dps is not None else "float64")
    return get_context(kind, dps=args.dps if args.dps is not None else 50)


def parse_vector(text: str, dim: int, what: str) -> list[str]:
    """Comma-separated coordinates, each a decimal, p/q or an exact expression such as sqrt(3), read
    by the whitelist parser; returned as the strings given, after checking count and finiteness."""
    parts = split_vector(text, what)
    if len(parts) != dim:
        raise ShapeError(f"{what} has {len(parts)} coordinates, but the function has {dim} variables")
    for p in parts:
        parse_number(p, what)
    return parts


def number_arg(text: str | None, what: str, low=None, high=None, open_low=False):
    """An optional numeric option (a decimal, p/q, sqrt(2), ...) as a float checked against its
    range; None stays None."""
    if text is None:
        return None
    return check_real(parse_number(text, what), what, low, high, open_low)


def numbers_arg(text: str, what: str, low=None) -> list[float]:
    """A comma-separated list of numbers (e.g. --rhos 0.5,1,6/5), each checked against ``low``."""
    return [number_arg(t, what, low) for t in split_vector(text, what)]


def box_arg(text: str | None, dim: int):
    """--box lo1,hi1,lo2,hi2,...: finite numbers with lo < hi for every variable."""
    if text is None:
        return None
    v = [number_arg(t, "--box") for t in split_vector(text, "--box")]
    if len(v) != 2 * dim:
        raise ShapeError(f"--box needs {2 * dim} numbers (lo,hi per variable), got {len(v)}")
    box = tuple((v[2 * i], v[2 * i + 1]) for i in range(dim))
    if any(lo >= hi for lo, hi in box):
        raise ShapeError(f"--box {text!r}: every lo must be below its hi")
    return box


def theorem(name: str):
    """The module of the theorem ``name``, found through the registry at run time: commands never
    import ``theorems`` when ``verify`` is imported (the dependency runs theorems -> verify)."""
    from ..report.build import registry
    table = registry()
    if name not in table:
        from ..errors import SamVerifyError
        raise SamVerifyError(f"no theorem named {name!r}; known: {', '.join(table)}")
    return table[name].module


def engine_args(p, default: str = "one per core, or per --threads cores") -> None:
    """Where the tasks of a command run (:mod:`verify.engine`)."""
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes of an embedded Dask LocalCluster; 0: serial in this "
                        f"process (default: {default})")
    p.add_argument("--scheduler", default=None,
                   help="address of a running Dask scheduler (e.g. tcp://host:8786) to run the tasks on "
                        "(default: none)")
