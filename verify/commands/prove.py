"""``sam-verify prove``: a computer-assisted proof that a hallucinated minimizer exists near x.

Isolated route (default): proves on a box X around x that grad f != 0, that F(x) = grad f(x + rho u)
has exactly one zero in X (Krawczyk) and that the Hessian of f_SAM is positive definite on X.
Manifold route (``--x-star``): proves that X holds exactly one y with y + rho u(y) = x_star and that
x_star is a global minimizer of f (or, for an x_star known only approximately, that a small box
around it holds a strict local minimizer x*' of f onto which y maps: y is then a local minimizer of
f_SAM). All decisions are taken in Arb ball arithmetic.

Numbers: ``--x``, ``--rho``, ``--x-star`` and ``--radius`` are read as exact rationals (decimal
strings such as 2.8 mean 14/5 exactly; fractions such as 14/5 are accepted) and enter the proof as
balls that contain them. Float constants in ``--f`` are converted to the exact rationals they denote.
Exit status: 0 PROVED, 1 FAILS or UNDECIDED, 2 on bad input.
"""
from __future__ import annotations

from ..objectives.parse import parse_rational
from ..validate import check_dps
from .common import add_function_args, objective_from_args, parse_vector, theorem


def register(sub) -> None:
    p = sub.add_parser("prove", help="prove (Krawczyk, Arb) that a hallucinated minimizer exists near x")
    add_function_args(p, dps_default=30, contexts=())
    p.add_argument("--x", required=True, help="approximate hallucinated minimizer, e.g. 1.25,0")
    p.add_argument("--rho", required=True, help="perturbation radius rho > 0 (exact decimal or p/q)")
    p.add_argument("--x-star", dest="x_star", default=None,
                   help="a global minimizer of f: take the manifold route (prove x + rho u(x) = x_star) "
                        "(default: none, the isolated route)")
    p.add_argument("--radius", default=None,
                   help="fixed box half-width (default: automatic, 1/4, 1/16, ... until proved)")
    p.add_argument("--no-refine", dest="refine", action="store_false",
                   help="centre the box at --x as given (default: refine by Newton first)")
    p.add_argument("--json", action="store_true", help="print the certificate as JSON")
    p.set_defaults(run=run)


def run(args) -> int:
    prove = theorem("prove_hallucination").prove
    check_dps(args.dps, "--dps")
    obj = objective_from_args(args)
    x = [parse_rational(v, "--x") for v in parse_vector(args.x, obj.dim, "--x")]
    xs = ([parse_rational(v, "--x-star") for v in parse_vector(args.x_star, obj.dim, "--x-star")]
          if args.x_star else None)
    radius = parse_rational(args.radius, "--radius") if args.radius is not None else None
    cert = prove(obj, x, parse_rational(args.rho, "--rho"), x_star=xs, radius=radius, dps=args.dps,
                 refine=args.refine)
    if args.json:
        print(cert.to_json())
    else:
        o = cert.objects
        print(f"{o.get('verdict', 'REFUSED')}: {o.get('reason', cert.refused)}")
        if "route" in o:
            from ..core.display import number, shown
            print(f"  route: {o['route']}; box: centre {shown(o['box_center'])}, "
                  f"radius {number(o['box_radius'])}")
        print(cert)
    return 0 if cert.objects.get("verdict") == "PROVED" else 1
