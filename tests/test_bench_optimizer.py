"""Smoke test of ``benchmarks/bench_optimizer.py --only``: the selected settings run, with their
ratio spread, load and parameter difference (no timing is asserted: speed lives in the
benchmark's printout)."""
import json
import math

import pytest
from conftest import load_benchmark

torch = pytest.importorskip("torch")


def _bench():
    return load_benchmark("bench_optimizer")


def test_only_amp_runs_both_amp_lines_and_reports_the_spread(capsys):
    threads = torch.get_num_threads()
    argv = ["--only", "amp", "--widths", "8", "--steps", "2", "--rounds", "3", "--json"]
    assert _bench().main(argv) == 0
    assert torch.get_num_threads() == threads          # --threads is process-wide: put back
    out = json.loads(capsys.readouterr().out)
    assert [r["setting"] for r in out["rows"]] == ["amp", "amp_scaler"]
    for r in out["rows"]:
        assert r["ratio_q1"] <= r["ratio"] <= r["ratio_q3"]
        assert r["noise_floor_ratio_q1"] <= r["noise_floor_ratio"] <= r["noise_floor_ratio_q3"]
        # the same run up to last-bit rounding, magnified by bfloat16's 8-bit weights
        assert r["max_param_diff"] < 1e-2
        assert math.isfinite(r["load_average_1min"]) and r["load_average_1min"] >= 0


def test_optimizer_only_hands_back_the_same_gradients(capsys):
    """--optimizer-only (BatchNorm: layers found in the warm-up's real passes) reports the fixed
    overhead in us with its spread; every model got the same gradients, so ours and the wrapper
    still agree to float32 rounding."""
    argv = ["--only", "batchnorm", "--widths", "8", "--steps", "3", "--rounds", "3",
            "--optimizer-only", "--json"]
    assert _bench().main(argv) == 0
    (row,) = json.loads(capsys.readouterr().out)["rows"]
    assert row["optimizer_only"] and row["setting"] == "batchnorm"
    assert row["overhead_us_q1"] <= row["overhead_us"] <= row["overhead_us_q3"]
    assert row["max_param_diff"] < 1e-5


def test_only_refuses_an_unknown_setting(capsys):
    """Control: a misspelt setting is one usage line and exit status 2, not an empty run."""
    with pytest.raises(SystemExit) as exc:
        _bench().main(["--only", "amps"])
    assert exc.value.code == 2
    assert "unknown setting(s) amps" in capsys.readouterr().err
