"""No code outside the context files asks which arithmetic it runs in.

An AST scan of verify/ (but verify/ctx/) and theorems/ flags every backend branch: a comparison of a
context's ``name`` with a literal (``ctx.name == "mpmath"``, ``ctx.name in ("float64", "torch")``),
``type(x).__module__``, ``hasattr(x, "mid")`` and the like (probing a number for its library), and
importing python-flint. What differs between arithmetics belongs in a context method
(``convert``, ``is_native``, ``relation``, ``reference``, ``midpoint``, ...).

ALLOWED lists the sites that remain, each with the reason; an entry that no longer matches a site
fails too, so the list can only shrink.
"""
import ast
import pathlib

from ast_scan import scan_sources

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCANNED = ("verify", "theorems")
CONTEXT_FILES = ROOT / "verify" / "ctx"
PROBED_ATTRIBUTES = {"mid", "rad", "_mpf_", "man_exp", "is_tensor"}

# (path relative to the repository, text of the flagged line) -> why it may stay
ALLOWED: dict[tuple[str, str], str] = {}


def _dotted(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return _dotted(node.value) + "." + node.attr
    return ""


def _is_literal_names(node) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return bool(node.elts) and all(isinstance(e, ast.Constant) and isinstance(e.value, str)
                                       for e in node.elts)
    return False


def _is_context_name(node) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "name" and "ctx" in _dotted(node.value)


def backend_branches(tree: ast.AST):
    """(line, what) for every backend branch in a parsed module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left] + node.comparators
            if any(_is_context_name(o) for o in operands) and any(_is_literal_names(o) for o in operands):
                yield node.lineno, "compares ctx.name with a literal"
        elif isinstance(node, ast.Attribute) and node.attr == "__module__":
            yield node.lineno, "reads a type's __module__"
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "hasattr"
              and len(node.args) == 2 and isinstance(node.args[1], ast.Constant)
              and node.args[1].value in PROBED_ATTRIBUTES):
            yield node.lineno, f"probes a number for {node.args[1].value!r}"
        elif isinstance(node, ast.Import) and any(a.name.split(".")[0] == "flint" for a in node.names):
            yield node.lineno, "imports python-flint"
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "flint":
            yield node.lineno, "imports python-flint"


def scan():
    return scan_sources(ROOT, SCANNED, CONTEXT_FILES, backend_branches)


def test_no_backend_branch_outside_the_context_files():
    found = scan()
    new = {k: v for k, v in found.items() if k not in ALLOWED}
    assert not new, "backend branches outside verify/ctx/ (use a context method):\n" + "\n".join(
        f"  {path} {where}: {line}" for (path, line), where in sorted(new.items()))
    stale = set(ALLOWED) - set(found)
    assert not stale, f"allow-list entries that no longer match a site (remove them): {sorted(stale)}"


def test_the_scan_catches_each_kind_of_branch():
    """Negative controls: each pattern, written once, is found (the scan can fail)."""
    source = '''
import flint
from flint import arb
a = 1 if ctx.name == "mpmath" else 2
b = 1 if self.ctx.name in ("float64", "torch") else 2
c = type(rho).__module__.startswith("mpmath")
d = float(v.mid()) if hasattr(v, "mid") else float(v)
ok = ctx.name in self.contexts  # a capability table, not a literal: allowed
msg = f"in context {ctx.name}"
'''
    lines = sorted(line for line, _ in backend_branches(ast.parse(source)))
    assert lines == [2, 3, 4, 5, 6, 7]
