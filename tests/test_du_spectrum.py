"""The one-Krylov-space spectral quantities of Du and the block Arnoldi SAM-map analysis, against
dense linear algebra on small analytic objectives, with negative controls."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from verify import sam
from verify.linalg.block_krylov import BlockKrylov
from verify.ctx.torch import TorchContext
from verify.linalg.du_spectrum import du_spectrum
from verify.errors import SamVerifyError
from verify.linalg.map_spectrum import heavy_ball_roots, sam_map_spectrum
from verify.objectives.objective import TorchObjective

CTX = TorchContext("cpu", "float64")
D = 40


def quartic(seed=0):
    """f(x) = 1/2 x^T A x + 1/4 sum x_i^4 + b.x with an indefinite A: analytic, non-convex."""
    g = torch.Generator().manual_seed(seed)
    Q, _ = torch.linalg.qr(torch.randn(D, D, generator=g, dtype=torch.float64))
    A = Q @ torch.diag(torch.linspace(-2.0, 3.0, D, dtype=torch.float64)) @ Q.T
    b = torch.randn(D, generator=g, dtype=torch.float64)
    x = torch.randn(D, generator=g, dtype=torch.float64)
    fn = lambda z: 0.5 * z @ A @ z + 0.25 * (z ** 4).sum() + b @ z  # noqa: E731
    return TorchObjective(fn, D, smoothness="analytic", name="quartic"), x


def dense(obj, x, rho):
    gr = sam.gradient(obj, x, CTX)
    J = sam.du_matrix(obj, x, CTX, gr)
    M = torch.eye(D, dtype=torch.float64) + rho * J
    return {"sym": float(torch.linalg.eigvalsh((J + J.T) / 2)[0]),
            "du": torch.linalg.eigvals(J).real, "sigma": float(torch.linalg.svdvals(M)[-1])}


@pytest.mark.parametrize("block", [1, 3, 13])   # divisors of the 39-dimensional complement of u
def test_du_spectrum_matches_dense(block):
    obj, x = quartic()
    rho = 0.7
    sp = du_spectrum(obj, x, rho, CTX, block=block, tol=1e-12, max_vectors=D)
    dn = dense(obj, x, rho)
    assert sp.converged
    assert sp.sym_du_min.value == pytest.approx(dn["sym"], rel=1e-10)
    assert sp.du_min.value == pytest.approx(float(dn["du"].min()), rel=1e-10)
    assert sp.du_max.value == pytest.approx(float(dn["du"].max()), rel=1e-10)
    assert sp.sigma_min.value == pytest.approx(dn["sigma"], rel=1e-9)
    # the certified residual bounds the distance to the true singular value
    assert abs(sp.sigma_min.value - dn["sigma"]) <= sp.sigma_min.residual + 1e-12


def test_du_spectrum_negative_controls():
    obj, x = quartic()
    dn = dense(obj, x, 0.7)
    # another rho gives another sigma_min: the comparison above can fail
    assert abs(du_spectrum(obj, x, 0.9, CTX, tol=1e-12).sigma_min.value - dn["sigma"]) > 1e-3
    # a perturbed point gives another Sym Du spectrum
    y = x + 0.05 * torch.ones(D, dtype=torch.float64)
    assert abs(du_spectrum(obj, y, 0.7, CTX, tol=1e-12).sym_du_min.value - dn["sym"]) > 1e-4
    # a tiny budget: the estimate is an upper bound and is not called converged
    sp = du_spectrum(obj, x, 0.7, CTX, block=2, max_vectors=4)
    assert not sp.sigma_min.converged and sp.sigma_min.value >= dn["sigma"] - 1e-12


def test_du_spectrum_bad_input():
    obj, x = quartic()
    with pytest.raises(SamVerifyError, match="rho"):
        du_spectrum(obj, x, -1.0, CTX)
    with pytest.raises(SamVerifyError, match="rho"):
        du_spectrum(obj, x, float("nan"), CTX)
    crit = torch.zeros(D, dtype=torch.float64)
    zero = TorchObjective(lambda z: (z ** 2).sum(), D)
    with pytest.raises(SamVerifyError, match="grad f"):
        du_spectrum(zero, crit, 1.0, CTX)


def test_block_krylov_relation_and_breakdown():
    g = torch.Generator().manual_seed(3)
    B = torch.randn(30, 3, generator=g, dtype=torch.float64)
    A = B @ B.T                                      # rank 3: the Krylov space breaks down
    run = BlockKrylov(lambda X: X @ A.T, torch.randn(4, 30, generator=g, dtype=torch.float64), 20)
    run.extend(5)
    Q = run.basis()
    assert torch.allclose(Q @ Q.T, torch.eye(run.n, dtype=torch.float64), atol=1e-12)
    lhs = (Q @ A.T).T                                # A Q^T
    rhs = Q.T @ torch.as_tensor(run.projected()) + run.next_block().T @ torch.as_tensor(run.B) @ \
        torch.eye(run.n, dtype=torch.float64)[run.n - run.b:]
    assert torch.allclose(lhs, rhs, atol=1e-10)
    ev = np.linalg.eigvalsh((run.projected() + run.projected().T) / 2)
    assert np.allclose(np.sort(ev)[-3:], np.sort(np.linalg.eigvalsh(A.numpy()))[-3:], rtol=1e-10)
    with pytest.raises(SamVerifyError, match="NaN"):
        BlockKrylov(lambda X: X * float("nan"), torch.randn(2, 30, dtype=torch.float64), 10).extend()


def test_heavy_ball_roots_match_the_2x2_block():
    eta, mu = 0.1, 0.9
    for lam in (-0.3, 0.0, 2.5, 1.0 + 0.5j):
        blk = np.array([[1 - eta * lam, -eta * mu], [lam, mu]], dtype=complex)
        want = np.linalg.eigvals(blk)
        for z in heavy_ball_roots(lam, eta, mu):
            assert np.abs(want - z).min() < 1e-12
    # a wrong sign of the momentum term would not match
    lam = 2.5
    wrong = np.linalg.eigvals(np.array([[1 - eta * lam, eta * mu], [lam, mu]]))
    assert max(abs(r) for r in heavy_ball_roots(lam, eta, mu)) != pytest.approx(max(abs(wrong)))


def test_sam_map_spectrum_matches_dense():
    obj, x = quartic(1)
    rho, eta, mu = 0.5, 0.05, 0.9
    A = sam.shifted_jacobian(obj, x, rho, CTX).numpy()
    lam = np.linalg.eigvals(A)
    ms = sam_map_spectrum(obj, x, rho, eta, mu, CTX, block=4, max_vectors=D, tol=1e-10)
    assert ms.converged
    left = min(z.real for z, _ in ms.converged_ritz())
    assert left == pytest.approx(lam.real.min(), rel=1e-9)
    assert abs(ms.sam_eigs(1)[0]) == pytest.approx(np.abs(1 - eta * lam).max(), rel=1e-9)
    hb = max(abs(r) for z in lam for r in heavy_ball_roots(complex(z), eta, mu))
    assert abs(ms.heavy_ball_eigs(1)[0]) == pytest.approx(hb, rel=1e-9)
    assert math.isfinite(ms.as_dict()["ritz"][0]["residual"])


@settings(max_examples=25, deadline=None)
@given(n=st.integers(6, 40), b=st.integers(1, 5), steps=st.integers(1, 6), seed=st.integers(0, 10 ** 6),
       symmetric=st.booleans())
def test_block_krylov_relation_property(n, b, steps, seed, symmetric):
    """For any operator, block size and length: orthonormal rows, and A Q^T = Q^T T + Q_next^T B E^T."""
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(n, n, generator=g, dtype=torch.float64)
    if symmetric:
        A = A + A.T
    b = min(b, n)
    # symmetric: the Lanczos reorthogonalization (local pass, then full)
    run = BlockKrylov(lambda X: X @ A.T, torch.randn(b, n, generator=g, dtype=torch.float64), n,
                      symmetric=symmetric)
    run.extend(steps)
    Q, k = run.basis(), run.n
    assert torch.allclose(Q @ Q.T, torch.eye(k, dtype=torch.float64), atol=1e-10)
    E = torch.eye(k, dtype=torch.float64)[k - b:]
    rhs = Q.T @ torch.as_tensor(run.projected()) + run.next_block().T @ torch.as_tensor(run.B) @ E
    assert torch.allclose(A @ Q.T, rhs, atol=1e-9 * float(A.norm()))


def test_block_krylov_refuses_a_basis_that_does_not_fit(monkeypatch):
    monkeypatch.setenv("SAM_VERIFY_KRYLOV_MAX_GB", "1e-6")
    with pytest.raises(SamVerifyError, match="GiB"):
        BlockKrylov(lambda X: X, torch.randn(4, 1000, dtype=torch.float64), 400)
    monkeypatch.setenv("SAM_VERIFY_KRYLOV_MAX_GB", "1")          # the control: fits
    BlockKrylov(lambda X: X, torch.randn(4, 1000, dtype=torch.float64), 400)


def test_du_spectrum_on_a_sympy_objective_in_the_torch_context():
    """The generic hessian_rows (one hvp per row) serves sympy objectives too."""
    from verify import SympyObjective
    obj = SympyObjective("(x**2+y**2-1)**2 + 3*x*y*z/10 + z**4 - z**2", ["x", "y", "z"])
    x = torch.tensor([0.4, -0.7, 0.5], dtype=torch.float64)
    sp = du_spectrum(obj, x, 0.8, CTX, tol=1e-12, max_vectors=10)
    gr = sam.gradient(obj, x, CTX)
    J = sam.du_matrix(obj, x, CTX, gr)
    M = torch.eye(3, dtype=torch.float64) + 0.8 * J
    assert sp.converged
    assert sp.sigma_min.value == pytest.approx(float(torch.linalg.svdvals(M)[-1]), rel=1e-12)
    assert sp.sym_du_min.value == pytest.approx(float(torch.linalg.eigvalsh((J + J.T) / 2)[0]), rel=1e-12)


def test_map_convergence_needs_the_ritz_value_that_sets_the_radius():
    """With a complex spectrum the heavy-ball radius can come from an eigenvalue that is neither
    leftmost nor largest in modulus: until that Ritz value converges the run is not converged."""
    from verify.linalg.map_spectrum import MapSpectrum
    eta, mu = 0.01, 0.9
    left, big, cplx = -1e-3 + 0j, 5.0 + 0j, 1e-3 + 0.05j
    radius = lambda lam: max(abs(z) for z in heavy_ball_roots(lam, eta, mu))  # noqa: E731
    assert radius(cplx) > radius(left) and radius(cplx) > radius(big)
    assert cplx.real > left.real and abs(cplx) < abs(big)

    def spec(res_cplx):
        return MapSpectrum(eta, mu, [(left, 1e-12), (big, 1e-12), (cplx, res_cplx)], 1e-8, 30, 0,
                           steady=True)
    assert not spec(1e-3).converged            # the deciding value is still moving
    assert spec(1e-12).converged
    assert abs(spec(1e-12).heavy_ball_eigs(1)[0]) == pytest.approx(radius(cplx))


@pytest.mark.parametrize("symmetric", [True, False])
def test_block_krylov_breakdown_with_single_vectors(symmetric):
    """Block size 1 on a low-rank operator: the Krylov space is used up after rank + 1 vectors;
    the rounding left then is not taken as a direction (it would wreck orthogonality): the run
    goes on with random directions and keeps the Arnoldi relation."""
    g = torch.Generator().manual_seed(5)
    B = torch.randn(60, 12, generator=g, dtype=torch.float64)
    A = B @ B.T if symmetric else B @ torch.randn(12, 60, generator=g, dtype=torch.float64)
    run = BlockKrylov(lambda X: X @ A.T, torch.randn(1, 60, generator=g, dtype=torch.float64), 40,
                      symmetric=symmetric)
    run.extend(40)
    Q, k = run.basis(), run.n
    assert k == 40
    assert torch.allclose(Q @ Q.T, torch.eye(k, dtype=torch.float64), atol=1e-10)
    E = torch.eye(k, dtype=torch.float64)[k - 1:]
    rhs = Q.T @ torch.as_tensor(run.projected()) + run.next_block().T @ torch.as_tensor(run.B) @ E
    assert torch.allclose(A @ Q.T, rhs, atol=1e-9 * float(A.norm()))
    ritz = np.linalg.eigvals(run.projected())
    true = np.linalg.eigvals(A.numpy())
    top = sorted(np.abs(true))[-12:]
    assert np.allclose(sorted(np.abs(ritz))[-12:], top, rtol=1e-8)


def test_projection_falls_back_to_dense_when_not_banded():
    """Near a breakdown more than rounding can land outside the Lanczos band: the run then keeps
    the projection whole (dense eigensolves) instead of dropping it or failing."""
    from types import SimpleNamespace
    from verify.linalg import du_spectrum as D
    A = np.diag(np.arange(1.0, 6.0)) + np.diag(np.full(4, 0.5), 1) + np.diag(np.full(4, 0.5), -1)
    pb = SimpleNamespace(dense=False)
    assert np.array_equal(D._Problem._banded(pb, A + 1e-14, 1) != 0, np.abs(A) > 0)  # rounding dropped
    assert pb.dense is False
    A[0, 4] = A[4, 0] = 1e-3                                      # more than rounding off the band
    assert np.array_equal(D._Problem._banded(pb, A, 1), A) and pb.dense is True
    with pytest.raises(D.NotBanded):
        D._drop_outside_band(A, 1)


def test_partial_reorthogonalization_keeps_the_basis_semi_orthogonal(monkeypatch):
    """Lanczos with partial reorthogonalization (Simon's omega recurrence) keeps |Q Q^T - I| near the
    level it is given with fewer full passes than full reorthogonalization, and the extreme Ritz
    values agree; the control: with the recurrence never asking for a pass, orthogonality is lost
    (which is what the recurrence is there to prevent)."""
    from verify.linalg import block_krylov as bk
    d = 600
    ev = torch.cat([torch.linspace(-5, 10, d - 3), torch.tensor([20., 30., -10.])]).double()
    start = torch.randn(1, d, dtype=torch.float64, generator=torch.Generator().manual_seed(0))

    def run(reorth):
        r = bk.BlockKrylov(lambda X: X * ev, start, 200, symmetric=True, reorth=reorth, orth_level=1e-10)
        r.extend(200)
        Q = r.Q[:r.n + 1]
        orth = float((Q @ Q.T - torch.eye(r.n + 1, dtype=torch.float64)).abs().max())
        T = r.projected()
        return r, orth, np.linalg.eigvalsh((T + T.T) / 2)
    full, orth_full, e_full = run("full")
    part, orth_part, e_part = run("partial")
    assert orth_full < 1e-13 and orth_part < 1e-9
    assert part.full_passes < 0.7 * full.full_passes
    assert np.allclose(e_part[[0, 1, -2, -1]], e_full[[0, 1, -2, -1]], rtol=0, atol=1e-10)
    assert e_part[0] == pytest.approx(-10) and e_part[-1] == pytest.approx(30)
    monkeypatch.setattr(bk._Semiorthogonality, "needs_full", lambda *a: False)
    _, orth_none, _ = run("partial")
    assert orth_none > 1e-4


# -- the core's operators carry the Krylov run (no second copy of I + rho Du here) -------------------
def _krylov_form(point, vectors=12):
    """A Lanczos run of P H P = ||g|| Du on the complement of u, through the core's row operator,
    and the core's form of I + rho Du in its basis, with the bases it maps between."""
    from verify.core.operators import SamPoint  # noqa: F401 (the type of ``point``)
    n_g, u = float(point.grad_norm), point.u.reshape(1, -1)
    w = n_g * point.Du.matrows(u)
    run = BlockKrylov(lambda X: n_g * point.Du.matrows(X), w.clone(), vectors, constraints=u,
                      symmetric=True, reorth="full")
    run.extend(vectors)
    Q, Qn = run.basis(), run.next_block()
    R = point.i_plus_rho_du_in_krylov_basis((Q @ w[0]).numpy(), run.projected(), run.B)
    return R, torch.cat([u, Q]), torch.cat([u, Q, Qn])


@pytest.mark.parametrize("rho", [0.7, 2.5])
def test_krylov_form_of_i_plus_rho_du_matches_dense(rho):
    """(I + rho Du)[u; Q]^T = [u; Q; Q_next]^T R on a partial run (12 of 39 vectors), against the
    dense matrix; the row forms of Du, Du^T and (I + rho Du)^T against the dense ones too."""
    from verify.core.operators import SamPoint
    obj, x = quartic()
    point = SamPoint(obj, x, rho, CTX)
    M = point.I_plus_rho_Du.dense()
    R, basis_in, basis_out = _krylov_form(point)
    assert R.shape == (1 + 12 + 1, 1 + 12)
    err = (M @ basis_in.T - basis_out.T @ torch.as_tensor(R)).abs().max()
    assert float(err) <= 1e-12 * float(M.abs().max())
    X = torch.randn(3, D, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    J = point.Du.dense()
    assert torch.allclose(point.Du.matrows(X), X @ J.T, rtol=0, atol=1e-12)
    assert torch.allclose(point.Du.rmatrows(X), X @ J, rtol=0, atol=1e-12)
    assert torch.allclose(point.I_plus_rho_Du.rmatrows(X), X @ M, rtol=0, atol=1e-12)


def test_krylov_form_negative_control():
    """The form built at another radius does not reproduce I + rho Du: the check above can fail."""
    from verify.core.operators import SamPoint
    obj, x = quartic()
    M = SamPoint(obj, x, 0.7, CTX).I_plus_rho_Du.dense()
    R, basis_in, basis_out = _krylov_form(SamPoint(obj, x, 0.9, CTX))
    assert float((M @ basis_in.T - basis_out.T @ torch.as_tensor(R)).abs().max()) > 1e-3


def test_du_spectrum_takes_its_products_from_the_core_operators():
    """No Hessian product and no I + c T in du_spectrum itself: both come from SamPoint."""
    import inspect
    from verify.linalg import du_spectrum as module
    source = inspect.getsource(module)
    assert "hessian_rows" not in source and "np.eye" not in source and "SamPoint" in source
