"""Certificate objects are keyed by short identifiers, their display labels kept apart.

An AST scan of the library: every write of a certificate object (``cert.add_object(key, ...)``,
``cert.objects[key] = ...``, ``cert.objects.update({...})``, ``Certificate(..., objects={...})``)
names its key literally (a string, or an f-string whose fields are read as ``0``), and that key is a
short identifier (:func:`verify.core.results.is_object_key`). A key computed at run time cannot be
checked here, so it is refused too. Beside the scan, certificates built by a few quick theorem runs
are checked key by key, and a prose key still reads through its label with a DeprecationWarning."""
import ast
import pathlib
import warnings

import pytest

from verify.core.results import Certificate, is_object_key

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _literal_key(node) -> str | None:
    """The key a literal names (an f-string's fields read as ``x``), or None when it is computed;
    ``object_key(name)`` makes a valid key of any name by construction, and so do the helpers named
    ``*_key`` that return it (``rivals_explanations.ends_key``)."""
    if isinstance(node, ast.Call) and _called_name(node).endswith("_key"):
        return "object_key"
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "x" for v in node.values)
    return None


def _called_name(call) -> str:
    return getattr(call.func, "id", getattr(call.func, "attr", "")) or ""


def _is_objects(node) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "objects"


def _dict_keys(node):
    """The key nodes of a dict literal (None for a ``**`` entry), or [None] for anything else."""
    if isinstance(node, ast.Dict):
        return list(node.keys)
    return [None]


def _written_keys(tree):
    """(line, key node or None) for every certificate object the code writes."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                if isinstance(t, ast.Subscript) and _is_objects(t.value):
                    yield t.lineno, t.slice
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            f = node.func
            if f.attr == "add_object" and node.args:
                yield node.lineno, node.args[0]
            elif f.attr in ("update", "setdefault") and _is_objects(f.value):
                if f.attr == "setdefault":
                    yield node.lineno, node.args[0] if node.args else None
                else:
                    for arg in node.args or [None]:
                        for k in _dict_keys(arg):
                            yield node.lineno, k
                    for kw in node.keywords:
                        yield node.lineno, ast.Constant(kw.arg) if kw.arg else None
        if isinstance(node, ast.Call) and any(kw.arg == "objects" for kw in node.keywords):
            for kw in node.keywords:
                if kw.arg == "objects":
                    for k in _dict_keys(kw.value):
                        yield node.lineno, k


def bad_object_keys(source: str) -> list[str]:
    """``line: key`` for each object key written in ``source`` that is not a literal short
    identifier (``line: <computed>`` where the key is not written literally)."""
    found = []
    for line, node in _written_keys(ast.parse(source)):
        key = _literal_key(node) if node is not None else None
        if key is None:
            found.append(f"{line}: <computed>")
        elif not is_object_key(key):
            found.append(f"{line}: {key}")
    return found


def library_offenders(scan) -> dict:
    """{file: what ``scan(source)`` reports} for the library's files where it reports anything."""
    found = {}
    for p in sorted((ROOT / "theorems").glob("*.py")) + sorted((ROOT / "verify").rglob("*.py")):
        bad = scan(p.read_text())
        if bad:
            found[str(p.relative_to(ROOT))] = bad
    return found


def test_every_object_key_written_by_the_library_is_a_short_identifier():
    assert library_offenders(bad_object_keys) == {}


@pytest.mark.parametrize("source,expected", [
    ('cert.objects["min ratio ||g||"] = 1\n', ["1: min ratio ||g||"]),
    ('cert.add_object("x+", 1, label="x+")\n', ["1: x+"]),
    ('c.objects.update({"rho": 1, "end points": 2})\n', ["1: end points"]),
    ('c.objects.update({k: 1 for k in d})\n', ["1: <computed>"]),
    ('c.objects.update({"rho": 1, **extra})\n', ["1: <computed>"]),
    ('c.objects.update(extra)\n', ["1: <computed>"]),
    ('cert.add_object(name, 1)\n', ["1: <computed>"]),
    ('cert.objects[f"rho = {r}: ends"] = 1\n', ["1: rho = x: ends"]),
    ('cert.objects[f"{r}_ends"] = 1\n', []),
    ('cert.objects[f"{r} ends"] = 1\n', ["1: x ends"]),
    ('cert.add_object(keys(name), 1)\n', ["1: <computed>"]),
    ('Certificate("T", "t", "e", objects={"a b": 1})\n', ["1: a b"]),
    ('cert.objects[f"ends_rho_{i}"] = 1\ncert.add_object("eta_bound", 2, label="eta < 2/L")\n'
     'cert.add_object(object_key(name), 1, label=name)\ncert.add_object(ends_key(r), 1)\ncert.add_named_objects(constants)\n'
     'c.objects.update({"rho": 1, "x_star": 2})\nv = cert.objects["x_h at rho"]\n', []),
])
def test_key_scan_finds_planted_prose_keys(source, expected):
    """Negative control of the scan: each planted prose or computed key is reported, reads are not."""
    assert bad_object_keys(source) == expected


def _roots_at_objects(node) -> bool:
    """Whether a subscript chain starts at ``<x>.objects`` (``c.objects[k]``, ``c.objects[k][j]``)."""
    while isinstance(node, ast.Subscript):
        node = node.value
        if _is_objects(node):
            return True
    return False


def direct_object_writes(source: str) -> list[str]:
    """``line`` for each assignment into a certificate's objects by subscript (``c.objects[k] = v``,
    ``c.objects[k] += v``, ``c.objects[k][j] = v``): objects are written through ``add_object(key,
    value, label=...)``, which checks the key and keeps the display label apart."""
    found = []
    for node in ast.walk(ast.parse(source)):
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
        for t in targets:
            for part in ast.walk(t):   # tuple targets included
                if _roots_at_objects(part):
                    found.append(str(node.lineno))
                    break
    return found


def test_no_library_code_assigns_into_certificate_objects_directly():
    assert library_offenders(direct_object_writes) == {}


@pytest.mark.parametrize("source,expected", [
    ('cert.objects["eta"] = 1\n', ["1"]),
    ('x = 0\ncert.objects["n"] += 1\n', ["2"]),
    ('cert.objects["attraction"]["dist"] = 1\n', ["1"]),
    ('a, c.objects["k"] = 1, 2\n', ["1"]),
    ('cert.objects: dict = {}\n', []),
    ('cert.add_object("eta", 1, label="step size")\nv = cert.objects["eta"]\nrow["x"] = cert.objects["x"]\n'
     'objects["k"] = 1\n', []),
])
def test_direct_write_scan_finds_planted_assignments(source, expected):
    """Negative control of the scan: each planted subscript write into ``.objects`` is reported;
    add_object, reads, and a plain dict named ``objects`` are not."""
    assert direct_object_writes(source) == expected


@pytest.mark.parametrize("key,ok", [("eta_bound", True), ("x_plus", True), ("L", True),
                                    ("x+", False), ("rho = 0.1: end points", False), ("", False),
                                    ("1st", False), ("a" * 41, False), (3, False)])
def test_object_key_rule(key, ok):
    assert is_object_key(key) is ok


def _all_keys_short(cert) -> list:
    return [k for k in cert.objects if not is_object_key(k)]


@pytest.mark.parametrize("name,args,kwargs", [
    ("zhou_prop41", ("log(cosh(10*z))/100", 1.0, 2.5, 0.9, "a = 1"), {"steps": 40, "starts": 5}),
    ("zhou_prop41", ("log(cosh(10*z))/100", 1.0, 2.5, 0.5, "a = 1"),
     {"steps": 40, "starts": 5, "assume_subquadratic": False}),
    ("kim_double_well", (), {"mu": 1, "dps": 20}),
    ("rival_refutations", (), {}),
])
def test_certificates_of_quick_runs_hold_short_keys_only(name, args, kwargs):
    """At run time too (keys that come from a computation's dict are spelled out in the code)."""
    from theorems import REGISTRY
    cert = REGISTRY[name].certify(*args, **kwargs)
    assert cert.objects and _all_keys_short(cert) == []


def test_a_prose_key_is_seen_by_the_run_time_check_and_its_label_still_reads():
    """Negative control of the run-time check, and the deprecation path for old lookups."""
    cert = Certificate("T", "title", "example")
    cert.objects["min ratio ||g||"] = 1.0
    assert _all_keys_short(cert) == ["min ratio ||g||"]
    good = Certificate("T", "title", "example")
    good.add_object("min_ratio", 1.0, label="min ratio ||g||")
    assert _all_keys_short(good) == []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert good.objects["min ratio ||g||"] == 1.0 and "min ratio ||g||" in good.objects
    assert any(issubclass(w.category, DeprecationWarning) and "'min_ratio'" in str(w.message)
               for w in caught)


def test_the_json_schema_states_the_same_key_rule():
    import json
    from verify.core.results import OBJECT_KEY
    schema = json.loads((ROOT / "verify" / "report" / "certificate.schema.json").read_text())
    assert schema["$defs"]["object_key"]["pattern"] == f"^{OBJECT_KEY.pattern}$"
