"""Core engine: every SAM operator against finite differences and across independent routes.

Routes: sympy exact derivatives (float64, mpmath 50 digits, Arb balls, torch), autograd, torch.func,
and finite differences. Negative controls: the gradient of f_SAM without the transpose, and a Du
with the projector on the wrong side, must fail the finite-difference check.
"""
import autograd.numpy as anp
import numpy as np
import pytest
import torch

from verify import sam, zoo
from verify.core.check import check_derivatives, check_sam_operators, directional_fd
from verify.core.claims import compare
from verify.ctx import get_context
from verify.objectives.objective import AutogradObjective, TorchObjective

CASES = [("tilted_ring", ["0.3", "0.2"], "0.7"), ("appendix_d", ["1.25", "0.1"], "2.8"),
         ("beale", ["1", "1.2"], "0.5"), ("ring3", ["0.3", "0.2", "-0.1"], "1.1"),
         ("elliptic_ring", ["0.4", "-0.3"], "1.3"), ("convex_lse", ["0.7", "-0.2"], "0.9")]


@pytest.mark.parametrize("name,x,rho", CASES)
def test_sam_operators_match_finite_differences_float64(name, x, rho, fp):
    obj = zoo.get(name).objective
    claims = check_derivatives(obj, x, fp) + check_sam_operators(obj, x, rho, fp)
    assert all(c.passed for c in claims), "\n".join(str(c) for c in claims if not c.passed)
    grad_claims = [c for c in claims if c.id.startswith("grad_f_sam")]
    assert all(float(c.value) <= 1e-8 for c in grad_claims)


@pytest.mark.parametrize("name,x,rho", CASES)
def test_sam_operators_match_finite_differences_50_digits(name, x, rho, mp50):
    obj = zoo.get(name).objective
    claims = check_derivatives(obj, x, mp50) + check_sam_operators(obj, x, rho, mp50)
    assert all(c.passed for c in claims), "\n".join(str(c) for c in claims if not c.passed)
    for c in claims:
        if c.id.startswith("grad_f_sam"):
            assert mp50.scalar(c.value) <= mp50.scalar("1e-40"), str(c)


def _transpose_free_gradient(obj, x, rho, ctx):
    """Deliberately wrong: (I + rho Du) grad f(x+) instead of (I + rho Du)^T grad f(x+)."""
    w = sam.shifted_gradient(obj, x, rho, ctx)
    return w + sam.check_rho(rho, ctx) * (sam.du_matrix(obj, x, ctx) @ w)


@pytest.mark.parametrize("kind", ["float64", "mpmath"])
def test_negative_control_gradient_without_transpose_fails(kind):
    ctx = get_context(kind, dps=50)
    obj = zoo.get("elliptic_ring").objective
    x, rho = obj.point(["0.4", "-0.3"], ctx), "1.3"
    v = ctx.vector(["0.6", "0.8"])
    fd = directional_fd(lambda y, c: sam.sam_value(obj, y, sam.check_rho(rho, c), c), x, v, ctx).value
    good = compare("g", "exact", ctx.abs(sam.sam_gradient(obj, x, rho, ctx) @ v - fd), "<=",
                   ctx.scalar("1e-8"), ctx)
    bad = compare("g", "no transpose", ctx.abs(_transpose_free_gradient(obj, x, rho, ctx) @ v - fd),
                  "<=", ctx.scalar("1e-8"), ctx)
    assert good.passed and not bad.passed


def test_negative_control_du_with_projector_on_the_wrong_side_fails(mp50):
    obj = zoo.get("tilted_ring").objective
    x = obj.point(["0.3", "0.2"], mp50)
    gr = sam.gradient(obj, x, mp50)
    H = obj.hess(x, mp50)
    wrong = (H - mp50.outer(H @ gr.u, gr.u)) / gr.norm  # H P / n: the transposed Jacobian
    v = mp50.vector(["1", "0"])
    fd = directional_fd(lambda y, c: sam.unit_gradient(obj, y, c), x, v, mp50).value
    assert mp50.norm(sam.du_matrix(obj, x, mp50) @ v - fd) < mp50.scalar("1e-40")
    assert mp50.norm(wrong @ v - fd) > mp50.scalar("1e-3")


# -- independent routes: autograd and torch.func against sympy ---------------------------------------
def _tilted_ring_np(x):
    return (x[0] ** 2 + x[1] ** 2 - 1) ** 2 + x[0] / 5


def _beale_np(x):
    a, b = x[0], x[1]
    return (1.5 - a + a * b) ** 2 + (2.25 - a + a * b ** 2) ** 2 + (2.625 - a + a * b ** 3) ** 2


def _lse_np(x, lib):
    return lib.log(lib.exp(x[0]) + lib.exp(x[1]) + lib.exp(-x[0] - x[1])) + (x[0] ** 2 + x[1] ** 2) / 10


ROUTES = [("tilted_ring", _tilted_ring_np, _tilted_ring_np),
          ("beale", _beale_np, _beale_np),
          ("convex_lse", lambda x: _lse_np(x, anp), lambda x: _lse_np(x, torch))]
OPERATORS = [("grad f_SAM", lambda o, x, r, c: sam.sam_gradient(o, x, r, c)),
             ("Du", lambda o, x, r, c: sam.du_matrix(o, x, c)),
             ("Sym Du", lambda o, x, r, c: sam.sym_du(o, x, c)),
             ("DF", lambda o, x, r, c: sam.shifted_jacobian(o, x, r, c)),
             ("Hess f_SAM", lambda o, x, r, c: sam.sam_hessian(o, x, r, c)),
             ("f_SAM", lambda o, x, r, c: sam.sam_value(o, x, r, c))]


@pytest.mark.parametrize("name,np_fn,torch_fn", ROUTES)
@pytest.mark.parametrize("op_name,op", OPERATORS)
def test_operators_agree_across_sympy_autograd_torch(name, np_fn, torch_fn, op_name, op):
    sym = zoo.get(name).objective
    ag = AutogradObjective(np_fn, 2, name=f"{name} (autograd)")
    tc = TorchObjective(torch_fn, 2, name=f"{name} (torch)")
    fp, tctx = get_context("float64"), get_context("torch", device="cpu")
    x, rho = np.array([0.7, 0.4]), 0.9
    ref = np.asarray(op(sym, sym.point(x, fp), rho, fp), dtype=float)
    via_autograd = np.asarray(op(ag, ag.point(x, fp), rho, fp), dtype=float)
    via_torch = op(tc, tc.point(x, tctx), rho, tctx).detach().cpu().numpy()
    scale = max(1.0, float(np.max(np.abs(ref))))
    assert np.max(np.abs(via_autograd - ref)) <= 1e3 * fp.eps * scale
    assert np.max(np.abs(via_torch - ref)) <= 1e3 * fp.eps * scale


def test_arb_enclosures_contain_the_50_digit_values(mp50):
    arb = get_context("arb", dps=60)
    obj = zoo.get("appendix_d").objective
    xm, xa = obj.point(["1.25", "0.1"], mp50), obj.point(["1.25", "0.1"], arb)
    for fn in (lambda o, x, c: sam.sam_gradient(o, x, "2.8", c),
               lambda o, x, c: sam.shifted_jacobian(o, x, "2.8", c).reshape(-1),
               lambda o, x, c: sam.sam_hessian(o, x, "2.8", c).reshape(-1)):
        for ball, value in zip(fn(obj, xa, arb), fn(obj, xm, mp50)):
            # the 50-digit value is itself accurate to ~1e-50: the ball must lie within that of it
            assert arb.less(arb.abs(ball - arb.scalar(mp50.to_str(value))), "1e-47"), (ball, value)
            assert arb.radius(ball) < 1e-45


def test_matrix_free_torch_operators_match_dense():
    tctx = get_context("torch", device="cpu")
    obj = TorchObjective(_beale_np, 2)
    x = obj.point([0.7, 0.4], tctx)
    v = torch.tensor([0.3, -0.5], dtype=torch.float64)
    J = sam.du_matrix(obj, x, tctx)
    assert torch.allclose(sam.du_matvec(obj, x, v, tctx), J @ v, atol=1e-12)
    assert torch.allclose(sam.du_rmatvec(obj, x, v, tctx), J.T @ v, atol=1e-12)
    assert torch.allclose(sam.sym_du_matvec(obj, x, v, tctx), (J + J.T) @ v / 2, atol=1e-12)
    DF = sam.shifted_jacobian(obj, x, 0.9, tctx)
    assert torch.allclose(sam.shifted_jacobian_matvec(obj, x, 0.9, v, tctx), DF @ v, atol=1e-10)
    assert torch.allclose(sam.shifted_jacobian_rmatvec(obj, x, 0.9, v, tctx), DF.T @ v, atol=1e-10)
    H = sam.sam_hessian(obj, x, 0.9, tctx)
    assert torch.allclose(sam.sam_hessian_matvec(obj, x, 0.9, v, tctx), H @ v, atol=1e-9)


def test_du_eigenvalues_are_those_of_PHP_over_norm(fp):
    """Du = PH/n and PHP/n share their nonzero spectrum (u is in Du's left kernel)."""
    obj = zoo.get("ring3").objective
    x = obj.point([0.3, 0.2, -0.1], fp)
    gr = sam.gradient(obj, x, fp)
    P = np.eye(3) - np.outer(gr.u, gr.u)
    php = P @ obj.hess(x, fp) @ P / gr.norm
    ev_du = np.sort(np.linalg.eigvals(sam.du_matrix(obj, x, fp)).real)
    assert np.allclose(ev_du, np.linalg.eigvalsh(php), atol=1e-12)


@pytest.mark.parametrize("op_name,op", OPERATORS)
def test_sympy_objective_in_torch_context_matches_float64(op_name, op):
    obj = zoo.get("appendix_d").objective
    fp, tctx = get_context("float64"), get_context("torch", device="cpu")
    x = [1.25, 0.1]
    ref = np.asarray(op(obj, obj.point(x, fp), 2.8, fp), dtype=float)
    got = op(obj, obj.point(x, tctx), 2.8, tctx).detach().cpu().numpy()
    assert np.max(np.abs(got - ref)) <= 1e3 * fp.eps * max(1.0, float(np.max(np.abs(ref))))
