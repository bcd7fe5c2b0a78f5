"""The SAM primitives at their edges: which radii are accepted, where u(x) is undefined, and the
matrix-free operators against the dense ones in every dimension (d = 1 included)."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from verify.core import sam
from verify.ctx import get_context
from verify.errors import InvalidRhoError, ZeroGradientError
from verify.objectives.objective import SympyObjective


@pytest.mark.parametrize("rho", [0, 0.0, -1, -1e-300, "inf", float("inf"), float("nan"), "abc", None])
def test_invalid_radii_are_refused(rho, fp):
    with pytest.raises(InvalidRhoError):
        sam.check_rho(rho, fp)


def test_zero_radius_only_where_allowed(fp):
    assert sam.check_rho(0, fp, allow_zero=True) == 0.0
    with pytest.raises(InvalidRhoError):
        sam.check_rho(-1, fp, allow_zero=True)
    with pytest.raises(InvalidRhoError):
        sam.check_rho(float("inf"), fp, allow_zero=True)


def test_radius_conversion_per_context(fp, mp50):
    assert sam.check_rho("0.5", fp) == 0.5 and isinstance(sam.check_rho("0.5", fp), float)
    assert sam.check_rho(1e-300, fp) == 1e-300
    exact = sam.check_rho("0.1", mp50)                        # a decimal string stays exact
    assert exact == mp50.scalar("0.1") and abs(float(exact) - 0.1) < 1e-17
    assert sam.check_rho(Fraction(1, 3), mp50) == mp50.scalar(Fraction(1, 3))
    native = mp50.scalar("0.25")                               # a number of this very context
    assert sam.check_rho(native, mp50) is native               # already in the arithmetic
    assert sam.check_rho(2, None) == 2


def test_u_is_undefined_where_the_gradient_vanishes(fp):
    f = SympyObjective("x**2 + y**2", "x,y")
    with pytest.raises(ZeroGradientError, match="holds"):
        sam.gradient(f, fp.vector([0.0, 0.0]), fp)
    arb = get_context("arb", dps=30)
    with pytest.raises(ZeroGradientError, match="cannot be excluded"):
        sam.gradient(f, np.array([arb.ball(0, "0.1"), arb.ball(0, "0.1")], dtype=object), arb)
    g = sam.gradient(f, fp.vector([3.0, 4.0]), fp)
    assert float(g.norm) == 10.0 and list(g.u) == [0.6, 0.8]


@pytest.mark.parametrize("d", [1, 2, 3])
def test_matrix_free_operators_match_the_dense_ones(d, mp50):
    v = ",".join(f"x{i}" for i in range(d))
    f = SympyObjective(" + ".join(f"({i + 1})*x{i}**4/4 + x{i}**2*x{(i + 1) % d}" for i in range(d)),
                       v)
    x = mp50.vector([f"{0.3 + 0.2 * i}" for i in range(d)])
    w = mp50.vector([f"{1 - 0.4 * i}" for i in range(d)])
    rho = mp50.scalar("0.7")
    J = sam.du_matrix(f, x, mp50)
    pairs = [(sam.du_matvec(f, x, w, mp50), J @ w),
             (sam.du_rmatvec(f, x, w, mp50), J.T @ w),
             (sam.sym_du_matvec(f, x, w, mp50), sam.sym_du(f, x, mp50) @ w),
             (sam.shifted_jacobian_matvec(f, x, rho, w, mp50), sam.shifted_jacobian(f, x, rho, mp50) @ w),
             (sam.shifted_jacobian_rmatvec(f, x, rho, w, mp50),
              sam.shifted_jacobian(f, x, rho, mp50).T @ w),
             (sam.sam_hessian_matvec(f, x, rho, w, mp50), sam.sam_hessian(f, x, rho, mp50) @ w),
             (sam.i_plus_rho_du_matvec(f, x, rho, w, mp50), w + rho * (J @ w)),
             (sam.i_plus_rho_du_rmatvec(f, x, rho, w, mp50), w + rho * (J.T @ w))]
    for k, (a, b) in enumerate(pairs):
        assert float(mp50.norm(a - b)) < 1e-40, k
    eta = mp50.scalar("0.1")
    M = sam.sam_map_jacobian(f, x, rho, eta, mp50)
    assert float(mp50.norm(M @ w - (w - eta * (sam.shifted_jacobian(f, x, rho, mp50) @ w)))) < 1e-40


def test_diagnostics(fp):
    f = SympyObjective("(x**2 + y**2)/2", "x,y")
    d = sam.diagnostics(f, fp.vector([3.0, 4.0]), 5.0, fp)     # x+ = (6, 8)
    assert list(d.x_plus) == [6.0, 8.0]
    assert (float(d.f), float(d.f_sam), float(d.grad_norm), float(d.shifted_grad_norm)) == \
        (12.5, 50.0, 5.0, 10.0)
    assert float(d.grad_ratio) == 2.0 and float(d.loss_gap) == 37.5
    assert math.isclose(float(sam.sam_value(f, fp.vector([3.0, 4.0]), 5.0, fp)), 50.0)
    assert list(sam.usam_point(f, fp.vector([3.0, 4.0]), 0.5, fp)) == [4.5, 6.0]


@pytest.mark.parametrize("kind,kw", [("float64", {}), ("mpmath", {"dps": 40}), ("arb", {"dps": 30})])
def test_an_irrational_rho_string_is_evaluated_in_the_arithmetic(kind, kw):
    """'sqrt(2)' is exact until it reaches the context, then evaluated to the context's precision
    (an Arb ball holding sqrt(2)); a rational string gives the rational."""
    ctx = get_context(kind, **kw)
    r = sam.check_rho("sqrt(2)", ctx)
    assert abs(ctx.to_float(r * r - 2)) <= 8 * ctx.to_float(ctx.tol(1))
    assert ctx.to_float(sam.check_rho("6/5", ctx)) == 1.2


def test_batched_rows_work_per_row_under_vmap():
    """perturbed_rows / diagnostics_rows act on the last axis, so torch.func.vmap (one 1-D row per
    call, as the batched trainer uses them) gives the same numbers as the (S, d) call."""
    import torch
    X, G = torch.randn(4, 3, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64)
    f, fp_, W = torch.randn(4, dtype=torch.float64), torch.randn(4, dtype=torch.float64), torch.randn(
        4, 3, dtype=torch.float64)
    whole = sam.perturbed_rows(X, G, 0.5)
    assert torch.allclose(torch.func.vmap(lambda x, g: sam.perturbed_rows(x, g, 0.5))(X, G), whole)
    assert torch.allclose((whole - X).norm(dim=-1), torch.full((4,), 0.5, dtype=torch.float64))
    per_row = torch.func.vmap(sam.diagnostics_rows)(f, G, fp_, W)
    for a, b in zip(per_row, sam.diagnostics_rows(f, G, fp_, W)):
        assert torch.allclose(a, b)


def test_batched_perturbed_points_match_the_norm_formula_bit_for_bit():
    """perturbed_points_batch against x + rho g / np.linalg.norm(g) (rows with g = 0, an infinite or
    a NaN entry marked ``undefined``), rho a number or one per row."""
    rng = np.random.default_rng(3)
    for shape in [(1, 2), (6, 3), (4, 5, 2), (5, 1)]:
        X = rng.standard_normal(shape)
        G = rng.standard_normal(shape) * 10.0 ** rng.integers(-150, 150, shape)
        G[0] = 0.0
        if shape[0] > 2:
            G[1, ..., 0], G[2, ..., -1] = np.inf, np.nan
        norm = np.linalg.norm(G, axis=-1, keepdims=True)
        for undefined in (0.0, np.nan):
            for rho in (0.7, rng.random(shape[:-1] + (1,))):
                with np.errstate(all="ignore"):
                    want = X + rho * np.where(norm > 0, G / np.where(norm > 0, norm, 1.0), undefined)
                got = sam.perturbed_points_batch(X, G, rho, undefined=undefined)
                assert np.array_equal(got, want, equal_nan=True)
