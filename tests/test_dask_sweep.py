"""``mlp sweep`` on Dask (issue 18): same numbers serially and on a LocalCluster, no lost or repeated
work when a worker dies, resume after the client is killed."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from verify.engine import Engine                        # noqa: E402
from verify.errors import SamVerifyError                # noqa: E402
from verify.nn.sweep_tasks import compare_rows, row_file, run_sweep   # noqa: E402
from verify.nn.train import TrainConfig, sweep_rows     # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = {"data": "digits", "normalization": "scalar", "mnist_dir": None, "n_train": 60}
ROWS = sweep_rows((0.5, 2.0), (0, 1), steps=200)        # 2 modes x 2 rho x 2 seeds
CFG = TrainConfig(steps=200, width=4, dtype="float64", device="cpu", log_every=50)


def _finals(out):
    return {row: json.loads(row_file(out, row).read_text())["final"] for row in ROWS}


def _markers(trace, what):
    """Task key -> how many times a task did that ('start' or 'done' training), from the markers."""
    return Counter(p.name.split(f".{what}.")[0] for p in Path(trace).glob(f"*.{what}.*"))


def test_serial_and_two_worker_cluster_give_identical_float64_rows(tmp_path):
    with Engine(workers=0, progress=False) as eng:
        a = run_sweep(eng, DATA, ROWS, CFG, out=tmp_path / "serial", row_chunk=2)
    with Engine(workers=2, progress=False) as eng:
        b = run_sweep(eng, DATA, ROWS, CFG, out=tmp_path / "cluster", row_chunk=2)
    assert a["failed"] == b["failed"] == {} and a["missing"] == b["missing"] == []
    fa, fb = _finals(tmp_path / "serial"), _finals(tmp_path / "cluster")
    assert fa == fb                                     # float64: bit for bit, JSON round-trips exactly
    assert len({json.dumps(v) for v in fa.values()}) == len(ROWS)   # and the rows differ from each other
    assert [r["mean_train_loss"] for r in a["rows"]] == [r["mean_train_loss"] for r in b["rows"]]
    rec = json.loads(row_file(tmp_path / "cluster", ROWS[0]).read_text())
    assert rec["data"]["sha256"] and rec["version"] and rec["seed"] == 0 and rec["config"]["steps"] == 200


def test_float32_rows_bit_equal_per_chunk_and_within_the_stated_tolerance_across_chunkings(tmp_path):
    cfg = TrainConfig(steps=200, width=4, dtype="float32", device="cpu", log_every=50)
    rows = ROWS[:4]                                     # one mode, 2 rho x 2 seeds
    with Engine(workers=0, progress=False) as eng:      # serial: torch's own thread count
        run_sweep(eng, DATA, rows, cfg, out=tmp_path / "serial", row_chunk=2)
        run_sweep(eng, DATA, rows, cfg, out=tmp_path / "single", row_chunk=1)
    with Engine(workers=2, progress=False) as eng:      # workers: one thread each
        run_sweep(eng, DATA, rows, cfg, out=tmp_path / "cluster", row_chunk=2)

    def rec(name, row):
        return json.loads(row_file(tmp_path / name, row).read_text())
    for row in rows:
        same = compare_rows(rec("serial", row), rec("cluster", row))     # same task, other process
        assert same == {"gap": 0.0, "tolerance": 0.0, "agree": True}
        other = compare_rows(rec("serial", row), rec("single", row))     # other batch shape
        assert other["tolerance"] == 200 * 2.0 ** -23 and other["agree"], other
    # control: the finals of another seed under this row's name are far outside the tolerance
    a, b = rec("serial", ROWS[0]), rec("single", ROWS[1])
    assert a["seed"] != b["seed"] and not compare_rows(a, {**a, "task": "x", "final": b["final"]})["agree"]


def test_rerun_skips_finished_rows_and_refuses_other_settings(tmp_path):
    trace = tmp_path / "trace"
    with Engine(workers=0, progress=False) as eng:
        first = run_sweep(eng, DATA, ROWS[:4], CFG, out=tmp_path / "o", row_chunk=2, trace=trace)
        again = run_sweep(eng, DATA, ROWS, CFG, out=tmp_path / "o", row_chunk=2, trace=trace)
        assert first["reused"] == 0 and again["reused"] == 4 and again["tasks"] == 2
        assert sum(_markers(trace, "done").values()) == 4          # 2 tasks, then 2 more, none again
        other = TrainConfig(steps=201, width=4, dtype="float64", device="cpu", log_every=50)
        with pytest.raises(SamVerifyError, match="steps"):
            run_sweep(eng, DATA, ROWS, other, out=tmp_path / "o")


def _fails_on_two(x):
    if x == 2:
        raise ValueError("two is bad")
    return x * 10


def test_a_failing_task_is_recorded_and_the_rest_complete():
    with Engine(workers=0, progress=False) as eng:
        outs = {o.key: o for o in eng.run(_fails_on_two, [1, 2, 3], ["a", "b", "c"])}
    assert [outs[k].value for k in "ac"] == [10, 30]
    assert outs["b"].value is None and outs["b"].error.startswith("ValueError: two is bad")


@pytest.mark.parametrize("kw,msg", [({"workers": -1}, "--workers"), ({"threads": 0}, "--threads"),
                                    ({"workers": 2, "scheduler": "tcp://x:1"}, "not both")])
def test_engine_refuses_bad_settings(kw, msg):
    with pytest.raises(SamVerifyError, match=msg):
        Engine(**kw)


@pytest.mark.parametrize("extra,msg", [(["--workers", "-1"], "--workers"),
                                       (["--workers", "2", "--scheduler", "tcp://x:1"], "not both"),
                                       (["--row-chunk", "0"], "--row-chunk")])
def test_sweep_command_refuses_bad_engine_options(extra, msg, capsys):
    from verify.cli import main
    assert main(["mlp", "sweep", "--rhos", "1", "--seeds", "1", "--steps", "1", *extra]) == 2
    assert msg in capsys.readouterr().err


@pytest.mark.slow            # two worker processes, one killed and restarted: ~40 s on a loaded 2-core box
def test_killed_worker_loses_no_row_and_recomputes_no_finished_task(tmp_path):
    trace, out = tmp_path / "trace", tmp_path / "o"
    rows = sweep_rows((0.5, 2.0), (0, 1), steps=400)
    cfg = TrainConfig(steps=400, width=4, dtype="float64", device="cpu", log_every=50)
    killed = {}

    def kill_a_running_task():
        """Once a task has finished, SIGKILL the worker process of a task that is running."""
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not killed:
            done = _markers(trace, "done") if trace.is_dir() else {}
            running = [p for p in trace.glob("*.start.*") if p.name.split(".start.")[0] not in done] \
                if done else []
            if running:
                key, rest = running[0].name.split(".start.")
                os.kill(int(rest.split(".")[0]), signal.SIGKILL)
                killed["key"] = key
                killed["mid_task"] = key not in _markers(trace, "done")
            time.sleep(0.02)

    watcher = threading.Thread(target=kill_a_running_task, daemon=True)
    watcher.start()
    with Engine(workers=2, progress=False) as eng:
        sw = run_sweep(eng, DATA, rows, cfg, out=out, row_chunk=1, trace=trace)
    watcher.join(5)
    assert killed, "no worker was killed: the test did not test anything"
    assert sw["failed"] == {} and sw["missing"] == [] and sw["reused"] == 0
    assert sorted(p.name for p in (out / "rows").glob("*.json")) == \
        sorted(row_file(out, r).name for r in rows)                   # every row, exactly once
    done, started = _markers(trace, "done"), _markers(trace, "start")
    assert len(done) == len(rows) and set(done.values()) == {1}       # no task finished twice
    if killed["mid_task"]:                                            # the killed one ran again
        assert started[killed["key"]] == 2
    assert sum(started.values()) <= len(rows) + 1


def test_killed_client_resumes_from_the_output_folder(tmp_path):
    trace, out = tmp_path / "trace", tmp_path / "o"
    argv = [sys.executable, "-m", "verify", "mlp", "sweep", "--rhos", "0.5,2", "--seeds", "2",
            "--steps", "200", "--width", "4", "--n-train", "60", "--dtype", "float64", "--device",
            "cpu", "--row-chunk", "1", "--workers", "0", "--out", str(out), "--quiet", "--json"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SAM_VERIFY_TASK_TRACE": str(trace)}
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline and \
            len(list((out / "rows").glob("*.json")) if out.is_dir() else []) < 2:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    first = len(list((out / "rows").glob("*.json")))
    assert 2 <= first < len(ROWS), "the client was not interrupted mid-sweep"
    again = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    sw = json.loads(again.stdout)
    assert sw["reused"] == first and sw["missing"] == [] and sw["failed"] == {}
    assert len(list((out / "rows").glob("*.json"))) == len(ROWS)
    assert set(_markers(trace, "done").values()) == {1}               # no row trained twice
