"""``sam-verify classify``: what kind of point is x for radius rho?"""
from __future__ import annotations

import json

from ..core.classify import classify
from .common import add_function_args, context_from_args, objective_from_args, parse_vector


def register(sub) -> None:
    p = sub.add_parser("classify", help="classify a point: minimizer, hallucinated minimizer, ...")
    add_function_args(p)
    p.add_argument("--x", required=True, help="the point, comma separated, e.g. 1.25,0")
    p.add_argument("--rho", required=True, help="perturbation radius rho > 0")
    p.add_argument("--tol", type=float, default=None,
                   help="stationarity tolerance (default: sqrt(unit roundoff) x the gradient's scale)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


def run(args) -> int:
    ctx = context_from_args(args)
    obj = objective_from_args(args)
    result = classify(obj, parse_vector(args.x, obj.dim, "--x"), args.rho, ctx, tol=args.tol)
    print(json.dumps(result.to_dict(), indent=2) if args.json else result)
    return 0
