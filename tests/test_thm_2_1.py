"""Theorem 2.1: the Lagrange construction of x_h, at 50 digits, with its negative controls."""
from __future__ import annotations

import mpmath
import pytest

from theorems import thm_2_1 as T
from verify import zoo
from verify.ctx import get_context
from verify.errors import HypothesisError
from verify.objectives.objective import SympyObjective
from verify.core.sam import gradient

from conftest import assert_construction_residuals

MP50 = get_context("mpmath", dps=50)
TINY = mpmath.mpf("1e-45")


@pytest.fixture(scope="module")
def built():
    return {ex["zoo"]: T.run_zoo(ex["zoo"], MP50, x_star=ex["x_star"], x_max=ex["x_max"],
                                 closed_form=ex["closed_form"], n_dirs=512)
            for ex in T.EXAMPLES}


def test_module_contract():
    assert T.THEOREM == "Thm. 2.1" and T.ORDER == 2.1 and T.TITLE
    assert "Lagrange" in T.__doc__ and callable(T.report_certificates)


@pytest.mark.parametrize("name", [ex["zoo"] for ex in T.EXAMPLES])
def test_construction_passes_at_50_digits(built, name):
    con = built[name]
    cert = con.certificate
    assert cert.passed, str(cert)
    ctx = con.ctx
    assert_construction_residuals(con, TINY)
    # sign convention: 2 (x_star - x_h) = lambda grad f(x_h) with lambda > 0
    g = con.objective.grad(con.x_h, ctx)
    assert con.lam > 0
    assert ctx.norm(2 * (con.x_star - con.x_h) - con.lam * g) <= TINY
    assert "attraction_margin" in cert.objects


def test_three_2d_and_one_3d(built):
    dims = [built[n].objective.dim for n in built if built[n].certificate.passed]
    assert dims.count(2) >= 3 and dims.count(3) >= 1


@pytest.mark.parametrize("name", ["ring", "ring3"])
def test_ring_closed_form(built, name):
    con = built[name]
    ctx = con.ctx
    r = ctx.sqrt(1 - ctx.sqrt(1 - con.eps))
    x_cf = -r * con.x_star / ctx.norm(con.x_star)
    assert ctx.norm(con.x_h - x_cf) <= TINY
    assert abs(con.rho - (1 + r)) <= TINY
    # Sym Du(x_h) = -P / r_eps, so 1 + rho lambda_min = -1 / r_eps
    assert abs(con.certificate.objects["attraction_margin"] + 1 / r) <= TINY
    assert con.certificate.claim("closed_form_x_h").passed


@pytest.mark.parametrize("dps", [30, 100])
def test_other_precisions(dps):
    ctx = get_context("mpmath", dps=dps)
    con = T.run_zoo("tilted_ring", ctx, n_dirs=256)
    assert con.certificate.passed
    assert ctx.to_float(ctx.norm(con.x_h + con.rho * gradient(con.objective, con.x_h, ctx).u
                                 - con.x_star)) < 10.0 ** (5 - dps)


def test_float64_context():
    con = T.run_zoo("ring", "float64", x_star=("1", "0"), closed_form=T.ring_closed_form, n_dirs=256)
    assert con.certificate.passed, str(con.certificate)


def test_negative_controls_fail_the_right_claims(built):
    con = built["ring"]
    certs = T.controls(con, "ring")
    failed = {c.example.split(":")[1].split("(")[0].strip(): {x.id for x in c.claims if not x.passed}
              for c in certs}
    assert all(not c.passed and not c.expected and c.as_expected for c in certs)
    assert {"identity", "f_sam_value"} <= failed["rho perturbed by +5%"]
    assert {"lagrange", "farthest_global"} <= failed["x_h moved along the level set"]
    assert "lemma_a4" in failed["multiplier sign flipped"]
    assert "grad_nonzero" in failed["x_h replaced by the maximizer"]
    assert failed["radius of C or N_delta shrunk below the extent of C_eps"] == {"lemma_a2"}


def test_convex_refused():
    z = zoo.get("convex_lse")
    with pytest.raises(HypothesisError, match="convex"):
        T.construct(z.objective, ("0", "0"), ("0", "0"), MP50)


def test_saddle_and_noncritical_refused():
    z = zoo.get("double_well2")
    with pytest.raises(HypothesisError, match="saddle"):
        T.construct(z.objective, ("1", "1"), ("1", "0"), MP50)
    with pytest.raises(HypothesisError, match="not a critical point"):
        T.construct(z.objective, ("1", "1"), ("1/2", "0"), MP50)


def test_eps_rule_enforced():
    z = zoo.get("ring")
    with pytest.raises(HypothesisError, match="eps"):
        T.construct(z.objective, ("1", "0"), ("0", "0"), MP50, eps="2")
    con = T.construct(z.objective, ("1", "0"), ("0", "0"), MP50, eps="1/4", n_dirs=256,
                      closed_form=T.ring_closed_form)
    assert con.certificate.passed


def test_not_global_minimizer_refused():
    f = SympyObjective("(x**2 - 1)**2 + (y**2 - 1)**2 + x/5", "x,y")
    from verify.core.solve import critical_point
    xs = critical_point(f, f.point(["0.97", "1"], MP50), MP50).x
    xm = critical_point(f, f.point(["0.05", "0"], MP50), MP50).x
    with pytest.raises(HypothesisError, match="global"):
        T.construct(f, xs, xm, MP50, box=((-2.5, 2.5),) * 2)


def test_degenerate_maximizer_certified_by_ball():
    # 1 - t + t^2 with t = x^4 + y^4: the maximizer 0 has a zero Hessian; minimizers on t = 1/2
    f = SympyObjective("1 - (x**4 + y**4) + (x**4 + y**4)**2", "x,y")
    con = T.construct(f, ("(1/2)**(1/4)", "0"), ("0", "0"), MP50, n_dirs=512,
                      box=((-1.5, 1.5),) * 2)
    cert = con.certificate
    assert cert.passed, str(cert)
    iso = next(h for h in cert.hypotheses if h.name == "x_max isolated local maximizer")
    assert iso.met and "degenerate" in iso.evidence


def test_report_quick(tmp_path):
    certs = T.report_certificates(quick=True, figdir=tmp_path)
    assert all(c.as_expected for c in certs)
    assert any(c.example.startswith("negative control") for c in certs)
    assert any(c.refused for c in certs)
    figs = [f for c in certs for f in c.figures]
    assert figs and all((tmp_path / f).exists() for f in figs)
    assert any(c.findings for c in certs)  # the multiplier-sign remark


@pytest.mark.parametrize("name", [ex["zoo"] for ex in T.EXAMPLES])
def test_section3_quantity_nonpositive_at_farthest_point(built, name):
    # second-order condition of the farthest-point problem => 1 + rho lambda_min(Sym Du(x_h)) <= 0
    cert = built[name].certificate
    value = cert.objects["attraction_margin"]
    top = cert.objects["lambda_max_tangent"]
    assert value <= top / 2 + built[name].ctx.tol(10, 1024) and value < 0
    assert cert.claim("sym_du_vs_second_order").passed
    assert any(f.source.startswith("Thm 3.2") for f in cert.findings)
