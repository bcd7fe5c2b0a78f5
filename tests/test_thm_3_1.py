"""Theorem 3.1: continuation of the hallucinated manifold G(M), its dimension, and the refusal when
I + rho Du(x_h) is singular."""
from types import SimpleNamespace

import pytest
import sympy as sp

from theorems import thm_3_1 as T
from verify import zoo
from verify.core.solve import NewtonResult
from verify.ctx import get_context
from verify.errors import ConvergenceError, ZeroGradientError


@pytest.fixture(scope="module")
def mp30():
    return get_context("mpmath", dps=30)


def _float(ctx, v):
    return ctx.to_float(v)


def test_ring_traced_at_30_digits(mp30):
    c = T.certify_zoo("ring", sp.Rational(3, 2), mp30, guess=[-0.5, 0.0], half_width=3.0, n_steps=6)
    assert c.passed, str(c)
    assert c.objects["dimension"] == 1
    assert float(c.claim("trace_residual").value) <= 1e-25
    assert float(c.claim("dimension_gap_M").value) >= 10
    assert float(c.claim("traced_dimension_gap").value) >= 10
    assert c.objects["traced_points"] == 13


def test_ring_preimage_matches_closed_form(mp30):
    # on the ring the hallucinated circle is r = rho - 1: for x* = (1, 0), x_h = (-(rho - 1), 0)
    obj = zoo.get("ring").objective
    rho = mp30.scalar(sp.Rational(7, 5))
    y = T.find_preimage(obj, obj.point(("1", "0"), mp30), rho, mp30, guess=(-0.3, 0.01))
    assert abs(_float(mp30, y[0] + sp.Rational(2, 5))) < 1e-28 and abs(_float(mp30, y[1])) < 1e-28


def test_elliptic_ring_traced_at_30_digits(mp30):
    c = T.certify_zoo("elliptic_ring", sp.Rational(2), mp30, guess=[-0.5, 0.0], half_width=1.2,
                      n_steps=5)
    assert c.passed, str(c)
    assert c.objects["dimension"] == 1
    assert float(c.claim("trace_residual").value) <= 1e-25


def test_ring3_has_a_two_dimensional_hallucinated_sphere(mp30):
    c = T.certify_zoo("ring3", sp.Rational(3, 2), mp30, guess=[-0.5, 0.0, 0.0], half_width=0.6,
                      n_steps=2)
    assert c.passed, str(c)
    assert c.objects["dimension"] == 2 and c.objects["traced_dimension"] == 2


def test_kernel_walk_without_a_parametrization_agrees(mp30):
    obj = zoo.get("ring").objective
    c = T.certify(obj, ["1", "0"], ["-0.5", "0"], sp.Rational(3, 2), mp30, half_width=0.5, n_steps=3)
    assert c.passed, str(c)
    assert c.objects["dimension"] == 1


def test_negative_control_singular_refuses(mp30):
    c = T.negative_control_singular(mp30)
    assert c.refused and not c.passed and not c.expected and c.as_expected
    assert c.example.startswith("negative control:")
    assert float(c.claim("nonsingular").value) < 1e-25


def test_float64_and_torch_contexts_run_the_same_claims():
    for ctx in (get_context("float64"), get_context("torch", device="cpu")):
        c = T.certify_zoo("ring", 1.5, ctx, guess=[-0.5, 0.0], half_width=1.0, n_steps=3)
        assert c.passed, (ctx.name, str(c))
        assert c.objects["dimension"] == 1


def test_certify_construction_reports_dimension(mp30):
    obj = zoo.get("ring").objective
    cons = SimpleNamespace(objective=obj, ctx=mp30, x_star=obj.point(("1", "0"), mp30),
                           x_h=obj.point(("-1/2", "0"), mp30), rho=mp30.scalar(sp.Rational(3, 2)))
    c = T.certify_construction(cons)
    assert c.passed and c.objects["dimension"] == 1


def test_report_certificates_quick(tmp_path):
    certs = T.report_certificates(quick=True, figdir=tmp_path)
    assert all(c.as_expected for c in certs), [str(c) for c in certs if not c.as_expected]
    assert any(not c.expected for c in certs)
    assert (tmp_path / certs[0].figures[0]).exists()
    for c in certs:
        c.to_json()


def test_hypotheses_proved_on_arb_balls():
    for c in T.rigorous_hypotheses():
        assert c.passed, str(c)
        assert c.claim("nonsingular").verdict.value == "proved"
        assert c.claim("x_h_preimage").verdict.value == "proved"


def _one_by_one(obj, X, rho, Y0, max_iter=60):
    fp = get_context("float64")
    out = []
    for x, y0 in zip(X, Y0):
        try:
            out.append(T.preimage(obj, fp.vector(list(x)), rho, fp, fp.vector(list(y0)), max_iter=max_iter))
        except Exception as exc:  # noqa: BLE001 - compared by outcome below
            out.append(exc)
    return out


@pytest.mark.parametrize("expr, variables, x_star, rho", [
    ("(x**2/(9/4) + y**2 - 1)**2", "x,y", (0.0, 1.0), 1.3),
    ("(x**2 + y**2 + z**2 - 1)**2", "x,y,z", (0.0, 0.6, 0.8), 1.5),
    ("(x**2 - 1)**2 + x/10", "x", (-1.0,), 1.5)])
def test_batched_preimages_match_the_one_by_one_solve(expr, variables, x_star, rho):
    """Every row of the vectorized Newton ends as the scalar Newton does: converged (to the same
    point, within the solver tolerance both stop at) or not; one step short of the fastest row,
    every row fails in both (a control that the budget counts per row). d = 1, 2, 3."""
    import numpy as np
    from verify.objectives.objective import SympyObjective
    obj = SympyObjective(expr, variables)
    rng = np.random.default_rng(1)
    X = np.array(x_star) + 0.05 * rng.standard_normal((40, obj.dim))  # targets near x*, off M too
    Y0 = X * (1 - rho / np.linalg.norm(X, axis=1, keepdims=True)) + 0.05 * rng.standard_normal(X.shape)
    budgets = [60]
    for max_iter in budgets:
        batch = T.preimages(obj, X, rho, Y0, max_iter=max_iter)
        single = _one_by_one(obj, X, rho, Y0, max_iter)
        ok = [isinstance(s, NewtonResult) for s in single]
        assert [isinstance(b, NewtonResult) for b in batch] == ok
        for b, s in zip(batch, single):
            if isinstance(s, NewtonResult):
                assert b.iterations == s.iterations and b.tol == s.tol
                assert np.abs(b.x - s.x).max() <= 1e3 * s.tol and b.residual <= b.tol
        if max_iter == 60:
            assert sum(ok) >= 30
            budgets.append(min(s.iterations for s in single if isinstance(s, NewtonResult)) - 1)
        else:  # one step short of the fastest row: every row fails, in both
            assert not any(ok)


def test_batched_preimages_stop_at_a_zero_gradient():
    import numpy as np
    obj = zoo.get("ring").objective  # grad f = 0 at the origin: u undefined there
    out = T.preimages(obj, np.array([[1.0, 0.0], [1.0, 0.0]]), 1.5, np.array([[0.0, 0.0], [-0.45, 0.01]]))
    assert isinstance(out[0], ConvergenceError) and isinstance(out[1], NewtonResult)
    with pytest.raises(ZeroGradientError):
        T.preimage(obj, np.array([1.0, 0.0]), 1.5, get_context("float64"), np.array([0.0, 0.0]))
