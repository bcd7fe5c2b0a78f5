"""The theorem registry: every theorem reachable as theorems.REGISTRY[name].certify(...), and the
report, the pytest plugin and the command line list the same theorems from it; the layering it
stands on (verify never imports theorems at import time, no theorem imports another's private names)."""
import ast
import inspect
import json
import pathlib
import pkgutil
import subprocess
import sys

import pytest

import theorems
from theorems import REGISTRY
from verify.cli import main
from verify.ctx import get_context
from verify.errors import BackendError, SamVerifyError
from verify.objectives import zoo
from verify.report import pytest_plugin
from verify.report.build import discover

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _report_names():
    return [s.name for s in discover()]


def _cli_names(capsys, *argv):
    """The names a CLI listing prints: ``list --json`` rows, ``list`` (name first) or ``report
    --list`` (order, then name)."""
    assert main(list(argv)) == 0
    out = capsys.readouterr().out
    if "--json" in argv:
        return [row["name"] for row in json.loads(out)]
    column = 1 if argv[0] == "report" else 0
    return [line.split()[column] for line in out.splitlines() if line.strip()]


def _registry_order():
    return [e.name for e in sorted(REGISTRY.values(), key=lambda e: (e.order, e.name))]


# -- one list -------------------------------------------------------------------------------------
def test_every_theorem_module_is_registered_or_a_helper():
    modules = {m.name for m in pkgutil.iter_modules(theorems.__path__)}
    assert modules == set(REGISTRY) | set(theorems.HELPERS)


def test_report_plugin_and_cli_list_the_registry(capsys):
    expected = _registry_order()
    assert _report_names() == expected
    assert pytest_plugin.report_sections() == expected
    assert _cli_names(capsys, "list", "--json") == expected
    assert _cli_names(capsys, "list") == expected
    assert _cli_names(capsys, "report", "--list") == expected


def test_dropping_an_entry_drops_it_from_all_three(monkeypatch, capsys):
    """Negative control: the three lists follow the registry, not a scan of the folder."""
    monkeypatch.delitem(REGISTRY, "zhou_thm43")
    expected = _registry_order()
    assert "zhou_thm43" not in expected
    assert _report_names() == expected
    assert pytest_plugin.report_sections() == expected
    assert _cli_names(capsys, "list", "--json") == expected
    assert _cli_names(capsys, "report", "--list") == expected


def test_plugin_header_names_the_sections():
    class Config:
        options = {"--sam-report": "out", "--sam-report-mode": "quick", "--sam-report-only": "thm_2_1"}

        def getoption(self, name):
            return self.options[name]
    assert pytest_plugin.pytest_report_header(Config()) == "sam-verify report sections: thm_2_1"
    Config.options["--sam-report-only"] = "nosuch"
    assert "no report section named nosuch" in pytest_plugin.pytest_report_header(Config())


def test_unknown_theorem_is_a_typed_error():
    with pytest.raises(SamVerifyError, match="no theorem named 'thm_9_9'"):
        theorems.get("thm_9_9")


# -- uniform entry points -------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(REGISTRY))
def test_entry_is_uniform(name):
    entry = REGISTRY[name]
    assert entry.kind in theorems.KINDS
    assert callable(entry.module.certify) and callable(entry.module.report_certificates)
    assert entry.theorem and entry.title and entry.statement
    assert entry.examples and all(isinstance(e, str) and e for e in entry.examples)
    if entry.kind == "objective":
        assert leading_parameter_problems(entry.module.certify) == []
    else:  # a model's check documents which model its parameters describe
        assert "model" in (entry.module.certify.__doc__ or "") or entry.module.__doc__


def leading_parameter_problems(certify) -> list[str]:
    """What is wrong with an objective theorem's entry point: its first parameter must be the
    objective, named ``objective`` and passable by position."""
    params = list(inspect.signature(certify).parameters.values())
    if not params:
        return ["no parameters"]
    first, problems = params[0], []
    if first.kind is not inspect.Parameter.POSITIONAL_OR_KEYWORD:
        problems.append(f"first parameter {first.name!r} is {first.kind.description}")
    if first.name != "objective":
        problems.append(f"first parameter is named {first.name!r}, not 'objective'")
    return problems


def _planted_obj(obj, ctx=None): ...
def _planted_ctx_first(ctx=None, quick=False): ...
def _planted_keyword_only(*, objective, ctx=None): ...
def _planted_good(objective, rho, ctx=None): ...


@pytest.mark.parametrize("fn,expected", [
    (_planted_obj, ["first parameter is named 'obj', not 'objective'"]),
    (_planted_ctx_first, ["first parameter is named 'ctx', not 'objective'"]),
    (_planted_keyword_only, ["first parameter 'objective' is keyword-only"]),
    (_planted_good, []),
])
def test_leading_parameter_check_finds_planted_signatures(fn, expected):
    """Negative control of the entry-point check: a first parameter named otherwise fails it."""
    assert leading_parameter_problems(fn) == expected


def test_old_keyword_of_a_renamed_entry_point_still_works_with_a_warning():
    """``kim_thm1.certify(source=...)`` (the name before 'objective') is kept for one release."""
    from verify.core.results import renamed_keyword

    @renamed_keyword("source")
    def certify(objective, rho=1):
        return objective, rho
    assert list(inspect.signature(certify).parameters)[0] == "objective"
    with pytest.warns(DeprecationWarning, match="'source' is now 'objective'"):
        assert certify(source="ring", rho=2) == ("ring", 2)
    assert certify("ring") == ("ring", 1)
    with pytest.raises(TypeError, match="both 'objective' and its old name 'source'"):
        certify(objective="a", source="b")


def test_float64_only_theorem_refuses_another_arithmetic():
    with pytest.raises(BackendError, match="float64 only"):
        REGISTRY["zhou_example41"].certify(ctx=get_context("mpmath", dps=30))


def test_core_checks_through_the_registry(fp):
    cert = REGISTRY["core_checks"].certify("tilted_ring", ("0.6", "0.9"), "0.3", ctx=fp)
    assert cert.passed and cert.context == "float64"


def test_thm_2_1_through_the_registry_keeps_its_construction(fp):
    ring = zoo.get("ring").objective
    cert = REGISTRY["thm_2_1"].certify(ring, ("1", "0"), ("0", "0"), ctx=fp)
    assert cert.passed
    con = cert.artifacts["construction"]
    assert con.certificate is cert and "construction" not in cert.to_dict()


def test_thm_3_2_through_the_registry_on_an_isolated_point(fp):
    """Corollary B.3 on tilted_ring's isolated x_h (the report's negative control: repelled)."""
    zf = zoo.get("tilted_ring")
    xs = zf.critical("minimizers", 0, fp)
    cert = REGISTRY["thm_3_2"].certify(zf.objective, xs, "3/2", ctx=fp, guess=(0.48, 0.0),
                                       delta=0.1, steps=60, quick=True, expected=False)
    assert cert.as_expected and cert.objects["which"].startswith("Corollary B.3")


def test_kim_double_well_model_through_the_registry():
    cert = REGISTRY["kim_double_well"].certify(mu=1, dps=30)
    assert cert.passed


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n, e in REGISTRY.items() if e.kind == "model"
                                  and n not in ("mlp_check",)])
def test_every_model_check_runs_through_the_registry(name):
    """Each with its first built-in case (the ones whose certify needs it name it)."""
    data = REGISTRY["zhou_thm41"].module.datasets()
    first = next(iter(data))
    args = {"kim_cases": ("usam",), "zhou_thm41": (first, data[first]),
            "zhou_thm43": (first, data[first])}.get(name, ())
    cert = REGISTRY[name].certify(*args)
    assert cert.as_expected or cert.explained


# -- layering ---------------------------------------------------------------------------------------
def _imports_of(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def test_verify_never_imports_theorems_statically():
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "verify").rglob("*.py")
                 if any(m == "theorems" or m.startswith("theorems.")
                        for m in _imports_of(ast.parse(p.read_text())))]
    assert offenders == []


def test_importing_the_engine_and_the_cli_loads_no_theorem():
    code = ("import sys, verify, verify.cli, verify.report.build, verify.report.pytest_plugin; "
            "verify.cli.build_parser(); print(sorted(m for m in sys.modules if m.startswith('theorems')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         check=True).stdout
    assert out.strip() == "[]"


def private_attribute_uses(tree, aliases: dict) -> list[str]:
    """``module._name`` for each use of a private attribute of a module imported under an alias
    (``aliases``: local name -> the module's name as reported)."""
    return [f"{aliases[node.value.id]}.{node.attr}" for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id in aliases and node.attr.startswith("_") and not node.attr.startswith("__")]


def private_cross_imports(source: str, package: str = "theorems") -> list[str]:
    """``mod._name`` uses and ``from .mod import _name`` imports of another theorem module's
    private names (``_rivals``, a private helper module, is shared by design)."""
    tree = ast.parse(source)
    aliases, found = {}, []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith(package)):
            mod = (node.module or "").split(".")[-1]
            for a in node.names:
                if not mod or mod == package:   # from . import thm_3_1 as t31
                    aliases[a.asname or a.name] = a.name
                elif a.name.startswith("_") and not mod.startswith("_"):
                    found.append(f"from {mod} import {a.name}")
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith(package + "."):
                    aliases[a.asname or a.name] = a.name.split(".")[-1]
    return found + private_attribute_uses(tree, aliases)


def test_no_theorem_uses_another_theorems_private_names():
    offenders = {p.name: private_cross_imports(p.read_text())
                 for p in (ROOT / "theorems").glob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


@pytest.mark.parametrize("source,expected", [
    ("from . import thm_2_1 as T\nx = T._decimal(1.0)\n", ["thm_2_1._decimal"]),
    ("from .kim_thm2 import _ou\n", ["from kim_thm2 import _ou"]),
    ("import theorems.thm_3_1 as t\nt._solve_cols\n", ["thm_3_1._solve_cols"]),
    ("from ._rivals import float_certificate\nfrom . import thm_2_1 as T\nT.construct\n", []),
])
def test_private_name_scan_finds_planted_uses(source, expected):
    """Negative control of the scan above: it sees each planted private use, and only those."""
    assert private_cross_imports(source) == expected


def test_an_entry_can_keep_its_section_out_of_the_quick_report(monkeypatch, tmp_path):
    from verify.report.build import collect
    monkeypatch.setitem(REGISTRY, "zhou_thm43", theorems.Entry("zhou_thm43", kind="model", quick=False))
    assert collect(quick=True, only=["zhou_thm43"], out=tmp_path, progress=False) == []
    assert [s.name for s in discover(["zhou_thm43"])] == ["zhou_thm43"]  # still listed for the full one


def _layer(parts: list[str]) -> str:
    """The layer a dotted module path belongs to: ``verify.<subpackage>`` (a top-level module of
    ``verify`` is the layer ``verify``), or the top package (``theorems``)."""
    return parts[1] if parts[0] == "verify" and len(parts) > 1 else parts[0]


def _imported_module(node: ast.ImportFrom, module: list[str], is_package: bool) -> list[str]:
    if node.level == 0:
        return (node.module or "").split(".")
    base = module if is_package else module[:-1]
    base = base[:len(base) - (node.level - 1)]
    return base + (node.module.split(".") if node.module else [])


def private_cross_layer_imports(source: str, module: str) -> list[str]:
    """Imports by the module ``module`` (dotted; a package as ``pkg.__init__``) of a private name
    (``_x``, or anything inside a private module) that lives in another layer, and ``m._x`` uses of
    a module ``m`` of another layer imported by name."""
    parts = module.split(".")
    is_package = parts[-1] == "__init__"
    here = parts[:-1] if is_package else parts
    own = _layer(here)
    found, aliases = [], {}
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = _imported_module(node, here, is_package)
            if target[0] not in ("verify", "theorems"):
                continue
            for a in node.names:
                full = target + [a.name]
                if _layer(full) == own:
                    continue
                if any(p.startswith("_") and not p.startswith("__") for p in full[1:]):
                    found.append(f"{'.'.join(target)}.{a.name}")
                else:
                    aliases[a.asname or a.name] = ".".join(full)
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] in ("verify", "theorems") and a.asname \
                        and _layer(a.name.split(".")) != own:
                    aliases[a.asname] = a.name
    return found + private_attribute_uses(tree, aliases)


def test_no_layer_imports_another_layers_private_names():
    """A layer uses only the public names of the layers below it (a context does not reach into
    the objectives' helpers, the MLP path not into the Krylov code's)."""
    offenders = {}
    for path in sorted([*(ROOT / "verify").rglob("*.py"), *(ROOT / "theorems").glob("*.py")]):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        found = private_cross_layer_imports(path.read_text(), module)
        if found:
            offenders[module] = found
    assert offenders == {}


@pytest.mark.parametrize("source,module,expected", [
    ("from ..objectives.expr import _ipow\n", "verify.ctx.arb", ["verify.objectives.expr._ipow"]),
    ("from ..linalg import block_krylov as bk\nbk._check_memory(1)\n", "verify.nn.point_check",
     ["verify.linalg.block_krylov._check_memory"]),
    ("import verify.core.sam as S\nS._unit\n", "theorems.thm_2_1", ["verify.core.sam._unit"]),
    ("from .. import _private_mod\n", "verify.ctx.__init__", ["verify._private_mod"]),
    ("from .mp import _mpf_exact\nfrom ..errors import BackendError\n", "verify.ctx.arb", []),
    ("from ._rivals import float_certificate\n", "theorems.kim_thm1", []),
    ("from ..core.sam import sam_point\n", "verify.linalg.du_spectrum", []),
])
def test_private_layer_scan_finds_planted_uses(source, module, expected):
    """Negative control of the layer scan: it sees each planted private cross-layer use (in the
    forms ``from m import _x``, ``m._x``, ``import a.b as m; m._x``), and not a private name of the
    same layer or a public one."""
    assert private_cross_layer_imports(source, module) == expected
