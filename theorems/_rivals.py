"""Shared by the rival-paper sections (kim_*, zhou_*, rivals_*): one way to open a float64
certificate, real example or negative control. (Underscore: not a report section.)"""
from __future__ import annotations

from verify.core.results import Certificate
from verify.ctx import get_context


def float_certificate(theorem: str, title: str, example: str, statement: str,
                      expected: bool = True) -> Certificate:
    """A float64 certificate; a negative control's example is labelled as such."""
    fp = get_context("float64")
    return Certificate(theorem, title, example if expected else f"negative control: {example}",
                       statement=statement, context=fp.name, precision=fp.precision_label,
                       expected=expected)
