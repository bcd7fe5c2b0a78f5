"""Computer-assisted existence proofs of hallucinated minimizers (issue #6).

A hallucinated minimizer for radius rho is a local minimizer of f_SAM(x) = f(x + rho u(x)),
u = grad f / ||grad f||, at which grad f does not vanish (Section 2 of the paper). Given an
approximate point and rho, :func:`prove` tries to *prove* that a box X around it contains one, in the
rigorous Arb context, by one of two routes; the certificate names the route and the box.

Isolated route (the zeros of F(x) = grad f(x + rho u(x)) are isolated):
  (a) grad f != 0 on X (one component of its enclosure over X excludes 0), so u and f_SAM are
      defined on X;
  (b) the Krawczyk operator of F, with the Jacobian H(x+)(I + rho Du) enclosed over X, maps X into
      its interior: F has exactly one zero x_h in X;
  (c) the exact Hessian of f_SAM, enclosed over X, is positive definite (congruence + Gershgorin).
  Since grad f_SAM = (I + rho Du)^T F, x_h is a critical point of f_SAM with positive definite
  Hessian: a strict local minimizer of f_SAM at which grad f != 0.

Manifold route (F is singular where the hallucinated minimizers form a manifold, e.g. the ring; the
route of the paper's proof of Theorem 2.1):
  (a) grad f != 0 on X;
  (b) Krawczyk on G(y) = y + rho u(y) - x_star (Jacobian I + rho Du): exactly one y in X with
      y + rho u(y) = x_star;
  (g) x_star is a global minimizer of f: a rigorous lower bound f >= L on all of R^d (range analysis
      of the expression or of its factored form; for a coercive polynomial, interval branch and
      bound on a box proved to hold every minimizer), and f(x_star) = L exactly (symbolic
      evaluation at the rational point).
  Then f_SAM(y) = f(x_star) = min f <= f_SAM(z) for every z: y is a global minimizer of f_SAM at
  which grad f != 0.
  When (g) is not proved (x_star given to float accuracy, an irrational minimum value), the local
  form: (g') a box X* around x_star holds exactly one critical point x*' of f (Krawczyk on grad f)
  with Hess f positive definite on X* (a strict local minimizer), and (b) is run with x_star ranging
  over X* (the residual's enclosure covers every point of X*), so X holds exactly one y with
  y + rho u(y) = x*'. Then z -> z + rho u(z) is continuous near y (grad f != 0 on X) and sends a
  neighbourhood of y into X*, where f >= f(x*'): f_SAM(z) >= f_SAM(y), y is a local minimizer of
  f_SAM at which grad f != 0.

For a piecewise f the analytic formulas must describe f near X (and near X + rho u(X)): every
Piecewise condition must be decided on strictly larger boxes (hypothesis ``smooth``).

Box size: unless a radius is fixed, radii 1/4, 1/16, 1/64, ... (exact powers of 2) are tried from the
largest down to a floor; once one proves, twice that radius is tried as well, and the largest that
proves is reported. A rigorous negative (Krawczyk shows no
zero in X; or the zero exists and the Hessian has a proved negative direction) stops the search with
verdict FAILS. Otherwise the verdict is UNDECIDED with the reason of the last attempt.

Numbers: rho, x and x_star given as decimal strings are read as exact rationals (2.8 = 14/5) and
enter the rigorous context as balls enclosing them, so the proof holds for the exact decimal values;
the centre of X is a binary float (exact). Float constants in an expression are converted exactly
(:func:`verify.objectives.expr.exact_constants`). The proof itself runs at ``dps`` digits of Arb precision.

Soundness cross-check (not part of the proof): for every PROVED box a 100-digit mpmath Newton
solution of F = 0 (or G = 0) started at the centre is checked to lie inside the box.
"""
from __future__ import annotations

import math
import time
from fractions import Fraction
from typing import Any, Sequence

import numpy as np
import sympy as sp

from verify import sam
from verify.core.operators import SamPoint
from verify.ctx import get_context, shared_context
from verify.errors import SamVerifyError
from verify.rigorous.krawczyk import (INTERVAL_FAILURES, Attempt, dyadic_vector, excludes_zero, exact_value,
                             exact_vector, krawczyk, local_minimizer_box, mid_floats,
                             polynomial_lower_bound, positive_definite, range_lower_bound, smooth_near,
                             to_fraction)
from verify.core.results import Certificate, Claim, Verdict
from verify.core.solve import newton

THEOREM = "Existence proof"
TITLE = "Computer-assisted proof that a hallucinated minimizer exists (Krawczyk)"
ORDER = 5.0

START_RADIUS = Fraction(1, 4)
SHRINK = Fraction(1, 4)
FLOOR = Fraction(1, 2 ** 40)

STATEMENT = ("On the reported box X: grad f != 0, and X holds a point x_h that is a minimizer of "
             "f_SAM. Isolated route: F(x) = grad f(x + rho u(x)) has exactly one zero in X and the "
             "Hessian of f_SAM is positive definite on X. Manifold route: X holds exactly one y with "
             "y + rho u(y) = x_star, and x_star is proved a global minimizer of f (or: a box around "
             "x_star holds a strict local minimizer x*' of f and y + rho u(y) = x*').")


# -- residuals ----------------------------------------------------------------------------------------
def _F(obj, rho, ctx):
    return (lambda y: sam.shifted_gradient(obj, y, rho, ctx),
            lambda Y: sam.shifted_jacobian(obj, Y, rho, ctx))


def preimage_system(obj, rho, xs, ctx):
    def res(y):
        return sam.perturbed_point(obj, y, rho, ctx) - xs

    def jac(Y):
        return SamPoint(obj, Y, rho, ctx).I_plus_rho_Du.dense()
    return res, jac


def _mp_solve(obj, route, x0, rho_q, xs_q, dps, max_iter=60):
    """Newton in mpmath at ``dps`` digits on F (isolated) or G (manifold); returns floats-free mp."""
    mp = shared_context("mpmath", dps)
    rho = mp.scalar(rho_q)
    x = mp.vector([v if mp.is_native(v) else to_fraction(v) for v in x0])
    if route == "manifold":
        res, jac = preimage_system(obj, rho, mp.vector(xs_q), mp)
    else:
        res, jac = _F(obj, rho, mp)
    return newton(res, jac, x, mp, max_iter=max_iter, what=f"{route} Newton").x, mp


# -- claims ---------------------------------------------------------------------------------------------
def interval_claim(cid, statement, value, relation, bound, verdict, context="arb", precision="", note=""):
    return Claim(cid, statement, str(value), relation, str(bound), "0", verdict, context, precision,
                 note)


def _iv(b) -> str:
    """A ball as an interval [lower, upper] (decimal display of the exact endpoints)."""
    return f"[{float(b.lower()):.10g}, {float(b.upper()):.10g}]"


def _radius_text(r: Fraction) -> str:
    if r.numerator == 1 and r.denominator & (r.denominator - 1) == 0:
        return f"2^-{r.denominator.bit_length() - 1} = {float(r):.6g}"
    return f"{r} = {float(r):.6g}"


# -- one box ----------------------------------------------------------------------------------------------
def _attempt(obj, route, c, r, rho, xs, ctx) -> Attempt:
    """Run the checks of ``route`` on the box of centre c and radius r."""
    d: dict[str, Any] = {}
    ctx.activate()
    X = ctx.box(c, r)
    d["X"] = X
    try:
        g = obj.grad(X, ctx)
        d["grad"] = g
        d["grad_index"] = excludes_zero(g)
    except INTERVAL_FAILURES as exc:
        d["grad_index"] = None
        d["grad_error"] = str(exc)
    if d["grad_index"] is None:
        return Attempt(r, "unknown", "grad f may vanish on X (its enclosure contains 0)", d)
    try:
        Xp = sam.perturbed_point(obj, X, rho, ctx)
        boxes = [X, Xp] if route == "isolated" else [X]
        d["X_plus"] = Xp
        d["smooth"] = smooth_near(obj, boxes, ctx)
        res, jac = _F(obj, rho, ctx) if route == "isolated" else preimage_system(obj, rho, xs, ctx)
        kr = krawczyk(res, jac, c, r, ctx)
    except INTERVAL_FAILURES as exc:
        return Attempt(r, "unknown", f"interval evaluation over X failed: {exc}", d)
    d["krawczyk"] = kr
    if d["smooth"][0] is not True:   # no verdict, positive or negative, without smoothness
        return Attempt(r, "unknown", d["smooth"][1], d)
    if kr.status == "none":
        return Attempt(r, "fails", kr.reason, d)
    if route == "isolated":
        try:
            S = sam.sam_hessian(obj, X, rho, ctx)
            pd = positive_definite(S, ctx)
        except INTERVAL_FAILURES as exc:
            return Attempt(r, "unknown", f"Hessian of f_SAM over X: {exc}", d)
        d["pd"] = pd
        if kr.unique and pd.status == "not_positive":
            return Attempt(r, "fails", "F has a zero in X, but the Hessian of f_SAM has a negative "
                           "direction there (" + pd.reason + "): not a minimizer of f_SAM", d)
        if not kr.unique:
            return Attempt(r, "unknown", kr.reason, d)
        if pd.status != "positive":
            return Attempt(r, "unknown", "Hessian of f_SAM: " + pd.reason, d)
        return Attempt(r, "proved", "(a), (b) and (c) proved on X", d)
    if not kr.unique:
        return Attempt(r, "unknown", kr.reason, d)
    return Attempt(r, "proved", "(a) and (b) proved on X", d)


def _lower_bound(obj, enclosure):
    """f >= L on R^d: range analysis (as given, factored), else polynomial coercivity with
    f(x_star) <= (upper end of its enclosure) as the reference value."""
    lb = range_lower_bound(obj.expr)
    if lb.value is None and enclosure is not None and enclosure.is_finite():
        ref = Fraction(math.nextafter(float(enclosure.upper()), math.inf))
        poly = polynomial_lower_bound(obj, ref)
        lb = poly if poly.value is not None else type(lb)(None, lb.method + "; " + poly.method)
    return lb


def _minimality(obj, xs_q, ctx, dps) -> dict:
    """(g), else (g'): see the module docstring. status: 'proved' (global), 'local', 'fails' or
    'unknown'; 'box' is X* for the local form."""
    out = _global_min(obj, xs_q, ctx)
    if out["status"] in ("proved", "fails"):
        return out
    try:
        mp = shared_context("mpmath", max(dps, 40))
        xr = newton(lambda y: obj.grad(y, mp), lambda y: obj.hess(y, mp),
                    mp.vector([to_fraction(v) for v in xs_q]), mp, max_iter=25,
                    what="Newton on grad f from x_star").x
        centre = [float(v) for v in xr]
    except (SamVerifyError, ZeroDivisionError, ValueError, ArithmeticError):
        centre = [float(v) for v in xs_q]
    local = local_minimizer_box(obj, centre, ctx)
    out["local"] = local
    if local["status"] == "proved":
        out["status"], out["box"] = "local", local["box"]
    out["reason"] = out["reason"] + "; local form: " + local["reason"]
    return out


def _global_min(obj, xs_q, ctx) -> dict:
    """Prove x_star a global minimizer: a lower bound f >= L on R^d, and f(x_star) = L exactly."""
    out: dict[str, Any] = {"L": None, "value": None, "enclosure": None, "status": "unknown"}
    val = exact_value(obj.expr, obj.symbols, xs_q)
    out["value"] = val
    try:
        out["enclosure"] = obj.value(exact_vector(ctx, xs_q), ctx)
    except INTERVAL_FAILURES as exc:
        out["enclosure_error"] = str(exc)
    lb = _lower_bound(obj, out["enclosure"])
    L = out["L"] = lb.value
    out["method"] = lb.method
    if L is None:
        out["reason"] = (f"no finite lower bound of f on R^d was found ({lb.method}); global "
                         "minimality of x_star is not proved")
        return out
    if val is None or not val.is_number:
        out["reason"] = "f(x_star) could not be evaluated exactly"
        return out
    diff = sp.simplify(val - sp.Rational(L.numerator, L.denominator))
    enc = out["enclosure"]
    if diff == 0:  # a structural zero after exact symbolic simplification: a proof
        out["status"] = "proved"
        out["reason"] = f"f >= {L} on R^d and f(x_star) = {L} exactly"
    elif enc is not None and enc < ctx.scalar(L):  # rigorous: the enclosure lies below L
        out["status"] = "fails"
        out["reason"] = f"f(x_star) = {val} lies below the lower bound {L}: inconsistent"
    else:
        out["reason"] = (f"f(x_star) = {val} exceeds the proved lower bound {L}; x_star may still be a "
                         f"global minimizer, but this is not proved")
    return out


# -- the prover -------------------------------------------------------------------------------------------
def prove(obj, x: Sequence, rho, *, x_star: Sequence | None = None, radius=None, dps: int = 30,
          start_radius=START_RADIUS, shrink=SHRINK, floor=FLOOR, refine: bool = True,
          crosscheck: bool = True, example: str | None = None, expected: bool = True) -> Certificate:
    """Try to prove a hallucinated minimizer near ``x`` for radius ``rho``; see the module doc.

    ``x_star`` selects the manifold route. ``radius`` fixes the box half-width (else an automatic
    search from ``start_radius`` shrinking by ``shrink`` down to ``floor``). Numbers may be decimal
    strings, Fractions, ints or floats (a float is taken at its exact binary value)."""
    route = "manifold" if x_star is not None else "isolated"
    cert = Certificate(THEOREM, TITLE, example or f"{obj.name} at x = {tuple(map(str, x))}, rho = {rho}",
                       statement=STATEMENT, expected=expected)
    ctx = shared_context("arb", dps)
    cert.context, cert.precision = ctx.name, ctx.precision_label
    if len(x) != obj.dim or (x_star is not None and len(x_star) != obj.dim):
        return cert.refuse(f"x and x_star must have {obj.dim} coordinates")
    rho_q = to_fraction(rho, "rho")
    if rho_q <= 0:
        return cert.refuse(f"rho must be > 0, got {rho}")
    x_q = [to_fraction(v, "x") for v in x]
    xs_q = [to_fraction(v, "x_star") for v in x_star] if x_star is not None else None
    rho_b = ctx.scalar(rho_q)
    xs_b = exact_vector(ctx, xs_q) if xs_q is not None else None
    fixed = to_fraction(radius, "radius") if radius is not None else None
    if fixed is not None and fixed <= 0:
        return cert.refuse(f"radius must be > 0, got {radius}")

    # centre: the given point refined by Newton (accepted only if it stays within the largest box)
    center = [float(v) for v in x_q]
    reach = fixed if fixed is not None else Fraction(start_radius)
    refined_note = "not refined"
    if refine:
        try:
            xr, _ = _mp_solve(obj, route, x_q, rho_q, xs_q, dps=max(dps, 40), max_iter=25)
            xf = [float(v) for v in xr]
            if max(abs(a - float(b)) for a, b in zip(xf, x_q)) <= float(reach):
                center, refined_note = xf, "refined by mpmath Newton"
            else:
                refined_note = "Newton left the largest box; the given point is the centre"
        except (SamVerifyError, ZeroDivisionError, ValueError, ArithmeticError) as exc:
            refined_note = f"Newton refinement failed ({type(exc).__name__}); the given point is the centre"
    c = dyadic_vector(ctx, center)
    gmin = _minimality(obj, xs_q, ctx, dps) if route == "manifold" else None
    if gmin and gmin["status"] == "local":
        xs_b = gmin["box"]   # (b) for every x_star in X*, in particular the local minimizer x*'

    radii = [fixed] if fixed is not None else []
    if fixed is None:
        r = Fraction(start_radius)
        while r >= floor:
            radii.append(r)
            r *= Fraction(shrink)
    attempts: list[Attempt] = []
    final = None
    for r in radii:
        a = _attempt(obj, route, c, r, rho_b, xs_b, ctx)
        attempts.append(a)
        if a.status in ("proved", "fails"):
            final = a
            break
    final = final or attempts[-1]
    if fixed is None and final.status == "proved" and len(attempts) > 1:
        # the search steps by ``shrink``; try twice the proved radius, between it and the last failure
        a = _attempt(obj, route, c, final.radius * 2, rho_b, xs_b, ctx)
        attempts.append(a)
        if a.status == "proved":
            final = a

    # verdict
    if final.status == "fails" or (gmin and gmin["status"] == "fails"):
        verdict, reason = "FAILS", final.reason if final.status == "fails" else gmin["reason"]
    elif final.status == "proved" and (gmin is None or gmin["status"] in ("proved", "local")):
        verdict, reason = "PROVED", final.reason + ("; " + gmin["reason"] if gmin else "")
    else:
        verdict = "UNDECIDED"
        reason = final.reason if final.status != "proved" else gmin["reason"]
        if route == "isolated" and _singular_at(obj, c, rho_b, ctx):
            reason += ("; F's Jacobian is numerically singular at the centre, as where the "
                       "hallucinated minimizers form a manifold: try the manifold route (give "
                       "x_star, CLI --x-star)")

    _fill(cert, obj, route, final, gmin, ctx, rho_q, x_q, xs_q, center, refined_note, attempts,
          verdict, reason)
    if verdict == "PROVED" and crosscheck:
        cert.add(_crosscheck(obj, route, center, final, rho_q, xs_q))
    return cert.finish()


def _singular_at(obj, c, rho, ctx) -> bool:
    """Diagnostic only: is the Jacobian of F at the centre numerically singular?"""
    try:
        J = mid_floats(sam.shifted_jacobian(obj, c, rho, ctx))
        return not np.linalg.cond(J) < 1e8
    except (INTERVAL_FAILURES + (SamVerifyError,)):
        return False


def _fill(cert, obj, route, final, gmin, ctx, rho_q, x_q, xs_q, center, refined_note, attempts,
          verdict, reason):
    d = final.data
    P = ctx.precision_label
    cert.objects.update({
        "verdict": verdict, "reason": reason, "route": route,
        "box_center": [repr(v) for v in center], "box_radius": _radius_text(final.radius),
        "box_radius_float": float(final.radius),
        "radii_tried": [_radius_text(a.radius) + f": {a.status}" for a in attempts],
        "rho": str(rho_q), "x_given": [str(v) for v in x_q], "centre_source": refined_note,
    })
    if xs_q is not None:
        cert.add_object("x_star", [str(v) for v in xs_q])
    met, evidence = d.get("smooth", (None, "not reached"))
    if route == "manifold":
        evidence = evidence.replace(" and on one strictly containing the enclosure of X + rho u(X)",
                                    "").replace("neighbourhoods of both", "neighbourhood of X")
    cert.hypothesis("smooth", "one analytic formula describes f near X"
                    + (" and near X + rho u(X)" if route == "isolated" else ""), met, evidence)
    # (a)
    idx = d.get("grad_index")
    if idx is not None:
        cert.add(interval_claim("grad_nonzero", f"(a) grad f != 0 on X: component {idx + 1} of its "
                        "enclosure over X excludes 0", _iv(d["grad"][idx]), "!=", "0",
                        Verdict.PROVED, precision=P))
    else:
        cert.add(interval_claim("grad_nonzero", "(a) grad f != 0 on X", d.get("grad_error", "enclosure "
                        "contains 0"), "!=", "0", Verdict.UNDECIDED, precision=P))
    # (b)
    kr = d.get("krawczyk")
    name = "F(x) = grad f(x + rho u(x))" if route == "isolated" else "G(y) = y + rho u(y) - x_star"
    if kr is not None:
        v = {"unique": Verdict.PROVED, "none": Verdict.FAIL}.get(kr.status, Verdict.UNDECIDED)
        cert.add(interval_claim("krawczyk", f"(b) Krawczyk: K(X) in int X, so {name} has exactly one zero "
                        "in X", f"max_i |K_i - c_i| / r = {kr.margin:.6g}", "<", "1", v,
                        precision=P, note=kr.reason))
        if kr.K is not None:
            cert.add_object("krawczyk_image", [ctx.to_str(k) for k in kr.K])
            cert.add_object("contraction_bound", f"{kr.contraction:.6g}")
        cert.add_object("residual_at_centre", [ctx.to_str(v) for v in kr.residual]
                        if kr.residual is not None else None)
    else:
        cert.add(interval_claim("krawczyk", f"(b) Krawczyk on {name}", "not reached", "<", "1",
                        Verdict.UNDECIDED, precision=P, note=final.reason))
    # (c) / (g)
    if route == "isolated":
        pd = d.get("pd")
        if pd is not None:
            v = {"positive": Verdict.PROVED, "not_positive": Verdict.FAIL}.get(pd.status,
                                                                             Verdict.UNDECIDED)
            cert.add(interval_claim("sam_hessian_pd", "(c) the Hessian of f_SAM is positive definite on X "
                            "(least Gershgorin edge of Q^T S Q)", _iv(pd.bound)
                            if pd.bound is not None else "n/a", ">", "0", v, precision=P,
                            note=pd.reason))
        else:
            cert.add(interval_claim("sam_hessian_pd", "(c) the Hessian of f_SAM is positive definite on X",
                            "not reached", ">", "0", Verdict.UNDECIDED, precision=P,
                            note=final.reason))
    else:
        _minimality_claims(cert, gmin, ctx, P)


def _minimality_claims(cert, gmin, ctx, P) -> None:
    """(g) or (g'): the claims that make x_star a minimizer of f; no claim ever shows None."""
    L, status = gmin["L"], gmin["status"]
    enc = ctx.to_str(gmin["enclosure"]) if gmin.get("enclosure") is not None else "not enclosed"
    value = str(gmin["value"]) if gmin["value"] is not None else "not evaluated exactly"
    if L is not None or status != "local":
        cert.add(interval_claim("f_lower_bound", f"f >= L on all of R^d ({gmin['method']})",
                        "inf f" if L is not None else "no finite lower bound found", ">=",
                        str(L) if L is not None else "-inf", Verdict.PROVED if L is not None
                        else Verdict.UNDECIDED, context="arb / exact rationals", precision=P))
    if status != "local":
        ok = {"proved": Verdict.PROVED, "fails": Verdict.FAIL}.get(status, Verdict.UNDECIDED)
        cert.add(interval_claim("x_star_minimum", "f(x_star) = L exactly, so x_star is a global minimizer "
                        "of f", value, "==", str(L) if L is not None else "min f (not bounded)", ok,
                        context="sympy (exact)", precision="exact",
                        note=f"{gmin.get('reason', '')}; Arb enclosure of f(x_star): {enc}"))
    local = gmin.get("local")
    if local is not None:
        v = {"proved": Verdict.PROVED}.get(local["status"], Verdict.UNDECIDED)
        radius = f"2^-{local['radius'].denominator.bit_length() - 1}" if local["radius"] else "none"
        cert.add(interval_claim("x_star_local_minimizer", "(g') a box X* around x_star holds exactly one "
                        "critical point x*' of f, with Hess f positive definite on X*: a strict "
                        "local minimizer, and (b) holds for every x_star in X*",
                        f"X* radius {radius}", "holds", "strict local minimizer", v, precision=P,
                        note=local["reason"]))
        if local["box"] is not None:
            cert.add_object("x_star_box", [ctx.to_str(b) for b in local["box"]])


def _crosscheck(obj, route, center, final, rho_q, xs_q) -> Claim:
    """Non-rigorous soundness check: a 100-digit Newton solution lies in the proved box."""
    try:
        xr, mp = _mp_solve(obj, route, [Fraction(v) for v in center], rho_q, xs_q, dps=100)
    except (SamVerifyError, ZeroDivisionError, ValueError, ArithmeticError) as exc:
        return Claim("crosscheck", "a 100-digit Newton solution lies inside the proved box",
                     f"Newton failed: {exc}", "<=", "r", "0", Verdict.FAIL, "mpmath", "100 digits")
    r = mp.scalar(final.radius)
    dev = max(abs(xi - mp.scalar(Fraction(ci))) for xi, ci in zip(xr, center))
    ok = dev <= r
    return Claim("crosscheck", "a 100-digit Newton solution lies inside the proved box "
                 "(max_i |x_i - c_i| <= r)", mp.mp.nstr(dev, 6), "<=", mp.mp.nstr(r, 6), "0",
                 Verdict.PASS if ok else Verdict.FAIL, "mpmath", "100 digits",
                 note="solution " + ", ".join(mp.mp.nstr(v, 30) for v in xr))


# -- the built-in cases ------------------------------------------------------------------------------------
def tilted_ring_case(rho="3/2", dps=60):
    """x_star = the tilted ring's global minimizer (Newton at high precision) and x_h solving
    x_h + rho u(x_h) = x_star (Newton from x_star + (rho, 0))."""
    from verify.core.solve import critical_point
    from verify.objectives.zoo import get
    z = get("tilted_ring")
    mp = get_context("mpmath", dps=dps)
    xs = critical_point(z.objective, z.minimizers[0], mp).x
    rq = to_fraction(rho)
    guess = [xs[0] + mp.scalar(rq), xs[1]]
    res, jac = preimage_system(z.objective, mp.scalar(rq), xs, mp)
    xh = newton(res, jac, mp.vector(guess), mp).x
    return z.objective, [mp.mp.nstr(v, 25) for v in xh], rho


EXPANDED_RING = "x**4 + 2*x**2*y**2 + y**4 - 2*x**2 - 2*y**2 + 1"


def cases(quick: bool = False) -> list[dict]:
    from verify.objectives.objective import SympyObjective
    from verify.objectives.zoo import get
    obj_t, xh_t, rho_t = tilted_ring_case()
    out = [
        dict(obj=obj_t, x=xh_t, rho=rho_t, example="tilted_ring (isolated minimizer of f), "
             "isolated route, rho = 3/2"),
        dict(obj=get("ring").objective, x=["-1/2", "0"], rho="3/2", x_star=["1", "0"],
             example="ring (circle of minimizers), manifold route, x_h = (-1/2, 0), rho = 3/2, "
                     "x_star = (1, 0)"),
        dict(obj=get("appendix_d").objective, x=["1.25", "0"], rho="2.8", x_star=["-1.55", "0"],
             example="appendix_d (C^1 piecewise; smooth piece x >= 0, |y| <= 0.6), manifold route, "
                     "x_h = (1.25, 0), rho = 2.8, x_star = (-1.55, 0)"),
    ]
    if not quick:
        out += [
            dict(obj=get("elliptic_ring").objective, x=["-1/2", "0"], rho="2", x_star=["3/2", "0"],
                 example="elliptic_ring, manifold route, x_h = (-1/2, 0), rho = 2, x_star = (3/2, 0)"),
            dict(obj=get("ring3").objective, x=["-1/2", "0", "0"], rho="3/2",
                 x_star=["1", "0", "0"],
                 example="ring3 (sphere of minimizers, d = 3), manifold route, rho = 3/2"),
            dict(obj=SympyObjective(EXPANDED_RING, "x,y", name="ring, expanded"), x=["-1/2", "0"],
                 rho="3/2", x_star=["1", "0"],
                 example="the ring typed expanded: f >= 0 from its factored form, manifold route"),
            dict(obj=obj_t, x=["0.476", "0"], rho="3/2", x_star=["-1.0241203002150503", "0"],
                 example="tilted_ring, manifold route with x_star given to float accuracy: the local "
                         "form (a strict local minimizer of f proved in a box around x_star)"),
        ]
    out += negative_controls()
    return out


def negative_controls() -> list[dict]:
    from verify.objectives.zoo import get
    tr = get("tilted_ring").objective
    return [
        dict(obj=tr, x=["0.3", "0.6"], rho="3/2", expected=False,
             example="negative control: tilted_ring, isolated route, a point away from any zero "
                     "of F (0.3, 0.6), rho = 3/2"),
        dict(obj=get("convex_lse").objective, x=["0.5", "0.5"], rho="1", expected=False,
             example="negative control: convex_lse (convex: no hallucinated minimizer, Theorem "
                     "A.1), isolated route, rho = 1"),
        dict(obj=get("ring").objective, x=["-0.5", "0"], rho="0.9", x_star=["1", "0"],
             expected=False,
             example="negative control: ring with rho = 0.9 < 1 (outside the hallucinating range), "
                     "manifold route towards x_star = (1, 0)"),
        dict(obj=tr, x=["-0.524", "0"], rho="1/2", expected=False,
             example="negative control: tilted_ring with rho = 1/2 (outside the hallucinating "
                     "range), isolated route near (-0.52, 0)"),
        dict(obj=tr, x=["-0.526", "0"], rho="3/2", expected=False,
             example="negative control: tilted_ring, a zero of F that maps to the saddle (0.974, 0) "
                     "and is not a minimizer of f_SAM, rho = 3/2"),
    ]


def run_case(case: dict) -> Certificate:
    kw = {k: v for k, v in case.items() if k not in ("obj", "x", "rho")}
    return prove(case["obj"], case["x"], case["rho"], **kw)


def report_certificates(quick: bool = False, figdir=None) -> list[Certificate]:
    """PROVED cases (tilted_ring isolated, ring and Appendix D manifold; more unless quick) and the
    negative controls (expected=False, example 'negative control: ...'). With ``figdir``, each
    PROVED two-dimensional case gets a landscape figure marking the proved point and its image."""
    certs = []
    for k, case in enumerate(cases(quick)):
        cert = run_case(case)
        if figdir is not None and cert.objects.get("verdict") == "PROVED" and case["obj"].dim == 2:
            try:
                cert.figures.append(_figure(case, cert, figdir, f"proved_{k}.png"))
            except Exception as exc:  # noqa: BLE001 - a figure must not cost the certificate
                cert.add_object("figure_error", f"{type(exc).__name__}: {exc}")
        certs.append(cert)
    return certs


def _figure(case, cert, figdir, name) -> str:
    import pathlib

    from verify.report import figures
    obj = case["obj"]
    rho = float(to_fraction(case["rho"]))
    fp = get_context("float64")
    c = np.array([float(v) for v in cert.objects["box_center"]])
    xp = sam.perturbed_point(obj, c, rho, fp)
    span = max(2.0, 1.3 * float(np.max(np.abs(np.concatenate([c, xp])))))
    box = ((-span, span), (-span, span))
    marks = {f"proved x_h\n(box radius {cert.objects['box_radius']})": c,
             "x_h + rho u(x_h)": xp}
    path = pathlib.Path(figdir) / name
    figures.landscape_figure(obj, rho, path, box=box, n=121, marks=marks, field=False,
                             suptitle=f"{cert.objects['route']} route: {case['example'][:70]}")
    return name


if __name__ == "__main__":
    for cert in report_certificates():
        t0 = time.perf_counter()
        print(cert)
        print()


# -- uniform entry point (theorems.REGISTRY) --------------------------------------------------------
EXAMPLES = ("tilted_ring (isolated)", "ring (manifold)", "appendix_d (manifold)")  # cases(quick=True)


def certify(objective, x, rho, ctx=None, **options) -> Certificate:
    """:func:`prove` a hallucinated minimizer of ``objective`` near ``x`` for radius ``rho``. The
    proof always runs in Arb; ``ctx`` only gives its precision (its ``dps``); ``options`` are
    :func:`prove`'s keywords."""
    if ctx is not None:
        options.setdefault("dps", get_context(ctx).dps)
    return prove(objective, x, rho, **options)
