"""Timings of the rigorous existence proofs (issue #6).

Usage: ``python benchmarks/bench_prove.py [--repeat N] [--dps D]``. For each built-in case of
:mod:`theorems.prove_hallucination` (PROVED cases and negative controls) prints the verdict, the
route, the box radius chosen by the automatic search, and the median wall time of ``prove`` over N
runs (the 100-digit soundness cross-check is excluded from the timing and run once).
"""
from __future__ import annotations

import argparse
import statistics
import time

from theorems import prove_hallucination as ph


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--dps", type=int, default=30)
    args = ap.parse_args(argv)
    print(f"{'case':60s} {'verdict':9s} {'route':8s} {'radius':22s} {'median s':>9s}")
    for case in ph.cases(quick=False):
        kw = {k: v for k, v in case.items() if k not in ("obj", "x", "rho")}
        kw["dps"] = args.dps
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            ph.prove(case["obj"], case["x"], case["rho"], **{**kw, "crosscheck": False})
            times.append(time.perf_counter() - t0)
        check = ph.prove(case["obj"], case["x"], case["rho"], **kw)
        o = check.objects
        cross = ""
        if o["verdict"] == "PROVED":
            cross = " crosscheck " + check.claim("crosscheck").verdict.value
        print(f"{case['example'][:60]:60s} {o['verdict']:9s} {o['route']:8s} {o['box_radius']:22s} "
              f"{statistics.median(times):9.4f}{cross}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
