"""tools/mutate.py coverage baseline: with one fresh process per test file (the default) a
module-level line, run once per process at import, is credited to every test file whose imports run
it; a single-process baseline credits it only to the first test that imported the module (the
control). A saved baseline is reused only while the sources, tests, targets and mode match."""
from __future__ import annotations

import json
import textwrap

import pytest
from mutate_tool import load_mutate_tool

TARGET = "verify/mod.py"
MODULE = textwrap.dedent("""\
    LIMIT = 3


    def below(x):
        return x < LIMIT


    def doubled(x):
        return x + x


    TOP = doubled(LIMIT)
    """)
TESTS = {
    "tests/test_eager.py": "from verify.mod import below\n\n\ndef test_calls():\n    assert below(2)\n"
                           "\n\ndef test_other():\n    assert True\n",
    "tests/test_lazy_a.py": "def test_a():\n    from verify.mod import below\n    assert below(2)\n",
    "tests/test_lazy_b.py": "def test_b():\n    from verify.mod import LIMIT, below\n"
                            "    assert not below(LIMIT)\n",
    "tests/test_unrelated.py": "def test_unrelated():\n    assert True\n",
}
FILES = sorted(TESTS)
LAZY = [f for f in FILES if f != "tests/test_eager.py"]   # an eager import would hide the caveat


@pytest.fixture(scope="module")
def mutate():
    return load_mutate_tool()


def _project(root):
    for name, text in {"verify/__init__.py": "", "verify/report/__init__.py": "",
                       "verify/report/pytest_plugin.py": "", "theorems/__init__.py": "",
                       TARGET: MODULE, **TESTS}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.fixture(scope="module")
def runs(mutate, tmp_path_factory):
    """The per-file baseline of the small project above, and the single-process one of its test
    files that import the module inside a test."""
    tree = _project(tmp_path_factory.mktemp("tree"))
    out = {}
    for mode, files in ((True, FILES), (False, LAZY)):
        mutate.baseline(tree, files, [TARGET], tree / "base.json", per_file=mode)
        out[mode] = json.loads((tree / "base.json").read_text())
    return out


def _mutant(mutate, line):
    return next(m for m in mutate.mutants_of(TARGET, MODULE) if m.line == line)


# what the two baselines of the project above record (the slow tests below check it by running them)
AT_IMPORT = [[TARGET, n] for n in (1, 4, 8, 9, 12)]            # line 9: doubled(), called at import
PER_FILE = {"per_file": True, "rc": 0, "failed": [],
            "durations": {"tests/test_eager.py::test_calls": 0.1, "tests/test_eager.py::test_other": 0.1,
                          "tests/test_lazy_a.py::test_a": 0.1, "tests/test_lazy_b.py::test_b": 0.1,
                          "tests/test_unrelated.py::test_unrelated": 0.1},
            "import_lines": {"tests/test_eager.py": AT_IMPORT},
            "lines": {"tests/test_eager.py::test_calls": [[TARGET, 5]],
                      "tests/test_lazy_a.py::test_a": sorted(AT_IMPORT + [[TARGET, 5]]),
                      "tests/test_lazy_b.py::test_b": sorted(AT_IMPORT + [[TARGET, 5]])}}
SINGLE = {"per_file": False, "rc": 0, "failed": [], "import_lines": {},
          "durations": {k: v for k, v in PER_FILE["durations"].items() if "eager" not in k},
          "lines": {"tests/test_lazy_a.py::test_a": sorted(AT_IMPORT + [[TARGET, 5]]),
                    "tests/test_lazy_b.py::test_b": [[TARGET, 5]]}}
EVERY_IMPORTER = ["tests/test_eager.py::test_calls", "tests/test_eager.py::test_other",
                  "tests/test_lazy_a.py::test_a", "tests/test_lazy_b.py::test_b"]


def _tests(mutate, line, data, mapped):
    m = _mutant(mutate, line)
    return sorted(mutate._tests_for(m, mutate._covering_tests(data), data, mapped))


def test_a_module_line_goes_to_every_test_of_each_file_that_imports_it(mutate):
    assert _mutant(mutate, 1).import_time                                   # LIMIT = 3
    assert _tests(mutate, 1, PER_FILE, FILES) == EVERY_IMPORTER             # not test_unrelated
    assert _tests(mutate, 1, PER_FILE, LAZY) == ["tests/test_lazy_a.py::test_a",
                                                 "tests/test_lazy_b.py::test_b"]    # mapped only


def test_a_function_body_line_goes_only_to_the_tests_that_run_it(mutate):
    assert not _mutant(mutate, 5).import_time                               # return x < LIMIT
    assert _tests(mutate, 5, PER_FILE, FILES) == [
        "tests/test_eager.py::test_calls", "tests/test_lazy_a.py::test_a",
        "tests/test_lazy_b.py::test_b"]


def test_a_function_called_at_import_goes_to_every_importing_file(mutate):
    assert not _mutant(mutate, 9).import_time                               # return x + x
    assert _tests(mutate, 9, PER_FILE, FILES) == EVERY_IMPORTER


def test_with_a_single_process_baseline_a_module_line_goes_to_every_mapped_test(mutate):
    # there only the first importer ran line 1; the tool gives the mutant every mapped test instead
    assert _tests(mutate, 1, SINGLE, LAZY) == ["tests/test_lazy_a.py::test_a",
                                               "tests/test_lazy_b.py::test_b",
                                               "tests/test_unrelated.py::test_unrelated"]
    assert _tests(mutate, 5, SINGLE, LAZY) == ["tests/test_lazy_a.py::test_a",
                                               "tests/test_lazy_b.py::test_b"]
    assert _tests(mutate, 9, SINGLE, LAZY) == ["tests/test_lazy_a.py::test_a"]   # its limit


@pytest.mark.slow
def test_the_per_file_baseline_records_what_each_file_imports(runs):
    data = runs[True]
    assert data["per_file"] and data["rc"] == 0 and not data["failed"]
    assert sorted(data["durations"]) == sorted(PER_FILE["durations"])
    assert data["import_lines"] == PER_FILE["import_lines"]                # at collection
    assert data["lines"] == PER_FILE["lines"]                              # lazy: in the test


@pytest.mark.slow
def test_control_one_process_sees_the_module_line_in_the_first_importer_only(runs):
    data = runs[False]
    assert not data["per_file"] and data["import_lines"] == {}
    assert data["lines"] == SINGLE["lines"]                                # the old caveat


def test_a_saved_baseline_is_reused_only_while_its_inputs_match(mutate, tmp_path, monkeypatch):
    tree = _project(tmp_path / "tree")
    calls = []

    def fake_baseline(tree_, test_files, targets, out_file, per_file):
        calls.append(per_file)
        out_file.write_text(json.dumps({"rc": 0, "failed": [], "durations": {}, "lines": {},
                                        "verify_file": str(tree_ / "verify" / "__init__.py")}))
    monkeypatch.setattr(mutate, "baseline", fake_baseline)
    saved = tmp_path / "saved.json"
    load = lambda per_file=True, files=FILES: mutate.load_baseline(tree, files, [TARGET], saved,
                                                                  per_file)
    load()
    load()
    assert calls == [True]                                                   # reused
    (tree / "tests/test_lazy_b.py").write_text(TESTS["tests/test_lazy_b.py"] + "\n# edited\n")
    load()
    assert calls == [True, True]                                             # a source changed
    load(per_file=False)
    load(files=FILES[:2])
    assert calls == [True, True, False, True]                                # mode, tests changed
    load(files=FILES[:2])
    assert len(calls) == 4
