"""How numbers are shown to a reader — one set of functions for the HTML report and the command line.

Certificates keep every number as a string at full precision (50-digit mpmath values, interval balls
``[m +/- r]``, float64 ``repr``). A reader needs far fewer digits: :func:`number` rounds to
``SIG`` = 6 significant digits (tolerances to ``TOL_SIG`` = 2: ``1e-45``, not 50 digits), drops
trailing zeros, so float noise such as ``0.44999999999996`` reads ``0.45`` and an exact zero reads
``0``, and never returns more than ``MAX_CHARS`` = 12 characters for one number. The JSON keeps the
full text; the HTML shows it on hover.

* :func:`number` — one number (string, int, float, Decimal, mpf, a fraction ``p/q``; an interval
  ball as ``m ± r``);
  anything that is not a number comes back unchanged;
* :func:`shown` — any certificate value (numbers, vectors, matrices, dicts) as short text;
* :func:`in_text` — shortens the long decimal numbers inside free text (evidence, notes);
* :func:`margin` — how far a claim is from failing, from its strings (positive: it holds);
* :func:`claim_line` — a claim as one line: value, relation, bound, tolerance, margin, verdict word.
"""
from __future__ import annotations

import re
import textwrap
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any

SIG = 6
TOL_SIG = 2
MAX_CHARS = 12
_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
NUMBER_RE = re.compile(rf"^\s*{_NUM}\s*$")
_FRACTION_RE = re.compile(r"^([-+]?\d+)/(\d+)$")  # an exact rational p/q
_BALL_RE = re.compile(rf"^\[\s*({_NUM})?\s*\+/-\s*({_NUM})\s*\]$")
# a decimal number inside text, not part of a word, a version string or a hex digest
_IN_TEXT_RE = re.compile(rf"(?<![\w./]){_NUM}(?:/\d+)?(?![\w./]*\w)")  # p/q as one number

VERDICT_WORDS = {"pass": "holds", "proved": "proved", "fail": "FAILS", "undecided": "undecided"}


def to_decimal(value: Any) -> Decimal | None:
    """The exact decimal value of a number given as text, int, float or mpf; None if not one.
    An interval ball gives its midpoint."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, (int, float)):
        return Decimal(value) if value == value and abs(value) != float("inf") else None
    text = str(value).strip()
    ball = _BALL_RE.match(text)
    if ball:
        text = ball.group(1) or "0"
    frac = _FRACTION_RE.match(text)
    if frac and int(frac.group(2)):
        with localcontext() as c:
            c.prec = 60
            return Decimal(frac.group(1)) / Decimal(frac.group(2))
    if not NUMBER_RE.match(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex admits only valid literals
        return None


def _format(d: Decimal, sig: int) -> str:
    if d.is_zero():
        return "0"
    with localcontext() as c:
        c.prec = sig
        d = (+d).normalize()
    exp = d.adjusted()
    sign, digits, _ = d.as_tuple()
    mant = "".join(map(str, digits)).rstrip("0") or "0"
    head = "-" if sign else ""
    if -4 <= exp < sig:  # fixed notation, as %g does
        return head + format(abs(d), "f")
    body = mant[0] + ("." + mant[1:] if len(mant) > 1 else "")
    return f"{head}{body}e{exp:+d}"


def number(value: Any, sig: int = SIG) -> str:
    """``value`` at ``sig`` significant digits, at most ``MAX_CHARS`` characters; an integer given
    as digits stays exact if it fits; an interval ball reads ``mid ± radius``; not a number:
    ``str(value)`` unchanged."""
    if isinstance(value, str):
        ball = _BALL_RE.match(value.strip())
        if ball:
            return f"{number(ball.group(1) or '0', sig)} ± {number(ball.group(2), TOL_SIG)}"
        if re.fullmatch(r"\s*[-+]?\d+(/\d+)?\s*", value) and len(value.strip()) <= MAX_CHARS:
            return value.strip()  # an integer or a short fraction (3/2) stays exact
    elif isinstance(value, int) and not isinstance(value, bool) and len(str(value)) <= MAX_CHARS:
        return str(value)
    d = to_decimal(value)
    if d is None:
        return str(value)
    for s in range(sig, 0, -1):  # fewer digits only where a 3-digit exponent needs the room
        text = _format(d, s)
        if len(text) <= MAX_CHARS:
            return text
    return text


def tolerance(value: Any) -> str:
    """A tolerance: its order of magnitude is what matters (``1e-45``, ``2.1e-48``)."""
    return number(value, TOL_SIG)


def shown(value: Any, sig: int = SIG) -> str:
    """Any certificate value as short text: numbers rounded, vectors ``[a, b]``, matrices one row
    per line, dicts ``key: value`` lines, other text unchanged (with long numbers inside shortened)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, dict):
        return "\n".join(f"{k}: {shown(v, sig)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, (list, tuple)) for v in value):
            return "[" + ",\n ".join(shown(v, sig) for v in value) + "]"
        return "[" + ", ".join(shown(v, sig) for v in value) + "]"
    if to_decimal(value) is not None or (isinstance(value, str) and _BALL_RE.match(value.strip())):
        return number(value, sig)
    return in_text(str(value))


def in_text(text: str, sig: int = SIG) -> str:
    """Free text with every number longer than ``MAX_CHARS`` characters (a decimal, an integer or an
    exact fraction p/q) or carrying float noise (``0.44999999999996``) rounded to ``sig`` digits;
    short integers and fractions (``12``, ``6/5``) and words untouched."""
    def short(m: re.Match) -> str:
        s = m.group(0)
        if not re.search(r"[.eE]", s):  # an integer or a fraction: exact, shortened only when long
            return s if len(s) <= MAX_CHARS else number(s, sig)
        if len(s) <= MAX_CHARS and len(s.lstrip("+-").replace(".", "").lstrip("0")) <= sig + 2:
            return s  # already readable, e.g. 2.8 or 1e-12 or 0.4375
        return number(s, sig)
    return _IN_TEXT_RE.sub(short, text)


def margin(value: Any, relation: str, bound: Any, tol: Any = 0) -> Decimal | None:
    """How far ``value relation bound`` (with allowance ``tol``) is from failing: positive when it
    holds, negative by how much it fails; None when a side is not a number. Computed from the
    decimal strings exactly (interval balls by their midpoints)."""
    v, b, t = to_decimal(value), to_decimal(bound), to_decimal(tol if tol is not None else 0)
    if v is None or b is None:
        return None
    t = t or Decimal(0)
    with localcontext() as c:
        c.prec = 60
        return {"<=": b + t - v, "<": b + t - v, ">=": v - b + t, ">": v - b + t,
                "==": t - abs(v - b), "!=": abs(v - b) - t}.get(relation)


def verdict_word(verdict: str) -> str:
    return VERDICT_WORDS.get(str(verdict), str(verdict))


def claim_line(value: Any, relation: str, bound: Any, tol: Any, verdict: str) -> str:
    """``value relation bound (tol t, margin m): verdict`` — the verdict stated in words, so a
    claim such as ``4.4e-16 <= 0 (tol 1e-12)`` cannot be misread as a failure."""
    m = margin(value, relation, bound, tol)
    extra = f"tol {tolerance(tol)}" + ("" if m is None else f", margin {number(m)}")
    return f"{shown(value)} {relation} {shown(bound)} ({extra}): {verdict_word(verdict)}"


def wrapped(label: str, value: Any, width: int = 100, indent: str = "  ") -> str:
    """``label = value`` with the whole value shown (never cut), wrapped under the label."""
    text = shown(value)
    lines = []
    for i, part in enumerate(text.split("\n")):
        first = f"{indent}{label} = " if i == 0 else indent + " " * (len(label) + 3)
        lines.append(textwrap.fill(part, width=width, initial_indent=first,
                                   subsequent_indent=indent + " " * (len(label) + 4),
                                   break_long_words=False, break_on_hyphens=False))
    return "\n".join(lines)


def decimal_text(value: float, digits: int = 6) -> str:
    """A float as a short decimal string (``digits`` significant), e.g. to pass a measured constant
    on as an exact decimal into a construction."""
    return f"{value:.{digits}g}"


def point_text(ctx, x, digits: int = 8) -> str:
    """A point of any context as ``(x1, x2, ...)`` with ``digits`` significant digits."""
    return "(" + ", ".join(f"{ctx.to_float(v):.{digits}g}" for v in ctx.to_list(x)) + ")"
