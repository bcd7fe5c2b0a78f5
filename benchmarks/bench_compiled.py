"""Benchmark of compiled symbolic objectives (:mod:`verify.objectives.compiled`), printed in one run:

1. the per-gradient cost of two 2-D symbolic objectives (an analytic one and the piecewise
   Appendix D function, the report's heaviest user) in float64 by the compiled path (sympy
   ``lambdify`` with ``cse``) and by the closure-tree interpreter of :mod:`verify.objectives.expr`,
   and their ratio (goal >= 10x); the same at 50 digits (mpmath) for information; each timing is the
   best of ``--repeat`` runs (the machine may be shared);
2. the CPU time (``time.process_time``: every thread of this process) of the report's quick run,
   section by section, built as ``python -m verify report --quick`` builds it, and the CPU time of
   that whole process (start-up, imports and the HTML included; goal <= 24 s, measured at 48 s on
   2 quiet cores before the compiled path and 39.5 s with it, before its code cache), in a fresh
   process; ``--interpreter`` runs it again, in another fresh process, with the compiled path
   switched off, for the ratio in the same conditions (one process would charge imports and
   warm-up to whichever pass ran first). The machine's load is printed with the numbers: other
   processes on the cores inflate CPU time too (cache sharing), if far less than wall time;
   ``SAM_VERIFY_TORCH_THREADS=1`` keeps torch's idle threads from spinning on a crowded machine.
   ``--skip-report`` skips 2;
3. the Thm 3.1 preimage solves y + rho u(y) = x for ``--preimages`` targets near the elliptic ring,
   one by one (``thm_3_1.preimage``) and as one vectorized float64 Newton (``thm_3_1.preimages``),
   with the agreement of their results.

    python benchmarks/bench_compiled.py [--calls 2000] [--repeat 5] [--only thm_2_1,...]
                                        [--interpreter] [--skip-report] [--out /tmp/rq]
                                        [--preimages 400]
"""
from __future__ import annotations

import argparse
import contextlib
import os
import resource
import subprocess
import sys
import time

import numpy as np

from verify.ctx import get_context
from verify.objectives import objective as objective_module, zoo
from verify.objectives.objective import SympyObjective

GOAL_CPU_S = 24.0
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


def preimage_timings(n: int) -> None:
    """Seconds for n preimage solves one by one and batched, and whether their results agree."""
    from theorems import thm_3_1
    from verify.core.solve import NewtonResult
    fp = get_context("float64")
    obj, rho = zoo.get("elliptic_ring").objective, 1.3
    rng = np.random.default_rng(0)
    a = rng.uniform(0.3, 2.8, n)
    X = np.stack([1.5 * np.cos(a), np.sin(a)], axis=1) * (1 + 0.02 * rng.standard_normal((n, 1)))
    Y0 = X * (1 - rho / np.linalg.norm(X, axis=1, keepdims=True))
    t0 = time.process_time()
    single = []
    for x, y in zip(X, Y0):
        try:
            single.append(thm_3_1.preimage(obj, x, rho, fp, y))
        except Exception as exc:  # noqa: BLE001 - compared by outcome
            single.append(exc)
    t1 = time.process_time()
    batch = thm_3_1.preimages(obj, X, rho, Y0)
    t2 = time.process_time()
    same = all(isinstance(s, NewtonResult) == isinstance(b, NewtonResult) and
               (not isinstance(s, NewtonResult) or (s.iterations == b.iterations and
                                                    np.abs(s.x - b.x).max() <= 1e3 * s.tol))
               for s, b in zip(single, batch))
    ok = sum(isinstance(s, NewtonResult) for s in single)
    print(f"\nThm 3.1 preimages, {n} targets near the elliptic ring ({ok} converge): one by one "
          f"{t1 - t0:.3f} s CPU, batched {t2 - t1:.3f} s CPU, ratio {(t1 - t0) / max(t2 - t1, 1e-9):.1f}x; "
          f"same outcomes and iterations: {same}")


def report_cpu(only, out: str) -> tuple[list[tuple[str, float, float, bool]], float]:
    """(section, CPU s, wall s, clean) for every section of the quick report, built in this process
    as ``report --quick`` builds it (``build``: every section, then the HTML), and the CPU seconds
    of the whole process so far (interpreter start-up, imports and rendering included)."""
    from verify.report import build as report_build
    rows = []
    run_section = report_build.run_section

    def timed(name, *args, **kw):
        c0, w0 = time.process_time(), time.perf_counter()
        res = run_section(name, *args, **kw)
        rows.append((name, time.process_time() - c0, time.perf_counter() - w0, not res["error"]))
        return res
    report_build.run_section = timed
    try:
        report_build.build(out=out, quick=True, only=only, progress=False, command="bench_compiled")
    finally:
        report_build.run_section = run_section
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return rows, usage.ru_utime + usage.ru_stime


def print_report(rows, process_cpu: float, label: str) -> float:
    total = sum(r[1] for r in rows)
    print(f"\n{label}: CPU s by section (wall s in brackets)")
    for name, cpu, wall, clean in sorted(rows, key=lambda r: -r[1]):
        print(f"  {name:24s} {cpu:8.2f}  [{wall:7.2f}]" + ("" if clean else "  SECTION ERROR"))
    print(f"  {'sections':24s} {total:8.2f}  [{sum(r[2] for r in rows):7.2f}]")
    print(f"  {'whole process':24s} {process_cpu:8.2f}   (start-up, imports and HTML included; "
          f"goal <= {GOAL_CPU_S:.0f} s CPU)")
    return process_cpu


def load_line() -> str:
    """The machine's load while measuring (other processes share the cores: CPU time, not wall
    time, is the fair measure; it still grows somewhat on a crowded machine)."""
    one, five, _ = os.getloadavg()
    return (f"machine: {os.cpu_count()} cores, load average {one:.1f} (1 min) {five:.1f} (5 min); "
            f"torch threads: {os.environ.get('SAM_VERIFY_TORCH_THREADS', 'default')}")


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
    ap.add_argument("--preimages", type=int, default=400, help="targets for 3 (0: skip)")
    ap.add_argument("--report-pass", choices=["compiled", "interpreter"], default=None,
                    help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if not args.report_pass:
        print(load_line())
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
    if args.preimages and not args.report_pass:
        preimage_timings(args.preimages)
    if args.skip_report:
        return 0
    only = args.only.split(",") if args.only else None
    if args.report_pass:  # one pass, in this (fresh) process
        with interpreter_only() if args.report_pass == "interpreter" else contextlib.nullcontext():
            rows, process_cpu = report_cpu(only, args.out)
        total = print_report(rows, process_cpu, f"report --quick, {args.report_pass}")
        print(load_line())
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
