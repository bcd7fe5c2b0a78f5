"""Mutation testing for the decision code of sam-verify: can every decision be shown to fail?

A small AST mutator (no third-party tool needed, works offline). For each target module it makes
one-change mutants of

* comparisons (``<`` <-> ``<=``, ``>`` <-> ``>=``, ``==`` <-> ``!=``, ``is``/``in`` negated),
* boolean operators (``and`` <-> ``or``, ``not x`` -> ``x``),
* signs (``a + b`` <-> ``a - b``, ``-x`` -> ``x``),
* numeric constants (an int n -> n + 1; a float c -> 1e6 c when |c| < 1e-3 (a tolerance), else
  2 c, 0.0 -> 1.0; True <-> False),
* returns (an early ``return`` -> ``pass``; ``return <comparison or boolean>`` -> ``return True``),

runs the tests that execute the mutated line (per-test line coverage from one baseline run, limited
to the test files mapped to the module) against each mutant, and reports per-file scores and every
survivor. Mutants run in a temporary copy of the tree (the working tree is never touched), one at a
time in a forked child of a process that has already imported the heavy libraries, with a timeout.

A mutant's key is ``file | sha1 of the line's text | mutation #k`` (k counts the mutants with the
same line text and mutation in the file), so a record stays valid when its function is renamed or
split or its line moves. Records and equivalents of the first key scheme (``file | function | hash |
mutation #k``, k counted per function) are still read: each is mapped to the current mutant with the
same function, text and mutation, or, where that function is gone, to the k-th mutant of the same
text and mutation if all of them lie in one function; one that cannot be mapped is reported as
stale. Equivalent mutants (no behaviour change) are listed once in
``tools/mutation_equivalents.txt`` under their key, with a reason; they are left out of the score.
Presentation-only functions (figures, text formatting) and error messages are not mutated.

    nice -n 15 python tools/mutate.py                      # every target file
    nice -n 15 python tools/mutate.py --files verify/core/claims.py --list
    nice -n 15 python tools/mutate.py --sample 60 --seed 1 # a quick random sample
    nice -n 15 python tools/mutate.py --files theorems/thm_3_1.py --functions residual_bound
    nice -n 15 python tools/mutate.py --files verify/rigorous/krawczyk.py --match krawczyk.py:138
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import json
import math
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS = ROOT / "tools" / "mutation_equivalents.txt"
CORE_TARGETS = ["verify/core/claims.py", "verify/rigorous/krawczyk.py", "verify/core/sam.py",
                "verify/core/classify.py", "verify/core/results.py"]
#: tests that exercise a module without importing it by name (added to the import-derived map)
EXTRA_TESTS = {
    "verify/core/claims.py": ["tests/test_relations.py", "tests/test_rigorous.py",
                              "tests/test_thm_2_1.py", "tests/test_properties.py"],
    "verify/core/results.py": ["tests/test_relations.py", "tests/test_report.py",
                               "tests/test_errors.py"],
    "verify/core/sam.py": ["tests/test_sam_operators.py", "tests/test_classify.py",
                           "tests/test_properties.py"],
    "verify/core/classify.py": ["tests/test_classify.py", "tests/test_properties.py"],
    "verify/rigorous/krawczyk.py": ["tests/test_relations.py", "tests/test_rigorous.py"],
    "theorems/prove_hallucination.py": ["tests/test_properties.py"],
    "theorems/core_checks.py": ["tests/test_report.py"],        # found by the report's discovery
    "theorems/thm_2_1.py": ["tests/test_properties.py", "tests/test_mutation_survivors.py"],
}
#: functions whose output is only presentation (figures, text); their mutants are not generated
SKIP_FUNCTIONS = {"figure", "_figure", "_figures", "__str__", "__repr__", "_decimal", "_radius_text",
                  "_iv", "_pt", "_intervals", "_log10", "to_dict", "to_json", "_as_text", "_short",
                  "summary"}
SKIP_FUNCTIONS |= {"_sweep_figure", "_trajectory_figure", "_plane_figure"}   # theorems/mlp_check.py
PRELOAD = ["numpy", "scipy", "scipy.linalg", "scipy.optimize", "sympy", "mpmath", "flint", "torch",
           "autograd", "hypothesis", "pytest", "jinja2", "matplotlib", "matplotlib.pyplot"]


# -- mutants ---------------------------------------------------------------------------------------
@dataclass
class Mutant:
    path: str          # relative to the repository root
    function: str      # qualified name of the enclosing function ('<module>' at top level)
    line: int
    line_hash: str     # sha1 of the stripped text of the mutated line (stable when lines move)
    description: str   # e.g. "Compare < -> <= #0"
    span: tuple        # (lineno, col, end_lineno, end_col) of the replaced source
    replacement: str
    import_time: bool = False  # evaluated when the module is imported (module level, defaults)
    status: str = ""   # killed | survived | timeout | not_covered | equivalent
    seconds: float = 0.0
    scheme: int = 1    # key scheme: 2 since keys left out the function; a saved row without it is 1
    legacy: str = ""   # this mutant's key in scheme 1 (to read old records and equivalents)

    @property
    def key(self) -> str:
        if self.scheme == 1:
            return f"{self.path} | {self.function} | {self.line_hash} | {self.description}"
        return f"{self.path} | {self.line_hash} | {self.description}"

    def apply(self, source: str) -> str:
        lines = source.splitlines(keepends=True)
        (l0, c0, l1, c1) = self.span
        head = "".join(lines[:l0 - 1]) + _byte_prefix(lines[l0 - 1], c0)
        tail = _byte_suffix(lines[l1 - 1], c1) + "".join(lines[l1:])
        return head + self.replacement + tail


def _byte_prefix(line: str, col: int) -> str:
    return line.encode()[:col].decode()


def _byte_suffix(line: str, col: int) -> str:
    return line.encode()[col:].decode()


COMPARE_SWAP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
                ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn,
                ast.NotIn: ast.In}
OP_TEXT = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
           ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}


def _mutate_constant(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        if value == 0.0:
            return 1.0
        return value * 1e6 if abs(value) < 1e-3 else value * 2
    return None


def _is_texty(node) -> bool:
    return isinstance(node, (ast.JoinedStr, ast.List, ast.Tuple, ast.ListComp)) or (
        isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)))


class _Collector(ast.NodeVisitor):
    def __init__(self, path: str, source: str):
        self.path, self.lines = path, source.splitlines()
        self.scope: list[str] = []
        self.out: list[Mutant] = []
        self.seen: dict = {}
        self.import_time = True   # module level: runs when the module is imported

    # scopes and skipped regions
    def _visit_function(self, node):
        if node.name in SKIP_FUNCTIONS:
            return
        outer, self.import_time = self.import_time, True      # decorators and defaults
        for n in node.decorator_list + node.args.defaults + [d for d in node.args.kw_defaults if d]:
            self.visit(n)
        self.scope.append(node.name)
        self.import_time = False
        for n in node.body:
            self.visit(n)
        self.scope.pop()
        self.import_time = outer

    def visit_ClassDef(self, node):                            # a class body runs at import
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = _visit_function

    def visit_JoinedStr(self, node):      # f-strings: text only
        return

    def visit_Raise(self, node):          # error messages and types: not decisions
        return

    def visit_Expr(self, node):           # docstrings and bare calls such as warnings
        if isinstance(node.value, ast.Constant):
            return
        self.generic_visit(node)

    def visit_AnnAssign(self, node):
        if node.value is not None:
            self.visit(node.value)

    def visit_arg(self, node):            # annotations
        return

    def _add(self, node, description, replacement, span=None):
        span = span or (node.lineno, node.col_offset, node.end_lineno, node.end_col_offset)
        text = self.lines[span[0] - 1].strip()
        function = ".".join(self.scope) or "<module>"
        line_hash = hashlib.sha1(text.encode()).hexdigest()[:10]
        k = self._count((line_hash, description))
        j = self._count((function, line_hash, description))       # scheme 1 counted per function
        legacy = f"{self.path} | {function} | {line_hash} | {description} #{j}"
        self.out.append(Mutant(self.path, function, span[0], line_hash, f"{description} #{k}", span,
                               replacement, import_time=self.import_time, scheme=2, legacy=legacy))

    def _count(self, group) -> int:
        k = self.seen.get(group, 0)
        self.seen[group] = k + 1
        return k

    # mutation operators
    def visit_Compare(self, node):
        for i, op in enumerate(node.ops):
            new = COMPARE_SWAP.get(type(op))
            if new is None:
                continue
            ops = list(node.ops)
            ops[i] = new()
            text = ast.unparse(ast.Compare(node.left, ops, node.comparators))
            self._add(node, f"Compare {OP_TEXT[type(op)]} -> {OP_TEXT[new]}", f"({text})")
        self.generic_visit(node)

    def visit_BoolOp(self, node):
        other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        names = {ast.And: "and", ast.Or: "or"}
        self._add(node, f"BoolOp {names[type(node.op)]} -> {names[type(other)]}",
                  f"({ast.unparse(ast.BoolOp(other, node.values))})")
        self.generic_visit(node)

    def visit_UnaryOp(self, node):
        if isinstance(node.op, ast.Not):
            self._add(node, "drop not", f"({ast.unparse(node.operand)})")
        elif isinstance(node.op, ast.USub):
            self._add(node, "drop unary -", f"({ast.unparse(node.operand)})")
        self.generic_visit(node)

    def visit_BinOp(self, node):
        swap = {ast.Add: (ast.Sub, "+", "-"), ast.Sub: (ast.Add, "-", "+")}.get(type(node.op))
        if swap and not (_is_texty(node.left) or _is_texty(node.right)):
            new = ast.BinOp(node.left, swap[0](), node.right)
            self._add(node, f"BinOp {swap[1]} -> {swap[2]}", f"({ast.unparse(new)})")
        self.generic_visit(node)

    def visit_Constant(self, node):
        new = _mutate_constant(node.value)
        if new is not None:
            self._add(node, f"Constant {node.value!r} -> {new!r}", f"({new!r})")

    def visit_Return(self, node):
        if self._is_early(node):
            self._add(node, "early return -> pass", "pass")
        if isinstance(node.value, (ast.Compare, ast.BoolOp)) or (
                isinstance(node.value, ast.UnaryOp) and isinstance(node.value.op, ast.Not)):
            self._add(node, "return <condition> -> return True", "return True")
        self.generic_visit(node)

    def _is_early(self, node) -> bool:
        parent = getattr(node, "_parent", None)
        return not isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module))


def _link_parents(tree):
    for parent in ast.walk(tree):
        for child in ast.iter_child_nodes(parent):
            child._parent = parent


def mutants_of(path: str, source: str | None = None) -> list[Mutant]:
    source = (ROOT / path).read_text() if source is None else source
    tree = ast.parse(source)
    _link_parents(tree)
    c = _Collector(path, source)
    c.visit(tree)
    return c.out


def target_files() -> list[str]:
    return CORE_TARGETS + sorted(str(p.relative_to(ROOT)) for p in (ROOT / "theorems").glob("*.py")
                                 if p.name != "__init__.py")


class SourceIndex:
    """The current mutants of the files, to read a key of either scheme (see the module docstring)."""

    def __init__(self):
        self._files: dict[str, dict[str, Mutant]] = {}

    def current(self, path: str) -> dict[str, Mutant]:
        if path not in self._files:
            found = mutants_of(path) if (ROOT / path).is_file() else []
            self._files[path] = {m.key: m for m in found}
        return self._files[path]

    def resolve(self, key: str) -> Mutant | None:
        """The current mutant a saved key names, or None (its line's text changed, or gone)."""
        parts = key.split(" | ")
        current = self.current(parts[0])
        if len(parts) == 3:
            return current.get(key)
        if len(parts) != 4:
            return None
        (_, function, line_hash, description) = parts
        for m in current.values():
            if m.legacy == key:
                return m
        base, _, k = description.rpartition(" #")
        same = [m for m in current.values()
                if m.line_hash == line_hash and m.description.rpartition(" #")[0] == base]
        if k.isdigit() and int(k) < len(same) and len({m.function for m in same}) == 1:
            return same[int(k)]            # its function was renamed or split: same text, one place
        return None


def load_equivalents(index: SourceIndex | None = None) -> dict[str, str]:
    """key -> reason. A line has 4 fields (file | hash | mutation | reason) or, in the first scheme,
    5 (file | function | hash | mutation | reason), read under the current key where it maps."""
    index = index or SourceIndex()
    out = {}
    if EQUIVALENTS.exists():
        for raw in EQUIVALENTS.read_text().splitlines():
            if not raw.strip() or raw.lstrip().startswith("#"):
                continue
            parts = [p.strip() for p in raw.split(" | ")]
            if len(parts) not in (4, 5):
                raise SystemExit(f"{EQUIVALENTS.name}: malformed line (want 4 fields, or 5 in the "
                                 f"first scheme): {raw}")
            key = " | ".join(parts[:-1])
            found = index.resolve(key)
            out[found.key if found else key] = parts[-1]
    return out


# -- which tests exercise which module ---------------------------------------------------------------
def _module_file(dotted: str) -> str | None:
    base = ROOT / Path(*dotted.split("."))
    for cand in (base.with_suffix(".py"), base / "__init__.py"):
        if cand.exists():
            return str(cand.relative_to(ROOT))
    return None


def _reexports(package: str) -> dict[str, str]:
    """name -> module file for 'from .x import name' lines of a package's __init__.py."""
    init = _module_file(package)
    if init is None or not init.endswith("__init__.py"):
        return {}
    out = {}
    for node in ast.walk(ast.parse((ROOT / init).read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            for a in node.names:
                sub = f"{package}.{node.module}" if node.module else package
                out[a.asname or a.name] = _module_file(f"{sub}.{a.name}") or _module_file(sub)
    return out


def imported_files(test_path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(test_path.read_text())):
        if isinstance(node, ast.Import):
            found.update(filter(None, (_module_file(a.name) for a in node.names)))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            reexp = _reexports(node.module)
            for a in node.names:
                found.add(_module_file(f"{node.module}.{a.name}") or reexp.get(a.name)
                          or _module_file(node.module))
    return {f for f in found if f}


def test_map(targets: list[str]) -> dict[str, list[str]]:
    tests = sorted((ROOT / "tests").glob("test_*.py"))
    imports = {str(t.relative_to(ROOT)): imported_files(t) for t in tests}
    out = {}
    for target in targets:
        mapped = {t for t, files in imports.items() if target in files}
        mapped.update(t for t in EXTRA_TESTS.get(target, []) if (ROOT / t).exists())
        out[target] = sorted(mapped)
    return out


# -- running -----------------------------------------------------------------------------------------
def copy_tree(dest: Path) -> None:
    for sub in ("verify", "theorems", "tests"):
        shutil.copytree(ROOT / sub, dest / sub, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)


def _child_setup(tree: Path) -> None:
    os.chdir(tree)
    for name in [n for n in sys.modules if n.split(".")[0] in ("verify", "theorems", "conftest")]:
        del sys.modules[name]       # imported from elsewhere (a caller's tree): import the copy's
    sys.path[:] = [str(tree)] + [p for p in sys.path
                                if p and Path(p).resolve() != ROOT and not (Path(p) / "verify").is_dir()]
    os.environ["PYTHONPATH"] = str(tree)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)


PYTEST_ARGS = ["-q", "-x", "-p", "no:cacheprovider", "-p", "no:randomly", "--no-header",
               "-o", "addopts=", "--tb=no"]


class _Coverage:
    """pytest plugin: lines of the target files executed by each test (sys.settrace, Python 3.11).
    With ``outside`` set, lines run outside any test (collection: the test file's imports) are
    recorded under that name."""

    def __init__(self, files: set[str], outside: str | None = None):
        self.files, self.outside, self.lines, self.durations = files, outside, {}, {}
        self.current = outside
        self.failed: set[str] = set()

    def _global(self, frame, event, arg):
        if frame.f_code.co_filename in self.files:
            return self._local
        return None

    def _local(self, frame, event, arg):
        if event == "line" and self.current is not None:
            self.lines.setdefault(self.current, set()).add((frame.f_code.co_filename, frame.f_lineno))
        return self._local

    def start(self):
        import threading
        sys.settrace(self._global)
        threading.settrace(self._global)

    def stop(self):
        import threading
        sys.settrace(None)
        threading.settrace(None)

    def pytest_runtest_protocol(self, item, nextitem):
        self.current = item.nodeid
        self.start()

    def pytest_runtest_logfinish(self, nodeid, location):
        self.current = self.outside
        if self.outside is None:
            self.stop()

    def pytest_runtest_logreport(self, report):
        self.durations[report.nodeid] = self.durations.get(report.nodeid, 0.0) + report.duration
        if report.failed:
            self.failed.add(report.nodeid)


def baseline(tree: Path, test_files: list[str], targets: list[str], out_file: Path,
             per_file: bool = True) -> None:
    """Per-test coverage and durations of the mapped tests. ``per_file``: each test file runs in a
    fresh child with its imports traced, so a module-level line (run once per process, at import)
    is credited to every test file whose process imports its module; otherwise one child runs all
    files and a module-level line is seen only by the first test that imported the module."""
    parts = ([_traced_run(tree, [f], targets, outside=f"{f}::<import>") for f in test_files]
             if per_file else [_traced_run(tree, test_files, targets)])
    data = {"rc": 0, "verify_file": None, "failed": [], "durations": {}, "lines": {},
            "import_lines": {}, "per_file": per_file}
    for part in parts:
        if part is None:
            return                               # a child crashed: no baseline file
        data["rc"] = max(data["rc"], 0 if part["rc"] == 5 else part["rc"])   # 5: nothing collected
        data["verify_file"] = data["verify_file"] or part["verify_file"]
        data["failed"] += part["failed"]
        data["durations"].update(part["durations"])
        for name, lines in part["lines"].items():
            if name.endswith("::<import>"):
                data["import_lines"][name[:-len("::<import>")]] = lines
            else:
                data["lines"][name] = lines
    out_file.write_text(json.dumps(data))


def _traced_run(tree: Path, test_files: list[str], targets: list[str], outside=None) -> dict | None:
    """One child process running ``test_files`` under the coverage plugin; its data, or None."""
    fd, name = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    part = Path(name)
    pid = os.fork()
    if pid == 0:
        code = 3
        try:
            _child_setup(tree)
            import pytest
            cov = _Coverage({str(tree / t) for t in targets}, outside)
            if outside:
                cov.start()
            code = int(pytest.main([a for a in PYTEST_ARGS if a != "-x"] + test_files, plugins=[cov]))
            cov.stop()
            import verify
            data = {"rc": int(code), "verify_file": verify.__file__, "failed": sorted(cov.failed),
                    "durations": cov.durations,
                    "lines": {t: sorted([str(Path(f).relative_to(tree)), n] for f, n in ls)
                              for t, ls in cov.lines.items()}}
            part.write_text(json.dumps(data))
        finally:
            os._exit(int(code) if isinstance(code, int) else 3)
    os.waitpid(pid, 0)
    try:
        return json.loads(part.read_text())
    except ValueError:
        return None
    finally:
        part.unlink()


def run_mutant(tree: Path, m: Mutant, tests: list[str], timeout: float) -> str:
    target = tree / m.path
    original = target.read_text()
    mutated = m.apply(original)
    try:
        ast.parse(mutated)
    except SyntaxError:
        return "killed"              # cannot happen for well-formed spans; counted as caught
    pid = os.fork()
    if pid == 0:
        code = 3
        try:
            sys.dont_write_bytecode = True
            _child_setup(tree)
            target.write_text(mutated)
            for pyc in (target.parent / "__pycache__").glob(target.stem + ".*.pyc"):
                pyc.unlink()
            import pytest
            code = int(pytest.main(PYTEST_ARGS + tests))
        finally:
            os._exit(code)
    t0 = time.perf_counter()
    status = None
    try:
        while status is None:
            done, rc = os.waitpid(pid, os.WNOHANG)
            if done:
                code = os.waitstatus_to_exitcode(rc)
                status = "survived" if code == 0 else ("no_tests" if code == 5 else "killed")
            elif time.perf_counter() - t0 > timeout:
                status = "timeout"
            else:
                time.sleep(0.05)
    finally:
        if status in (None, "timeout"):     # over time, or we are interrupted: end the child
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    target.write_text(original)
    m.seconds = time.perf_counter() - t0
    return status


def _preload() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")
    import importlib
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        pass


EPILOG = """\
mutant keys:  'file | sha1 of the line's text (10 hex) | mutation #k', k counting the mutants of the
  same text and mutation in the file: a key survives a renamed or split function and moved lines.
  Records (--json) and equivalents lines of the first scheme, 'file | function | hash | mutation #k'
  (k counted per function), are still read: mapped to the current mutant of the same function, text
  and mutation, or, where that function is gone, to the k-th mutant of the same text and mutation
  when all of them lie in one function; an entry that cannot be mapped is reported as stale.
baseline:  one fresh process per test file, its imports traced, so a module-level line counts for
  every test file whose imports run it (--single-baseline: one process, faster).
sampling:  --sample/--per-file draw from all mutants, equivalents included (recorded as equivalent,
  not run): the draw depends only on the seed and the source.
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=EPILOG,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", nargs="*", help="target files (default: the core modules and theorems/)")
    ap.add_argument("--functions", nargs="*", help="only mutants inside these functions (by name)")
    ap.add_argument("--match", nargs="*", help="only mutants whose 'path:line key' contains one of "
                                               "these strings (e.g. krawczyk.py:138)")
    ap.add_argument("--sample", type=int, default=0, help="run a random sample of N mutants")
    ap.add_argument("--per-file", type=int, default=0,
                    help="run a random sample of N mutants of each target file (a quick, even spread)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout-factor", type=float, default=3.0,
                    help="a mutant's timeout is this times its tests' baseline time, plus the floor")
    ap.add_argument("--timeout-floor", type=float, default=60.0,
                    help="seconds added to every timeout (pytest start-up on a busy machine)")
    ap.add_argument("--list", action="store_true", help="list the mutants and the test map; run nothing")
    ap.add_argument("--json", help="write every mutant's result to this file")
    ap.add_argument("--tests", nargs="*", help="test files to use instead of the mapped ones")
    ap.add_argument("--no-baseline", action="store_true",
                    help="skip the coverage run: every mutant runs its test files whole (-x), with a "
                         "timeout of 5 x the floor; for a small sample on a busy machine")
    ap.add_argument("--baseline", help="reuse the per-test coverage saved in this file, or save it "
                                       "there; it is reused only while a sha1 of the sources and "
                                       "the test files, targets and mode match, else run again")
    ap.add_argument("--single-baseline", action="store_true",
                    help="run the coverage baseline in one process (faster; a module-level line is "
                         "then given to every mapped test) instead of one fresh process per test "
                         "file (which finds the test files whose imports run it)")
    ap.add_argument("--merge", nargs="+", metavar="JSON",
                    help="run nothing: merge saved --json results (a later file overrides an earlier "
                         "one for the same mutant), apply the equivalents file, print the per-file "
                         "table and every open survivor")
    ap.add_argument("--markdown", action="store_true", help="with --merge: print the README table")
    args = ap.parse_args(argv)
    if args.merge:
        return merge_main(args.merge, args.markdown)
    if args.markdown:
        ap.error("--markdown needs --merge")
    targets = [str(Path(f)) for f in (args.files or target_files())]
    for t in targets:
        if not (ROOT / t).exists():
            ap.error(f"no such file: {t}")
    equivalents = load_equivalents()
    every = [m for t in targets for m in mutants_of(t)]
    mutants = [m for m in every if not args.functions or m.function.split(".")[-1] in args.functions]
    if args.match:
        mutants = [m for m in mutants if any(s in f"{m.path}:{m.line} {m.key}" for s in args.match)]
    for m in mutants:
        if m.key in equivalents:
            m.status = "equivalent"
    known = {m.key for m in every}
    stale = [k for k in equivalents if k.split(" | ")[0] in targets and k not in known]
    if args.sample or args.per_file:
        mutants = _sample(mutants, targets, args.sample, args.per_file, args.seed)
    tmap = test_map(targets) if not args.tests else {t: sorted(args.tests) for t in targets}
    if args.list:
        for t in targets:
            print(f"{t}: {len([m for m in mutants if m.path == t])} mutants; tests {tmap[t]}")
        for m in mutants:
            print(f"  {m.path}:{m.line} [{m.function}] {m.description} {m.status}\n      {m.key}")
        return 0
    _preload()
    tmp = Path(tempfile.mkdtemp(prefix="sam-mutate-"))
    signal.signal(signal.SIGTERM, _interrupt)     # a kill during the baseline still cleans up tmp
    try:
        copy_tree(tmp)
        wanted = {m.path for m in mutants if m.status != "equivalent"}
        test_files = sorted({f for t in wanted for f in tmap[t]})
        if args.no_baseline:
            _run_whole_files(tmp, [m for m in mutants if m.status != "equivalent"], tmap,
                             5 * args.timeout_floor)
            raise _Done
        t0 = time.perf_counter()
        data = load_baseline(tmp, test_files, targets, args.baseline, not args.single_baseline)
        print(f"baseline: {len(data['durations'])} tests in {time.perf_counter() - t0:.0f} s")
        covering = _covering_tests(data)
        todo = [m for m in mutants if m.status != "equivalent"]
        signal.signal(signal.SIGTERM, _interrupt)
        for i, m in enumerate(todo, 1):
            tests = _cheap_files_first(_tests_for(m, covering, data, tmap[m.path]), data["durations"])
            if not tests:
                m.status = "not_covered"
                continue
            budget = sum(data["durations"].get(n, 1.0) for n in tests)
            m.status = run_mutant(tmp, m, tests, args.timeout_factor * budget + args.timeout_floor)
            print(f"[{i}/{len(todo)}] {m.status:9s} {m.path}:{m.line} {m.description} "
                  f"({len(tests)} tests, {m.seconds:.1f} s)", flush=True)
    except _Done:
        pass
    except KeyboardInterrupt:      # Ctrl-C or SIGTERM: report the mutants run so far
        print("\ninterrupted: the score covers the mutants run so far")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    mutants = [m for m in mutants if m.status]
    report(mutants, targets, equivalents, stale)
    if args.json:
        Path(args.json).write_text(json.dumps([m.__dict__ for m in mutants], indent=1, default=str))
    return 0


def _sample(mutants, targets, total, per_file, seed):
    """A seeded random sample of the mutants: ``total`` overall, or ``per_file`` of each target file
    (so a large file does not crowd out the small ones). Equivalent mutants stay in the pool (they
    are drawn, recorded as equivalent and not run), so the draw depends on the seed and the source
    only, not on the equivalents file."""
    rng = random.Random(seed)
    pool = sorted(mutants, key=lambda m: (m.path, m.line, m.key))
    if per_file:
        chosen = []
        for t in targets:
            mine = [m for m in pool if m.path == t]
            chosen += rng.sample(mine, min(per_file, len(mine)))
    else:
        chosen = rng.sample(pool, min(total, len(pool)))
    return sorted(chosen, key=lambda m: (m.path, m.line))


class _Done(Exception):
    """The mutants ran without a coverage baseline (--no-baseline)."""


def _run_whole_files(tmp, todo, tmap, timeout) -> None:
    signal.signal(signal.SIGTERM, _interrupt)
    for i, m in enumerate(todo, 1):
        tests = sorted(tmap[m.path], key=lambda t: (tmp / t).stat().st_size)   # small files first
        if not tests:
            m.status = "not_covered"
            continue
        m.status = run_mutant(tmp, m, tests, timeout)
        print(f"[{i}/{len(todo)}] {m.status:9s} {m.path}:{m.line} {m.description} "
              f"({len(tests)} test files, {m.seconds:.1f} s)", flush=True)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _cheap_files_first(tests, durations) -> list[str]:
    """The tests grouped by file (module fixtures are built once), files in order of their time in
    the baseline: a killed mutant usually fails in a quick unit test, not after the slow ones."""
    cost: dict = {}
    for n in tests:
        cost[n.split("::")[0]] = cost.get(n.split("::")[0], 0.0) + durations.get(n, 1.0)
    return sorted(tests, key=lambda n: cost[n.split("::")[0]])   # stable: file order kept inside


def _covering_tests(data) -> dict:
    out: dict = {}
    for test, lines in data["lines"].items():
        for f, n in lines:
            out.setdefault((f, n), []).append(test)
    return out


def _test_file(nodeid: str) -> str:
    return nodeid.split("::")[0]


def _tests_for(m: Mutant, covering: dict, data: dict, mapped: list[str]) -> list[str]:
    """The mapped tests that run a mutant. What runs at import (module level, defaults, class bodies
    and the functions they call) runs once per process and its value is read by every later test:
    with a per-file baseline such a line goes to every test of each file whose process ran it at
    collection, and a line evaluated at import to every test of each file whose process ran it at
    all; a single-process baseline traces no imports, so a line evaluated at import goes to every
    mapped test (a function called only at import then goes to the first importer only)."""
    tests = set(covering.get((m.path, m.line), []))
    if data.get("per_file"):
        files = {f for f, lines in data.get("import_lines", {}).items() if [m.path, m.line] in lines}
        if m.import_time:
            files |= {_test_file(n) for n in tests}
        tests |= {n for n in data["durations"] if _test_file(n) in files}
    elif m.import_time:
        tests |= set(data["durations"])
    return [n for n in data["durations"] if n in tests and _test_file(n) in mapped]


def sources_digest(tree: Path) -> str:
    """sha1 of every Python source of the copy: a saved baseline is reused only while it matches."""
    h = hashlib.sha1()
    for sub in ("verify", "theorems", "tests"):
        for f in sorted((tree / sub).rglob("*.py")):
            h.update(str(f.relative_to(tree)).encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def load_baseline(tmp: Path, test_files, targets, saved_path, per_file: bool) -> dict:
    """The coverage baseline: reused from ``saved_path`` when it was made of the same sources, test
    files, targets and mode, else run (and saved there)."""
    want = {"digest": sources_digest(tmp), "test_files": sorted(test_files),
            "targets": sorted(targets), "per_file": per_file}
    saved = Path(saved_path) if saved_path else None
    data = json.loads(saved.read_text()) if saved and saved.exists() else None
    if data is not None and any(data.get(k) != v for k, v in want.items()):
        print(f"baseline: {saved} was made of other sources, tests or mode: running it again")
        data = None
    if data is None:
        base = tmp / "baseline.json"
        baseline(tmp, test_files, targets, base, per_file)
        if not base.exists():
            raise SystemExit("the baseline run crashed")
        data = {**json.loads(base.read_text()), **want}
        if saved:
            saved.write_text(json.dumps(data))
    else:
        data["verify_file"] = str(tmp / "verify" / "__init__.py")   # recorded in another copy
    return _checked(data, tmp)


def _checked(data: dict, tmp: Path) -> dict:
    if data["rc"] not in (0, 1):
        raise SystemExit(f"the baseline test run broke (pytest exit {data['rc']})")
    if data["failed"]:   # e.g. a timing assert under tracing: such a test cannot judge mutants
        print(f"baseline: {len(data['failed'])} tests fail without any mutation and are left "
              f"out: {data['failed']}")
        for n in data["failed"]:
            data["durations"].pop(n, None)
            data["lines"].pop(n, None)
    if not (data["verify_file"] or "").startswith(str(tmp)):
        raise SystemExit(f"the tests imported {data['verify_file']}, not the temporary copy")
    return data


OPEN = ("survived", "not_covered", "no_tests", "unjudged")


@dataclass
class FileScore:
    """One file's tally: every mutant run is killed (timeouts included), equivalent or open; a saved
    result of a mutant the current source no longer has is stale and left out of the score (the
    line it mutated was rewritten, so its verdict says nothing about the code as it is)."""
    path: str
    run: int = 0
    stale: int = 0
    killed: int = 0
    timeouts: int = 0
    equivalent: int = 0
    open: int = 0

    @property
    def score(self) -> float:
        judged = self.run - self.equivalent
        return 100.0 * self.killed / judged if judged else 100.0


def tally(mutants, order=None) -> list[FileScore]:
    """Per-file scores of judged mutants, in the order of ``order`` (default: sorted paths), then a
    TOTAL row."""
    rows: dict[str, FileScore] = {}
    for path in (order or sorted({m.path for m in mutants})):
        rows[path] = FileScore(path)
    for m in mutants:
        r = rows.setdefault(m.path, FileScore(m.path))
        if m.status == "stale":
            r.stale += 1
            continue
        r.run += 1
        r.killed += m.status in ("killed", "timeout")
        r.timeouts += m.status == "timeout"
        r.equivalent += m.status == "equivalent"
        r.open += m.status in OPEN
    rows = {p: r for p, r in rows.items() if r.run or r.stale}
    total = FileScore("TOTAL")
    for r in rows.values():
        for f in ("run", "killed", "timeouts", "equivalent", "open", "stale"):
            setattr(total, f, getattr(total, f) + getattr(r, f))
    return list(rows.values()) + [total]


def report(mutants, targets, equivalents, stale) -> None:
    print("\nmutation score (killed / (mutants - equivalent)); timeouts count as killed")
    for r in tally(mutants, targets):
        print(f"  {r.path:40s} {r.killed:4d}/{r.run - r.equivalent:<4d} {r.score:5.1f}%   "
              f"({r.equivalent} equivalent)")
    print_survivors(mutants)
    if stale:
        print(f"\n{len(stale)} entries of {EQUIVALENTS.name} match no mutant (code changed?):")
        for k in stale:
            print(f"  {k}")


def print_survivors(mutants) -> None:
    survivors = [m for m in mutants if m.status in OPEN]
    if survivors:
        print(f"\nsurvivors ({len(survivors)}):")
        for m in survivors:
            print(f"  {m.path}:{m.line} [{m.function}] {m.description} ({m.status})\n"
                  f"      {m.key}")


# -- merging saved runs ------------------------------------------------------------------------------
def merge_results(json_files, equivalents) -> tuple[list[Mutant], list[str]]:
    """The mutants of saved ``--json`` runs, later files overriding earlier ones for the same key, with
    the equivalents file applied now. A saved row is read under its current key (rows of the first
    key scheme are mapped, see the module docstring); a row the current source no longer has gets the
    status "stale" (left out of the score by :func:`tally`). Returns them and warnings (those stale
    keys; an equivalents entry contradicted by a kill)."""
    index = SourceIndex()
    merged: dict[str, Mutant] = {}
    for f in json_files:
        try:
            rows = json.loads(Path(f).read_text())
        except (OSError, ValueError) as e:
            raise ValueError(f"--merge: cannot read {f}: {e}") from None
        for d in rows:
            m = _saved_mutant(d, f, index)
            merged[m.key] = m
    warnings = []
    for m in merged.values():
        if m.scheme == 1 or m.key not in index.current(m.path):
            warnings.append(f"not in the current source (code changed since the run?): {m.key}")
            m.status = "stale"
            continue
        if m.key in equivalents:
            if m.status in ("killed", "timeout"):
                warnings.append(f"listed as equivalent but {m.status} by a run (kept as {m.status}):"
                                f" {m.key}")
            else:
                m.status = "equivalent"
        elif m.status == "equivalent":       # its entry was removed since: it was never run
            m.status = "unjudged"
    return sorted(merged.values(), key=lambda m: (m.path, m.line, m.key)), warnings


def _saved_mutant(d: dict, json_file, index: SourceIndex) -> Mutant:
    """A row of a --json file as the current mutant it names (its status and time kept), or as saved
    where the source no longer has it."""
    try:
        m = Mutant(**{k: d[k] for k in Mutant.__dataclass_fields__ if k in d})
    except TypeError as e:
        raise ValueError(f"--merge: {json_file} is not a --json result of this tool ({e})") from None
    found = index.resolve(m.key)
    if found is None:
        return m
    return Mutant(**{**found.__dict__, "status": m.status, "seconds": m.seconds})


def score_table(rows, markdown: bool) -> str:
    """The per-file table (the README's when ``markdown``)."""
    head = ["file", "run (of all)", "killed by the suite (of which timeouts)",
            "equivalent / example data", "open", "score", "stale (line rewritten since)"]
    lines = []
    for r in rows:
        everything = len(mutants_of(r.path)) if (ROOT / r.path).exists() else None
        run = f"{r.run} (of {everything})" if everything is not None else str(r.run)
        name = f"`{r.path}`" if markdown and r.path != "TOTAL" else r.path
        if markdown and r.path == "TOTAL":
            name = "**TOTAL**"
        lines.append([name, run, f"{r.killed} ({r.timeouts})", str(r.equivalent), str(r.open),
                      f"{_floor1(r.score):5.1f}%".strip(), str(r.stale)])
    if markdown:
        out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return "\n".join(out + ["| " + " | ".join(c) + " |" for c in lines])
    widths = [max(len(x[i]) for x in [head] + lines) for i in range(len(head))]
    fmt = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
    return "\n".join([fmt(head)] + [fmt(c) for c in lines])


def _floor1(score: float) -> float:
    """Rounded down to 0.1 %: 89.96 % must not print as the goal's 90.0 %."""
    return math.floor(score * 10 + 1e-9) / 10


def merge_main(json_files, markdown: bool) -> int:
    try:
        mutants, warnings = merge_results(json_files, load_equivalents())
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    print(score_table(tally(mutants), markdown))
    if not markdown:
        print_survivors(mutants)
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
