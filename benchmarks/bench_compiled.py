"""Benchmark of compiled symbolic objectives (:mod:`verify.objectives.compiled`), printed in one run:

1. the per-gradient cost of two 2-D symbolic objectives (an analytic one and the piecewise
   Appendix D function, the report's heaviest user) in float64 by the compiled path (sympy
   ``lambdify`` with ``cse``) and by the closure-tree interpreter of :mod:`verify.objectives.expr`,
   and their ratio (goal >= 10x); the same at 50 digits (mpmath) for information; each timing is the
   best of ``--repeat`` runs (the machine may be shared);
2. the CPU time (``time.process_time``: every thread of this process) of the report's quick run,
   section by section, as ``python -m verify report --quick`` runs them (goal <= 24 s in all,
   measured before at 48 s on 2 quiet cores), in a fresh process; ``--interpreter`` runs it again,
   in another fresh process, with the compiled path switched off, for the ratio in the same
   conditions (one process would charge imports and warm-up to whichever pass ran first).
   ``--skip-report`` skips 2.

    python benchmarks/bench_compiled.py [--calls 2000] [--repeat 5] [--only thm_2_1,...]
                                        [--interpreter] [--skip-report] [--out /tmp/rq]
"""
from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import time

import numpy as np

from verify.ctx import get_context
from verify.objectives import objective as objective_module, zoo
from verify.objectives.objective import SympyObjective

EXPR = "exp(-(x**2 + y**2)/4) * cos(y) + tanh(x) - log(2 + sin(x*y)) + (x**2 + y**2 - 1)**2"


@contextlib.contextmanager
def interpreter_only():
    """Switch the compiled path off (every objective built inside falls back to the interpreter)."""
    saved = objective_module.can_compile
    objective_module.can_compile = lambda exprs, ctx: False
    try:
        yield
    finally:
        objective_module.can_compile = saved


def per_gradient(source, ctx, calls: int, repeat: int, interpreted: bool) -> float:
    """Best-of-``repeat`` seconds per gradient of ``source`` (a sympy expression or string in x, y)
    at varying points (a fresh objective: the one-off compilation is not counted)."""
    with interpreter_only() if interpreted else contextlib.nullcontext():
        f = SympyObjective(source, "x,y")
        rng = np.random.default_rng(0)
        points = [f.point([repr(float(a)) for a in rng.uniform(-1, 1, 2)], ctx) for _ in range(calls)]
        f.grad(points[0], ctx)  # compile (or build the closures) once
        best = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            for x in points:
                f.grad(x, ctx)
            best = min(best, (time.perf_counter() - t0) / calls)
    return best


def report_cpu(only, out: str) -> list[tuple[str, float, float, bool]]:
    """(section, CPU s, wall s, clean) for every section of the quick report, run in this process."""
    from verify.report.build import discover, run_section
    rows = []
    for spec in discover(only):
        if spec.error:
            rows.append((spec.name, 0.0, 0.0, False))
            continue
        c0, w0 = time.process_time(), time.perf_counter()
        res = run_section(spec.name, True, f"{out}/figures/{spec.name}")
        rows.append((spec.name, time.process_time() - c0, time.perf_counter() - w0,
                     not res["error"]))
    return rows


def print_report(rows, label: str) -> float:
    total = sum(r[1] for r in rows)
    print(f"\n{label}: CPU s by section (wall s in brackets)")
    for name, cpu, wall, clean in sorted(rows, key=lambda r: -r[1]):
        print(f"  {name:24s} {cpu:8.2f}  [{wall:7.2f}]" + ("" if clean else "  SECTION ERROR"))
    print(f"  {'total':24s} {total:8.2f}  [{sum(r[2] for r in rows):7.2f}]   (goal <= 24 s CPU)")
    return total


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--only", default=None, help="comma-separated report sections")
    ap.add_argument("--interpreter", action="store_true",
                    help="also run the report with the compiled path off")
    ap.add_argument("--skip-report", action="store_true")
    ap.add_argument("--out", default="/tmp/rq")
    ap.add_argument("--skip-gradients", action="store_true")
    ap.add_argument("--report-pass", choices=["compiled", "interpreter"], default=None,
                    help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    cases = () if args.skip_gradients else (("analytic", EXPR),
                                             ("appendix_d", zoo.get("appendix_d").objective.expr))
    for label, source in cases:
        print(f"{label}: f(x, y) = {str(source)[:90]}{'...' if len(str(source)) > 90 else ''}")
        for ctx, calls in ((get_context("float64"), args.calls),
                           (get_context("mpmath", dps=50), max(1, args.calls // 10))):
            comp = per_gradient(source, ctx, calls, args.repeat, interpreted=False)
            interp = per_gradient(source, ctx, calls, args.repeat, interpreted=True)
            goal = "   (goal >= 10x)" if ctx.name == "float64" else ""
            print(f"  {ctx.name:8s} per gradient: compiled {comp * 1e6:9.1f} us, interpreter "
                  f"{interp * 1e6:9.1f} us, ratio {interp / comp:6.1f}x{goal}")
    if args.skip_report:
        return 0
    only = args.only.split(",") if args.only else None
    if args.report_pass:  # one pass, in this (fresh) process
        with interpreter_only() if args.report_pass == "interpreter" else contextlib.nullcontext():
            total = print_report(report_cpu(only, args.out), f"report --quick, {args.report_pass}")
        print(f"REPORT_CPU_TOTAL {total:.3f}")
        return 0
    # each pass in a fresh process: one process would charge imports and warm-up to the first
    totals = {}
    for which in ("compiled",) + (("interpreter",) if args.interpreter else ()):
        cmd = [sys.executable, __file__, "--skip-gradients", "--report-pass", which, "--out", args.out]
        out = subprocess.run(cmd + (["--only", args.only] if args.only else []), capture_output=True,
                             text=True).stdout
        print(out.rsplit("REPORT_CPU_TOTAL", 1)[0].rstrip())
        totals[which] = float(out.rsplit("REPORT_CPU_TOTAL", 1)[1]) if "REPORT_CPU_TOTAL" in out else None
    if args.interpreter and all(totals.values()):
        print(f"\nCPU ratio interpreter / compiled: {totals['interpreter'] / totals['compiled']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
