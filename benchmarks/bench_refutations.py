"""Time per proved refutation (issue 16; goal: each certificate under 30 s on 2 cores).

Usage: ``python benchmarks/bench_refutations.py [--repeat N]``. Runs every certificate of
:mod:`theorems.refutations`, :mod:`theorems.rho_bracket` and :mod:`theorems.rival_refutations` (the
PROVED refutations and their negative controls) N times and prints
its verdict, the median wall time and its ratio to the 30 s goal, the median CPU time of the process
(what the wall time would be on an idle core), plus the load average at the start and the end, since
on a shared machine the wall times scale with the load. ``--only TEXT`` runs the certificates whose
label contains TEXT.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

from theorems import refutations as R
from theorems import rho_bracket as B
from theorems import rival_refutations as RR

GOAL_S = 30.0


def certificates():
    """(label, thunk) for every certificate of the report section."""
    out = [(c["example"], lambda c=c: R.run_at_xh(c)) for c in R.cases_at_xh() + R.negative_controls()]
    out.append(("appendix_d whole curve, 120 boxes", lambda: R.refute_appendix_d(n_boxes=120)))
    out.append(("control: circle_max curve, 128 boxes", lambda: R.curve_controls()[0]))
    out.append(("descent inequality, circle_max", R.refute_descent))
    out.append(("control: descent with L_SAM", lambda: R.descent_controls()[0]))
    out.append((f"appendix_d rho bracket [{B.RHO_LO}, {B.RHO_HI}]", B.certify_bracket))
    out += [(f"control: {ends}, cover from {rho_min}",
             lambda ends=ends, rho_min=rho_min: B.certify_bracket(*ends, rho_min=rho_min, expected=False))
            for ends, rho_min, _ in B.CONTROLS]
    out += [(f"rival closed form: {name}", fn) for name, fn in (
        ("Kim (15) drift", RR.refute_drift), ("Kim Cor 1 coefficient", RR.refute_cor1),
        ("Kim Thm 3 C2", RR.refute_c2), ("Kim Thm 3 signs", RR.refute_signs),
        ("Kim Thm 3 rho", RR.refute_rho_monotone))]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="", help="run the certificates whose label contains this text")
    args = ap.parse_args(argv)
    print(f"load average at start: {', '.join(f'{v:.2f}' for v in os.getloadavg())} "
          f"on {os.cpu_count()} cores")
    print(f"{'certificate':62s} {'passed':>6s} {'expected':>8s} {'median s':>9s} {'cpu s':>7s} "
          f"{'/ goal':>7s}")
    worst = worst_cpu = 0.0
    for label, run in certificates():
        if args.only not in label:
            continue
        times, cpu = [], []
        for _ in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            cert = run()
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        med, med_cpu = statistics.median(times), statistics.median(cpu)
        worst, worst_cpu = max(worst, med), max(worst_cpu, med_cpu)
        print(f"{label[:62]:62s} {str(cert.passed):>6s} {str(cert.expected):>8s} {med:9.3f} "
              f"{med_cpu:7.3f} {med / GOAL_S:7.3f}")
    print(f"slowest certificate: {worst:.3f} s wall = {worst / GOAL_S:.3f} x the {GOAL_S:.0f} s goal "
          f"(CPU {worst_cpu:.3f} s: the wall time on an idle core); load average at the end: "
          f"{', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
