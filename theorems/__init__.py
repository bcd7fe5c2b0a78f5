"""The theorem registry: one table that the report, the pytest plugin and the command line read.

``REGISTRY[name]`` is an :class:`Entry` for the module ``theorems.<name>``. Every entry gives

* ``certify(...) -> Certificate`` — the module's uniform entry point. Where the statement takes a
  function (``kind == "objective"``), the first argument is the objective (an ``Objective``, or a zoo
  name where the module documents it) and ``ctx`` is the arithmetic. The rival papers' checks about a
  fixed model (``kind == "model"``: Kim et al.'s double well and noise models, Zhou et al.'s
  least-squares data, the MLP of Section 4, the index of results) take that model's parameters
  instead, as their ``certify`` docstrings say. Every entry's ``certify`` accepts ``ctx=``: for a
  module that computes in float64 only, any other arithmetic is refused with a ``BackendError``;
* ``EXAMPLES`` — the built-in cases the report runs (in the module's own format) and ``examples``,
  their names;
* ``theorem``, ``title``, ``order``, ``statement`` (the module docstring) — the report section;
* ``quick`` — whether the quick report (``--quick``) runs the section;
* ``report_certificates(quick, figdir)`` — the section's certificates.

Modules are imported on first use of an entry, so reading the table is cheap. ``verify`` never
imports this package at import time: the application layer (``verify.report``, ``verify.commands``)
reaches it by name through :func:`verify.report.build.registry`, so the engine stays importable on
its own and the dependency runs one way (theorems -> verify).
"""
from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from typing import Any

KINDS = ("objective", "model")


@dataclass(frozen=True)
class Entry:
    name: str                  # module name under theorems/
    kind: str = "objective"    # "objective": certify(objective, ..., ctx); "model": its parameters
    quick: bool = True         # the quick report runs this section too

    @property
    def module(self):
        return importlib.import_module(f"{__name__}.{self.name}")

    @property
    def theorem(self) -> str:
        return str(self.module.THEOREM)

    @property
    def title(self) -> str:
        return str(self.module.TITLE)

    @property
    def order(self) -> float:
        return float(self.module.ORDER)

    @property
    def statement(self) -> str:
        return (self.module.__doc__ or "").strip()

    @property
    def EXAMPLES(self) -> Any:  # noqa: N802 - the module attribute's name
        return self.module.EXAMPLES

    @property
    def examples(self) -> list[str]:
        """The names of the built-in cases (the keys of a mapping, else each case's first field)."""
        cases = self.EXAMPLES
        if isinstance(cases, dict):
            return [str(k) for k in cases]
        return [str(_case_name(c)) for c in cases]

    def certify(self, *args, ctx=None, **kwargs):
        """The module's ``certify``; ``ctx`` is passed on where it takes one, else it must be float64."""
        fn = self.module.certify
        if "ctx" in inspect.signature(fn).parameters:
            return fn(*args, ctx=ctx, **kwargs)
        if ctx is not None:
            from verify.ctx import get_context
            from verify.errors import BackendError
            if get_context(ctx).name != "float64":
                raise BackendError(f"{self.name}.certify computes in float64 only; got the "
                                   f"{get_context(ctx).name} context")
        return fn(*args, **kwargs)

    def report_certificates(self, quick: bool = False, figdir=None):
        return self.module.report_certificates(quick=quick, figdir=figdir)


def _case_name(case) -> Any:
    if isinstance(case, dict):
        return case.get("name", case.get("zoo", next(iter(case.values()))))
    if isinstance(case, (tuple, list)):
        return case[0]
    return case


# In report order (each module's ORDER decides the order the report shows).
REGISTRY: dict[str, Entry] = {e.name: e for e in (
    Entry("core_checks"),
    Entry("prop_a1"),
    Entry("thm_2_1"),
    Entry("cor_a6"),
    Entry("thm_2_2"),
    Entry("thm_3_1"),
    Entry("thm_3_2"),
    Entry("appendix_d", kind="model"),
    Entry("rho_threshold"),
    Entry("rho_bracket", kind="model"),
    Entry("prove_hallucination"),
    Entry("refutations"),
    Entry("mlp_check", kind="model"),
    Entry("rivals_index", kind="model"),
    Entry("kim_thm1"),
    Entry("kim_cases", kind="model"),
    Entry("kim_thm2", kind="model"),
    Entry("kim_thm3", kind="model"),
    Entry("kim_fig7", kind="model"),
    Entry("rival_refutations", kind="model"),
    Entry("kim_double_well", kind="model"),
    Entry("zhou_prop41"),
    Entry("zhou_thm41", kind="model"),
    Entry("zhou_thm43", kind="model"),
    Entry("zhou_example41", kind="model"),
    Entry("rivals_explanations"),
)}

# modules of this package that are helpers, not theorems (no certify, no report section)
HELPERS = ("_rivals",)


def get(name: str) -> Entry:
    """The entry named ``name`` (a module name), or a ``SamVerifyError`` naming the known ones."""
    if name not in REGISTRY:
        from verify.errors import SamVerifyError
        raise SamVerifyError(f"no theorem named {name!r}; known: {', '.join(REGISTRY)}")
    return REGISTRY[name]
