"""One thread policy for the torch path: how many torch threads a workload runs on, chosen by
measuring it.

Why: on a 2-core CPU the right count depends on the shapes. Small matmuls (a per-seed loop of a
64-32-10 network) lose to oversubscription with 2 threads; the batched SAM step and the HVPs of a
d ~ 1e4 model gain from them. On a shared machine the answer moves with the neighbours' load, so it
is measured, not assumed: :func:`choose_threads` times the workload itself with each candidate
count (interleaved, repeated, median) and keeps the fastest. The choice is cached per shape key
(:func:`threads_for`) so a run pays the measurement once. The candidates are 1 and torch's current
count, which is the ceiling: a caller that set 1 thread keeps it.

An explicit count wins over measurement: ``SAM_VERIFY_TORCH_THREADS`` (or the ``threads``
argument, e.g. ``--threads``). Training (:func:`verify.nn.train.train`), the check at a point
(:func:`verify.nn.point_check.check_point`) and ``benchmarks/bench_torch.py`` all go through
:func:`threads_for`; the benchmark prints both settings side by side.
"""
from __future__ import annotations

import contextlib
import os
import statistics
import time

ENV = "SAM_VERIFY_TORCH_THREADS"
_chosen: dict = {}          # shape key -> {"threads": n, "seconds": {n: median s}, "source": ...}


def candidates() -> tuple:
    """Thread counts worth trying: 1 and torch's current count. The current count is the ceiling:
    a process (or test) that lowered it to 1 on a busy machine is never raised above it."""
    import torch
    n = max(1, torch.get_num_threads())
    return (1,) if n == 1 else (1, n)


@contextlib.contextmanager
def torch_threads(n: int | None):
    """torch runs on ``n`` threads inside the block (None: unchanged); restored afterwards."""
    import torch
    if n is None:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(old)


def time_threads(fn, counts=None, repeats: int = 5, clock=time.perf_counter) -> dict:
    """{n: median seconds of fn() on n threads}; the counts are interleaved in every round so each
    sees the same load, after one warm-up call each (``clock``: the timer, replaceable in tests)."""
    counts = tuple(counts or candidates())
    times: dict = {n: [] for n in counts}
    for rnd in range(repeats + 1):
        for n in counts:
            with torch_threads(n):
                t = clock()
                fn()
                dt = clock() - t
            if rnd:                                   # round 0 is the warm-up
                times[n].append(dt)
    return {n: statistics.median(v) for n, v in times.items()}


def choose_threads(fn, counts=None, repeats: int = 5, clock=time.perf_counter) -> tuple[int, dict]:
    """(the fastest count for fn by :func:`time_threads`, the medians)."""
    med = time_threads(fn, counts, repeats, clock)
    return min(med, key=med.get), med


_fixed: list = []           # a count fixed for the process by fix_threads (e.g. --threads)


def fix_threads(n: int) -> None:
    """Set torch's threads to n for the process and make the policy use n everywhere (what
    ``--threads`` and an engine worker's thread count mean)."""
    import torch
    torch.set_num_threads(int(n))
    _fixed[:] = [int(n)]


def explicit_threads(threads: int | None = None) -> int | None:
    """A count the user fixed (argument first, then :func:`fix_threads`, then
    ``SAM_VERIFY_TORCH_THREADS``), else None."""
    if threads:
        return int(threads)
    if _fixed:
        return _fixed[0]
    env = os.environ.get(ENV)
    return int(env) if env else None


def threads_for(key, probe, threads: int | None = None, repeats: int = 5) -> int:
    """The thread count for the workload named ``key`` (a hashable shape description): the user's
    if fixed, else measured once with ``probe`` (a callable doing one unit of the workload) and
    cached for the process."""
    fixed = explicit_threads(threads)
    if fixed:
        return fixed
    counts = candidates()
    if len(counts) == 1:
        return counts[0]
    key = (key, counts)
    if key not in _chosen:
        n, med = choose_threads(probe, counts, repeats=repeats)
        _chosen[key] = {"threads": n, "seconds": med}
    return _chosen[key]["threads"]


def policy_report() -> dict:
    """Every choice made in this process: {key: {"threads", "seconds": {n: median}}}."""
    return {str(k): dict(v) for k, v in _chosen.items()}
