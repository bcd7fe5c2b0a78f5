"""``sam-verify construct``: build the hallucinated minimizer of Thm 2.1 / 2.2 / Cor. A.6.

Given f, a minimizer ``--x-star`` and either an isolated local maximizer ``--x-max`` (Thm 2.1) or a
local maximizer SET ``--max-set`` (Thm 2.2), the command builds C_eps, solves the Lagrange system for
x_h at ``--dps`` digits (default 50) and prints the certificate: x_h, rho = ||x_h - x_star||, the
multiplier lambda and every claim of the proof.

A maximizer set is written as a closed plane curve in the parameter t in [0, 2 pi), coordinates
separated by commas: ``--max-set "cos(t),sin(t)"``; ``--set-value 4/3`` states f on the set exactly
(default: f at p(0)). ``--local-min`` treats x_star as a local minimizer only (Cor. A.6).
Coordinates may be exact expressions: ``--x-star "sqrt(3),0"``.

``--manifold`` / ``--attraction`` also run the Section 3 checks (Thm 3.1 / 3.2) on the construction
and add their certificates under the JSON keys "manifold" and "attraction".
Exit status: 0 when every claim passes, 1 otherwise, 2 on bad input or refused hypotheses.
"""
from __future__ import annotations

import importlib
import json
import sys

from ..ctx import get_context
from ..errors import ShapeError
from .common import objective_from_args, parse_vector


def register(sub) -> None:
    p = sub.add_parser("construct", help="construct a hallucinated minimizer (Thm 2.1 / 2.2 / Cor. A.6)")
    p.add_argument("--f", required=True, help="expression, e.g. '(x**2+y**2-1)**2'; or zoo:NAME")
    p.add_argument("--vars", default=None, help="variable names, e.g. x,y (default: none; required with an expression, not with zoo:)")
    p.add_argument("--smoothness", default=None, help="declare smoothness: analytic, C1, C2, ... (default: inferred from the expression)")
    p.add_argument("--x-star", dest="x_star", required=True,
                   help="a (global) minimizer of f, comma separated, e.g. 1,0 or sqrt(3),0")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--x-max", dest="x_max", help="an isolated local maximizer (Thm 2.1); give this or --max-set (default: none)")
    where.add_argument("--max-set", dest="max_set",
                       help="a local maximizer set as a closed plane curve in t, e.g. 'cos(t),sin(t)' "
                            "(Thm 2.2, needs an analytic f); give this or --x-max (default: none)")
    p.add_argument("--set-value", dest="set_value", default=None, help="exact value of f on the set (default: f at p(0))")
    p.add_argument("--eps", default=None, help="eps (default: the proof's rule, a fraction of M - m)")
    p.add_argument("--fraction", type=float, default=0.5, help="fraction used by the eps rule")
    p.add_argument("--local-min", dest="local_min", action="store_true",
                   help="x_star is only a local minimizer (Cor. A.6)")
    p.add_argument("--box", default=None,
                   help="region of interest for the global-minimizer check: lo1,hi1,lo2,hi2,... "
                        "(default: a box around x_star and the maximizer or maximizer set)")
    p.add_argument("--dps", type=int, default=50, help="decimal digits of the mpmath arithmetic")
    p.add_argument("--context", default="mpmath", choices=["float64", "mpmath"], help="arithmetic")
    p.add_argument("--manifold", action="store_true", help="also run Thm 3.1 on the construction")
    p.add_argument("--attraction", action="store_true", help="also run Thm 3.2 on the construction")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


def _box(text, dim):
    if text is None:
        return None
    v = [float(t) for t in text.split(",") if t.strip()]
    if len(v) != 2 * dim:
        raise ShapeError(f"--box needs {2 * dim} numbers (lo,hi per variable), got {len(v)}")
    return tuple((v[2 * i], v[2 * i + 1]) for i in range(dim))


def _section3(module: str):
    """theorems.<module>.certify_construction, or None (with a one-line error) if absent."""
    try:
        mod = importlib.import_module(f"theorems.{module}")
        fn = getattr(mod, "certify_construction")
    except (ImportError, AttributeError):
        print(f"sam-verify: error: theorems.{module}.certify_construction is not available",
              file=sys.stderr)
        return None
    return fn


def run(args) -> int:
    obj = objective_from_args(args)
    ctx = get_context(args.context, dps=args.dps)
    x_star = parse_vector(args.x_star, obj.dim, "--x-star")
    box = _box(args.box, obj.dim)
    extra = {}
    checks = [(flag, mod) for flag, mod in (("manifold", "thm_3_1"), ("attraction", "thm_3_2"))
              if getattr(args, flag)]
    fns = {}
    for flag, mod in checks:
        fns[flag] = _section3(mod)
        if fns[flag] is None:
            return 2
    if args.max_set:
        from theorems import thm_2_2
        X = thm_2_2.MaximizerSet.curve(args.max_set)
        con = thm_2_2.construct(obj, x_star, X, ctx, set_value=args.set_value, eps=args.eps,
                                eps_fraction=args.fraction, box=box)
    elif args.local_min:
        from theorems import cor_a6
        con = cor_a6.construct(obj, x_star, parse_vector(args.x_max, obj.dim, "--x-max"), ctx, box=box)
    else:
        from theorems import thm_2_1
        con = thm_2_1.construct(obj, x_star, parse_vector(args.x_max, obj.dim, "--x-max"), ctx,
                                eps=args.eps, eps_fraction=args.fraction, box=box)
    cert = con.certificate
    passed = cert.passed
    subs = {}
    for flag, _ in checks:
        sub = subs[flag] = fns[flag](con)
        d = sub.to_dict()
        if flag == "manifold":
            d["dimension"] = str(sub.objects.get("dimension"))
        extra[flag] = d
        passed = passed and sub.passed
    if args.json:
        out = cert.to_dict()
        out.update({"passed": passed, "x_h": [ctx.to_str(v) for v in ctx.to_list(con.x_h)],
                    "rho": ctx.to_str(con.rho), "lambda": ctx.to_str(con.lam),
                    "eps": ctx.to_str(con.eps)})
        out.update(extra)
        print(json.dumps(out, indent=2))
    else:
        print(cert)
        for flag, sub in subs.items():  # the whole certificate: hypotheses, objects, every claim
            print(f"\n--{flag}: {'PASSED' if sub.passed else 'NOT PASSED'}"
                  + (f" (dimension {extra[flag]['dimension']})" if flag == "manifold" else ""))
            print(sub)
    return 0 if passed else 1
