"""Report sections on the engine (issue 18): the same certificates serially and on a 2-worker
LocalCluster, a raising section recorded while the rest complete, a stuck section stopped at its
time limit inside a Dask worker, finished sections written as they complete and reused by resume."""
from __future__ import annotations

import json
import sys
import textwrap

import pytest

pytest.importorskip("distributed")

from verify.cli import main                           # noqa: E402
from verify.engine import Engine                      # noqa: E402
from verify.report.build import build, section_record  # noqa: E402

SECTIONS = {
    "alpha": '''
        """A section with a claim, a table and a figure."""
        import numpy as np
        from verify.core.claims import compare
        from verify.core.results import Certificate
        from verify.ctx import get_context
        THEOREM, TITLE, ORDER = "Thm Alpha", "alpha", 1.0
        def report_certificates(quick=False, figdir=None):
            {count}
            ctx = get_context("float64")
            c = Certificate("Thm Alpha", "alpha", "a sum", context="float64")
            total = float(np.sum(np.sin(np.arange(1, 200) / 7.0)))
            c.add(compare("sum", "the sum is below 100", total, "<=", 100.0, ctx))
            c.objects["table"] = {{"columns": ["k", "sin"], "rows": [[k, np.sin(k)] for k in (1, 2)]}}
            from verify.report import figures
            X, Y = figures.grid(n=12)
            c.figures.append(figures.surface_figure(X, Y, X - Y, figdir / "xy.png", title="x - y"))
            return [c.finish()]
    ''',
    "boom": '''
        THEOREM, TITLE, ORDER = "Thm Boom", "boom", 2.0
        def report_certificates(quick=False, figdir=None):
            {count}
            raise RuntimeError("deliberate failure in boom")
    ''',
    "later": '''
        from verify.core.results import Certificate
        THEOREM, TITLE, ORDER = "Thm Later", "later", 3.0
        def report_certificates(quick=False, figdir=None):
            {count}
            import os
            if os.path.exists({interrupt!r}):
                raise KeyboardInterrupt  # the user stops the run here
            return [Certificate("Thm Later", "later", "no work", context="float64").finish()]
    ''',
    "stuck": '''
        THEOREM, TITLE, ORDER = "Thm Stuck", "stuck", 4.0
        def report_certificates(quick=False, figdir=None):
            {count}
            import threading
            threading.Event().wait()  # never returns: only the time limit ends it
            open({reached!r}, "w").close()
            return []
    ''',
}


@pytest.fixture
def dask_sections(tmp_path, monkeypatch):
    """A section package ``dasksec``; every run of a section appends its name to ``runs.txt``."""
    pkg = tmp_path / "dasksec"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    runs = tmp_path / "runs.txt"
    count = f"fh = open({str(runs)!r}, 'a'); fh.write(__name__.split('.')[-1] + '\\n'); fh.close()"
    for name, src in SECTIONS.items():
        (pkg / f"{name}.py").write_text(textwrap.dedent(src).format(
            count=count, interrupt=str(tmp_path / "interrupt"), reached=str(tmp_path / "reached")))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [m for m in sys.modules if m == "dasksec" or m.startswith("dasksec.")]:
        del sys.modules[name]


def _runs(root) -> list[str]:
    path = root / "runs.txt"
    return path.read_text().split() if path.is_file() else []


def _without_timings(out) -> list[dict]:
    """certificates.json's sections without what a clock measured."""
    data = json.loads((out / "certificates.json").read_text())
    sections = data["sections"]
    for s in sections:
        s.pop("elapsed")
        s["figure_log"] = [{k: v for k, v in e.items() if k != "seconds"} for e in s["figure_log"]]
        s["error"] = s["error"].strip().splitlines()[-1] if s["error"] else ""
        for c in s["certificates"]:
            c.pop("elapsed")
    return sections


def test_serial_and_two_workers_write_the_same_report(dask_sections):
    root = dask_sections
    only = ["alpha", "boom", "later"]
    with Engine(workers=0, progress=False) as eng:
        serial = build(out=root / "serial", quick=True, only=only, progress=False,
                       package="dasksec", engine=eng)
    with Engine(workers=2, progress=False) as eng:
        cluster = build(out=root / "cluster", quick=True, only=only, progress=False,
                        package="dasksec", engine=eng)
    a, b = _without_timings(root / "serial"), _without_timings(root / "cluster")
    assert a == b
    assert [s["module"] for s in a] == only
    # the raising section is an error section; the others completed
    assert a[1]["error"] == "RuntimeError: deliberate failure in boom" and not a[1]["certificates"]
    assert a[0]["certificates"][0]["passed"] and a[2]["certificates"] and not a[0]["error"]
    assert (root / "cluster" / "figures" / "alpha" / "xy.png").stat().st_size > 1000
    assert serial.summary() == cluster.summary()
    # a record per finished section, written as it completed
    assert all(section_record(root / "cluster", s).is_file() for s in only)


def test_stuck_section_is_stopped_at_its_limit_inside_a_dask_worker(dask_sections):
    root = dask_sections
    with Engine(workers=2, progress=False) as eng:
        report = build(out=root / "out", quick=True, only=["stuck", "later"], progress=False,
                       package="dasksec", engine=eng, timeout=5.0)
    stuck, later = (next(s for s in report.sections if s.module == m) for m in ("stuck", "later"))
    assert "time limit of 5 s" in stuck.error and not stuck.certificates
    assert not (root / "reached").exists()          # stopped, not finished late
    assert not later.error and later.certificates   # the control under the same limit


def test_resume_reuses_finished_sections_only(dask_sections):
    root, out = dask_sections, dask_sections / "out"
    only = ["alpha", "boom", "later"]
    (root / "interrupt").touch()
    with pytest.raises(KeyboardInterrupt):
        build(out=out, quick=True, only=only, progress=False, package="dasksec")
    assert section_record(out, "alpha").is_file() and not section_record(out, "later").is_file()
    (root / "interrupt").unlink()
    first = build(out=out, quick=True, only=only, progress=False, package="dasksec", resume=True)
    assert _runs(root) == ["alpha", "boom", "later", "boom", "later"]   # alpha read back
    assert (out / "figures" / "alpha" / "xy.png").is_file() and not first.sections[0].error
    assert [s.reused for s in first.sections] == [True, False, False]
    # controls: other source code, or a missing figure, and the section runs again
    with open(root / "dasksec" / "alpha.py", "a") as fh:
        fh.write("# edited\n")
    build(out=out, quick=True, only=["alpha"], progress=False, package="dasksec", resume=True)
    assert _runs(root).count("alpha") == 2
    (out / "figures" / "alpha" / "xy.png").unlink()
    build(out=out, quick=True, only=["alpha"], progress=False, package="dasksec", resume=True)
    assert _runs(root).count("alpha") == 3
    build(out=out, quick=True, only=["alpha"], progress=False, package="dasksec", resume=True)
    assert _runs(root).count("alpha") == 3                               # and now reused


@pytest.mark.parametrize("extra,msg", [(["--jobs", "3", "--workers", "2"], "disagree"),
                                       (["--jobs", "2", "--scheduler", "tcp://x:1"], "not both"),
                                       (["--workers", "-1"], "--workers")])
def test_report_refuses_conflicting_engine_options(extra, msg, tmp_path, capsys):
    assert main(["report", "--out", str(tmp_path), "--only", "core_checks", "--no-progress",
                 *extra]) == 2
    assert msg in capsys.readouterr().err
