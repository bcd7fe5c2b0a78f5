"""How numbers are shown (verify.core.display) and how findings are grouped for the reader."""
from __future__ import annotations

from decimal import Decimal

import pytest

from verify.core import display
from verify.core.claims import compare
from verify.core.results import Certificate
from verify.ctx import get_context
from verify.report.build import Section, evidence_level, group_findings, render


@pytest.mark.parametrize("given, shown", [
    ("0.44999999999996", "0.45"),                       # float noise
    ("4.44e-16", "4.44e-16"),
    ("1.0000000000000000000000000000000000000000000000000e-45", "1e-45"),
    ("0", "0"), ("0.0", "0"), ("-0.0", "0"), ("0E-50", "0"),    # exact zeros
    ("2410", "2410"),                                    # counts stay exact
    ("-12.653186238250115317335218096831426538897332223911", "-12.6532"),
    ("0.0000000000000011102230246251565404236316680908203125", "1.11022e-15"),
    ("[1.999999999999999909496223651773e-6 +/- 4.83e-37]", "2e-6 ± 4.8e-37"),
    ("-1.234567e-300", "-1.2346e-300"),                 # a 3-digit exponent: one digit less
    (0.1, "0.1"), (123456.7, "123457"),
    ("3/2", "3/2"),                                      # a short exact rational stays
    ("4758796997849496444156721/10000000000000000000000000", "0.47588"),
    ("not a number", "not a number"), ("True", "True"),
])
def test_number(given, shown):
    assert display.number(given) == shown
    assert all(len(part) <= display.MAX_CHARS for part in shown.split(" ± ")) or \
        display.to_decimal(given) is None


def test_tolerance_has_two_digits():
    assert display.tolerance("2.1048070584579892811885214429222841187752869125158e-48") == "2.1e-48"


def test_shown_vectors_and_text():
    assert display.shown(["-0.33812345678912345", "1e-300", "0.0"]) == "[-0.338123, 1e-300, 0]"
    assert display.shown({"a": "0.30000000000000004"}) == "a: 0.3"
    text = "x = (1.2345678901234567, 2.5), v2.1.0, sha 1a2b3456789012345, 64-16-10, 0.44999999999996"
    assert display.in_text(text) == "x = (1.23457, 2.5), v2.1.0, sha 1a2b3456789012345, 64-16-10, 0.45"


def test_margin_says_how_far_from_failing():
    assert display.margin("4.44e-16", "<=", "0", "1e-12") == Decimal("1e-12") - Decimal("4.44e-16")
    assert display.margin("3", "<=", "2", "0") == -1                      # fails by 1
    assert display.margin("2", ">", "1", "0") == 1
    assert display.margin("1.5", "==", "1.5", "1e-9") == Decimal("1e-9")
    assert display.margin("True", "==", "True", "0") is None


def test_claim_line_states_the_verdict_in_words():
    ctx = get_context("float64")
    holds = compare("c", "tiny", 4.44e-16, "<=", 0.0, ctx, tol=1e-12)
    line = display.claim_line(holds.value, holds.relation, holds.bound, holds.tolerance, holds.verdict.value)
    assert line == "4.44e-16 <= 0 (tol 1e-12, margin 9.99556e-13): holds"
    fails = compare("c", "big", 3.0, "<=", 2.0, ctx)
    assert str(fails).count("FAILS") == 1 and "margin -1" in str(fails)


def test_certificate_text_prints_whole_vectors():
    c = Certificate("T", "t", "e")
    c.objects["x_h"] = [f"0.{k}123456789012345" for k in range(1, 40)]
    text = str(c.finish())
    assert "..." not in text and "0.391235" in text and "0.112346" in text


# -- findings, grouped by statement --------------------------------------------------------------
def _cert(example, findings, expected=True):
    c = Certificate("Thm X", "title", example, expected=expected)
    c.add(compare("k", "fails", 3.0, "<=", 2.0, get_context("float64")))
    for f in findings:
        c.finding(*f)
    return c.finish().to_dict()


def test_findings_group_by_statement_and_the_headline_counts_them(tmp_path):
    a = ("Paper, Thm 1", "the bound holds", "measured 3 > 2")
    b = ("Paper, Lemma 2", "the map contracts", "rate 1.2")
    control = ("Paper, Thm 1", "grad f(x_h) = 0", "the negative control breaks it")
    sec = Section("m", "m", "Thm X", "t", 1.0,
                  certificates=[_cert("one", [a, b]), _cert("two", [a]), _cert("three", [a]),
                                _cert("neg", [control], expected=False)])
    groups = group_findings([sec])
    assert [(g["statement"], g["examples"], g["real"]) for g in groups] == [
        ("the bound holds", 3, True), ("the map contracts", 1, True), ("grad f(x_h) = 0", 1, False)]
    report = render([sec], tmp_path)
    assert report.headline() == "2 statements of the papers fail on cases whose hypotheses hold"
    page = (tmp_path / "findings.html").read_text()
    assert page.count('class="finding-row"') == 3
    assert "Does not hold on 3 examples" in page and "negative controls only" in page


def test_a_proved_finding_sorts_first_when_levels_are_recorded():
    sampled = {"source": "S", "statement": "weak", "evidence": "sampled"}
    proved = {"source": "S", "statement": "strong", "evidence": "interval proof", "evidence_level": "PROVED"}
    sec = Section("m", "m", "Thm X", "t", 1.0, certificates=[
        {"example": "e1", "expected": True, "findings": [sampled, dict(sampled, statement="weak2")]},
        {"example": "e2", "expected": True, "findings": [proved]}])
    groups = group_findings([sec])
    assert groups[0]["statement"] == "strong" and groups[0]["level"] == "PROVED"
    assert evidence_level(sampled) == "sampled" and evidence_level({"evidence": "text"}) == ""


def test_long_fractions_and_integers_in_text_are_shortened():
    """Exact rationals from interval proofs (p/q with 20-70 digits) read as decimals in prose; short
    integers and fractions stay exact. Control: the same text with short numbers is unchanged."""
    text = "rho = 19314136932967117803/10000000000000000000, d = 36028797018963968"
    assert display.in_text(text) == "rho = 1.93141, d = 3.60288e+16"
    assert display.in_text("rho = 6/5, steps 4000, 2^-7") == "rho = 6/5, steps 4000, 2^-7"
