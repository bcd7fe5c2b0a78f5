"""``sam-verify construct``: text and JSON output, maximizer sets, refusals, Section 3 hooks."""
from __future__ import annotations

import json
import sys
import types

import mpmath

from verify.cli import main
from verify.core.results import Certificate


def run(capsys, *argv):
    rc = main(["construct", *argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_json_ring(capsys):
    rc, out, _ = run(capsys, "--f", "(x**2+y**2-1)**2", "--vars", "x,y", "--x-star", "1,0",
                     "--x-max", "0,0", "--json")
    assert rc == 0
    d = json.loads(out)
    assert d["passed"] is True and d["claims"]
    assert all(isinstance(v, str) for v in d["x_h"])
    assert isinstance(d["rho"], str) and isinstance(d["lambda"], str)
    with mpmath.workdps(50):
        eps = mpmath.mpf(d["eps"])
        r = mpmath.sqrt(1 - mpmath.sqrt(1 - eps))
        assert abs(mpmath.mpf(d["rho"]) - (1 + r)) < mpmath.mpf("1e-45")
        assert abs(mpmath.mpf(d["x_h"][0]) + r) < mpmath.mpf("1e-45")
    ids = {c["id"] for c in d["claims"]}
    assert {"lagrange", "lemma_a4", "identity", "f_sam_value", "farthest_second_order"} <= ids


def test_text_output_and_eps(capsys):
    rc, out, _ = run(capsys, "--f", "zoo:tilted_ring", "--x-star", "-1.0240,0", "--x-max", "0.05,0")
    # x_star / x_max not exact critical points: refused as not critical
    assert rc == 2
    rc, out, _ = run(capsys, "--f", "zoo:ring", "--x-star", "1,0", "--x-max", "0,0", "--eps", "1/4",
                     "--dps", "30")
    assert rc == 0 and "PASSED" in out and "0.25" in out


def test_max_set(capsys):
    rc, out, _ = run(capsys, "--f", "zoo:circle_max", "--x-star", "sqrt(3),0", "--max-set",
                     "cos(t),sin(t)", "--set-value", "4/3", "--json")
    assert rc == 0
    d = json.loads(out)
    assert d["theorem"] == "Thm. 2.2" and d["passed"]
    assert "lojasiewicz_q" in d["objects"]


def test_local_min(capsys):
    rc, out, _ = run(capsys, "--f", "(x**2-1)**2 + (y**2-1)**2", "--vars", "x,y", "--x-star", "1,1",
                     "--x-max", "0,0", "--local-min", "--json")
    assert rc == 0 and json.loads(out)["theorem"] == "Cor. A.6"


def test_refusals(capsys):
    rc, _, err = run(capsys, "--f", "log(exp(x)+exp(y)) + x**2 + y**2", "--vars", "x,y",
                     "--x-star", "-1/6,-1/6", "--x-max", "0,0")
    assert rc == 2 and "HypothesisError" in err and len(err.strip().splitlines()) == 1
    rc, _, err = run(capsys, "--f", "zoo:appendix_d", "--x-star", "-31/20,0", "--max-set",
                     "cos(t),sin(t)")
    assert rc == 2 and "real-analytic" in err
    rc, _, err = run(capsys, "--f", "zoo:ring", "--x-star", "1,0,0", "--x-max", "0,0")
    assert rc == 2 and "coordinates" in err


def _fake(monkeypatch, name, objects):
    mod = types.ModuleType(f"theorems.{name}")

    def certify_construction(con, **kw):
        c = Certificate(name, "fake", con.example, objects=dict(objects))
        c.claims = []
        return c.finish()
    mod.certify_construction = certify_construction
    monkeypatch.setitem(sys.modules, f"theorems.{name}", mod)


def test_section3_hooks(capsys, monkeypatch):
    _fake(monkeypatch, "thm_3_1", {"dimension": 1})
    _fake(monkeypatch, "thm_3_2", {})
    rc, out, _ = run(capsys, "--f", "zoo:ring", "--x-star", "1,0", "--x-max", "0,0", "--manifold",
                     "--attraction", "--json")
    d = json.loads(out)
    assert d["manifold"]["dimension"] == "1" and "attraction" in d
    assert rc == 1  # the fake certificates have no claims, so they do not pass


def test_section3_missing(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "theorems.thm_3_2", None)
    rc, out, err = run(capsys, "--f", "zoo:ring", "--x-star", "1,0", "--x-max", "0,0",
                       "--attraction")
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "thm_3_2" in err
