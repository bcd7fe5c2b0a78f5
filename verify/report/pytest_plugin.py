"""pytest plugin (registered through the ``pytest11`` entry point).

* ``--runslow`` runs tests marked ``slow``; tests marked ``gpu`` are skipped where CUDA is absent.
* ``--sam-report DIR`` also writes the HTML verification report into DIR when the session finishes,
  so the proof-checking suite and the report come from one run. ``--sam-report-mode`` chooses what
  goes in: ``quick`` (the report's quick mode), ``full``, ``tests`` (only certificates registered by
  tests) or ``auto`` (default: ``full`` with ``--runslow``, else ``quick``). ``--sam-report-only``
  restricts the theorem sections like ``sam-verify report --only``; ``--sam-report-strict`` makes the
  session fail when the report is not clean (a section raised, or a certificate did not behave as
  expected). The sections are those of ``theorems.REGISTRY`` (:func:`report_sections`), named in
  the session header.
* With ``--sam-report``, every Certificate a test finishes (in its setup, call or teardown) is
  recorded with that test's id and outcome, so the report shows exactly what the suite checked;
  ``--sam-report-mode tests`` renders only those.
* Fixture ``sam_certificates``: tests may also register Certificates explicitly —
  ``sam_certificates.add(cert)`` (returns ``cert``, so ``assert sam_certificates.add(cert).passed``
  reads naturally). They appear in a section "Certificates registered by the test suite", each with
  the test that registered it and that test's outcome. Figures given as absolute paths (e.g. under
  ``tmp_path``) are copied into the report. Registering is harmless without ``--sam-report``.
  Under pytest-xdist only the controller writes the report and certificates registered in workers
  are not collected.
"""
from __future__ import annotations

import pathlib

import pytest

_CERTS = pytest.StashKey[list]()
_OUTCOMES = pytest.StashKey[dict]()
_RESULT = pytest.StashKey[object]()
_STARTED = pytest.StashKey[float]()


def pytest_addoption(parser):
    group = parser.getgroup("sam-verify")
    group.addoption("--runslow", action="store_true", default=False, help="run tests marked slow")
    group.addoption("--sam-report", metavar="DIR", default=None,
                    help="also write the HTML verification report into DIR at the end of the run")
    group.addoption("--sam-report-mode", default="auto", choices=["auto", "quick", "full", "tests"],
                    help="report content: auto (full with --runslow, else quick), quick, full, or "
                         "tests (only the certificates the tests finished or registered)")
    group.addoption("--sam-report-only", default=None, metavar="MODULES",
                    help="comma-separated report sections (module names or theorem labels)")
    group.addoption("--sam-report-strict", action="store_true", default=False,
                    help="fail the session when the report is not clean")


def pytest_configure(config):
    from .build import process_started
    config.stash[_STARTED] = process_started()  # the report's run time is the whole session's
    config.stash[_CERTS] = []
    config.stash[_OUTCOMES] = {}


def report_sections(only=None) -> list[str]:
    """The theorem sections ``--sam-report`` runs: the registry's, filtered like ``--sam-report-only``."""
    from .build import discover
    return [s.name for s in discover(only)]


def _only(config):
    only_opt = config.getoption("--sam-report-only")
    return [s for s in only_opt.split(",") if s.strip()] if only_opt else None


def pytest_report_header(config):
    if not config.getoption("--sam-report") or config.getoption("--sam-report-mode") == "tests":
        return None
    from ..errors import SamVerifyError
    try:
        return "sam-verify report sections: " + ", ".join(report_sections(_only(config)))
    except SamVerifyError as exc:  # the session still runs; the report records the error
        return f"sam-verify report: {exc}"


def pytest_collection_modifyitems(config, items):
    skip_slow = pytest.mark.skip(reason="slow: pass --runslow to run")
    cuda = _cuda_available()
    skip_gpu = pytest.mark.skip(reason="no CUDA device present")
    for item in items:
        if "slow" in item.keywords and not config.getoption("--runslow"):
            item.add_marker(skip_slow)
        if "gpu" in item.keywords and not cuda:
            item.add_marker(skip_gpu)


def _cuda_available() -> bool:
    try:
        import torch
        return bool(torch.cuda.is_available())
    except ImportError:
        return False


# -- certificates registered by tests ----------------------------------------------------------------
class CertificateLog:
    """Returned by the ``sam_certificates`` fixture: ``add(cert)`` registers a Certificate."""

    def __init__(self, store: list, nodeid: str):
        self._store, self.nodeid, self._mine = store, nodeid, []

    def add(self, cert):
        from ..core.results import Certificate
        if not isinstance(cert, Certificate):
            raise TypeError(f"sam_certificates.add expects a Certificate, got {type(cert).__name__}")
        _record(self._store, self.nodeid, cert)
        self._mine.append(cert)
        return cert

    append = add
    __call__ = add

    def __iter__(self):
        return iter(self._mine)

    def __len__(self) -> int:
        return len(self._mine)


@pytest.fixture
def sam_certificates(request) -> CertificateLog:
    """Register Certificates for the HTML report written with ``--sam-report DIR``."""
    return CertificateLog(request.config.stash.setdefault(_CERTS, []), request.node.nodeid)


def _record(store: list, nodeid: str, cert) -> None:
    if not any(c is cert for _, c in store):
        store.append((nodeid, cert))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """While a test runs (setup, call, teardown), record every certificate it finishes."""
    if not item.config.getoption("--sam-report"):
        yield
        return
    from ..core import results
    store = item.config.stash.setdefault(_CERTS, [])
    listener = lambda cert: _record(store, item.nodeid, cert)  # noqa: E731
    results.FINISH_LISTENERS.append(listener)
    try:
        yield
    finally:
        results.FINISH_LISTENERS.remove(listener)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    outcomes = item.config.stash.setdefault(_OUTCOMES, {})
    if rep.when == "call":
        outcomes[item.nodeid] = rep.outcome
    elif rep.outcome != "passed":  # a setup that skipped or errored, a teardown that errored
        outcomes[item.nodeid] = rep.outcome if rep.skipped else f"error in {rep.when}"


# -- writing the report at the end of the session ----------------------------------------------------
def pytest_sessionfinish(session, exitstatus):
    config = session.config
    out = config.getoption("--sam-report")
    if not out or hasattr(config, "workerinput"):  # xdist workers never write
        return
    mode = config.getoption("--sam-report-mode")
    if mode == "auto":
        mode = "full" if config.getoption("--runslow") else "quick"
    only = _only(config)
    try:
        from .build import clean_previous, collect, environment, extra_section, render
        out = pathlib.Path(out)
        clean_previous(out)
        sections = [] if mode == "tests" else collect(quick=(mode == "quick"), only=only, out=out,
                                                      progress=False)
        registered = config.stash.get(_CERTS, [])
        if registered:
            outcomes = config.stash.get(_OUTCOMES, {})
            sec = extra_section([c for _, c in registered], out, statement=(
                "Certificates that tests of this pytest run registered through the "
                "``sam_certificates`` fixture, in the order they ran, each with the test that made "
                "it and that test's outcome."))
            for d, (nodeid, _) in zip(sec.certificates, registered):
                d["registered_by"] = nodeid
                d["test_outcome"] = outcomes.get(nodeid, "unknown")
            sections.append(sec)
        command = "pytest " + " ".join(config.invocation_params.args)
        report = render(sections, out, environment(sections, command=command,
                                                   quick=None if mode == "tests" else mode == "quick",
                                                   started=config.stash[_STARTED]))
        config.stash[_RESULT] = report
        if config.getoption("--sam-report-strict") and not report.ok and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    except Exception as exc:  # noqa: BLE001 - report the failure, do not hide the test results
        import traceback
        config.stash[_RESULT] = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
        if session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    result = config.stash.get(_RESULT, None)
    if result is None:
        return
    tr = terminalreporter
    tr.section("sam-verify report")
    if isinstance(result, str):
        tr.write_line(f"writing the report failed: {result}", red=True)
        return
    tr.write_line(f"{result.out / 'index.html'}: {result.summary()}", green=result.ok, red=not result.ok)
    for sec in result.errors:
        tr.write_line(f"  section {sec.module} raised: {sec.error.strip().splitlines()[-1]}", red=True)
    for c in result.unexpected:
        tr.write_line(f"  not as expected: {c['theorem']} on {c['example']}", yellow=True)
