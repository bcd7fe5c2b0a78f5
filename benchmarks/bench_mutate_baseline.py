"""What the per-file coverage baseline of ``tools/mutate.py`` costs, printed in one run.

For the target files given, the baseline (per-test coverage of the mapped test files) runs twice on
one copy of the tree: in one process (``--single-baseline``) and one fresh process per test file with
its imports traced (the default). Printed: wall and CPU seconds of each (CPU: the children's user +
system time, which a crowded machine inflates far less than wall time), their ratios, and for the
target's import-time mutants (module constants, defaults) how many tests each baseline gives them
(the single-process baseline, which traces no imports, gives them every mapped test).

    nice -n 15 python benchmarks/bench_mutate_baseline.py verify/core/results.py
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _tool():
    spec = importlib.util.spec_from_file_location("mutate_tool", ROOT / "tools" / "mutate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _children_cpu() -> float:
    usage = os.times()
    return usage.children_user + usage.children_system


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("targets", nargs="+", help="target files, e.g. verify/core/results.py")
    args = ap.parse_args(argv)
    mutate = _tool()
    tmap = mutate.test_map(args.targets)
    files = sorted({f for t in args.targets for f in tmap[t]})
    print(f"targets {args.targets}: {len(files)} mapped test files; load {os.getloadavg()[0]:.1f}")
    mutate._preload()
    tmp = Path(tempfile.mkdtemp(prefix="sam-bench-mutate-"))
    try:
        mutate.copy_tree(tmp)
        runs = {}
        for per_file in (False, True):
            wall, cpu = time.perf_counter(), _children_cpu()
            data = mutate.load_baseline(tmp, files, args.targets, None, per_file)
            runs[per_file] = (time.perf_counter() - wall, _children_cpu() - cpu, data)
            name = "per file" if per_file else "single"
            print(f"{name:8s}: wall {runs[per_file][0]:7.1f} s  cpu {runs[per_file][1]:7.1f} s  "
                  f"{len(data['durations'])} tests")
        (w1, c1, single), (w2, c2, per) = runs[False], runs[True]
        print(f"ratio per file / single: wall {w2 / w1:.2f}  cpu {c2 / c1:.2f}")
        for t in args.targets:
            module_level = [m for m in mutate.mutants_of(t) if m.import_time]
            for label, data in (("single", single), ("per file", per)):
                cover = mutate._covering_tests(data)
                sizes = [len(mutate._tests_for(m, cover, data, tmap[t])) for m in module_level]
                print(f"{t}: {len(module_level)} import-time mutants; tests each ({label}): "
                      f"min {min(sizes, default=0)} max {max(sizes, default=0)}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
