"""Proposition A.1: convex f has no hallucinated minimizer; ||grad f(x+)|| >= ||grad f(x)|| + mu rho."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from theorems import prop_a1 as P
from verify import zoo
from verify.ctx import get_context
from verify.errors import HypothesisError
from verify.objectives.parse import parse_number
from verify.core.sam import gradient

MP = get_context("mpmath", dps=30)
F64 = get_context("float64")


def test_module_contract():
    assert P.THEOREM == "Prop. A.1" and P.ORDER == 1.0 and P.TITLE and "convex" in P.__doc__


@pytest.mark.parametrize("name", ["convex_lse", "convex_lse3"])
def test_convex_zoo(name):
    z = zoo.get(name)
    cert = P.certify(z.objective, MP, box=((-2, 2),) * z.dim, mu="1/5", n_samples=16, n_starts=4)
    assert cert.passed, str(cert)
    assert cert.claim("no_zero_found").passed and cert.claim("ratio_ge_one").passed


def test_nonconvex_refused_and_control_fails():
    ring = zoo.get("ring").objective
    with pytest.raises(HypothesisError, match="not convex"):
        P.certify(ring, MP, box=((-1, 1),) * 2)
    cert = P.certify(ring, MP, box=((-1, 1),) * 2, rhos=("1/2", "3/2"), enforce=False,
                     n_samples=16, n_starts=6, expected=False)
    assert not cert.passed and cert.as_expected
    assert not cert.claim("no_zero_found").passed       # the ring does have such points
    assert not cert.claim("chain_strict").passed


def test_overstated_modulus_fails():
    z = zoo.get("convex_lse")
    cert = P.certify(z.objective, MP, box=((-2, 2),) * 2, mu="5", n_samples=12, n_starts=3,
                     expected=False)
    assert not cert.claim("ratio_bound").passed and cert.claim("ratio_ge_one").passed


small_int = st.integers(min_value=-3, max_value=3)


@st.composite
def convex_functions(draw):
    d = draw(st.integers(min_value=1, max_value=3))
    B = [[draw(small_int) for _ in range(d)] for _ in range(d)]
    shift = draw(st.integers(min_value=1, max_value=4))
    b = [draw(small_int) for _ in range(d)]
    k = draw(st.integers(min_value=1, max_value=3))
    rows = [[draw(small_int) for _ in range(d)] for _ in range(k)]
    weight = draw(st.integers(min_value=1, max_value=6))
    return P.convex_objective(B, shift, b, rows, weight)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(convex_functions())
def test_property_generated_convex(fm):
    obj, mu = fm
    cert = P.certify(obj, F64, box=((-3, 3),) * obj.dim, rhos=("1/4", "1", "3"), mu=mu,
                     n_samples=10, n_starts=3)
    assert cert.passed, str(cert)


@settings(max_examples=25, deadline=None)
@given(convex_functions(), st.lists(st.floats(-3, 3), min_size=3, max_size=3),
       st.floats(min_value=0.01, max_value=5))
def test_property_ratio_bound_pointwise(fm, xs, rho):
    obj, mu = fm
    x = obj.point(xs[: obj.dim], F64)
    if F64.norm(obj.grad(x, F64)) < 1e-8:
        return
    gr = gradient(obj, x, F64)
    gp = obj.grad(x + rho * gr.u, F64)
    mu_f = float(parse_number(mu))
    assert (gp @ gr.u) >= gr.norm + mu_f * rho - 1e-9 * (1 + gr.norm + rho)
    assert F64.norm(gp) / gr.norm >= 1 - 1e-12


def test_report_quick(tmp_path):
    certs = P.report_certificates(quick=True, figdir=tmp_path)
    assert all(c.as_expected for c in certs)
    assert sum(not c.expected for c in certs) >= 2
    assert all(c.example.startswith("negative control") for c in certs if not c.expected)
    assert certs[0].figures and (tmp_path / certs[0].figures[0]).exists()
