"""The source walk shared by the AST guard tests (test_no_backend_branch, test_sam_written_once)."""
import ast
import pathlib
from typing import Callable, Iterable


def scan_sources(root: pathlib.Path, tops: Iterable[str], skip: pathlib.Path,
                 finder: Callable) -> dict:
    """{(path relative to root, the flagged line stripped): "line N: what"} for every (line, what)
    that ``finder(tree)`` yields in the Python files under root/top, the folder ``skip`` left out."""
    found = {}
    for top in tops:
        for path in sorted((root / top).rglob("*.py")):
            if skip in path.parents:
                continue
            text = path.read_text()
            lines = text.splitlines()
            for lineno, what in finder(ast.parse(text)):
                found[(str(path.relative_to(root)), lines[lineno - 1].strip())] = f"line {lineno}: {what}"
    return found
