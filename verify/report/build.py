"""The verification report: run every theorem module, then write a static HTML site.

Which sections: the theorems of ``theorems.REGISTRY`` (``theorems/__init__.py``), the one list the
report, the pytest plugin and the command line read (:func:`registry`, :func:`section_names`). A
package without a ``REGISTRY`` (tests use one) has every module as a candidate section instead.

Contract of a report section. Every listed module ``<package>.<name>`` (names starting with ``_``
skipped) that defines

* ``report_certificates(quick: bool = False, figdir: pathlib.Path | None = None) -> list[Certificate]``
* ``THEOREM`` (short label, e.g. ``"Theorem 2.1"``), ``TITLE`` (one line) and ``ORDER`` (a float)

is one section of the report; sections run in ``ORDER``. The module docstring is the section's
statement (blank-line paragraphs, ``*`` bullet lists, indented blocks as code, backquoted code). A
certificate object of the form ``{"columns": [...], "rows": [[...], ...]}`` (e.g. a rho-sweep table)
is rendered as a table. Figures are PNGs the module writes into ``figdir`` (``<out>/figures/<name>/``) and lists,
by file name, in ``cert.figures``; absolute paths elsewhere are copied in. A module that fails to
import or raises becomes an error section carrying the traceback — it never stops the report.

Two steps, usable separately:

* :func:`collect` runs the modules as tasks of :mod:`verify.engine` (serially here by default, on
  a Dask cluster when asked; each finished one recorded in ``out/sections/`` for ``resume``) and
  returns :class:`Section` objects whose certificates are already converted by ``Certificate.to_dict`` — the renderer reads
  only those dicts, so ``certificates.json`` holds exactly what the pages show, and every number on
  every page is computed in that run;
* :func:`render` writes ``index.html`` (first the paper statements that fail on cases whose
  hypotheses hold — :meth:`Report.headline` — then the per-theorem verdicts and every certificate),
  one page per section, ``findings.html`` (one row per statement: :func:`group_findings`),
  ``environment.html``, ``style.css`` and ``certificates.json``. Numbers are shown at 6
  significant digits by :mod:`verify.core.display` (the command line's formatter too), every
  digit on hover and in the JSON.

:func:`build` does both. The report is *clean* (:attr:`Report.ok`) when no section errored and every
certificate behaved as expected (``Certificate.as_expected``: real examples pass, negative controls do
not; a refusal counts against it unless the certificate is marked ``expected=False``).
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import html
import importlib
import json
import os
import pathlib
import platform
import re
import shutil
import subprocess
import sys
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from ..core import display
from ..errors import SamVerifyError

PACKAGE = "theorems"
VERSIONED = ("sam-verify", "numpy", "scipy", "sympy", "mpmath", "python-flint", "torch", "matplotlib",
             "autograd", "scikit-learn", "Jinja2", "tqdm")


# -- data -------------------------------------------------------------------------------------------
@dataclass
class Section:
    """One theorem module's part of the report. ``certificates`` are ``Certificate.to_dict()`` dicts."""

    module: str
    slug: str
    theorem: str
    title: str
    order: float
    statement: str = ""
    certificates: list[dict] = field(default_factory=list)
    error: str = ""
    elapsed: float = 0.0
    warnings: list[str] = field(default_factory=list)
    figure_log: list[dict] = field(default_factory=list)  # {"file", "seconds", "problems"} per figure
    reused: bool = False  # read back from an earlier run's record (resume), not run now

    @property
    def ok(self) -> bool:
        return not self.error and all(c.get("as_expected") or c.get("explained")
                                      for c in self.certificates)

    def to_dict(self) -> dict:
        return {"module": self.module, "slug": self.slug, "theorem": self.theorem, "title": self.title,
                "order": repr(self.order), "statement": self.statement, "error": self.error,
                "elapsed": repr(round(self.elapsed, 6)), "warnings": self.warnings,
                "figure_log": self.figure_log, "certificates": self.certificates}


@dataclass
class Report:
    sections: list[Section]
    environment: dict
    out: pathlib.Path | None = None
    timings: dict = field(default_factory=dict)  # seconds: collect, render, total (set by build)

    @property
    def certificates(self) -> list[dict]:
        return [c for s in self.sections for c in s.certificates]

    @property
    def errors(self) -> list[Section]:
        return [s for s in self.sections if s.error]

    @property
    def unexpected(self) -> list[dict]:
        """Certificates that misbehaved without a recorded finding to explain it."""
        return [c for c in self.certificates if not c.get("as_expected") and not c.get("explained")]

    @property
    def explained(self) -> list[dict]:
        """Real examples that failed because a paper statement fails there (findings recorded)."""
        return [c for c in self.certificates if c.get("explained")]

    @property
    def ok(self) -> bool:
        return not self.errors and not self.unexpected

    @property
    def finding_groups(self) -> list[dict]:
        return group_findings(self.sections)

    @property
    def failing_statements(self) -> list[dict]:
        """Finding groups recorded on real examples (not only on negative controls): statements of
        the papers that fail on a case whose hypotheses hold."""
        return [g for g in self.finding_groups if g["real"]]

    def headline(self) -> str:
        n = len(self.failing_statements)
        if not n:
            return "No statement of the papers failed on the examples of this run"
        return (f"{n} statement{'s' if n != 1 else ''} of the papers fail{'s' if n == 1 else ''} "
                f"on cases whose hypotheses hold")

    def summary(self) -> str:
        n = len(self.certificates)
        k = len(self.explained)
        return (f"{len(self.sections)} sections, {n} certificates: "
                f"{n - len(self.unexpected) - k} as expected, {k} failing where a paper statement "
                f"fails (findings), {len(self.unexpected)} not as expected, "
                f"{len(self.errors)} section errors")

    def to_dict(self) -> dict:
        from ..core.results import SCHEMA_VERSION
        return {"schema_version": SCHEMA_VERSION, "environment": self.environment, "ok": self.ok,
                "headline": self.headline(),
                "sections": [s.to_dict() for s in self.sections]}


# -- findings, grouped by statement -------------------------------------------------------------------
EVIDENCE_RANK = {"proved": 0, "high-precision": 1, "sampled": 2}


def evidence_level(finding: dict) -> str:
    """The finding's evidence level (``PROVED`` / ``high-precision`` / ``sampled``) when it records
    one (key ``evidence_level`` or ``level``, or ``evidence`` holding just the level); else ""."""
    for key in ("evidence_level", "level", "evidence"):
        value = str(finding.get(key) or "").strip()
        if value.lower() in EVIDENCE_RANK:
            return value
    return ""


def _strength(item: dict) -> tuple:
    """Sort key, strongest first: a recorded level (PROVED first), then real examples before
    negative controls, then the longer evidence."""
    level = evidence_level(item["finding"]).lower()
    return (EVIDENCE_RANK.get(level, len(EVIDENCE_RANK)), not item["cert"].get("expected", True),
            -len(str(item["finding"].get("evidence", ""))))


def group_findings(sections: Sequence[Section]) -> list[dict]:
    """One entry per (source, statement): every certificate that recorded it, the strongest
    evidence first, whether a real example (not only a negative control) recorded it, and a short
    plain-language summary (the finding's ``summary`` when it gives one). Groups with a PROVED
    finding come first, then by the number of examples."""
    groups: dict[tuple, dict] = {}
    for sec in sections:
        for i, c in enumerate(sec.certificates):
            for f in c.get("findings", []):
                key = (str(f.get("source", "")).strip(), str(f.get("statement", "")).strip())
                g = groups.setdefault(key, {"source": key[0], "statement": key[1], "items": []})
                g["items"].append({"section": sec, "cert": c, "finding": f,
                                   "anchor": f"{sec.slug}.html#cert-{i + 1}"})
    out = []
    for g in groups.values():
        g["items"].sort(key=_strength)
        g["strongest"] = g["items"][0]
        g["level"] = evidence_level(g["strongest"]["finding"])
        g["real"] = any(it["cert"].get("expected", True) for it in g["items"])
        g["examples"] = len(g["items"])
        g["summary"] = next((str(it["finding"]["summary"]) for it in g["items"]
                             if it["finding"].get("summary")), "") or _summary(g)
        out.append(g)
    out.sort(key=lambda g: (EVIDENCE_RANK.get(g["level"].lower(), len(EVIDENCE_RANK)), not g["real"],
                            -g["examples"]))
    return out


def _summary(g: dict) -> str:
    real = [it for it in g["items"] if it["cert"].get("expected", True)]
    n = len(real) or len(g["items"])
    where = ", ".join(sorted({it["section"].theorem for it in g["items"]}))
    if not real:
        return (f"Recorded only by {n} negative control{'s' if n != 1 else ''} ({where}), i.e. on "
                f"cases built to break a hypothesis.")
    return f"Does not hold on {n} example{'s' if n != 1 else ''} whose hypotheses were checked ({where})."


def section_verdict(sec: Section) -> tuple[str, str]:
    """(label, css class) of a whole section for the index's per-theorem table."""
    if sec.error:
        return "error", "bad"
    if any(not c.get("as_expected") and not c.get("explained") for c in sec.certificates):
        return "not as expected", "bad"
    n = len({(f.get("source"), f.get("statement")) for c in sec.certificates if c.get("expected", True)
             for f in c.get("findings", [])})
    if n:
        return f"paper statement fails ({n})", "finding"
    if not sec.certificates:
        return "no certificates", "warn"
    return "holds on every example", "ok"


# -- discovery --------------------------------------------------------------------------------------
def registry(package: str = PACKAGE) -> dict | None:
    """The package's ``REGISTRY`` (name -> entry), or None if it has none. The engine reaches the
    theorems only here and by name, at run time: ``verify`` never imports ``theorems`` when it is
    imported, so the dependency runs one way (``theorems`` -> ``verify``)."""
    return getattr(importlib.import_module(package), "REGISTRY", None)


def section_names(package: str = PACKAGE) -> list[str]:
    """The candidate sections: the registry's names, else every public module of ``package``."""
    table = registry(package)
    return list(table) if table is not None else module_names(package)


def module_names(package: str = PACKAGE) -> list[str]:
    """Short names of the modules of ``package`` (not importing them)."""
    import pkgutil
    pkg = importlib.import_module(package)
    return sorted(m.name for m in pkgutil.iter_modules(pkg.__path__)
                  if not m.name.startswith("_") and not m.ispkg)


@dataclass
class _Spec:
    name: str
    theorem: str
    title: str
    order: float
    statement: str
    error: str = ""


def discover(only: Sequence[str] | None = None, package: str = PACKAGE) -> list[_Spec]:
    """Import the section modules, in ORDER. ``only`` filters by module name or THEOREM label
    (case-insensitive); an unknown name raises :class:`SamVerifyError`. A module that fails to
    import is kept as an error spec (it may have been meant as a section)."""
    specs = []
    for name in section_names(package):
        try:
            mod = importlib.import_module(f"{package}.{name}")
        except (Exception, SystemExit):  # noqa: BLE001 - reported as an error section
            specs.append(_Spec(name, name, f"module {package}.{name} failed to import", 1e9, "",
                               traceback.format_exc()))
            continue
        if not callable(getattr(mod, "report_certificates", None)):
            continue
        try:
            order = float(getattr(mod, "ORDER", 1e6))
        except (TypeError, ValueError):
            order = 1e6
        specs.append(_Spec(name, str(getattr(mod, "THEOREM", name)), str(getattr(mod, "TITLE", name)),
                           order, (mod.__doc__ or "").strip()))
    if only:
        wanted = [w.strip().lower() for w in only if w.strip()]
        keys = {w: [s for s in specs if w in (s.name.lower(), s.theorem.lower())] for w in wanted}
        missing = [w for w, hit in keys.items() if not hit]
        if missing:
            raise SamVerifyError(f"--only: no report section named {', '.join(missing)}; known: "
                                 + ", ".join(f"{s.name} ({s.theorem})" for s in specs))
        specs = [s for s in specs if any(s in hit for hit in keys.values())]
    return sorted(specs, key=lambda s: (s.order, s.name))


# -- running ----------------------------------------------------------------------------------------
def run_section(name: str, quick: bool, figdir: str | os.PathLike, package: str = PACKAGE,
                timeout: float | None = None) -> dict:
    """Run one module's ``report_certificates`` and return plain data (picklable): certificates as
    dicts, figures resolved into ``figdir``, the error text if it raised. With ``timeout`` it runs
    in a child process that is stopped after that many seconds
    (:func:`verify.report.section_process.run_limited`), an error section then."""
    if timeout:
        from .section_process import run_limited
        return run_limited(name, quick, figdir, package, timeout)
    import warnings
    from . import figures
    figdir = pathlib.Path(figdir)
    figures.drain_log()
    started = time.perf_counter()
    certs, error = [], ""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            figdir.mkdir(parents=True, exist_ok=True)
            mod = importlib.import_module(f"{package}.{name}")
            produced = mod.report_certificates(quick=quick, figdir=figdir)
            certs = certificate_dicts(produced, figdir)
        except (Exception, SystemExit):  # noqa: BLE001 - one module must not kill the report
            error = traceback.format_exc()
    seen: dict[str, int] = {}
    for w in caught:  # shown on the section page instead of cluttering the terminal
        key = f"{w.category.__name__}: {w.message} ({os.path.basename(w.filename)}:{w.lineno})"
        seen[key] = seen.get(key, 0) + 1
    return {"certificates": certs, "error": error, "elapsed": time.perf_counter() - started,
            "warnings": [k + (f" ×{n}" if n > 1 else "") for k, n in seen.items()],
            "figure_log": figures.drain_log()}


def certificate_dicts(produced, figdir: pathlib.Path) -> list[dict]:
    """``Certificate`` objects (a list, a generator or a single one) to dicts; figures made local."""
    from ..core.results import Certificate
    if isinstance(produced, Certificate):
        produced = [produced]
    out = []
    for cert in produced or []:
        if not isinstance(cert, Certificate):
            raise TypeError(f"report_certificates must return Certificates, got {type(cert).__name__}")
        d = cert.to_dict()
        d["figures"] = [_localize_figure(f, figdir) for f in cert.figures]
        out.append(d)
    return out


def _localize_figure(fig: str, figdir: pathlib.Path) -> str:
    """A file name inside figdir; a path elsewhere is copied in. Missing files are kept as given
    (the renderer shows them as missing instead of a broken image)."""
    p = pathlib.Path(fig)
    candidates = [p] if p.is_absolute() else [figdir / p, figdir / p.name, pathlib.Path.cwd() / p]
    for c in candidates:
        if c.is_file():
            try:
                return str(c.resolve().relative_to(figdir.resolve()))
            except ValueError:
                figdir.mkdir(parents=True, exist_ok=True)
                target, k = figdir / c.name, 1
                while target.exists() and target.read_bytes() != c.read_bytes():
                    k += 1
                    target = figdir / f"{c.stem}-{k}{c.suffix}"
                shutil.copyfile(c, target)
                return target.name
    return "missing:" + str(fig)


SECTION_FORMAT = "sam-verify-report-section-1"


def _section_task(job: dict) -> dict:
    """One section as an engine task (module level: Dask workers import it by name)."""
    from .. import progress as nested
    with nested.shown(job["nested_progress"]):  # long loops inside the section show their own bars
        return run_section(job["name"], job["quick"], job["figdir"], job["package"], job["timeout"])


def _versions() -> dict:
    from importlib import metadata
    versions = {"python": platform.python_version()}
    for dist in VERSIONED:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    return versions


def code_identity(package: str = PACKAGE) -> dict:
    """What a section's result depends on besides the mode: the source files of the library and of
    the section package (hashed) and the versions of the libraries. A finished section is reused
    by ``resume`` only under the same identity."""
    digest = hashlib.sha256()
    roots = [pathlib.Path(__file__).resolve().parents[1],
             pathlib.Path(importlib.import_module(package).__file__).resolve().parent]
    for root in roots:
        for f in sorted(root.rglob("*.py")):
            digest.update(f"{root.name}/{f.relative_to(root)}\0".encode() + f.read_bytes())
    return {"source_sha256": digest.hexdigest(), "versions": _versions()}


def section_record(out: pathlib.Path, slug: str) -> pathlib.Path:
    return out / "sections" / f"{slug}.json"


def _reusable(out: pathlib.Path, slug: str, key: dict) -> dict | None:
    """The result of a finished, error-free run of this section under ``key``, when its record and
    every figure it names are still in ``out``."""
    from ..engine import read_record
    rec = read_record(section_record(out, slug), SECTION_FORMAT)
    if not rec or rec.get("key") != key or rec["result"].get("error"):
        return None
    figdir = out / "figures" / slug
    figs = [f for c in rec["result"]["certificates"] for f in c.get("figures", [])
            if not str(f).startswith("missing:")]
    return rec["result"] if all((figdir / f).is_file() for f in figs) else None


def _engine_for(engine, jobs: int, tasks: int):
    """The caller's engine (already started), or serial / a LocalCluster of ``jobs`` workers."""
    if engine is not None:
        return contextlib.nullcontext(engine)
    from ..engine import Engine
    return Engine(workers=jobs if jobs > 1 and tasks > 1 else 0, progress=False)


def collect(quick: bool = False, only: Sequence[str] | None = None, out: str | os.PathLike = "reports",
            jobs: int = 1, progress: bool = True, package: str = PACKAGE,
            timeout: float | None = None, engine=None, resume: bool = False) -> list[Section]:
    """Run every section module (figures under ``out/figures/<module>/``) and return the sections.

    Sections are tasks of ``engine`` (:class:`verify.engine.Engine`; default: serial here, or an
    embedded cluster of ``jobs`` workers). A section running past ``timeout`` seconds becomes an
    error section. Each finished section is written to ``out/sections/<module>.json`` as it
    completes; with ``resume`` a section whose record has the same mode and
    :func:`code_identity` and no error is read back instead of run again."""
    from ..engine import write_json
    out = pathlib.Path(out)
    specs = discover(only, package)
    table = registry(package)
    if quick and table is not None:  # a registry entry may keep its section out of the quick report
        specs = [s for s in specs if s.name not in table or table[s.name].quick]
    sections = [Section(s.name, s.name, s.theorem, s.title, s.order, s.statement, error=s.error)
                for s in specs]
    key = {"package": package, "quick": bool(quick), "code": code_identity(package)}
    todo = []
    for sec in sections:
        res = None if sec.error or not resume else _reusable(out, sec.slug, key)
        if res is not None:
            _fill(sec, res)
            sec.reused = True
        elif not sec.error:
            todo.append(sec)
            if resume:                                # no stale figure of an earlier run survives
                shutil.rmtree(out / "figures" / sec.slug, ignore_errors=True)
    bar = _progress(len(todo), progress)
    with _engine_for(engine, jobs, len(todo)) as eng:
        token = uuid.uuid4().hex[:8]                  # task keys unique on a shared cluster
        by_key = {f"section-{s.slug}-{token}": s for s in todo}
        tasks = [{"name": s.slug, "quick": quick, "figdir": str(out / "figures" / s.slug),
                  "package": package, "timeout": timeout, "nested_progress": progress and eng.serial}
                 for s in todo]
        for outcome in eng.run(_section_task, tasks, list(by_key), desc="report sections"):
            sec = by_key[outcome.key]
            _fill(sec, outcome.value if not outcome.error else
                  {"certificates": [], "error": outcome.error, "elapsed": 0.0})
            write_json(section_record(out, sec.slug),
                       {"format": SECTION_FORMAT, "key": key, "module": sec.module,
                        "result": {"certificates": sec.certificates, "error": sec.error,
                                   "elapsed": sec.elapsed, "warnings": sec.warnings,
                                   "figure_log": sec.figure_log}})
            bar.set_postfix_str(f"{sec.slug} {'error' if sec.error else 'ok' if sec.ok else 'NOT OK'}")
            bar.update(1)
    bar.close()
    return sections


def _fill(sec: Section, res: dict) -> None:
    sec.certificates, sec.error, sec.elapsed = res["certificates"], res["error"], res["elapsed"]
    sec.warnings = res.get("warnings", [])
    sec.figure_log = res.get("figure_log", [])


class _NoBar:
    def set_postfix_str(self, *a, **k): ...
    def set_description(self, *a, **k): ...
    def update(self, *a, **k): ...
    def close(self): ...


def _progress(total: int, enabled: bool):
    if not enabled:
        return _NoBar()
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return _NoBar()
    return tqdm(total=total, desc="report", unit="module", file=sys.stderr, dynamic_ncols=True)


def extra_section(certificates: Iterable, out: str | os.PathLike, slug: str = "tests",
                  theorem: str = "Tests", title: str = "Certificates registered by the test suite",
                  statement: str = "", order: float = 1e7) -> Section:
    """A section from Certificates made elsewhere (e.g. registered by tests through the pytest
    fixture ``sam_certificates``); their figures are copied under ``out/figures/<slug>/``."""
    figdir = pathlib.Path(out) / "figures" / slug
    sec = Section(slug, slug, theorem, title, order, statement)
    started = time.perf_counter()
    try:
        sec.certificates = certificate_dicts(list(certificates), figdir)
    except Exception:  # noqa: BLE001
        sec.error = traceback.format_exc()
    sec.elapsed = time.perf_counter() - started
    return sec


# -- environment -------------------------------------------------------------------------------------
def environment(sections: Sequence[Section] = (), command: str | None = None, quick: bool | None = None,
                started: float | None = None) -> dict:
    """Versions, precisions, seeds, git commit, date and command line of this run."""
    versions = _versions()
    precisions, contexts, seeds = set(), set(), {}
    for sec in sections:
        for c in sec.certificates:
            for claim in c.get("claims", []):
                if claim.get("precision"):
                    precisions.add(f"{claim.get('context', '')} {claim['precision']}".strip())
            if c.get("precision"):
                precisions.add(f"{c.get('context', '')} {c['precision']}".strip())
            if c.get("context"):
                contexts.add(c["context"])
            for k, v in (c.get("objects") or {}).items():
                if "seed" in str(k).lower():
                    seeds[f"{sec.slug} / {c.get('example', '')} / {k}"] = v
    root = pathlib.Path(__file__).resolve().parents[2]
    return {
        "versions": versions,
        "platform": f"{platform.system()} {platform.release()} {platform.machine()}",
        "cpus": str(os.cpu_count()),
        "git_commit": _git(root, "rev-parse", "HEAD") or "unavailable",
        "git_dirty": _git_dirty(root),
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "command": command if command is not None else " ".join([os.path.basename(sys.argv[0])] + sys.argv[1:]),
        "cwd": os.getcwd(),
        "mode": "" if quick is None else ("quick" if quick else "full"),
        "precisions": sorted(precisions),
        "contexts": sorted(contexts),
        "seeds": seeds,
        "elapsed": "" if started is None else f"{time.perf_counter() - started:.1f} s",
    }


def _git(root: pathlib.Path, *args: str) -> str:
    try:
        res = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10)
        return res.stdout.strip() if res.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def _git_dirty(root: pathlib.Path) -> str:
    if not _git(root, "rev-parse", "HEAD"):
        return ""
    status = _git(root, "status", "--porcelain", "--untracked-files=no")
    return "yes (uncommitted changes to tracked files)" if status else "no"


# -- rendering --------------------------------------------------------------------------------------
def _jinja():
    import jinja2
    env = jinja2.Environment(loader=jinja2.PackageLoader("verify.report", "templates"),
                             autoescape=jinja2.select_autoescape(["html"]),
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["prose"] = prose
    env.filters["verdict_class"] = verdict_class
    env.filters["shown"] = shown
    env.filters["num"] = num_html
    env.filters["tol"] = lambda v: num_html(v, display.TOL_SIG)
    env.filters["text"] = display.in_text
    env.filters["slugify"] = slugify
    env.globals["margin_html"] = margin_html
    env.globals["verdict_word"] = display.verdict_word
    env.globals["section_verdict"] = section_verdict
    env.globals["evidence_level"] = evidence_level
    env.globals["result_of"] = result_of
    env.globals["hyp_summary"] = hyp_summary
    env.globals["precision_of"] = precision_of
    env.globals["is_table"] = is_table
    return env


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "x"


def prose(text: str):
    """A docstring to HTML: blank-line paragraphs, ``*``/``-`` bullet lists, ``code`` spans."""
    from markupsafe import Markup
    blocks, out = re.split(r"\n\s*\n", (text or "").strip()), []
    for block in blocks:
        lines = [ln.rstrip() for ln in block.splitlines()]
        if not any(ln.strip() for ln in lines):
            continue
        if all(re.match(r"\s*([*-]|\d+\.)\s", ln) or (ln.startswith("  ") and i) for i, ln in enumerate(lines)):
            items, cur = [], []
            for ln in lines:
                if re.match(r"\s*([*-]|\d+\.)\s", ln):
                    if cur:
                        items.append(" ".join(cur))
                    cur = [re.sub(r"^\s*([*-]|\d+\.)\s+", "", ln)]
                else:
                    cur.append(ln.strip())
            if cur:
                items.append(" ".join(cur))
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
        elif all(ln.startswith("    ") for ln in lines if ln.strip()):
            out.append("<pre>" + html.escape("\n".join(ln[4:] for ln in lines)) + "</pre>")
        else:
            out.append("<p>" + _inline(" ".join(ln.strip() for ln in lines)) + "</p>")
    return Markup("\n".join(out))


def _inline(text: str) -> str:
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"``\1``", text)  # Sphinx roles such as :mod:`verify.core.sam`
    parts = re.split(r"``(.+?)``|`(.+?)`", text)
    out = []
    for i, part in enumerate(parts):
        if part is None:
            continue
        out.append(f"<code>{html.escape(part)}</code>" if i % 3 else html.escape(part))
    return "".join(out)


def verdict_class(verdict: str) -> str:
    return {"pass": "ok", "proved": "ok", "fail": "bad", "undecided": "warn"}.get(str(verdict), "warn")


def shown(value: Any, sig: int = display.SIG) -> str:
    """A value from a certificate dict as text, numbers at ``sig`` significant digits (the one
    formatter of :mod:`verify.core.display`, shared with the command line)."""
    return display.shown(value, sig)


def _full(value: Any) -> str:
    """The value with every digit, for the hover text."""
    if isinstance(value, dict):
        return "\n".join(f"{k}: {_full(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_full(v) for v in value) + "]"
    return "—" if value is None else str(value)


def num_html(value: Any, sig: int = display.SIG):
    """A value as short text; when digits were dropped, the full text is on hover (``title``)."""
    from markupsafe import Markup, escape
    short, full = shown(value, sig), _full(value)
    if short == full:
        return escape(short)
    return Markup(f'<span class="n" title="{escape(full)}">{escape(short)}</span>')


def margin_html(claim: dict):
    """A claim's margin (positive: it holds by that much), short, full on hover; "—" if it has none.
    The margin the deciding arithmetic recorded (an Arb ball stays a ball) comes first; claims
    without one (older results) get it from their strings."""
    if claim.get("margin"):
        return num_html(claim["margin"])
    m = display.margin(claim.get("value"), claim.get("relation", ""), claim.get("bound"),
                       claim.get("tolerance"))
    return "—" if m is None else num_html(str(m))


def is_table(value: Any) -> bool:
    """An object of the form ``{"columns": [...], "rows": [[...], ...]}`` renders as a table."""
    return (isinstance(value, dict) and set(value) == {"columns", "rows"}
            and isinstance(value["rows"], list) and all(isinstance(r, list) for r in value["rows"]))


def result_of(c: dict) -> tuple[str, str]:
    """(label, css class) of a certificate's outcome."""
    if c.get("refused"):
        return ("refused" + ("" if c.get("expected", True) else " (expected)"),
                "warn" if c.get("as_expected") else "bad")
    if not c.get("expected", True):
        return (("negative control failed as expected", "ok") if c.get("as_expected")
                else ("negative control PASSED (unexpected)", "bad"))
    if c.get("passed"):
        return "passed", "ok"
    if c.get("explained"):
        return "paper statement fails here (see findings)", "warn"
    if not all(h.get("met") for h in c.get("hypotheses", [])):
        return "hypotheses not met", "bad"
    return "failed", "bad"


def hyp_summary(c: dict) -> str:
    hs = c.get("hypotheses", [])
    if not hs:
        return "—"
    met = sum(1 for h in hs if h.get("met") is True)
    und = sum(1 for h in hs if h.get("met") is None)
    return f"{met}/{len(hs)}" + (f" ({und} undecided)" if und else "")


def precision_of(c: dict) -> str:
    seen = []
    for label in [f"{c.get('context', '')} {c.get('precision', '')}".strip()] + [
            f"{k.get('context', '')} {k.get('precision', '')}".strip() for k in c.get("claims", [])]:
        if label and label not in seen:
            seen.append(label)
    return "; ".join(seen) or "—"


def render(sections: Sequence[Section], out: str | os.PathLike, env_info: dict | None = None) -> Report:
    """Write the site into ``out`` and return the :class:`Report`."""
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    env_info = env_info or environment(sections)
    report = Report(list(sections), env_info, out)
    jenv = _jinja()
    src = pathlib.Path(__file__).parent / "templates" / "style.css"
    shutil.copyfile(src, out / "style.css")
    for sec in report.sections:
        for i, c in enumerate(sec.certificates):
            c["_anchor"] = f"cert-{i + 1}"
    unexpected = [{"section": s, "cert": c} for s in report.sections for c in s.certificates
                  if not c.get("as_expected") and not c.get("explained")]
    explained = [{"section": s, "cert": c} for s in report.sections for c in s.certificates
                 if c.get("explained")]
    common = dict(report=report, sections=report.sections, env=env_info)
    pages = {"index.html": jenv.get_template("index.html").render(page="index", **common),
             "findings.html": jenv.get_template("findings.html").render(
                 page="findings", unexpected=unexpected,
                 explained=explained, **common),
             "environment.html": jenv.get_template("environment.html").render(page="environment", **common)}
    for sec in report.sections:
        pages[f"{sec.slug}.html"] = jenv.get_template("section.html").render(
            page=sec.slug, section=sec, figbase=f"figures/{sec.slug}", **common)
    for name, text in pages.items():
        (out / name).write_text(text, encoding="utf-8")
    for sec in report.sections:
        for c in sec.certificates:
            c.pop("_anchor", None)
    (out / "certificates.json").write_text(json.dumps(report.to_dict(), indent=1, ensure_ascii=False),
                                           encoding="utf-8")
    return report


def clean_previous(out: pathlib.Path, keep_figures: bool = False) -> None:
    """Remove what an earlier report wrote into ``out`` (its pages and figure folders, as listed in
    its certificates.json), so that no stale page or figure survives; nothing else is touched.
    ``keep_figures``: a resumed run keeps the figures of the sections it may reuse (:func:`collect`
    empties the folder of each section it runs again)."""
    manifest = pathlib.Path(out) / "certificates.json"
    if not manifest.is_file():
        return
    try:
        slugs = [s["slug"] for s in json.loads(manifest.read_text(encoding="utf-8"))["sections"]]
    except (ValueError, KeyError, TypeError):
        return
    for slug in slugs:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", str(slug)) or slug in (".", ".."):
            continue
        (out / f"{slug}.html").unlink(missing_ok=True)
        if not keep_figures:
            shutil.rmtree(out / "figures" / slug, ignore_errors=True)
    manifest.unlink(missing_ok=True)


def process_started() -> float:
    """The ``time.perf_counter()`` value at which this process started (Linux: from /proc, so that
    interpreter start-up and imports count too; elsewhere: now), for run times that match the clock
    a user holds."""
    now = time.perf_counter()
    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            ticks = int(fh.read().rsplit(")", 1)[1].split()[19])  # field 22: start time since boot
        with open("/proc/uptime", encoding="ascii") as fh:
            uptime = float(fh.read().split()[0])
        age = uptime - ticks / os.sysconf("SC_CLK_TCK")
        return now - age if 0 <= age < 1e7 else now
    except (OSError, ValueError, IndexError, AttributeError):
        return now


def build(out: str | os.PathLike = "reports", quick: bool = False, only: Sequence[str] | None = None,
          jobs: int = 1, progress: bool = True, extra: Sequence[Section] = (), command: str | None = None,
          package: str = PACKAGE, timeout: float | None = None, started: float | None = None,
          engine=None, resume: bool = False) -> Report:
    """Collect every section (plus ``extra`` ones) and render the site into ``out``; ``timeout``
    limits each section's seconds, ``engine`` / ``jobs`` say where sections run and ``resume``
    reuses sections finished by an earlier run into ``out`` (see :func:`collect`). Run times count
    from ``started`` (a ``time.perf_counter()`` value, e.g. :func:`process_started`; default: now)."""
    started = time.perf_counter() if started is None else started
    out = pathlib.Path(out)
    clean_previous(out, keep_figures=resume)
    sections = collect(quick=quick, only=only, out=out, jobs=jobs, progress=progress, package=package,
                       timeout=timeout, engine=engine, resume=resume)
    sections += list(extra)
    collected = time.perf_counter()
    info = environment(sections, command=command, quick=quick, started=started)
    report = render(sections, out, info)
    report.timings = {"collect": collected - started, "render": time.perf_counter() - collected,
                      "total": time.perf_counter() - started}
    return report


def profile_lines(report: Report) -> list[str]:
    """Where the time went: each section (wall clock inside its process) and each of its figures
    (drawing and saving), then the totals against the run's own clock."""
    lines = [f"{'section':24s} {'seconds':>9s} {'figures':>8s} {'fig. s':>8s}"]
    fig_total = 0.0
    for sec in report.sections:
        fs = sum(float(e.get("seconds", 0)) for e in sec.figure_log)
        fig_total += fs
        lines.append(f"{sec.slug:24s} {sec.elapsed:9.2f} {len(sec.figure_log):8d} {fs:8.2f}"
                     + ("  (an earlier run's, reused)" if sec.reused else ""))
        for e in sec.figure_log:
            lines.append(f"    {e['file']:40s} {float(e['seconds']):7.2f} s"
                         + (f"  PROBLEMS: {'; '.join(e['problems'])}" if e.get("problems") else ""))
    t = report.timings
    lines.append(f"sections {sum(s.elapsed for s in report.sections):.2f} s (summed; in parallel with "
                 f"--jobs they overlap), figures {fig_total:.2f} s of it")
    if t:
        lines.append(f"start-up and collect {t['collect']:.2f} s + render {t['render']:.2f} s = "
                     f"wall clock {t['total']:.2f} s since the process started")
    return lines
