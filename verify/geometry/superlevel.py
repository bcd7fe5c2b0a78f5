"""float64 geometry for superlevel sets: sampling, ray marching to a level, grids and figures.

These are *search* tools, not proofs: they locate the boundary of a superlevel set
{f >= level} by marching along rays and bisecting the first crossing, sample balls and tubes, and
draw the 2-D pictures of the constructions. Points are numpy arrays of shape (N, d). A theorem turns
what they find into claims in its own arithmetic context (see ``theorems/thm_2_1.py``).
"""
from __future__ import annotations

import math

import numpy as np

from ..core.sam import perturbed_points_batch
from ..ctx.float64 import FloatContext

FLOAT = FloatContext()


# -- evaluating an objective on many float points ------------------------------------------------
def values(obj, P) -> np.ndarray:
    """f at each row of ``P`` (N, d)."""
    P = np.atleast_2d(np.asarray(P, dtype=float))
    try:
        with np.errstate(all="ignore"):
            v = np.asarray(obj.value(P.T, FLOAT), dtype=float)
        return np.broadcast_to(v, (P.shape[0],)).copy()
    except Exception:  # objectives that do not broadcast over grids
        return np.array([float(obj.value(p, FLOAT)) for p in P])


def grads(obj, P) -> np.ndarray:
    """grad f at each row of ``P``; shape (N, d)."""
    P = np.atleast_2d(np.asarray(P, dtype=float))
    try:
        with np.errstate(all="ignore"):
            G = np.asarray(obj.grad(P.T, FLOAT), dtype=float)
        if G.shape == (P.shape[1], P.shape[0]):
            return G.T.copy()
    except Exception:
        pass
    return np.array([np.asarray(obj.grad(p, FLOAT), dtype=float) for p in P])


def hessians(obj, P) -> np.ndarray:
    """Hess f at each row of ``P``; shape (N, d, d)."""
    P = np.atleast_2d(np.asarray(P, dtype=float))
    d = P.shape[1]
    try:
        with np.errstate(all="ignore"):
            H = np.asarray(obj.hess(P.T, FLOAT), dtype=float)
        if H.shape == (d, d, P.shape[0]):
            return np.moveaxis(H, -1, 0).copy()
    except Exception:
        pass
    return np.array([np.asarray(obj.hess(p, FLOAT), dtype=float) for p in P])


def perturbed_points(obj, P, rho: float, min_grad: float = 1e-6):
    """The SAM points x+ = x + rho u(x) of the rows of ``P``: returns (P, P+) restricted to the rows
    where grad f is finite and at least ``min_grad`` in norm (u is meaningless below that)."""
    P = np.atleast_2d(np.asarray(P, dtype=float))
    G = grads(obj, P)
    with np.errstate(all="ignore"):
        nrm = np.sqrt((G * G).sum(axis=1))
        Pp = perturbed_points_batch(P, G, rho, undefined=np.nan)
    ok = np.isfinite(Pp).all(axis=1) & (nrm > min_grad)
    return P[ok], Pp[ok]


# -- directions, balls, grids --------------------------------------------------------------------
def directions(d: int, n: int, seed: int = 0) -> np.ndarray:
    """``n`` unit vectors spread over the sphere S^{d-1} (even angles in 2-D, a Fibonacci lattice
    in 3-D, seeded Gaussian draws otherwise)."""
    if d == 1:
        return np.array([[1.0], [-1.0]])
    if d == 2:
        a = 2 * np.pi * (np.arange(n) + 0.5) / n
        return np.stack([np.cos(a), np.sin(a)], axis=1)
    if d == 3:
        k = np.arange(n) + 0.5
        z = 1 - 2 * k / n
        r = np.sqrt(np.maximum(0.0, 1 - z * z))
        phi = np.pi * (1 + 5 ** 0.5) * k
        return np.stack([r * np.cos(phi), r * np.sin(phi), z], axis=1)
    g = np.random.default_rng(seed).standard_normal((n, d))
    return g / np.linalg.norm(g, axis=1, keepdims=True)


def ball_points(center, radius: float, n_dirs: int, n_radii: int) -> np.ndarray:
    """Points center + t dir for t = radius k / n_radii, k = 1..n_radii (the center excluded)."""
    c = np.asarray(center, dtype=float)
    D = directions(len(c), n_dirs)
    t = radius * np.arange(1, n_radii + 1) / n_radii
    return (c[None, None, :] + t[None, :, None] * D[:, None, :]).reshape(-1, len(c))


def sphere_points(center, radius: float, n: int) -> np.ndarray:
    c = np.asarray(center, dtype=float)
    return c[None, :] + radius * directions(len(c), n)


def random_ball(center, radius: float, n: int, seed: int = 0) -> np.ndarray:
    """``n`` seeded uniform draws in the ball."""
    c = np.asarray(center, dtype=float)
    rng = np.random.default_rng(seed)
    D = directions(len(c), n, seed) if len(c) > 3 else rng.standard_normal((n, len(c)))
    D = D / np.linalg.norm(D, axis=1, keepdims=True)
    t = radius * rng.random(n) ** (1.0 / len(c))
    return c[None, :] + t[:, None] * D


def box_minimum(obj, box, n_points: int = 2 ** 15, starts: int = 8, seed: int = 0):
    """Smallest value of f found on ``box``: a scrambled Sobol sample of ``n_points`` (a power of 2)
    followed by bounded L-BFGS-B runs from the ``starts`` best samples. A float64 search, not a bound;
    time and memory grow linearly in d (a tensor grid grows like n^d). Returns (f_min, x_min, evals)."""
    from scipy.optimize import minimize
    from scipy.stats import qmc

    d = len(box)
    lo = np.array([float(a) for a, _ in box])
    hi = np.array([float(b) for _, b in box])
    P = qmc.scale(qmc.Sobol(d, scramble=True, seed=seed).random_base2(int(math.log2(n_points))), lo, hi)
    V = values(obj, P)
    V = np.where(np.isfinite(V), V, np.inf)
    best = np.argsort(V)[:starts]
    f_min, x_min, evals = float(V[best[0]]), P[best[0]], len(P)
    for i in best:
        res = minimize(lambda x: float(values(obj, x[None, :])[0]), P[i], method="L-BFGS-B",
                       jac=lambda x: grads(obj, x[None, :])[0], bounds=list(zip(lo, hi)),
                       options={"maxiter": 200})
        evals += int(res.nfev)
        if np.isfinite(res.fun) and res.fun < f_min:
            f_min, x_min = float(res.fun), res.x
    return f_min, x_min, evals


def grid_box(box, n_per_dim: int) -> np.ndarray:
    axes = [np.linspace(float(lo), float(hi), n_per_dim) for lo, hi in box]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.reshape(-1) for m in mesh], axis=1)


# -- level crossings -------------------------------------------------------------------------------
def march_crossings(obj, origins, dirs, level: float, smax: float, n_steps: int = 64,
                    bisect: int = 60):
    """For each ray origins[i] + s dirs[i], s in (0, smax], the first s where f drops below
    ``level`` (bisected to float precision). Returns (s, found) arrays of shape (N,)."""
    O = np.asarray(origins, dtype=float)
    D = np.asarray(dirs, dtype=float)
    if O.shape[0] == 1 and D.shape[0] > 1:
        O = np.repeat(O, D.shape[0], axis=0)
    N, d = D.shape
    t = smax * np.arange(1, n_steps + 1) / n_steps
    P = O[:, None, :] + t[None, :, None] * D[:, None, :]
    V = values(obj, P.reshape(-1, d)).reshape(N, n_steps)
    below = V < level
    found = below.any(axis=1)
    k = np.where(found, below.argmax(axis=1), n_steps - 1)
    hi = t[k]
    lo = np.where(k > 0, t[np.maximum(k - 1, 0)], 0.0)
    for _ in range(bisect):
        mid = 0.5 * (lo + hi)
        vm = values(obj, O + mid[:, None] * D)
        above = vm >= level
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    return 0.5 * (lo + hi), found


def curve_frame(param, n: int):
    """Base points and unit normals of a closed plane curve ``param(t)`` -> (x(t), y(t)) (float
    arrays), t in [0, 2 pi), at ``n`` even parameters. Normals by central differences."""
    t = 2 * np.pi * np.arange(n) / n
    h = 1e-6
    B = np.stack(param(t), axis=1).astype(float)
    T = (np.stack(param(t + h), axis=1) - np.stack(param(t - h), axis=1)) / (2 * h)
    T = T / np.linalg.norm(T, axis=1, keepdims=True)
    Nrm = np.stack([-T[:, 1], T[:, 0]], axis=1)
    return B, Nrm


def min_distance(P, Q) -> np.ndarray:
    """For each row of P, the distance to the nearest row of Q."""
    P, Q = np.asarray(P, float), np.asarray(Q, float)
    out = np.empty(len(P))
    for i in range(0, len(P), 512):
        blk = P[i:i + 512]
        out[i:i + 512] = np.sqrt(((blk[:, None, :] - Q[None, :, :]) ** 2).sum(-1)).min(axis=1)
    return out


def linear_fit(xs, ys):
    """Least-squares line ys = a + b xs; returns (a, b, r_squared, max_abs_residual)."""
    x, y = np.asarray(xs, float), np.asarray(ys, float)
    A = np.stack([np.ones_like(x), x], axis=1)
    (a, b), *_ = np.linalg.lstsq(A, y, rcond=None)
    res = y - (a + b * x)
    ss = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float((res ** 2).sum()) / ss if ss > 0 else 1.0
    return float(a), float(b), r2, float(np.abs(res).max())


def centroid(P) -> list[float]:
    return [float(v) for v in np.asarray(P, float).mean(axis=0)]


def finite(x) -> bool:
    return all(math.isfinite(float(v)) for v in np.asarray(x, float).ravel())


def rays_to_points(origin, s, dirs) -> np.ndarray:
    """origin + s[i] dirs[i] for each ray."""
    return np.asarray(origin, float)[None, :] + np.asarray(s, float)[:, None] * np.asarray(dirs, float)


def sq_dist(P, x) -> np.ndarray:
    """||P[i] - x||^2 for each row."""
    return ((np.asarray(P, float) - np.asarray(x, float)[None, :]) ** 2).sum(axis=1)


def radial_derivative(P, G, center) -> np.ndarray:
    """<G[i], P[i] - center> for each row."""
    return ((np.asarray(P, float) - np.asarray(center, float)[None, :]) * np.asarray(G, float)).sum(axis=1)


def where(cond, a, b) -> np.ndarray:
    return np.where(cond, a, b)


def random_box(box, n: int, seed: int = 0) -> np.ndarray:
    """``n`` seeded uniform draws in the box."""
    rng = np.random.default_rng(seed)
    lo = np.array([float(a) for a, _ in box])
    hi = np.array([float(b) for _, b in box])
    return lo + (hi - lo) * rng.random((n, len(box)))


def np_norms(G) -> np.ndarray:
    """Euclidean norm of each row."""
    return np.linalg.norm(np.asarray(G, float), axis=1)


# -- small array helpers used by the theorem modules (which stay free of backend names) ----------
def broadcast_like(v, t) -> np.ndarray:
    return np.broadcast_to(np.asarray(v, float), np.shape(t)).astype(float)


def repeat_rows(row, n: int) -> np.ndarray:
    return np.repeat(np.asarray(row, float)[None, :], n, axis=0)


def stack_rows(*blocks) -> np.ndarray:
    return np.concatenate([np.asarray(b, float) for b in blocks], axis=0)


def linspace(a: float, b: float, n: int) -> np.ndarray:
    return np.linspace(a, b, n)


def ray_grid(O, D, s) -> np.ndarray:
    """O[i] + s[j] D[i] for every ray i and distance j (ray-major order), shape (N len(s), d)."""
    O, D, s = np.asarray(O, float), np.asarray(D, float), np.asarray(s, float)
    return (O[:, None, :] + s[None, :, None] * D[:, None, :]).reshape(-1, O.shape[1])


def ray_dirs(D, ns: int) -> np.ndarray:
    return np.repeat(np.asarray(D, float), ns, axis=0)


def tile(s, n: int) -> np.ndarray:
    return np.tile(np.asarray(s, float), n)


def row_dot(A, B) -> np.ndarray:
    return (np.asarray(A, float) * np.asarray(B, float)).sum(axis=1)


def rays_to_points_each(O, s, D) -> np.ndarray:
    """O[i] + s[i] D[i] (s a number or one distance per ray)."""
    s = np.broadcast_to(np.asarray(s, float), (len(D),))
    return np.asarray(O, float) + s[:, None] * np.asarray(D, float)
