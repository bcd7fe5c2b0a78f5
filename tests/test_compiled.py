"""Compiled symbolic objectives (sympy lambdify with cse) agree with the interpreter of
verify/objectives/expr.py, in float64 and at 50 digits, on every zoo function; expressions with
decisions taken by endpoints (the interval context) and torch keep the interpreter."""
import numpy as np
import pytest
import sympy as sp

from verify.ctx import get_context
from verify.objectives import zoo
from verify.objectives.compiled import can_compile, is_compilable
from verify.objectives.objective import SympyObjective

FP, MP50 = get_context("float64"), get_context("mpmath", dps=50)


def _twins(z):
    """The zoo objective (compiled where possible) and a copy forced onto the interpreter."""
    f = z.objective
    g = SympyObjective(f.expr, [s.name for s in f.symbols], name=f.name + " (interpreted)")
    g.hess_exprs, g.d3_exprs = f.hess_exprs, f.d3_exprs  # differentiate once, evaluate two ways
    cache = {}

    def interpreted(key, ctx):
        if (key, id(ctx)) not in cache:
            cache[key, id(ctx)] = g._interpreted(g._exprs(key), ctx)
        return cache[key, id(ctx)]
    g._fn = interpreted
    return f, g


def _point(z, ctx, shift):
    return z.objective.point([repr(c + shift) for c in (0.3, -0.473, 0.61)[:z.dim]], ctx)


def _rel_err(a, b, ctx) -> float:
    a = np.array([ctx.to_float(v) for v in np.asarray(a, dtype=object).reshape(-1)])
    b = np.array([ctx.to_float(v) for v in np.asarray(b, dtype=object).reshape(-1)])
    return float(np.max(np.abs(a - b)) / max(1.0, np.max(np.abs(b))))


@pytest.mark.parametrize("name", sorted(zoo.ZOO))
@pytest.mark.parametrize("ctx, digits", [(FP, 1e-12), (MP50, 1e-45)])
def test_compiled_agrees_with_interpreter_on_the_zoo(name, ctx, digits):
    z = zoo.get(name)
    f, g = _twins(z)
    x = _point(z, ctx, 0.137)
    pairs = [(f.value(x, ctx), g.value(x, ctx)), (f.grad(x, ctx), g.grad(x, ctx)),
             (f.hess(x, ctx), g.hess(x, ctx))]
    if f.dim <= 2:  # third derivatives in 3-D: 27 entries, slow to differentiate, same code path
        v = f.point([repr(0.6 - 0.2 * i) for i in range(f.dim)], ctx)
        pairs.append((f.d3v(x, v, ctx), g.d3v(x, v, ctx)))
    for a, b in pairs:
        assert _rel_err(a, b, ctx) < digits, name
        # the native kind is kept: float arrays in float64, mpf objects at 50 digits
        assert ctx.is_native(a) if np.ndim(a) else True


def test_the_compiled_path_is_taken_where_it_can_be():
    f = SympyObjective("exp(x*y) + sin(x)**2/3 - log(2 + y**2)", "x,y")
    assert can_compile(f._exprs("grad"), FP) and can_compile(f._exprs("grad"), MP50)
    assert can_compile(f._exprs("grad"), get_context("arb"))   # analytic: Arb code as well
    piecewise = zoo.get("appendix_d").objective  # decided by comparisons, as the interpreter does
    assert can_compile([piecewise.expr], FP) and not can_compile([piecewise.expr], get_context("arb"))
    assert is_compilable(sp.sympify("x**2 + pi*exp(y)"))
    assert not is_compilable(sp.Abs(sp.Symbol("x")))


def test_compiled_mpmath_runs_at_its_own_precision():
    f = SympyObjective("exp(x)/3 + pi*y", "x,y")
    lo, hi = get_context("mpmath", dps=20), get_context("mpmath", dps=80)
    v_lo, v_hi = f.value(f.point(["1", "1"], lo), lo), f.value(f.point(["1", "1"], hi), hi)
    exact = sp.N(sp.exp(1) / 3 + sp.pi, 100)
    assert abs(float((sp.Float(str(v_hi), 100) - exact))) < 1e-78
    err_lo = abs(float(sp.Float(str(v_lo), 100) - exact))
    assert 1e-30 < err_lo < 1e-18  # negative control: 20 digits really are 20 digits


def test_constant_derivatives_come_back_as_context_scalars():
    f = SympyObjective("x**2 + 3*y", "x,y")
    H = f.hess(f.point(["1", "2"], MP50), MP50)
    assert MP50.is_native(H) and MP50.to_float(H[0][0]) == 2 and MP50.to_float(H[1][1]) == 0
    assert FP.is_native(f.grad(np.array([1.0, 2.0]), FP))


def test_float_grids_still_evaluate_compiled_objectives():
    f = SympyObjective("exp(-x**2) * cos(y)", "x,y")
    X, Y = np.meshgrid(np.linspace(-1, 1, 5), np.linspace(-2, 2, 4))
    grid = f.value(np.stack([X, Y]), FP)
    assert grid.shape == X.shape
    assert abs(grid[1, 2] - np.exp(-X[1, 2] ** 2) * np.cos(Y[1, 2])) < 1e-15


def test_domain_errors_give_nan_as_the_interpreter_does():
    f, g = _twins(type("Z", (), {"objective": SympyObjective("log(x) + y", "x,y")})())
    x = np.array([-1.0, 2.0])
    with np.errstate(all="ignore"):
        assert np.isnan(f.value(x, FP)) and np.isnan(g.value(x, FP))


def test_piecewise_branches_are_decided_like_the_interpreter():
    f, g = _twins(zoo.get("appendix_d"))
    for x in ([-1.5, 0.0], [-0.5, 0.2], [0.5, 3.0], [0.5, -6.0], [-1.0, 0.6]):  # seams included
        p = np.array(x)
        assert f.value(p, FP) == pytest.approx(g.value(p, FP), abs=1e-15)
        assert _rel_err(f.grad(p, FP), g.grad(p, FP), FP) < 1e-13


def test_generated_code_is_shared_across_contexts_and_objectives(monkeypatch):
    """Fresh contexts (get_context makes one per call) and a second objective with the same
    expression reuse the generated code; another expression does not."""
    from verify.objectives import compiled
    calls = []
    real = sp.lambdify
    monkeypatch.setattr(compiled.sp, "lambdify", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    monkeypatch.setattr(compiled, "_code_cache", compiled.OrderedDict())
    text = "exp(x*y)/7 + atan(x - y)"
    values = [SympyObjective(text, "x,y").grad(np.array([0.4, -0.2]), get_context("float64"))
              for _ in range(3)]
    assert len(calls) == 1 and all((v == values[0]).all() for v in values)
    other = SympyObjective("exp(x*y)/7 + atan(x + y)", "x,y").grad(np.array([0.4, -0.2]), FP)
    assert len(calls) == 2 and not np.allclose(other, values[0])  # a different expression compiles


def test_shared_code_is_rebound_to_each_mpmath_precision():
    """Code generated for 80 digits and reused at 20 runs at 20 (the private mpmath functions of
    the context at hand), and the reverse: each context keeps its own precision."""
    f = SympyObjective("exp(x)/3 + pi*y - log(1 + x**2)", "x,y")
    exact = sp.N(sp.exp(1) / 3 + sp.pi - sp.log(2), 100)
    for order in ((80, 20), (20, 80)):
        g = SympyObjective(f.expr, "x,y")
        for dps in order:
            ctx = get_context("mpmath", dps=dps)
            err = abs(float(sp.Float(str(g.value(g.point(["1", "1"], ctx), ctx)), 100) - exact))
            assert err < 10.0 ** (2 - dps) and (dps == 80 or err > 10.0 ** (-dps - 12))


def test_constant_entries_fill_a_grid():
    """On a grid, a constant derivative entry is a (writable) array of the grid's shape, so the
    Hessian of x**2 + 3 y stacks to (2, 2, ...) in one vectorized call."""
    f = SympyObjective("x**2 + 3*y", "x,y")
    P = np.stack(np.meshgrid(np.linspace(-1, 1, 5), np.linspace(0, 2, 4)))
    G, H = f.grad(P, FP), f.hess(P, FP)
    assert G.shape == (2, 4, 5) and H.shape == (2, 2, 4, 5)
    assert (G[1] == 3).all() and (H[0, 0] == 2).all() and (H[1, 1] == 0).all()
    assert (G[0] == 2 * P[0]).all()  # the variable entry is still the point's own value
    G[1][0, 0] = 0.0  # writable, as the interpreter's arrays are


# -- Arb: compiled enclosures against the interpreter's -----------------------------------------------------
ARB30, MP60 = get_context("arb", dps=30), get_context("mpmath", dps=60)
ANALYTIC = [n for n in sorted(zoo.ZOO) if not zoo.get(n).objective.expr.has(sp.Piecewise)]


def _contains(ball, value) -> bool:
    return float(ball.lower()) - 1e-28 <= float(value) <= float(ball.upper()) + 1e-28


@pytest.mark.parametrize("name", ANALYTIC)
def test_compiled_arb_encloses_what_the_interpreter_encloses(name):
    """On 5 random boxes per zoo function (radii 1e-3 .. 1e-8): the compiled and the interpreted
    Arb enclosures of value, gradient and Hessian intersect, and both contain the 60-digit values at
    the centre and at a random point of the box."""
    import random
    z = zoo.get(name)
    f, g = _twins(z)
    assert can_compile(f._exprs("hess"), ARB30)
    rng = random.Random(hash(name) % 1000)
    for k in range(5):
        centre = [rng.uniform(-1.2, 1.2) for _ in range(f.dim)]
        X = ARB30.box(centre, 10.0 ** -(3 + k))
        inside = [c + (rng.random() - 0.5) * 10.0 ** -(3 + k) for c in centre]
        for key in ("value", "grad", "hess"):
            a = np.asarray(f._fn(key, ARB30)(X), dtype=object).reshape(-1)
            b = np.asarray(g._fn(key, ARB30)(X), dtype=object).reshape(-1)
            assert all(ARB30.scalar(u).overlaps(ARB30.scalar(v)) for u, v in zip(a, b)), (name, key)
            for p in (centre, inside):
                ref = np.asarray(g._fn(key, MP60)(MP60.vector(p)), dtype=object).reshape(-1)
                assert all(_contains(ARB30.scalar(u), r) and _contains(ARB30.scalar(v), r)
                           for u, v, r in zip(a, b, ref)), (name, key, p)


def test_compiled_arb_runs_at_the_context_precision():
    """The same expression at 15 and at 60 digits: radii follow the precision (the code runs inside
    ``working()``, its constants pi and p/q are Arb's), and the wide enclosure contains the narrow."""
    f = SympyObjective("exp(x)/3 + pi*y - log(1 + x**2)", "x,y")
    lo, hi = get_context("arb", dps=15), get_context("arb", dps=60)
    v_lo, v_hi = (f.value(c.vector([c.scalar(1), c.scalar(1)]), c) for c in (lo, hi))
    assert float(v_hi.rad()) < 1e-55 < 1e-20 < float(v_lo.rad()) < 1e-10
    assert v_lo.contains(v_hi)


def test_compiled_arb_refuses_names_it_does_not_supply(monkeypatch):
    """A function missing from the Arb namespace (here cos) would be mpmath's, which reads a ball's
    midpoint: the compiler refuses it with a typed error instead of returning a non-rigorous value."""
    from verify.ctx.arb import ArbContext
    from verify.errors import BackendError
    from verify.objectives import compiled
    real = ArbContext.lambdify_modules

    def without_cos(self, grid=False):
        names, rest = real(self, grid)
        return [{k: v for k, v in names.items() if k != "cos"}, rest]
    monkeypatch.setattr(ArbContext, "lambdify_modules", without_cos)
    monkeypatch.setattr(compiled, "_code_cache", compiled.OrderedDict())
    f, ctx = SympyObjective("cos(x) + y**2", "x,y"), get_context("arb", dps=20)
    with pytest.raises(BackendError, match="cos"):
        f.value(ctx.vector([ctx.scalar(1), ctx.scalar(2)]), ctx)


def test_piecewise_keeps_the_arb_interpreter_on_a_straddled_seam():
    """appendix_d in Arb is interpreted: a ball across its seam x = -1 raises UndecidedError (a
    compiled conditional would have picked a side)."""
    from verify.errors import UndecidedError
    f, ctx = zoo.get("appendix_d").objective, get_context("arb", dps=20)
    assert not can_compile([f.expr], ctx)
    with pytest.raises(UndecidedError):
        f.value(ctx.box([-1.0, 0.0], 1e-3), ctx)


def test_compiled_arb_powers_of_a_ball_around_zero_are_finite():
    """Arb's own ``**`` gives NaN for a ball that contains 0; the compiled code writes integer powers
    as repeated products (as the interpreter), half powers as sqrt: the ring's gradient on a box
    around the origin is enclosed, and agrees with the interpreter's."""
    f, g = _twins(zoo.get("ring"))
    X = ARB30.box([0.0, 0.0], 1e-3)
    a, b = f.grad(X, ARB30), g.grad(X, ARB30)
    assert all(v.is_finite() and v.contains(0) and v.overlaps(w) for v, w in zip(a, b))
    h = SympyObjective("sqrt(1 + x**2) + y**(-3) + x**(5/2) + (1 + y**2)**(-1/2)", "x,y")
    P = ARB30.box([0.5, 2.0], 1e-6)
    ref = h.value(MP60.vector([0.5, 2.0]), MP60)
    assert _contains(h.value(P, ARB30), ref)
