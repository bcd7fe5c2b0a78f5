"""``sam-verify report``: run every theorem on its built-in examples and write the HTML report."""
from __future__ import annotations

import os
import sys

from ..errors import SamVerifyError
from ..validate import check_count
from .common import engine_args

# wall clock on 2 quiet cores, measured (README: "How long it takes"); shown in --help and at start
EXPECTED = {"quick": "under a minute", "full": "about 4-5 min"}


def register(sub) -> None:
    p = sub.add_parser("report", help="run every theorem and write the HTML verification report",
                       description="Run every theorem module on its built-in examples (plus the CPU "
                       "MLP check) and write a self-contained static site: index.html, one page per "
                       "theorem, findings.html, environment.html and certificates.json. Exit status 0 "
                       "when every certificate behaved as expected (negative controls failing), 1 "
                       "otherwise; the report is written either way.")
    p.add_argument("--out", default="reports", help="output folder")
    p.add_argument("--quick", action="store_true",
                   help=f"small grids and fewer examples: {EXPECTED['quick']} on 2 cores (the full "
                        f"report: {EXPECTED['full']})")
    p.add_argument("--only", default=None,
                   help="run only these sections: comma-separated module names or theorem labels, "
                        "e.g. core_checks,thm_2_1 (see --list); default: all")
    p.add_argument("--jobs", type=int, default=1,
                   help="run sections in this many worker processes (the same as --workers N; "
                        "default 1: in this process)")
    engine_args(p, default="0, serial here, unless --jobs is given")
    p.add_argument("--section-timeout", type=float, default=None, metavar="SECONDS",
                   help="a section running longer becomes an error section; each section then runs "
                        "in a child process that is stopped at the limit (default: no limit)")
    p.add_argument("--resume", action="store_true",
                   help="reuse the sections that an earlier run into the same --out finished "
                        "without error, with the same mode and the same source code (their records "
                        "are in OUT/sections/); run only the others")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--profile", action="store_true",
                   help="print the seconds of every section and every figure, and the totals")
    p.add_argument("--list", action="store_true", help="list the report sections and exit")
    p.set_defaults(run=run)


def _workers(args, jobs: int) -> int | None:
    """--workers, or --jobs N as N workers; serial by default (a report's sections share one
    machine's cores with their own BLAS threads; a cluster is asked for)."""
    if args.workers is not None and jobs > 1 and args.workers != jobs:
        raise SamVerifyError(f"--jobs {jobs} and --workers {args.workers} disagree; give one of them")
    if args.scheduler:
        if jobs > 1:
            raise SamVerifyError("give --scheduler (an existing cluster) or --jobs (an embedded "
                                 "one), not both")
        return args.workers
    return args.workers if args.workers is not None else (jobs if jobs > 1 else 0)


def run(args) -> int:
    from ..report.build import build, discover, process_started
    only = [s for s in args.only.split(",")] if args.only else None
    jobs = check_count(args.jobs, "--jobs")
    if args.section_timeout is not None and not args.section_timeout > 0:
        raise SamVerifyError(f"--section-timeout must be positive, got {args.section_timeout}")
    if args.list:
        for s in discover(only):
            print(f"{s.order:8g}  {s.name:24s} {s.theorem}: {s.title}" + ("  [IMPORT ERROR]" if s.error else ""))
        return 0
    if not args.no_progress:
        mode = "quick" if args.quick else "full"
        print(f"sam-verify report ({mode}{', some sections' if only else ''}): the whole {mode} report "
              f"takes {EXPECTED[mode]} on 2 quiet cores (longer on busy ones: see the README)",
              file=sys.stderr)
    command = " ".join(["sam-verify"] + sys.argv[1:]) if os.path.basename(sys.argv[0]).startswith(
        ("sam-verify", "__main__")) else None
    from ..engine import Engine
    with Engine(_workers(args, jobs), args.scheduler, progress=False) as engine:
        report = build(out=args.out, quick=args.quick, only=only, engine=engine,
                       progress=not args.no_progress, command=command, timeout=args.section_timeout,
                       started=process_started(), resume=args.resume)
    index = os.path.join(args.out, "index.html")
    if args.profile:
        from ..report.build import profile_lines
        print("\n".join(profile_lines(report)))
    print(f"report written to {index}: {report.headline()}; {report.summary()} "
          f"({report.timings.get('total', 0):.1f} s)")
    reused = [s.slug for s in report.sections if s.reused]
    if reused:
        print(f"  {len(reused)} sections read back from {os.path.join(args.out, 'sections')} "
              f"(--resume): {', '.join(reused)}", file=sys.stderr)
    for sec in report.errors:
        print(f"  section {sec.module} raised: {sec.error.strip().splitlines()[-1]}", file=sys.stderr)
    for c in report.unexpected:
        print(f"  not as expected: {c['theorem']} on {c['example']}", file=sys.stderr)
    return 0 if report.ok else 1
