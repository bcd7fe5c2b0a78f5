"""Theorem 3.2 / Lemma B.2 / Corollary B.3: the paper's condition, the proof's constants, the audited
SAM run and the exact linearized criterion, against closed forms on the ring and circle_max."""
import math

import pytest

from theorems import thm_3_2 as T
from verify import zoo
from verify.ctx import get_context


@pytest.fixture(scope="module")
def fp():
    return get_context("float64")


@pytest.fixture(scope="module")
def ring_H(fp):
    return T.zoo_manifold_H("ring", 1.5, fp, guess=(-0.5, 0.0), half_width=3.0, n_steps=4)


def test_ring_condition_and_exact_spectrum_closed_form(fp, ring_H):
    # Du = -P/r on the circle r = rho - 1: 1 + rho lambda_min = 1 - rho/(rho-1) = -2; H(y+) = 8 e_r e_r^T
    y = ring_H.points[3]
    assert abs(fp.to_float(T.paper_condition(ring_H.obj, y, 1.5, fp)) + 2) < 1e-12
    ex = T.exact_criterion(ring_H.obj, y, 1.5, 0.1, fp, 1, ring_H.tangent(3))
    assert abs(ex.mu[0][0] - 8) < 1e-10 and abs(ex.eta_max - 0.25) < 1e-12
    assert abs(ex.rate - 0.2) < 1e-10 and ex.tangent_residual < 1e-12


def test_distance_to_H_two_ways(fp, ring_H):
    x = fp.vector([0.3, 0.55])
    assert abs(fp.to_float(ring_H.distance(x)) - abs(math.hypot(0.3, 0.55) - 0.5)) < 1e-12


def test_ring_outside_the_hypotheses_but_attracted(fp):
    c = T.example_ring(fp, quick=True)
    assert not c.hypotheses_met and "does not apply" in c.objects["paper_verdict"]
    assert c.claim("converges").passed and c.claim("exact_matches_observed").passed
    assert c.claim("rate_matches").passed
    assert any("Corollary B.3" in f.source for f in c.findings)
    assert c.as_expected


def test_circle_max_applies_converges_and_the_papers_L_fails(fp):
    c = T.example_circle_max(fp, quick=True)
    assert c.hypotheses_met
    assert c.claim("converges").passed and c.claim("rate_matches").passed
    assert c.claim("descent_inequality_L_SAM").passed
    assert not c.claim("descent_inequality_paper_L").passed       # the proof's step, audited
    assert any("Theorem 3.2, proof" in f.source for f in c.findings)
    const = c.objects["constants"]
    assert float(const["L_SAM (max ||Hess f_SAM|| on N_delta(H), sampled)"]) > \
        float(const["L (max ||Hess f|| on N_delta(H), sampled)"])


def test_negative_control_repelled_isolated_point(fp):
    c = T.example_tilted_ring(fp, quick=True)
    assert not c.expected and c.as_expected and c.example.startswith("negative control:")
    assert c.objects["exact_verdict"].startswith("repels")
    assert c.objects["observed"] == "repelled from H"
    assert c.claim("exact_matches_observed").passed and not c.claim("converges").passed
    assert c.claim("lemma_B2_isolated").passed
    assert c.claim("construction_second_order").passed


def test_negative_control_step_above_bound(fp):
    c = T.example_step_too_large(fp, quick=True)
    assert not c.expected and c.as_expected
    assert c.objects["observed"] == "repelled from H"
    assert c.claim("exact_matches_observed").passed


def test_mpmath_context_runs_the_audit():
    ctx = get_context("mpmath", dps=30)
    H = T.zoo_manifold_H("ring", "3/2", ctx, guess=(-0.5, 0.0), half_width=1.0, n_steps=2)
    c = T.certify(H, 0.2, steps=120, quick=True, constructed=True, expected=False)
    assert c.claim("H_stationary").passed and c.claim("exact_matches_observed").passed
    assert float(c.objects["paper_condition_min_on_H"]) == pytest.approx(-2, abs=1e-12)


def test_report_certificates_quick(tmp_path):
    certs = T.report_certificates(quick=True, figdir=tmp_path)
    assert len(certs) >= 5 and all(c.figures for c in certs)
    for c in certs:
        c.to_json()
    assert sum(1 for c in certs if not c.expected) >= 3


def test_certify_construction_isolated_and_manifold(fp):
    from types import SimpleNamespace
    from theorems import thm_3_1 as T1
    zf = zoo.get("tilted_ring")
    obj = zf.objective
    xs = zf.critical("minimizers", 0, fp)
    H = T.isolated_H(obj, xs, 1.5, fp, guess=(0.48, 0.0))
    cons = SimpleNamespace(objective=obj, ctx=fp, x_star=xs, x_h=H.points[0], rho=1.5)
    c1 = T1.certify_construction(cons)
    assert c1.passed and c1.objects["dimension"] == 0 and c1.claim("isolated").passed
    c2 = T.certify_construction(cons)
    assert c2.as_expected and c2.objects["exact_verdict"].startswith("repels")
    ring = zoo.get("ring").objective
    cons = SimpleNamespace(objective=ring, ctx=fp, x_star=fp.vector([1.0, 0.0]),
                           x_h=fp.vector([-0.5, 0.0]), rho=1.5)
    c3 = T.certify_construction(cons)
    assert c3.as_expected and c3.objects["observed"].startswith("converged")
    assert any("Corollary B.3" in f.source for f in c3.findings)


def test_elliptic_ring_curve_attracts_on_one_arc_and_repels_on_another(fp):
    attr, rep = T.example_elliptic_mixed(fp, quick=True)
    assert attr.objects["exact_verdict"].startswith("attracts")
    assert attr.objects["observed"].startswith("converged")
    assert rep.objects["exact_verdict"].startswith("repels")
    assert rep.objects["observed"].startswith("moved away from x_h")
    assert rep.claim("exact_matches_observed").passed and rep.claim("rate_matches").passed
    assert attr.as_expected and rep.as_expected


# -- the finding: isolated Theorem 2.1 points in 2-D repel SAM (sign of det(I + rho Du)) -------------
def _repulsion_finding(cert):
    return [f for f in cert.findings if "det(I + rho Du)" in f.statement]


@pytest.mark.parametrize("name", ["tilted_ring", "double_well2"])
def test_isolated_theorem_2_1_points_in_2d_have_negative_det_and_are_repelled(fp, name):
    from types import SimpleNamespace
    from theorems import thm_2_1 as T21
    con = T21.run_zoo(name, "float64")
    cons = SimpleNamespace(objective=con.objective, ctx=fp, x_star=con.x_star, x_h=con.x_h,
                           rho=con.rho)
    det = T.repulsion_determinants(con.objective, con.x_h, con.rho, fp)
    assert det.det_a < 0 and det.det_h_star > 0 and det.negative_eigenvalue < 0
    assert abs(det.det_a - det.one_plus_rho_kappa) <= 1e-9   # det = 1 + rho t^T Du t in 2-D
    c = T.certify_construction(cons)
    (f,) = _repulsion_finding(c)
    assert "repel" in f.statement and f"{det.det_a:.4g}" in f.evidence
    assert c.objects["exact_verdict"].startswith("repels")


def test_det_identity_holds_at_any_point_and_positive_det_gives_no_finding(fp):
    # 2-D identity det(I + rho Du) = 1 + rho t^T Du t at an arbitrary non-critical point
    obj = zoo.get("double_well2").objective
    x = fp.vector([0.3, -0.7])
    d = T.repulsion_determinants(obj, x, 0.8, fp)
    assert abs(d.det_a - d.one_plus_rho_kappa) <= 1e-12
    # negative control: the tilted circle_max x_h is not of the Theorem 2.1 type; det > 0 there, it
    # attracts, and no repulsion finding is stated
    c = T.example_tilted_circle_max(fp, quick=True)
    assert not _repulsion_finding(c)
    assert float(c.objects["det(I + rho Du(x_h))"]) > 0
