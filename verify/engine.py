"""Where independent tasks run: in this process, on an embedded Dask ``LocalCluster``, or on a
user's Dask cluster.

    with Engine(workers=None) as eng:              # None: a LocalCluster sized to the machine
        for outcome in eng.run(fn, items, keys):   # as tasks complete (any order)
            ...                                    # outcome.key, outcome.value, outcome.error

* ``workers=0``: serial, in this process, in order (debugging; tests that must not start processes).
* ``workers=N`` (or ``None``: one per core / ``threads``): an embedded ``LocalCluster`` of N worker
  *processes* with one Dask thread each, started and closed with the ``with`` block. Each task sets
  torch's intra-op threads to ``threads`` (default 1) and Dask's nanny starts workers with
  ``OMP_NUM_THREADS=1`` etc., so N workers x ``threads`` never oversubscribe the cores.
* ``scheduler="tcp://host:8786"``: a running cluster (``dask scheduler`` / ``dask worker``,
  dask-jobqueue); the command neither starts nor stops it.

GPU tasks ask for the Dask resource ``GPU=1``: only workers started with ``--resources GPU=1``
take them (an embedded cluster gives its workers that resource when ``gpu`` is set).

A task that raises is reported as an outcome with ``error`` set; the others still run. A worker
that dies mid-task has its task retried on another worker by the Dask scheduler (up to
``distributed.scheduler.allowed-failures`` times, then it is reported as failed).
"""
from __future__ import annotations

import json
import logging
import os
import sys
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path

from .errors import SamVerifyError


@dataclass
class Outcome:
    key: str
    value: object = None
    error: str | None = None       # one line: the exception type and message


def _error_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:500]


def _call(fn, item, threads):
    """Run one task where it landed; its exception becomes an error string (so that a failing task
    is a recorded outcome on every engine, not a lost future)."""
    if threads:
        from .nn.threads import fix_threads
        fix_threads(int(threads))
    try:
        return fn(item), None
    except Exception as exc:     # noqa: BLE001 - any failure of a task is recorded, the rest run on
        return None, _error_line(exc) + "\n" + traceback.format_exc(limit=6)


def write_json(path, blob) -> None:
    """Write a task's result atomically (a killed writer leaves no half file that a resume would
    trust)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(blob, indent=1))
    os.replace(tmp, path)


def read_record(path, fmt: str) -> dict | None:
    """A result written by :func:`write_json` whose ``format`` is ``fmt``; None when absent or
    unreadable (the task then runs again)."""
    try:
        blob = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return blob if isinstance(blob, dict) and blob.get("format") == fmt else None


def _apply(job):
    fn, args = job
    return fn(*args)


def map_tasks(fn, arg_tuples, engine: "Engine | None" = None, desc: str = "tasks") -> list:
    """``[fn(*args) for args in arg_tuples]``, as tasks on ``engine`` when one is given (in this
    process otherwise). ``fn`` must be importable by the workers (a module-level function). The
    results come back in the order of ``arg_tuples`` whatever order the tasks finish in; a failed
    task raises :class:`SamVerifyError` naming it (a simulation with a hole is not usable)."""
    jobs = [(fn, tuple(args)) for args in arg_tuples]
    if engine is None:
        return [_apply(job) for job in jobs]
    token = uuid.uuid4().hex[:8]                   # keys unique on a shared cluster
    keys = [f"{getattr(fn, '__name__', 'task')}-{i}-{token}" for i in range(len(jobs))]
    index = {k: i for i, k in enumerate(keys)}
    results = [None] * len(jobs)
    for out in engine.run(_apply, jobs, keys, desc=desc):
        if out.error:
            raise SamVerifyError(f"task {out.key} of {desc} failed: {out.error.splitlines()[0]}")
        results[index[out.key]] = out.value
    return results


def machine_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:       # macOS, Windows
        return os.cpu_count() or 1


class Engine:
    """A context manager that runs independent tasks (see the module docstring)."""

    def __init__(self, workers: int | None = None, scheduler: str | None = None,
                 threads: int | None = None, gpu: bool = False, progress: bool = True,
                 log=sys.stderr):
        if workers is not None and workers < 0:
            raise SamVerifyError(f"--workers must be >= 0 (0: serial in this process), got {workers}")
        if threads is not None and threads < 1:
            raise SamVerifyError(f"--threads must be >= 1, got {threads}")
        if scheduler is not None and workers is not None:
            raise SamVerifyError("give --scheduler (an existing cluster) or --workers (an embedded "
                                 "one), not both")
        self.scheduler, self.threads, self.gpu = scheduler, threads, gpu
        self.workers = workers if workers is not None or scheduler else \
            (1 if gpu else max(1, machine_cores() // (threads or 1)))
        self.progress, self.log = progress, log
        self.client = self.cluster = None

    @property
    def serial(self) -> bool:
        return self.scheduler is None and self.workers == 0

    def __enter__(self) -> "Engine":
        if self.serial:
            return self
        from distributed import Client, LocalCluster
        try:
            if self.scheduler:
                self.client = Client(self.scheduler, timeout="30s")
            else:
                self.cluster = LocalCluster(
                    n_workers=self.workers, threads_per_worker=1, processes=True,
                    resources={"GPU": 1} if self.gpu else None, dashboard_address=":0",
                    silence_logs=logging.ERROR)
                self.client = Client(self.cluster)
        except OSError as exc:
            self.__exit__(None, None, None)
            raise SamVerifyError(f"cannot reach the Dask scheduler {self.scheduler or '(embedded)'}: "
                                 f"{_error_line(exc)}") from exc
        where = self.scheduler or f"embedded LocalCluster, {self.workers} worker processes"
        dash = self.dashboard()
        print(f"dask: {where}" + (f"; dashboard {dash}" if dash else ""), file=self.log)
        return self

    def dashboard(self) -> str | None:
        """The dashboard address, when the scheduler serves one (it needs bokeh installed)."""
        try:
            return self.client.dashboard_link if \
                "dashboard" in self.client.scheduler_info().get("services", {}) else None
        except Exception:        # noqa: BLE001 - a missing dashboard is not an error
            return None

    def _gpu_workers(self) -> int:
        workers = self.client.scheduler_info().get("workers", {}).values()
        return sum(1 for w in workers if w.get("resources", {}).get("GPU", 0) >= 1)

    def __exit__(self, *exc) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        self.client = self.cluster = None

    def run(self, fn, items, keys, desc: str = "tasks"):
        """Yield an :class:`Outcome` per item as its task completes. ``fn`` must be importable by
        the workers (a module-level function) and ``items`` picklable."""
        from tqdm.auto import tqdm
        items, keys = list(items), list(keys)
        bar = tqdm(total=len(items), disable=not self.progress, desc=desc, file=self.log)
        try:
            for out in (self._serial(fn, items, keys) if self.serial else
                        self._dask(fn, items, keys)):
                bar.update(1)
                if out.error:
                    bar.write(f"task {out.key} failed: {out.error.splitlines()[0]}", file=self.log)
                yield out
        finally:
            bar.close()

    def _serial(self, fn, items, keys):
        for key, item in zip(keys, items):
            value, err = _call(fn, item, self.threads)
            yield Outcome(key, value, err)

    def _dask(self, fn, items, keys):
        from distributed import as_completed
        res = {"resources": {"GPU": 1}} if self.gpu else {}
        if self.gpu and not self._gpu_workers():
            print("dask: no worker has the GPU resource yet; the tasks wait for one (start workers "
                  "with: dask worker ADDRESS --resources GPU=1)", file=self.log)
        futures = [self.client.submit(_call, fn, item, self.threads or 1, key=key, pure=False, **res)
                   for key, item in zip(keys, items)]
        for fut in as_completed(futures):
            try:
                value, err = fut.result()
            except Exception as exc:      # noqa: BLE001 - e.g. KilledWorker after repeated deaths
                value, err = None, _error_line(exc)
            yield Outcome(fut.key, value, err)
            fut.release()                 # done with it: the worker may forget the result
