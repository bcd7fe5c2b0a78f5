"""The point of a level set {f = level} where the ray from x_star leaves it: the Lagrange system
2 (x_star - x) = lam grad f(x), f(x) = level, solved by Newton in any context. Theorem 2.1's
construction (and Theorem 2.2's and Corollary A.6's, which build on it) finds x_h this way."""
from __future__ import annotations

from ..core.solve import newton


def lagrange_system(obj, ctx, x_star, level):
    """Residual and Jacobian of [2 (x_star - x) - lam grad f(x); f(x) - level] in z = (x, lam)."""
    d = obj.dim
    zero, two = ctx.scalar(0), ctx.scalar(2)

    def split(z):
        return ctx.stack([z[i] for i in range(d)]), z[d]

    def residual(z):
        x, lam = split(z)
        g = obj.grad(x, ctx)
        r = two * (x_star - x) - lam * g
        return ctx.stack([r[i] for i in range(d)] + [obj.value(x, ctx) - level])

    def jacobian(z):
        x, lam = split(z)
        g, H = obj.grad(x, ctx), obj.hess(x, ctx)
        rows = [ctx.stack([(-two if i == j else zero) - lam * H[i][j] for j in range(d)] + [-g[i]])
                for i in range(d)]
        rows.append(ctx.stack([g[j] for j in range(d)] + [zero]))
        return ctx.stack(rows)

    return residual, jacobian, split


def solve_lagrange(obj, ctx, x_star, level, x0):
    """Newton on the Lagrange system from x0 (lambda0 by least squares). Returns (x_h, lam, info)."""
    residual, jacobian, split = lagrange_system(obj, ctx, x_star, level)
    g0 = obj.grad(x0, ctx)
    lam0 = ctx.scalar(2) * ((x_star - x0) @ g0) / (g0 @ g0)
    z0 = ctx.stack([x0[i] for i in range(obj.dim)] + [lam0])
    res = newton(residual, jacobian, z0, ctx, what="Lagrange-system Newton (Thm 2.1)", require_isolated=True)
    x_h, lam = split(res.x)
    return x_h, lam, {"iterations": res.iterations, "residual": res.residual, "tol": res.tol}
