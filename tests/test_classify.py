"""Point classification, including the paper's Appendix D example, with negative controls."""
import json

import pytest

from verify import zoo
from verify.core.classify import classify
from verify.cli import main
from verify.ctx import get_context

APPD = zoo.get("appendix_d").objective


@pytest.mark.parametrize("kind", ["float64", "mpmath"])
def test_appendix_d_point_is_a_hallucinated_minimizer(kind):
    ctx = get_context(kind, dps=50)
    r = classify(APPD, ["1.25", "0"], "2.8", ctx)
    assert r.kind == "hallucinated_minimizer"
    assert float(r.shifted_grad_norm) < 1e-12
    assert abs(float(r.grad_norm) - 0.247) < 5e-4


def test_cli_classify_json_on_appendix_d(capsys):
    assert main(["classify", "--f", "zoo:appendix_d", "--x", "1.25,0", "--rho", "2.8", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("kind", "grad_norm", "shifted_grad_norm", "grad_ratio", "loss_gap"):
        assert key in out
    assert out["kind"] == "hallucinated_minimizer" and float(out["shifted_grad_norm"]) < 1e-12


def test_cli_with_explicit_expression_and_dps(capsys):
    ring = "(x**2+y**2-1)**2"
    assert main(["classify", "--f", ring, "--vars", "x,y", "--x", "-0.2,0", "--rho", "1.2",
                 "--dps", "40", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kind"] == "hallucinated_minimizer" and out["context"] == "mpmath"


@pytest.mark.parametrize("x,rho,kind", [
    (["1.25", "0"], "2.0", "not_stationary"),          # rho too small: x+ misses the valley
    (["1.25", "0.05"], "2.8", "not_stationary"),       # a perturbed point
])
def test_negative_controls(x, rho, kind, fp):
    assert classify(APPD, x, rho, fp).kind == kind


def test_critical_points_and_minimizers(fp):
    ring = zoo.get("ring").objective
    assert classify(ring, [1.0, 0.0], 1.0, fp).kind == "minimizer"
    r = classify(ring, [0.0, 0.0], 1.0, fp)
    assert (r.kind, r.subkind) == ("critical_point", "maximizer")
    assert classify(zoo.get("kim_saddle").objective, [0.0, 0.0], 1.0, fp).subkind == "saddle"


def test_convex_function_has_no_sam_stationary_point(fp):
    f = zoo.get("convex_lse").objective
    assert classify(f, [0.5, 0.3], 0.5, fp).kind == "not_stationary"


def test_isolated_hallucinated_minimizer_has_positive_definite_sam_hessian(mp50):
    """Tilted ring: solve y + rho u(y) = x* for the isolated global minimizer x*."""
    from verify import sam
    from verify.core.solve import newton
    z = zoo.get("tilted_ring")
    xs = z.critical("minimizers", 0, mp50)
    rho = mp50.scalar("1.3")
    res = newton(lambda y: y + rho * sam.unit_gradient(z.objective, y, mp50) - xs,
                 lambda y: mp50.eye(2) + rho * sam.du_matrix(z.objective, y, mp50),
                 mp50.vector(["0.25", "0"]), mp50)
    r = classify(z.objective, res.x, rho, mp50)
    assert r.kind == "hallucinated_minimizer" and r.subkind.startswith("isolated")
