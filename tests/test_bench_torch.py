"""Smoke test of ``benchmarks/bench_torch.py --widths``: the check's cost at a small width runs and
reports its numbers (no timing is asserted: speed lives in the benchmark's printout)."""
import json
import math

import pytest
from conftest import load_benchmark

pytest.importorskip("torch")


def _bench():
    return load_benchmark("bench_torch")


def test_widths_mode_reports_per_product_cost(capsys):
    argv = ["--widths", "4", "--train-steps", "20", "--sigma-budget", "30", "--map-budget", "10",
            "--json"]   # no --threads: fix_threads is process-wide and would leak into other tests
    assert _bench().main(argv) == 0
    (row,) = json.loads(capsys.readouterr().out)["widths"]
    assert row["d"] == 75 * 4 + 10                   # 64-4-10 tanh MLP on digits
    assert row["where"]["train_steps"] == 20
    assert "attraction_s" not in row                 # the widths mode times the check alone
    assert row["grad_equivalents_by_count"] >= row["counts"]["grad"] > 0
    for key in ("per_product_hvp_equivalents", "grad_equivalents_by_time", "load_before"):
        assert math.isfinite(row[key]) and row[key] >= 0
