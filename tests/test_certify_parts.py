"""The long certificates of Theorems 3.1 and 3.2 read as parts: ``certify`` composes small functions
that each return their claims. An AST measure of the function lengths, with a planted long one; the
structure of their quick certificates pinned, so that a refactor dropping a part fails."""
import ast
import json
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


# -- the structure of the quick certificates, pinned -------------------------------------------------
# Splitting ``certify`` into parts (and any later refactor) must keep every part: the claim ids, the
# object keys, and each claim's verdict and tolerance tier of the quick certificates of Theorems 3.1
# and 3.2 are compared with tests/data/certify_parts_quick.json (float values are left out: they
# may move in the last digits). After an intended change, rewrite the file with
#     PYTHONPATH=. python tests/test_certify_parts.py --update
STRUCTURE_FILE = ROOT / "tests" / "data" / "certify_parts_quick.json"
PINNED = ("thm_3_1", "thm_3_2")


def certificate_structure(cert) -> dict:
    """What a refactor must keep of a certificate: its example, whether it refused, its object keys,
    and 'claim_id: verdict (tier)' for each claim (an id occurring twice is kept twice)."""
    return {"example": cert.example, "refused": bool(cert.refused), "objects": sorted(cert.objects),
            "claims": sorted(f"{c.id}: {c.verdict.value} ({c.tier})" for c in cert.claims)}


def quick_structure(name: str) -> list[dict]:
    import importlib
    module = importlib.import_module(f"theorems.{name}")
    return [certificate_structure(c) for c in module.report_certificates(quick=True)]


def structure_differences(expected: list[dict], actual: list[dict]) -> list[str]:
    """Readable differences, certificate by certificate: missing or extra certificates, and per
    certificate the claims and object keys missing or added and a changed refusal."""
    out = []
    if len(expected) != len(actual):
        out.append(f"{len(actual)} certificates, expected {len(expected)}")
    for i, (e, a) in enumerate(zip(expected, actual)):
        where = f"certificate {i} ({e['example'][:40]})"
        if e["example"] != a["example"]:
            out.append(f"{where}: example now {a['example'][:40]!r}")
        if e["refused"] != a["refused"]:
            out.append(f"{where}: refused {a['refused']}, expected {e['refused']}")
        for field in ("claims", "objects"):
            exp, act = list(e[field]), list(a[field])
            missing = [x for x in exp if x not in act or exp.count(x) > act.count(x)]
            extra = [x for x in act if x not in exp or act.count(x) > exp.count(x)]
            if missing:
                out.append(f"{where}: {field} missing or changed {sorted(set(missing))}")
            if extra:
                out.append(f"{where}: {field} new or changed {sorted(set(extra))}")
    return out


@pytest.mark.parametrize("name", PINNED)
def test_quick_certificates_keep_their_claims_objects_verdicts_and_tiers(name):
    pinned = json.loads(STRUCTURE_FILE.read_text())[name]
    assert structure_differences(pinned, quick_structure(name)) == []


def test_structure_pin_sees_a_dropped_part(monkeypatch):
    """Negative control: a refactor that drops the claims of one part of Theorem 3.1's certify (its
    preimage part) or renames one object key is reported against the pinned structure."""
    from theorems import thm_3_1
    pinned = json.loads(STRUCTURE_FILE.read_text())["thm_3_1"]
    part = thm_3_1._preimage_claims
    monkeypatch.setattr(thm_3_1, "_preimage_claims", lambda *a: ([], part(*a)[1]))
    diffs = structure_differences(pinned, quick_structure("thm_3_1"))
    assert diffs and all("claims missing" in d for d in diffs)
    renamed = json.loads(json.dumps(pinned))
    renamed[0]["objects"] = [k if k != "x_h" else "x_hallucinated" for k in renamed[0]["objects"]]
    assert structure_differences(pinned, renamed) == [
        f"certificate 0 ({pinned[0]['example'][:40]}): objects missing or changed ['x_h']",
        f"certificate 0 ({pinned[0]['example'][:40]}): objects new or changed ['x_hallucinated']"]
    flipped = json.loads(json.dumps(pinned))
    flipped[0]["claims"][0] = flipped[0]["claims"][0].replace(": pass", ": fail")
    assert len(structure_differences(pinned, flipped)) == 2


if __name__ == "__main__":   # rewrite the pinned structure after an intended change
    import sys
    if "--update" in sys.argv:
        STRUCTURE_FILE.parent.mkdir(parents=True, exist_ok=True)
        STRUCTURE_FILE.write_text(json.dumps({n: quick_structure(n) for n in PINNED}, indent=1) + "\n")
        print(f"wrote {STRUCTURE_FILE}")
