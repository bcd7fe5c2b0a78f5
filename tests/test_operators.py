"""SamPoint and the SAM operators against the dense forms of verify/core/sam.py, in float64 and at
50 digits; to_scipy in float64; d = 1 included."""
import numpy as np
import pytest

from verify.core import sam
from verify.core.operators import Operator, SamPoint, identity
from verify.ctx import get_context
from verify.errors import ZeroGradientError
from verify.objectives import zoo
from verify.objectives.objective import SympyObjective

FP, MP50 = get_context("float64"), get_context("mpmath", dps=50)
CASES = [("tilted_ring", ["1.25", "0.1"], "1/2"), ("ring3", ["0.3", "-1.1", "0.4"], "3/2"),
         ("appendix_d", ["1.25", "0.1"], "28/10")]


def _err(a, b, ctx) -> float:
    a = np.array([ctx.to_float(v) for v in np.asarray(a, dtype=object).reshape(-1)])
    b = np.array([ctx.to_float(v) for v in np.asarray(b, dtype=object).reshape(-1)])
    return float(np.max(np.abs(a - b)) / max(1.0, np.max(np.abs(b))))


def _tol(ctx):
    return 1e-12 if ctx is FP else 1e-45


def _vector(ctx, d, seed):
    return ctx.vector(np.random.default_rng(seed).standard_normal(d).tolist())


@pytest.mark.parametrize("ctx", [FP, MP50], ids=["float64", "mpmath50"])
@pytest.mark.parametrize("name, x, rho", CASES)
def test_cached_vectors_match_sam(name, x, rho, ctx):
    f = zoo.get(name).objective
    p = SamPoint(f, x, rho, ctx)
    xs = f.point(x, ctx)
    assert _err(p.x_plus, sam.perturbed_point(f, xs, rho, ctx), ctx) < _tol(ctx)
    assert _err(p.shifted_grad, sam.shifted_gradient(f, xs, rho, ctx), ctx) < _tol(ctx)
    assert _err(p.sam_gradient(), sam.sam_gradient(f, xs, rho, ctx), ctx) < _tol(ctx)
    assert _err([p.sam_value], [sam.sam_value(f, xs, rho, ctx)], ctx) < _tol(ctx)
    assert p.x_plus is p.x_plus  # computed once


@pytest.mark.parametrize("ctx", [FP, MP50], ids=["float64", "mpmath50"])
@pytest.mark.parametrize("name, x, rho", CASES)
def test_operators_match_the_dense_forms(name, x, rho, ctx):
    f = zoo.get(name).objective
    p = SamPoint(f, x, rho, ctx)
    xs, d = f.point(x, ctx), f.dim
    J = sam.du_matrix(f, xs, ctx)
    dense = {"Du": (p.Du, J), "DuT": (p.DuT, J.T),
             "I + rho Du": (p.I_plus_rho_Du, ctx.eye(d) + p.rho * J),
             "H(x+)": (p.H_plus, f.hess(p.x_plus, ctx)),
             "shifted Jacobian": (p.shifted_jacobian, sam.shifted_jacobian(f, xs, rho, ctx)),
             "SAM map Jacobian": (p.sam_map_jacobian("1/10"),
                                  sam.sam_map_jacobian(f, xs, p.rho, ctx.convert("1/10"), ctx))}
    v, V = _vector(ctx, d, 1), ctx.matrix(np.random.default_rng(2).standard_normal((d, 2)).tolist())
    for label, (op, M) in dense.items():
        assert _err(op.dense(), M, ctx) < _tol(ctx), label
        assert _err(op @ v, M @ v, ctx) < _tol(ctx), label
        assert _err(op.rmatvec(v), M.T @ v, ctx) < _tol(ctx), label
        assert _err(op.T @ v, M.T @ v, ctx) < _tol(ctx), label
        assert _err(op @ V, M @ V, ctx) < _tol(ctx), label
        # the columns route (no dense formula) agrees with the formula
        bare = Operator(ctx, d, op.matvec, op.rmatvec)
        assert _err(bare.dense(), M, ctx) < _tol(ctx), label


def test_negative_control_transpose_is_not_the_operator():
    """Du is not symmetric off the symmetric cases: a check confusing Du with Du^T fails."""
    p = SamPoint(zoo.get("tilted_ring").objective, ["1.25", "0.1"], "1/2", FP)
    J = p.Du.dense()
    assert np.abs(J - J.T).max() > 1e-3
    assert _err(p.DuT.dense(), J, FP) > 1e-3


def test_to_scipy_gives_the_same_products_and_spectrum():
    from scipy.sparse.linalg import eigs
    p = SamPoint(zoo.get("ring3").objective, ["0.3", "-1.1", "0.4"], "3/2", MP50)
    A = p.shifted_jacobian.to_scipy()
    M = np.array([[float(e) for e in row] for row in p.shifted_jacobian.dense()])
    v = np.array([0.2, -0.7, 1.1])
    assert np.allclose(A.matvec(v), M @ v, atol=1e-13) and np.allclose(A.rmatvec(v), M.T @ v, atol=1e-13)
    top = eigs(A, k=1, which="LM", return_eigenvectors=False)
    assert abs(abs(top[0]) - np.abs(np.linalg.eigvals(M)).max()) < 1e-8


def test_one_dimension_and_zero_gradient():
    f = SympyObjective("(x**2 - 1)**2", "x")
    p = SamPoint(f, ["0.5"], "1/4", FP)
    assert p.Du.dense().shape == (1, 1) and abs(p.Du.dense()[0, 0]) < 1e-12  # u is constant in 1-D
    assert abs(p.I_plus_rho_Du.dense()[0, 0] - 1) < 1e-12
    with pytest.raises(ZeroGradientError):
        SamPoint(f, ["1"], "1/4", FP).u


def test_operator_algebra():
    ctx = FP
    A = Operator(ctx, 2, lambda v: np.array([2 * v[0] + v[1], 3 * v[1]]),
                 lambda v: np.array([2 * v[0], v[0] + 3 * v[1]]))
    M = np.array([[2.0, 1.0], [0.0, 3.0]])
    v = np.array([1.0, -2.0])
    assert np.allclose((identity(ctx, 2) + 0.5 * A).dense(), np.eye(2) + 0.5 * M)
    assert np.allclose((A @ A.T).dense(), M @ M.T) and np.allclose((A - A).matvec(v), 0)
    assert np.allclose(A.T.T @ v, M @ v)
