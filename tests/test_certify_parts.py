"""The long certificates of Theorems 3.1 and 3.2 read as parts: ``certify`` composes small functions
that each return their claims. An AST measure of the function lengths, with a planted long one."""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
LIMIT = 65   # lines per function, docstring included
COMPOSERS = {"thm_3_1.py": "certify", "thm_3_2.py": "certify_set"}


def long_functions(source: str, limit: int = LIMIT) -> dict[str, int]:
    """Top-level functions of ``source`` longer than ``limit`` lines: name -> length."""
    return {node.name: node.end_lineno - node.lineno + 1 for node in ast.parse(source).body
            if isinstance(node, ast.FunctionDef) and node.end_lineno - node.lineno + 1 > limit}


def parts_of(source: str, composer: str) -> list[str]:
    """The module's own ``_...`` functions that ``composer`` calls."""
    tree = ast.parse(source)
    own = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == composer)
    return sorted({c.func.id for c in ast.walk(fn) if isinstance(c, ast.Call)
                   and isinstance(c.func, ast.Name) and c.func.id in own and c.func.id.startswith("_")})


@pytest.mark.parametrize("module,composer", COMPOSERS.items())
def test_certificate_is_composed_of_short_parts(module, composer):
    source = (ROOT / "theorems" / module).read_text()
    parts = parts_of(source, composer)
    assert len(parts) >= 4 and any(p.endswith("_claims") for p in parts)
    long = long_functions(source)
    assert {name: n for name, n in long.items() if name in parts or name == composer} == {}


def test_length_measure_finds_a_planted_long_function():
    """Negative control: a function over the limit is reported, one at the limit is not."""
    body = "\n".join(f"    x{i} = {i}" for i in range(LIMIT))
    assert long_functions(f"def long():\n{body}\n") == {"long": LIMIT + 1}
    assert long_functions(f"def fits():\n{body[:body.rindex(chr(10))]}\n") == {}
    assert parts_of("def _a_claims():\n    pass\ndef f():\n    return _a_claims() + g()\n", "f") == \
        ["_a_claims"]
