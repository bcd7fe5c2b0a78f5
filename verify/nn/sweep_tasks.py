"""``mlp sweep`` as independent tasks with no lost work.

A task is a chunk of (mode, rho, seed, switch step) rows (:func:`verify.nn.train.sweep_rows`),
trained as one batched run by :func:`verify.nn.train.train_rows` wherever the engine
(:mod:`verify.engine`) puts it. Each row is one JSON file in ``<out>/rows/`` with its
configuration, seed, the data's fingerprint (:meth:`Dataset.identity`) and the library version,
written atomically as soon as its task completes (by the worker when it sees the folder, and by
the client otherwise). A re-run with the same folder trains only the rows without a file; a retried
task (its worker died after writing) reads its rows back instead of training again. Rows are seeded
per row (each seed's own initialization), never per worker: the numbers do not depend on where a
task ran. What "the same numbers" means is stated by :func:`compare_rows`: a row computed by a task
of the same chunk (the same rows trained together) is bit-equal wherever it ran, in float64 and in
float32 (tested: serial with torch's threads vs 2 single-threaded workers); a row trained in another
chunking (another batch shape, hence another summation order in the batched kernels) agrees to
``steps * eps`` of its dtype, relative (:func:`row_tolerance`).

``SAM_VERIFY_TASK_TRACE=<dir>`` makes each task that trains write ``<key>.start.<pid>.<n>`` and
``<key>.done.<pid>.<n>`` marker files there (tests count task executions with it).
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import uuid
from dataclasses import asdict
from pathlib import Path

from ..engine import read_record, write_json as _write_json
from ..errors import SamVerifyError

ROW_FORMAT = "sam-verify-sweep-row-1"
MANIFEST_FORMAT = "sam-verify-sweep-1"


def library_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("sam-verify")
    except PackageNotFoundError:
        return "unknown"


def load_data(spec: dict):
    """The data set of a spec ``{data, normalization, mnist_dir, n_train}`` (what ``mlp`` reads
    from its flags); cached per process, so a worker loads MNIST once for all its tasks."""
    return _load_cached(spec["data"], spec["normalization"], spec.get("mnist_dir"), spec.get("n_train"))


@functools.lru_cache(maxsize=2)
def _load_cached(name, normalization, mnist_dir, n_train):
    from .data import load
    d = load(name, normalization, mnist_dir, **({"n_train": n_train} if name == "mnist" else {}))
    return d.subset(n_train) if name == "digits" and n_train is not None else d


def row_file(out, row) -> Path:
    mode, rho, seed, _ = row
    return Path(out) / "rows" / f"{mode}_rho{rho!r}_seed{seed}.json"


def _read_row(path: Path):
    return read_record(path, ROW_FORMAT)


def _trace(trace_dir, key: str, what: str) -> None:
    if trace_dir:
        Path(trace_dir).mkdir(parents=True, exist_ok=True)
        (Path(trace_dir) / f"{key}.{what}.{os.getpid()}.{uuid.uuid4().hex[:8]}").touch()


def run_task(task: dict) -> list[dict]:
    """One task, on whichever worker: train its rows (those without a row file) and return
    (and, when the output folder is visible here, write) one record per row."""
    from .train import train_rows
    out, rows = task.get("out"), [tuple(r) for r in task["rows"]]
    done = {r: _read_row(row_file(out, r)) for r in rows} if out and Path(out).is_dir() else {}
    todo = [r for r in rows if not done.get(r)]
    records = {r: done[r] for r in rows if done.get(r)}
    if todo:
        _trace(task.get("trace"), task["key"], "start")
        data = load_data(task["data"])
        data.require_identity(task["identity"], f"sweep task {task['key']}")
        res = train_rows(data, todo, _config(task["config"], todo))
        for i, row in enumerate(todo):
            records[row] = _record(row, res.select([i]), res.elapsed / len(todo), task)
            if out and Path(out).is_dir():
                _write_json(row_file(out, row), records[row])
        _trace(task.get("trace"), task["key"], "done")
    return [records[r] for r in rows]


def _config(cfg: dict, rows):
    """The training configuration of some rows (their seeds, rhos and switch steps are per row)."""
    from .train import TrainConfig
    return TrainConfig(**cfg, seeds=tuple(r[2] for r in rows), rho=max(r[1] for r in rows))


def _record(row, res, elapsed: float, task) -> dict:
    mode, rho, seed, switch_step = row
    fin = {k: v[0] for k, v in res.final().items()}
    return {"format": ROW_FORMAT, "mode": mode, "rho": rho, "seed": seed, "switch_step": switch_step,
            "config": task["config"], "data": task["identity"], "version": library_version(),
            "final": fin, "task": task["key"], "elapsed_s": elapsed}


EPS = {"float32": 2.0 ** -23, "float64": 2.0 ** -52}     # machine epsilon of the training dtype


def row_tolerance(a: dict, b: dict) -> float:
    """Relative tolerance within which two records of the same row agree: 0 when the same task
    (same chunk of rows, same settings: equal task keys) produced both, since the arithmetic is
    then the same operation for operation; otherwise ``steps * eps`` of the training dtype: another
    batch shape changes the summation order, a perturbation of a few eps per step, carried to first
    order through ``steps`` steps of a training map taken as non-expansive. It is a stated model,
    not a bound: a chaotic run (SAM near a stall) can amplify beyond it, and then says so."""
    if a["task"] == b["task"]:
        return 0.0
    return a["config"]["steps"] * EPS[a["config"]["dtype"]]


def compare_rows(a: dict, b: dict) -> dict:
    """How far two records of one row are apart: the largest ``|x - y| / max(1, |x|, |y|)`` over
    their final numbers, the tolerance of :func:`row_tolerance`, and whether they agree."""
    if (a["mode"], a["rho"], a["seed"]) != (b["mode"], b["rho"], b["seed"]) or a["config"] != b["config"]:
        raise SamVerifyError(f"records of different rows or settings: {a['task']} vs {b['task']}")
    gap = max(0.0 if x == y or (x != x and y != y) else abs(x - y) / max(1.0, abs(x), abs(y))
              for x, y in ((a["final"][k], b["final"][k]) for k in a["final"]))  # NaN == NaN here
    tol = row_tolerance(a, b)
    return {"gap": gap, "tolerance": tol, "agree": gap <= tol}


def _task_key(rows, config: dict) -> str:
    h = hashlib.sha1(json.dumps([config, rows], sort_keys=True).encode()).hexdigest()[:10]
    mode, rho, seed, _ = rows[0]
    return f"sweep-{mode}-rho{rho:g}-seed{seed}-n{len(rows)}-{h}"


def _check_manifest(out: Path, config: dict, identity: dict) -> None:
    """An output folder holds one sweep's settings: refuse to mix rows of other settings into it."""
    path = out / "sweep.json"
    if path.is_file():
        old = json.loads(path.read_text())
        diff = [k for k in sorted(set(config) | set(old.get("config", {})))
                if old.get("config", {}).get(k) != config.get(k)]
        if old.get("data", {}).get("sha256") != identity.get("sha256"):
            diff.append("data")
        if diff:
            raise SamVerifyError(f"{out} holds a sweep with other settings ({', '.join(diff)} differ); "
                                 "use another --out folder or the same settings to resume it")
    _write_json(path, {"format": MANIFEST_FORMAT, "config": config, "data": identity,
                       "version": library_version()})


def run_sweep(engine, data_spec: dict, rows, config, out=None, row_chunk: int | None = None,
              stall_loss: float = 1.0, ratio_tol: float = 1e-2, trace=None) -> dict:
    """Run the rows of a sweep as tasks on ``engine`` and summarize them as
    :func:`verify.nn.train.sweep` does. With ``out``: rows already there are not trained again,
    new ones are written as they complete. Returns the summary with ``failed`` (task key -> error),
    ``missing`` (rows without a result) and ``reused`` (rows read from ``out``)."""
    cfg = {k: v for k, v in asdict(config).items() if k not in ("seeds", "rho", "switch_fraction")}
    _config(cfg, rows)                                            # bad settings fail here, once
    identity = load_data(data_spec).identity()
    rows = [tuple(r) for r in rows]
    if out:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        _check_manifest(out, cfg, identity)
    records = {r: rec for r in rows if out and (rec := _read_row(row_file(out, r)))}
    todo = [r for r in rows if r not in records]
    chunk = max(1, int(row_chunk or 1))
    tasks = [{"rows": todo[a:a + chunk], "config": cfg, "data": data_spec, "identity": identity,
              "out": str(out) if out else None, "trace": trace} for a in range(0, len(todo), chunk)]
    for t in tasks:
        t["key"] = _task_key(t["rows"], cfg)
    failed = {}
    for outcome in engine.run(run_task, tasks, [t["key"] for t in tasks], desc="sweep tasks"):
        if outcome.error:
            failed[outcome.key] = outcome.error
            continue
        for rec in outcome.value:
            row = (rec["mode"], rec["rho"], rec["seed"], rec["switch_step"])
            records[row] = rec
            if out and not row_file(out, row).is_file():      # the worker could not see the folder
                _write_json(row_file(out, row), rec)
    if out:
        _write_json(out / "failed.json", failed)
    summary = summarize(rows, records, stall_loss, ratio_tol)
    summary.update({"failed": failed, "missing": [list(r) for r in rows if r not in records],
                    "reused": len(rows) - len(todo), "tasks": len(tasks), "out": str(out) if out else None,
                    "data": identity["name"], "normalization": identity["normalization"]})
    return summary


def summarize(rows, records: dict, stall_loss: float = 1.0, ratio_tol: float = 1e-2) -> dict:
    """Per-(mode, rho) summaries (``verify.nn.train.sweep``'s rows) of the rows that have a record."""
    from .train import classify, summarize_finals, sweep_transitions
    groups: dict = {}
    for row in rows:
        if row in records:
            groups.setdefault((row[0], row[1]), []).append(records[row])
    out = []
    for (mode, rho), recs in groups.items():
        fin = {k: [r["final"][k] for r in recs] for k in recs[0]["final"]}
        outs = [classify(f["loss"], f["grad_ratio_tail"], f["grad_norm"], stall_loss, ratio_tol)
                for f in (r["final"] for r in recs)]
        out.append(summarize_finals(fin, outs, rho, mode, recs[0]["config"]["steps"],
                                    sum(r["elapsed_s"] for r in recs)))
    return {**sweep_transitions(out, stall_loss), "ratio_tol": ratio_tol,
            "elapsed_s": sum(x["elapsed_s"] for x in out)}
