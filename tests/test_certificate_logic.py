"""When a Certificate passes: every hypothesis met (an undecided one is not met), at least one claim,
every claim PASS or PROVED, not refused; and what 'as expected' and 'explained' mean."""
from __future__ import annotations

import pytest

from verify.core.results import Certificate, Claim, Verdict


def claim(cid, verdict):
    return Claim(cid, "s", "1", "<=", "2", "0", verdict, "float64")


def cert(hyps=(True,), verdicts=(Verdict.PASS,), expected=True):
    c = Certificate("T", "title", "example", expected=expected)
    for i, met in enumerate(hyps):
        c.hypothesis(f"h{i}", "statement", met)
    for i, v in enumerate(verdicts):
        c.add(claim(f"c{i}", v))
    return c.finish()


def test_verdicts_that_count_as_holding():
    assert [v for v in Verdict if v.ok] == [Verdict.PASS, Verdict.PROVED]
    assert claim("a", Verdict.PROVED).passed and not claim("b", Verdict.UNDECIDED).passed


@pytest.mark.parametrize("hyps,verdicts,passed", [
    ((True,), (Verdict.PASS,), True),
    ((True, True), (Verdict.PROVED, Verdict.PASS), True),
    ((), (Verdict.PASS,), True),
    ((True, None), (Verdict.PASS,), False),        # an undecided hypothesis is not met
    ((False,), (Verdict.PASS,), False),
    ((True,), (Verdict.PASS, Verdict.UNDECIDED), False),
    ((True,), (Verdict.FAIL,), False),
    ((True,), (), False),                          # nothing claimed, nothing shown
])
def test_passed(hyps, verdicts, passed):
    c = cert(hyps, verdicts)
    assert c.passed is passed and c.hypotheses_met is all(h is True for h in hyps)
    assert c.as_expected is passed
    negative = cert(hyps, verdicts, expected=False)
    assert negative.as_expected is (not passed)


def test_refused_never_passes_and_is_not_explained():
    c = cert()
    c.finding("paper", "statement", "evidence")
    assert c.passed and not c.explained                 # passing: nothing to explain
    r = Certificate("T", "t", "e").refuse("no maximizer")
    assert r.refused == "no maximizer" and not r.passed and not r.explained
    failing = cert(verdicts=(Verdict.FAIL,))
    assert not failing.explained
    failing.finding("paper", "statement", "evidence")
    assert failing.explained
    assert not cert(verdicts=(Verdict.FAIL,), expected=False).explained


def test_claim_lookup_and_counts():
    c = cert(verdicts=(Verdict.PASS, Verdict.FAIL, Verdict.UNDECIDED, Verdict.PROVED))
    assert c.claim("c1").verdict is Verdict.FAIL
    with pytest.raises(KeyError, match="c9"):
        c.claim("c9")
    assert c.counts() == {"passed": 2, "failed": 1, "undecided": 1}
    assert c.elapsed >= 0.0


def test_a_finding_names_a_known_evidence_level_or_none():
    from verify.core.results import EVIDENCE_LEVELS, Finding
    for level in EVIDENCE_LEVELS + (None,):
        assert Finding("S", "statement", "evidence", level).evidence_level == level
    with pytest.raises(ValueError, match="evidence_level"):
        Finding("S", "statement", "evidence", "proved-ish")


def test_certificates_compare_by_content_not_by_start_time():
    """Two certificates with the same content are equal although built at different moments; the
    start time is bookkeeping (not shown, not compared), and an unfinished one took no time yet."""
    a = Certificate("T", "title", "example")
    b = Certificate("T", "title", "example")
    assert a == b and "_started" not in repr(a)
    assert a.elapsed == 0.0 and a.finish().elapsed > 0.0
    assert Certificate("T", "title", "example").expected is True


def test_counts_tell_failed_from_undecided():
    c = cert(verdicts=(Verdict.FAIL, Verdict.FAIL, Verdict.UNDECIDED, Verdict.PASS))
    assert c.counts() == {"passed": 1, "failed": 2, "undecided": 1}


def test_elapsed_is_the_time_between_construction_and_finish(monkeypatch):
    """A duration (finish minus start), not a clock reading: on a stubbed clock, exactly 3.5."""
    import verify.core.results as results
    c = Certificate("T", "title", "example")
    c._started = 100.0
    monkeypatch.setattr(results.time, "perf_counter", lambda: 103.5)
    assert c.finish().elapsed == 3.5
