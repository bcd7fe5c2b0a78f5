"""Theorem 2.2: maximizer sets, the Lojasiewicz fit, Lemma A.9, and the construction."""
from __future__ import annotations

import mpmath
import pytest

from theorems import thm_2_2 as M
from verify import zoo
from verify.ctx import get_context
from verify.errors import HypothesisError
from verify.objectives.objective import SympyObjective
from conftest import assert_construction_residuals

MP = get_context("mpmath", dps=50)
TINY = mpmath.mpf("1e-45")


@pytest.fixture(scope="module")
def circle():
    return M.run_circle_max(MP, quick=True)


def test_module_contract():
    assert M.THEOREM == "Thm. 2.2" and M.ORDER == 2.2 and M.TITLE and "Lojasiewicz" in M.__doc__


def test_circle_passes(circle):
    cert = circle.certificate
    assert cert.passed, str(cert)
    assert_construction_residuals(circle, TINY)


def test_circle_closed_form(circle):
    # x_h = (-r2, 0) where r2^2 = s > 1 solves s (s - 3)^2 / 3 = 4/3 - eps; rho = sqrt 3 + r2
    mp = MP.mp
    eps = circle.eps
    s = mp.findroot(lambda s: s * (s - 3) ** 2 / 3 - (mp.mpf(4) / 3 - eps), 1.2)
    r2 = mp.sqrt(s)
    assert s > 1
    assert abs(circle.x_h[0] + r2) <= TINY and abs(circle.x_h[1]) <= TINY
    assert abs(circle.rho - (mp.sqrt(3) + r2)) <= TINY


def test_lojasiewicz_estimates(circle):
    o = circle.certificate.objects
    # near |x| = 1: f(X) - f ~ (s-1)^2 and ||grad f|| ~ 4 |s-1|, so q = 1/2 and C ~ 1/4
    assert abs(float(o["lojasiewicz_q"]) - 0.5) < 0.02
    assert 0.2 < float(o["lojasiewicz_C"]) < 0.4
    assert float(o["fit_r2"]) > 0.999
    for cid in ("lojasiewicz_inequality", "lemma_a9_gradient", "lemma_a9_outside"):
        assert circle.certificate.claim(cid).passed


def test_single_point_set():
    con = M.construct(zoo.get("ring").objective, ("1", "0"), M.MaximizerSet.single(("0", "0")),
                      MP, quick=True)
    assert con.certificate.passed
    r = MP.sqrt(1 - MP.sqrt(1 - con.eps))
    assert abs(con.rho - (1 + r)) <= TINY


def test_refusals():
    with pytest.raises(HypothesisError, match="real-analytic"):
        M.construct(zoo.get("appendix_d").objective, ("-31/20", "0"),
                    M.MaximizerSet.single(("0.38", "0")), MP)
    with pytest.raises(HypothesisError, match="real-analytic"):
        M.construct(SympyObjective("Abs(x) + y**2", "x,y"), ("0", "0"),
                    M.MaximizerSet.single(("0", "0")), MP)
    with pytest.raises(HypothesisError, match="convex"):
        M.construct(zoo.get("convex_lse").objective, ("0", "0"), M.MaximizerSet.single(("0", "0")), MP)
    with pytest.raises(HypothesisError, match="critical"):
        M.construct(zoo.get("circle_max").objective, ("0", "0"),
                    M.MaximizerSet.curve("2*cos(t),2*sin(t)"), MP)


def test_controls_fail(circle):
    from theorems import thm_2_1 as T
    certs = T.controls(circle, "circle")
    assert all(c.as_expected and not c.passed for c in certs)


def test_report_quick(tmp_path):
    certs = M.report_certificates(quick=True, figdir=tmp_path)
    assert all(c.as_expected for c in certs)
    assert sum(bool(c.refused) for c in certs) == 2
    assert certs[0].figures and (tmp_path / certs[0].figures[0]).exists()


def test_ellipse_set():
    con = M.run_ellipse(MP, quick=True)
    assert con.certificate.passed, str(con.certificate)
    assert abs(float(con.certificate.objects["lojasiewicz_q"]) - 0.5) < 0.02
    assert abs(con.x_h[1]) <= TINY and con.x_h[0] < -1.5   # on the major axis, outside the set
