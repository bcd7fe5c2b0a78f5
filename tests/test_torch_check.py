"""Matrix-free checks at a point vs dense linear algebra; symmetries; attraction; planes."""
import pytest
import torch

from verify.nn import point_check as mc
from verify import sam
from verify.errors import SamVerifyError
from verify.ctx.torch import TorchContext
from verify.nn.data import load_digits
from verify.objectives.torch_model import mlp_objective

CTX = TorchContext("cpu", "float64")


@pytest.fixture(scope="module")
def tiny():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny model: one thread avoids oversubscription; restored afterwards
    obj, th = mlp_objective(load_digits().subset(60), 4, 1, "tanh", seed=1)
    yield obj, th
    torch.set_num_threads(threads)


def test_matrix_free_matches_dense(tiny):
    obj, th = tiny
    assert obj.dim <= 3000
    out = mc.cross_check_dense(obj, th, 2.0, ctx=CTX)
    for name, (mf, dn, rel) in out.items():
        if name == "du_max_imag":
            assert dn < 1e-8          # Du has a real spectrum
        else:
            assert rel <= 1e-6, (name, mf, dn, rel)


def test_symmetries_are_exact_translations(tiny):
    obj, th = tiny
    V, info = mc.symmetry_basis(obj)
    assert info["total"] == 4 + 1 + 4 * info["input_dependencies"] == V.shape[1]
    assert info["input_dependencies"] >= len(info["constant_feature_indices"])
    assert torch.allclose(V.T @ V, torch.eye(V.shape[1], dtype=V.dtype), atol=1e-12)
    x = th + 0.3 * torch.randn(obj.dim, dtype=torch.float64)
    for j in range(0, V.shape[1], 3):
        assert abs(float(obj.value(x + 0.7 * V[:, j], CTX) - obj.value(x, CTX))) < 1e-12
        assert abs(float(sam.sam_value(obj, x + 0.7 * V[:, j], 1.0, CTX)
                         - sam.sam_value(obj, x, 1.0, CTX))) < 1e-10
    r = mc.symmetry_residuals(obj, x, V, CTX)
    assert r["max_hv_norm"] < 1e-12 and r["max_grad_dot"] < 1e-12
    assert mc.symmetry_residuals(obj, x, V, CTX, probes=4)["max_hv_norm"] < 1e-12
    # negative control: one direction that is not a symmetry spoils both forms of the check
    W = torch.cat([V, torch.linalg.qr(torch.randn(obj.dim, 1, dtype=torch.float64))[0]], 1)
    assert mc.symmetry_residuals(obj, x, W, CTX)["max_hv_norm"] > 1e-6
    assert mc.symmetry_residuals(obj, x, W, CTX, probes=4)["max_hv_norm"] > 1e-8
    null = mc.hessian_nullity_dense(obj, x, CTX)
    assert null["nullity"] >= info["total"]
    # the symmetries are exact zeros (rounding level), and at this generic point nothing else is:
    # a count one too high or too low (a missed or a spurious symmetry) fails
    assert null["rounding_zeros"] == info["total"]


def test_dense_hessian_helper(tiny):
    obj, th = tiny
    H = mc.dense_hessian(obj, th, CTX, chunk=50)
    assert torch.allclose(H, torch.func.hessian(obj.fn)(th), atol=1e-11)


def test_hessian_extremes_are_the_dense_ones(tiny):
    """Lanczos' lambda_min / lambda_max of H equal the dense eigenvalues to 1e-9 relative, with
    residuals at rounding level; control: the eigenvalue next to lambda_min (what a Lanczos run
    stopped early would report) is farther than the tolerance from it."""
    obj, th = tiny
    got = mc.hessian_extremes(obj, th, CTX)
    w = torch.linalg.eigvalsh(mc.dense_hessian(obj, th, CTX))
    scale = float(w.abs().max())
    assert abs(got["lambda_min"] - float(w[0])) <= 1e-9 * scale
    assert abs(got["lambda_max"] - float(w[-1])) <= 1e-9 * scale
    assert got["converged_min"] and got["converged_max"]
    assert max(got["residual_min"], got["residual_max"]) <= 1e-8 * scale
    assert abs(got["lambda_min"] - float(w[1])) > 1e-6 * scale     # the extreme, not a neighbour


def test_check_point_and_budget(tiny):
    obj, th = tiny
    pc = mc.check_point(obj, th, 2.0, ctx=CTX, sigma_budget=5)
    # a budget of 5 Krylov vectors: not converged, but the estimate is still an upper bound
    assert pc.sigma_min["converged"] is False and pc.sigma_min["vectors"] == 5
    assert pc.sigma_min["value"] is None and pc.converged["sigma_min"] is False
    # on the one Krylov space ||M x|| >= x^T M x: the estimate is never below 1 + rho * Ritz value
    assert pc.sigma_min["estimate"] >= max(0.0, pc.attraction_margin) - 1e-12
    # ... but an unconverged Ritz value gives no lower bound on the true sigma_min
    assert pc.converged["sym_du_min"] is False and pc.sigma_min["lower_bound"] is None
    assert pc.attraction_margin == pytest.approx(1 + 2.0 * pc.lambda_min_sym_du)
    assert pc.verdict in ("other", "unstable", "converged", "hallucinated")
    assert pc.nullity["nullity"] >= pc.symmetry["total"]
    d = pc.to_dict()
    assert isinstance(d["sam_map_eigs"][0], list)
    # the map eigenvalues with the symmetry directions deflated agree with dense algebra
    import numpy as np
    from verify.linalg.map_spectrum import heavy_ball_roots
    lam = torch.linalg.eigvals(sam.shifted_jacobian(obj, th, 2.0, CTX)).numpy()
    lam = lam[np.abs(lam) > 1e-8 * np.abs(lam).max()]
    hb = max(abs(r) for z in lam for r in heavy_ball_roots(complex(z), 0.01, 0.9))
    assert abs(pc.heavy_ball_eigs[0]) == pytest.approx(hb, rel=1e-9)
    assert pc.extra["map_status"][0]["deflated"] == pc.symmetry["total"]


def test_attraction_and_planes(tiny):
    obj, th = tiny
    at = mc.attraction_test(obj, th, 1.0, 0.1, 5, ctx=CTX, record_every=1)
    assert abs(at["dist0"] - 0.1) < 1e-12 and len(at["path"]) == 6
    pl = mc.random_planes(obj, th, 1.0, n=3, ctx=CTX)
    assert pl["f"].shape == (3, 3) and abs(pl["f"][1, 1] - float(obj.value(th, CTX))) < 1e-12
    tp = mc.trajectory_plane(obj, th, at["x0"], at["xN"], at["path"], 1.0, n=3, ctx=CTX)
    assert tp["trajectory"].shape == (6, 2)
    e = mc.filter_normalized_direction(obj, th)
    assert e.shape == th.shape


@pytest.mark.gpu
def test_cuda_matrix_free_matches_cpu(tiny):
    obj, th = tiny
    gctx = TorchContext("cuda", "float64")
    objg, thg = mlp_objective(load_digits().subset(60), 4, 1, "tanh", seed=1, device="cuda")
    a = mc.lambda_min_sym_du(obj, th, CTX)[0]
    b = mc.lambda_min_sym_du(objg, thg, gctx)[0]
    assert abs(a - b) < 1e-8 * max(1, abs(a))


def test_distance_to_stationary_set_vs_dense_least_squares():
    """LSMR on the matrix-free A = H(x+)(I + rho Du) through shared linearizations gives the
    minimum-norm Newton step of dense least squares; stopped early it says it did not converge."""
    from verify import SympyObjective
    obj = SympyObjective("(x**2+y**2-1)**2 + 3*x*y*z/10 + z**4 - z**2", ["x", "y", "z"])
    x = torch.tensor([0.4, -0.7, 0.5], dtype=torch.float64)
    r = mc.distance_to_stationary_set(obj, x, 0.3, CTX, atol=1e-14)
    A = sam.shifted_jacobian(obj, x, 0.3, CTX)
    F = sam.shifted_gradient(obj, x, 0.3, CTX)
    delta = torch.linalg.lstsq(A, -F[:, None], driver="gelsd").solution
    assert r["converged"] and r["F_norm"] == pytest.approx(float(F.norm()), rel=1e-14)
    assert r["distance_estimate"] == pytest.approx(float(delta.norm()), rel=1e-8)
    short = mc.distance_to_stationary_set(obj, x, 0.3, CTX, maxiter=1)
    assert not short["converged"] and short["relative_residual"] > 1e-3


def test_damped_distance_is_the_levenberg_marquardt_step():
    """With damping the step is the dense Levenberg-Marquardt (Tikhonov) solution at the lambda it
    reports (lambda = damping times a power-iteration estimate of ||A||, never above ||A||); the
    residual after the step is that of the linear model; stopped early it is not converged."""
    from verify import SympyObjective
    obj = SympyObjective("(x**2+y**2-1)**2 + 3*x*y*z/10 + z**4 - z**2", ["x", "y", "z"])
    x = torch.tensor([0.4, -0.7, 0.5], dtype=torch.float64)
    r = mc.distance_to_stationary_set(obj, x, 0.3, CTX, atol=1e-14, damping=0.3)
    A = sam.shifted_jacobian(obj, x, 0.3, CTX)
    F = sam.shifted_gradient(obj, x, 0.3, CTX)
    lam = r["lambda"]
    assert 0 < lam <= 0.3 * float(torch.linalg.matrix_norm(A, 2)) * (1 + 1e-12)
    delta = torch.linalg.solve(A.T @ A + lam ** 2 * torch.eye(3, dtype=torch.float64), -A.T @ F)
    assert r["converged"] and r["distance_estimate"] == pytest.approx(float(delta.norm()), rel=1e-8)
    assert r["residual_after"] == pytest.approx(float((F + A @ delta).norm() / F.norm()), rel=1e-6)
    undamped = mc.distance_to_stationary_set(obj, x, 0.3, CTX, atol=1e-14)
    assert r["distance_estimate"] < undamped["distance_estimate"]      # damping shortens the step
    assert r["products"] > 0
    short = mc.distance_to_stationary_set(obj, x, 0.3, CTX, maxiter=1, damping=0.3)
    assert not short["converged"]


def test_shared_linearizations_match_plain_hvps(tiny):
    obj, th = tiny
    xp = sam.perturbed_point(obj, th, 2.0, CTX)
    counted = mc.Counting(obj)
    shared = mc.SharedLinearizations(counted, (th, xp), CTX)
    v = torch.randn(obj.dim, dtype=torch.float64)
    for p in (th, th + 2.0 * sam.unit_gradient(obj, th, CTX)):     # x+ recomputed: matched by value
        assert torch.allclose(shared.hvp(p, v, CTX), obj.hvp(p, v, CTX), rtol=1e-12, atol=1e-14)
    assert counted.counts["hvp"] == counted.counts["hvp_shared"] == 2
    other = th + 1e-3
    assert torch.equal(shared.hvp(other, v, CTX), obj.hvp(other, v, CTX))   # falls through
    assert counted.counts["hvp"] == 3 and counted.counts["hvp_shared"] == 2
    assert shared.dim == obj.dim


def test_point_checks_refuse_bad_input(tiny):
    """Wrong length, an inf weight (which can leave f finite), bad rho and non-analytic models are
    refused with typed errors before any number is computed."""
    from verify.errors import HypothesisError, InvalidRhoError, NonFiniteError, SamVerifyError, ShapeError
    obj, th = tiny
    with pytest.raises(ShapeError, match="length"):
        mc.check_point(obj, th[:-1], 2.0, ctx=CTX)
    bad = th.clone()
    bad[0] = float("inf")
    with pytest.raises(NonFiniteError):
        mc.check_point(obj, bad, 2.0, ctx=CTX)
    with pytest.raises(NonFiniteError):
        mc.symmetry_residuals(obj, bad, mc.symmetry_basis(obj)[0], CTX)
    for rho in (0.0, -1.0, float("nan")):
        with pytest.raises(InvalidRhoError):
            mc.random_planes(obj, th, rho, n=3, ctx=CTX)
    with pytest.raises(SamVerifyError, match="radius"):
        mc.attraction_test(obj, th, 2.0, radius=0.0, steps=1, ctx=CTX)
    relu, th_r = mlp_objective(load_digits().subset(20), 3, 1, "relu", seed=0)
    elu, th_e = mlp_objective(load_digits().subset(20), 3, 1, "elu", seed=0)
    with pytest.raises(HypothesisError, match="real-analytic"):
        mc.check_point(relu, th_r, 2.0, ctx=CTX)
    with pytest.raises(HypothesisError, match="C2"):
        mc.cross_check_dense(elu, th_e, 2.0, ctx=CTX)
    with pytest.raises(HypothesisError):
        mc.attraction_test(relu, th_r, 2.0, steps=1, ctx=CTX)
    mc.attraction_test(relu, th_r, 2.0, steps=1, ctx=CTX, estimate_distance=False)  # gradients only


def test_symmetries_include_affine_input_dependencies():
    """On the first 400 digits pixels 48 and 56 move together without being constant: the null
    space of [X 1] has one more dimension than the constant pixels give, and the direction it
    adds is an exact symmetry that a constant-pixel count would miss (the control)."""
    obj, th = mlp_objective(load_digits().subset(400), 3, 1, "tanh", seed=0)
    null = mc.input_affine_null_space(obj.X)
    const = mc.symmetry_basis(obj)[1]["constant_feature_indices"]
    assert null.shape[0] == len(const) + 1
    A = torch.cat([obj.X, torch.ones(len(obj.X), 1, dtype=obj.X.dtype)], 1)
    assert float((A @ null.T).abs().max()) < 1e-12
    V, info = mc.symmetry_basis(obj)
    assert info["total"] == 3 + 1 + 3 * null.shape[0]
    assert torch.allclose(V.T @ V, torch.eye(V.shape[1], dtype=V.dtype), atol=1e-12)
    r = mc.symmetry_residuals(obj, th, V, CTX)
    assert r["max_hv_norm"] < 1e-12 and r["max_grad_dot"] < 1e-12
    # the non-constant dependency: a direction outside the span of the constant-pixel ones
    extra = null[[i for i in range(null.shape[0])
                  if float(null[i, :64][[j for j in range(64) if j not in const]].abs().max()) > 1e-6]]
    assert extra.shape[0] >= 1
    x = th + 0.2 * torch.randn(obj.dim, dtype=torch.float64)
    shift = torch.zeros(obj.dim, dtype=torch.float64)
    shift[:64] = extra[0, :64]                                # W_1[0, :] += v
    shift[3 * 64] = extra[0, 64]                              # b_1[0] += v0
    assert abs(float(obj.value(x + 0.7 * shift, CTX) - obj.value(x, CTX))) < 1e-12
    # a random input direction is no symmetry: the same check sees it
    shift[:64] = torch.randn(64, dtype=torch.float64)
    assert abs(float(obj.value(x + 0.7 * shift, CTX) - obj.value(x, CTX))) > 1e-6


def test_structured_symmetry_space_equals_its_dense_rows(tiny):
    """SymmetrySpace's coefficients / combine / project (no k x d storage) agree with the dense
    basis; a basis that is off by one direction (the control) does not."""
    obj, th = tiny
    space = mc.symmetry_space(obj)
    V = space.dense_rows().T
    Z = torch.randn(3, obj.dim, dtype=torch.float64)
    C = torch.randn(3, space.dim, dtype=torch.float64)
    assert torch.allclose(space.coefficients(Z), Z @ V, atol=1e-13)
    assert torch.allclose(space.combine(C), C @ V.T, atol=1e-13)
    assert torch.allclose(space.project(Z), Z @ V @ V.T, atol=1e-13)
    W = V.clone()
    W[:, -1] = torch.linalg.qr(torch.randn(obj.dim, 1, dtype=torch.float64))[0][:, 0]
    assert not torch.allclose(space.project(Z), Z @ W @ W.T, atol=1e-6)


def test_leading_map_eigenvalues_are_the_dense_ones(tiny):
    """k_eigs = 3: the three leading SAM-map and heavy-ball moduli equal the dense ones (the run
    certifies the Ritz values that set them); more than certified is refused, not guessed."""
    import numpy as np
    from verify.linalg.map_spectrum import heavy_ball_roots
    obj, th = tiny
    pc = mc.check_point(obj, th, 2.0, ctx=CTX, k_eigs=3)
    lam = torch.linalg.eigvals(sam.shifted_jacobian(obj, th, 2.0, CTX)).numpy()
    lam = lam[np.abs(lam) > 1e-8 * np.abs(lam).max()]
    sam_top = sorted(np.abs(1 - 0.01 * lam))[::-1][:3]
    hb_top = sorted(abs(r) for z in lam for r in heavy_ball_roots(complex(z), 0.01, 0.9))[::-1][:3]
    assert pc.converged["sam_map"]
    assert [abs(z) for z in pc.sam_map_eigs] == pytest.approx(sam_top, rel=1e-9)
    assert [abs(z) for z in pc.heavy_ball_eigs] == pytest.approx(hb_top, rel=1e-9)
    ms = mc.sam_map_spectrum(obj, th, 2.0, 0.01, CTX, 0.9, k=1)
    with pytest.raises(SamVerifyError, match="certified"):
        ms.heavy_ball_eigs(3)


def test_checks_refuse_float32_and_models_outside_the_symmetry_derivation():
    import torch.nn as nn
    from verify.errors import PrecisionError
    from verify.objectives.torch_model import ModelObjective
    d = load_digits().subset(30)
    X, y = torch.as_tensor(d.X_train), torch.as_tensor(d.y_train)
    obj32, th32 = mlp_objective(d, 3, 1, "tanh", seed=0)
    with pytest.raises(PrecisionError, match="float64"):
        mc.check_point(obj32, th32.float(), 0.5, ctx=TorchContext("cpu", "float32"))
    squashed = ModelObjective(nn.Sequential(nn.Linear(64, 3), nn.Tanh(), nn.Linear(3, 10), nn.Tanh()), X, y)
    no_bias = ModelObjective(nn.Sequential(nn.Linear(64, 3, bias=False), nn.Tanh(), nn.Linear(3, 10)), X, y)
    for obj in (squashed, no_bias):
        with pytest.raises(SamVerifyError, match="nn.Sequential MLPs"):
            mc.symmetry_space(obj)
    plain = ModelObjective(nn.Sequential(nn.Linear(64, 3), nn.Tanh(), nn.Linear(3, 10)), X, y)
    assert mc.symmetry_space(plain).dim == 3 + 1 + 3 * mc.input_affine_null_space(plain.X).shape[0]
