"""The one result type of the library.

A :class:`Claim` is a single checked statement: a measured value, a relation, a bound and the
tolerance allowed by the arithmetic that measured it. A :class:`Certificate` gathers, for one theorem
run on one example, the hypotheses as checked, the objects the proof constructs and the claims.
pytest asserts on these objects, the HTML report renders them and a user prints them; ``to_dict``
keeps every number as a string so that 50-digit values and interval endpoints survive JSON, in the
format :data:`SCHEMA_VERSION` of ``verify/report/certificate.schema.json``.

Objects are keyed by short identifiers (``cert.add_object("eta_bound", value, label="...")``); the
label is what a reader sees. A claim keeps its value and its margin (how far it is from failing) in
the arithmetic that decided it, e.g. an Arb ball, beside the strings. What a theorem run leaves
for figures or further checks (a trajectory, the traced set) goes into ``cert.artifacts``, which is
never serialized.
"""
from __future__ import annotations

import enum
import functools
import json
import re
import time
import warnings
from dataclasses import dataclass, field
from typing import Any


class Verdict(str, enum.Enum):
    PASS = "pass"          # holds within the stated tolerance (floating point)
    PROVED = "proved"      # holds rigorously (interval enclosures decide it)
    FAIL = "fail"          # violated beyond the tolerance, or rigorously false
    UNDECIDED = "undecided"  # a rigorous comparison whose enclosures overlap

    @property
    def ok(self) -> bool:
        return self in (Verdict.PASS, Verdict.PROVED)


RELATIONS = ("<", "<=", ">", ">=", "==", "!=")
EVIDENCE_LEVELS = ("sampled", "high-precision", "PROVED")
# The version of the JSON written by ``to_dict`` (certificates.json, ``--json``); raise it when a
# field changes meaning or disappears, and update verify/report/certificate.schema.json with it.
SCHEMA_VERSION = "1.0"



def sampled_evidence(ctx) -> str:
    """The evidence level of a finding decided by evaluating at sample points in ``ctx``: arithmetic
    finer than double precision (unit roundoff below 2^-60: mpmath, Arb at points) gives
    'high-precision', float64 / torch 'sampled'; 'PROVED' needs an interval certificate over the
    whole set (theorems/refutations.py)."""
    return "high-precision" if float(ctx.eps) < 2.0 ** -60 else "sampled"


# A certificate object's key: a short identifier (letters, digits, underscores; at most 40 characters).
# What a reader sees goes into the label (``add_object(key, value, label=...)``).
OBJECT_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")


def is_object_key(key: Any) -> bool:
    """Whether ``key`` is a valid certificate object key (see :data:`OBJECT_KEY`)."""
    return isinstance(key, str) and OBJECT_KEY.fullmatch(key) is not None


def object_key(name: str) -> str:
    """A short identifier for an object whose name comes from a computation (``"sigma^2"`` ->
    ``"sigma_2"``); the name itself goes into the label."""
    key = re.sub(r"[^A-Za-z0-9]+", "_", str(name)).strip("_")[:40].rstrip("_") or "_"
    key = key if not key[0].isdigit() else ("_" + key)[:40]
    if not is_object_key(key):  # cannot happen; keeps the contract explicit
        raise ValueError(f"no object key for {name!r}")
    return key


def renamed_keyword(old: str, new: str = "objective"):
    """Decorator for an entry point whose parameter ``old`` became ``new``: a call passing ``old=``
    by keyword still works for one release, with a ``DeprecationWarning``; the signature shows ``new``."""
    def wrap(fn):
        @functools.wraps(fn)
        def call(*args, **kwargs):
            if old in kwargs:
                if new in kwargs:
                    raise TypeError(f"{fn.__qualname__}() got both {new!r} and its old name {old!r}")
                warnings.warn(f"{fn.__qualname__}(): the keyword {old!r} is now {new!r}",
                              DeprecationWarning, stacklevel=2)
                kwargs[new] = kwargs.pop(old)
            return fn(*args, **kwargs)
        return call
    return wrap


# Callables told about every certificate that finishes; the pytest plugin uses this to put the
# certificates a test run actually checked into the report written with ``--sam-report``.
FINISH_LISTENERS: list = []


def _as_text(value: Any) -> Any:
    """Numbers become strings at full precision; containers are converted recursively."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _as_text(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_as_text(v) for v in value]
    if hasattr(value, "tolist") and hasattr(value, "ndim"):  # numpy / torch arrays and scalars
        return _as_text(value.tolist())
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


@dataclass
class Claim:
    """One checked statement. ``value relation bound`` is tested with allowance ``tolerance``, of
    the named ``tier`` (rounding, solver, derived, sampling: :mod:`verify.ctx.tolerance`; ``exact``
    for no allowance, ``custom`` for a value given without a tier; empty in older results)."""

    id: str
    statement: str
    value: Any
    relation: str
    bound: Any
    tolerance: Any
    verdict: Verdict
    context: str = ""
    precision: str = ""
    note: str = ""
    tier: str = ""
    # the value and the margin (positive: holds by that much) in the deciding arithmetic, e.g. an
    # Arb ball; margin_text is the margin as the context writes it (serialized as "margin")
    native_value: Any = field(default=None, repr=False, compare=False)
    margin: Any = field(default=None, repr=False, compare=False)
    margin_text: str = ""

    @property
    def passed(self) -> bool:
        return self.verdict.ok

    def to_dict(self) -> dict:
        return {
            "id": self.id, "statement": self.statement, "value": _as_text(self.value),
            "relation": self.relation, "bound": _as_text(self.bound),
            "tolerance": _as_text(self.tolerance), "verdict": self.verdict.value,
            "context": self.context, "precision": self.precision, "note": self.note,
            "tier": self.tier, **({"margin": self.margin_text} if self.margin_text else {}),
        }

    def __str__(self) -> str:
        from .display import claim_line, in_text
        return (f"[{self.verdict.value.upper():9s}] {self.id}: {self.statement}\n"
                f"            {claim_line(self.value, self.relation, self.bound, self.tolerance, self.verdict.value)}"
                f" ({(self.tier + ' tier; ') if self.tier else ''}{self.context} {self.precision})"
                + (f"\n            note: {in_text(self.note)}" if self.note else ""))


@dataclass
class Hypothesis:
    """A hypothesis of a theorem as checked on the example: met is True, False or None (not decided)."""

    name: str
    statement: str
    met: bool | None
    evidence: str = ""

    def to_dict(self) -> dict:
        return {"name": self.name, "statement": self.statement, "met": self.met,
                "evidence": self.evidence}


@dataclass
class Finding:
    """A statement of a paper that failed on a case whose hypotheses hold (or a noteworthy gap).

    ``evidence_level`` says how strong the evidence is: one of :data:`EVIDENCE_LEVELS` (``sampled``:
    floating point at sample points; ``high-precision``: many-digit arithmetic; ``PROVED``: interval
    enclosures decide it), or None when not stated (then it is left out of the JSON)."""

    source: str
    statement: str
    evidence: str
    evidence_level: str | None = None

    def __post_init__(self):
        if self.evidence_level is not None and self.evidence_level not in EVIDENCE_LEVELS:
            raise ValueError(f"evidence_level must be one of {EVIDENCE_LEVELS} or None, "
                             f"got {self.evidence_level!r}")

    def to_dict(self) -> dict:
        out = {"source": self.source, "statement": self.statement, "evidence": self.evidence}
        if self.evidence_level is not None:
            out["evidence_level"] = self.evidence_level
        return out


class Objects(dict):
    """A certificate's objects: short identifier -> value, with display labels kept apart.

    A lookup by a label that was a key before (the prose labels of older releases) still works for
    one release, with a ``DeprecationWarning`` naming the identifier to use."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.labels: dict[str, str] = {}

    def set(self, key: str, value: Any, label: str = "") -> None:
        self[key] = value
        if label and label != key:
            self.labels[key] = label

    def label(self, key: str) -> str:
        return self.labels.get(key, key)

    def _by_label(self, name):
        for key, label in self.labels.items():
            if label == name:
                warnings.warn(f"certificate objects are keyed by identifiers: use {key!r}, not the "
                              f"label {name!r}", DeprecationWarning, stacklevel=3)
                return key
        return None

    def __missing__(self, name):
        key = self._by_label(name)
        if key is None:
            raise KeyError(name)
        return self[key]

    def __contains__(self, name) -> bool:
        return super().__contains__(name) or name in self.labels.values()

    def get(self, name, default=None):
        return self[name] if name in self else default


@dataclass
class Certificate:
    """Everything one theorem run produced on one example.

    Fields are fixed: theorem, title, example, statement, hypotheses, objects, claims, findings,
    figures (paths relative to the report), context, precision, elapsed (seconds), passed, and
    ``artifacts`` (never serialized: what a run leaves for figures or later checks, e.g. ``run``,
    ``hset``, ``trace``, ``construction``). ``passed`` is True when every hypothesis checked is met
    and every claim holds.
    """

    theorem: str
    title: str
    example: str
    statement: str = ""
    hypotheses: list[Hypothesis] = field(default_factory=list)
    objects: Objects = field(default_factory=Objects)
    claims: list[Claim] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    context: str = ""
    precision: str = ""
    elapsed: float = 0.0
    refused: str = ""  # non-empty when the theorem declined to run: the reason
    expected: bool = True  # False for a negative control, which is meant not to pass
    artifacts: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _started: float = field(default_factory=time.perf_counter, repr=False, compare=False)

    def __post_init__(self):
        if not isinstance(self.objects, Objects):
            self.objects = Objects(self.objects)

    def __getattr__(self, name: str):
        """Artifacts were attributes before (``cert.run``): still readable for one release."""
        artifacts = self.__dict__.get("artifacts")
        if artifacts is None or name not in artifacts:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        warnings.warn(f"cert.{name} is deprecated: use cert.artifacts[{name!r}]", DeprecationWarning,
                      stacklevel=2)
        return artifacts[name]

    # -- building -----------------------------------------------------------------------------
    def hypothesis(self, name: str, statement: str, met: bool | None, evidence: str = "") -> bool | None:
        self.hypotheses.append(Hypothesis(name, statement, met, evidence))
        return met

    def add_object(self, key: str, value: Any, label: str = "") -> Any:
        """Record a constructed object under a short identifier, shown to readers as ``label``."""
        self.objects.set(key, value, label)
        return value

    def add_named_objects(self, values: dict) -> None:
        """Record objects whose names come from a computation (a table of constants): each under
        :func:`object_key` of its name, shown with the name as its label."""
        for name, value in values.items():
            self.add_object(object_key(name), value, label=str(name))

    def add(self, claim: Claim) -> Claim:
        self.claims.append(claim)
        return claim

    def finding(self, source: str, statement: str, evidence: str,
                evidence_level: str | None = None) -> None:
        self.findings.append(Finding(source, statement, evidence, evidence_level))

    def refuse(self, reason: str) -> "Certificate":
        self.refused = reason
        return self.finish()

    def finish(self) -> "Certificate":
        self.elapsed = time.perf_counter() - self._started
        for listener in list(FINISH_LISTENERS):
            listener(self)
        return self

    # -- reading ------------------------------------------------------------------------------
    @property
    def hypotheses_met(self) -> bool:
        return all(h.met for h in self.hypotheses)

    @property
    def passed(self) -> bool:
        return (not self.refused) and self.hypotheses_met and bool(self.claims) and all(
            c.passed for c in self.claims)

    @property
    def as_expected(self) -> bool:
        """A real example passes; a negative control does not."""
        return self.passed == self.expected

    @property
    def explained(self) -> bool:
        """A real example that did not pass and records findings: the failure documents a paper
        statement that does not hold here, with its evidence, rather than a defect of the check."""
        return self.expected and not self.passed and not self.refused and bool(self.findings)

    def claim(self, claim_id: str) -> Claim:
        for c in self.claims:
            if c.id == claim_id:
                return c
        raise KeyError(f"certificate {self.theorem} has no claim {claim_id!r}; "
                       f"it has {[c.id for c in self.claims]}")

    def counts(self) -> dict[str, int]:
        out = {"passed": 0, "failed": 0, "undecided": 0}
        for c in self.claims:
            key = "passed" if c.passed else ("undecided" if c.verdict is Verdict.UNDECIDED else "failed")
            out[key] += 1
        return out

    def to_dict(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "theorem": self.theorem, "title": self.title, "example": self.example,
            "statement": self.statement, "passed": self.passed, "refused": self.refused,
            "expected": self.expected, "as_expected": self.as_expected,
            "explained": self.explained,
            "hypotheses": [h.to_dict() for h in self.hypotheses],
            "objects": _as_text(dict(self.objects)),
            "object_labels": dict(self.objects.labels),
            "claims": [c.to_dict() for c in self.claims],
            "findings": [f.to_dict() for f in self.findings],
            "figures": list(self.figures), "context": self.context, "precision": self.precision,
            "elapsed": repr(round(self.elapsed, 6)), "counts": self.counts(),
        }

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(), indent=kw.pop("indent", 2), **kw)

    def __str__(self) -> str:
        """Everything, readable: whole vectors (wrapped, 6 significant digits) and every claim with
        its verdict in words; ``to_json`` keeps the full precision."""
        from .display import in_text, wrapped
        head = (f"{self.theorem} — {self.title} on {self.example}: "
                f"{'PASSED' if self.passed else ('REFUSED' if self.refused else 'NOT PASSED')}"
                f" ({self.context} {self.precision}, {self.elapsed:.3f} s)")
        lines = [head]
        if self.refused:
            lines.append(f"  refused: {self.refused}")
        for h in self.hypotheses:
            mark = {True: "met", False: "NOT MET", None: "undecided"}[h.met]
            lines.append(f"  hypothesis [{mark}] {h.name}: {h.statement}"
                         + (f" — {in_text(h.evidence)}" if h.evidence else ""))
        for k, v in self.objects.items():
            lines.append(wrapped(self.objects.label(k), _as_text(v)))
        lines += ["  " + str(c).replace("\n", "\n  ") for c in self.claims]
        for f in self.findings:
            level = f" [{f.evidence_level}]" if f.evidence_level else ""
            lines.append(f"  FINDING{level} ({f.source}): {f.statement} — {in_text(f.evidence)}")
        return "\n".join(lines)
