"""Corollary A.6: x_star only a local minimizer; Lemma A.5 and the radius r_star."""
from __future__ import annotations

import pytest

from theorems import cor_a6 as C
from verify.ctx import get_context

MP = get_context("mpmath", dps=50)


@pytest.fixture(scope="module")
def con():
    return C.run_example(MP, quick=True)


def test_module_contract():
    assert C.THEOREM == "Cor. A.6" and C.ORDER == 2.15 and C.TITLE and "Lemma A.5" in C.__doc__


def test_local_minimizer_example_passes(con):
    cert = con.certificate
    assert cert.passed, str(cert)
    names = [h.name for h in cert.hypotheses]
    assert "x_star local minimizer" in names and "x_star global minimizer" not in names
    for cid in ("lemma_a5", "r_star", "landing_in_delta_ball", "sam_min_r_star", "identity"):
        assert cert.claim(cid).passed


def test_r_star_formula(con):
    o = con.certificate.objects
    ctx = con.ctx
    expected = ctx.scalar(o["delta"]) / o["factor"]
    expected = min(expected, ctx.scalar(o["r"]))
    assert abs(o["r_star"] - expected) <= ctx.tol(1, 64)
    g = ctx.norm(con.objective.grad(con.x_h, ctx))
    assert abs(o["factor"] - (1 + 2 * con.rho * o["L"] / g)) <= ctx.tol(10, 64)


def test_x_star_not_global(con):
    # the example is meaningful: f takes smaller values than f(x_star) elsewhere
    ev = next(h.evidence for h in con.certificate.hypotheses if h.name == "x_star local minimizer")
    assert "<" in ev.split(";")[1]


def test_controls_fail():
    lo = C.run_example(MP, quick=True, L_override="0.05", expected=False)
    assert not lo.certificate.claim("lemma_a5").passed and lo.certificate.as_expected
    big = C.run_example(MP, quick=True, r_star_factor=40, expected=False)
    assert not big.certificate.claim("sam_min_r_star").passed and big.certificate.as_expected


def test_report_quick(tmp_path):
    certs = C.report_certificates(quick=True, figdir=tmp_path)
    assert all(c.as_expected for c in certs)
    assert all(c.example.startswith("negative control") for c in certs if not c.expected)
    assert certs[0].figures and (tmp_path / certs[0].figures[0]).exists()
