"""Benchmark of ``construct`` across dimensions: the ring (|x|^2 - 1)^2 in d = 2, 8 and 12 at 50 digits.

For each d: the wall time of the full Thm 2.1 construction with every claim (best of ``--repeat``),
its ratio to d = 2, and the peak memory of one more run traced by ``tracemalloc`` (Python and numpy
allocations), plus the process's peak resident set size at the end. Goal (issue 12): d = 8 / d = 2
<= 10x and d = 12 under 1 GB (a 9^d grid search made d = 8 take 5.5 GB and d = 12 impossible).

    python benchmarks/bench_construct_dims.py [--dims 2 8 12] [--dps 50] [--repeat 3]
"""
from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

from theorems import thm_2_1 as T
from verify.ctx import get_context
from verify.objectives.objective import SympyObjective

GOAL_RATIO_8 = 10.0
GOAL_MB_12 = 1024.0


def ring(d: int) -> SympyObjective:
    names = [f"x{i}" for i in range(d)]
    return SympyObjective("(" + " + ".join(f"{n}**2" for n in names) + " - 1)**2", ",".join(names),
                          name=f"ring{d}")


def build(d: int, ctx):
    obj = ring(d)
    return T.construct(obj, ["1"] + ["0"] * (d - 1), ["0"] * d, ctx, closed_form=T.ring_closed_form)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dims", type=int, nargs="+", default=[2, 8, 12])
    ap.add_argument("--dps", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    ctx = get_context("mpmath", dps=args.dps)
    print(f"{'d':>3s} {'time s':>8s} {'/ d=2':>7s} {'peak MB':>8s} passed")
    times, peaks = {}, {}
    build(args.dims[0], ctx)  # warm-up: imports and compiled expressions are not part of the timing
    for d in args.dims:
        best = None
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            con = build(d, ctx)
            dt = time.perf_counter() - t0
            best = dt if best is None else min(best, dt)
        tracemalloc.start()
        build(d, ctx)
        peaks[d] = tracemalloc.get_traced_memory()[1] / 2 ** 20
        tracemalloc.stop()
        times[d] = best
        base = times.get(args.dims[0], best)
        print(f"{d:3d} {best:8.2f} {best / base:7.2f} {peaks[d]:8.1f} {con.certificate.passed}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak resident set size: {rss:.0f} MB")
    if 2 in times and 8 in times:
        r = times[8] / times[2]
        print(f"d=8 / d=2 time ratio {r:.2f} ({'meets' if r <= GOAL_RATIO_8 else 'MISSES'} the "
              f"<= {GOAL_RATIO_8:g}x goal)")
    if 12 in peaks:
        print(f"d=12 peak traced memory {peaks[12]:.1f} MB ({'meets' if peaks[12] < GOAL_MB_12 else 'MISSES'}"
              f" the < 1 GB goal)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
