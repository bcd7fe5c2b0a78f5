"""tools/mutate.py --merge: saved --json runs merge by mutant key (a later file wins), the equivalents
file is applied at merge time, and the per-file table and TOTAL follow from the merged statuses."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from mutate_tool import load_mutate_tool


@pytest.fixture(scope="module")
def mutate():
    return load_mutate_tool()


@pytest.fixture(scope="module")
def four(mutate):
    """Four real mutants of claims.py (so their keys exist in the current source)."""
    return mutate.mutants_of("verify/core/claims.py")[:4]


def _save(path: Path, mutants, statuses) -> str:
    rows = []
    for m, status in zip(mutants, statuses):
        d = dict(m.__dict__)
        d["status"] = status
        rows.append(d)
    path.write_text(json.dumps(rows, default=str))
    return str(path)


def _row(rows, path):
    return next(r for r in rows if r.path == path)


def test_a_later_run_overrides_an_earlier_one(mutate, four, tmp_path):
    first = _save(tmp_path / "a-1.json", four, ["killed", "survived", "survived", "timeout"])
    second = _save(tmp_path / "a-2.json", four[1:2], ["killed"])
    alone, _ = mutate.merge_results([first], {})
    both, warnings = mutate.merge_results([first, second], {})
    assert warnings == []
    before, after = _row(mutate.tally(alone), four[0].path), _row(mutate.tally(both), four[0].path)
    assert (before.run, before.killed, before.timeouts, before.open) == (4, 2, 1, 2)
    assert before.score == pytest.approx(50.0)
    assert (after.run, after.killed, after.open) == (4, 3, 1)           # the control: 50% -> 75%
    assert after.score == pytest.approx(75.0)
    reversed_order, _ = mutate.merge_results([second, first], {})       # order matters: first wins
    assert _row(mutate.tally(reversed_order), four[0].path).score == pytest.approx(50.0)


def test_equivalents_apply_at_merge_time(mutate, four, tmp_path):
    run = _save(tmp_path / "b-1.json", four, ["killed", "survived", "equivalent", "survived"])
    # four[3] listed now: excluded from the score; four[2] no longer listed: it was never run
    merged, _ = mutate.merge_results([run], {four[3].key: "reason"})
    status = {m.key: m.status for m in merged}
    assert status[four[3].key] == "equivalent" and status[four[2].key] == "unjudged"
    row = _row(mutate.tally(merged), four[0].path)
    assert (row.run, row.killed, row.equivalent, row.open) == (4, 1, 1, 2)
    assert row.score == pytest.approx(100.0 / 3)


def test_a_killed_mutant_listed_as_equivalent_stays_killed_and_warns(mutate, four, tmp_path):
    run = _save(tmp_path / "c-1.json", four[:1], ["killed"])
    merged, warnings = mutate.merge_results([run], {four[0].key: "wrongly listed"})
    assert merged[0].status == "killed" and any("listed as equivalent" in w for w in warnings)


def test_total_and_tables(mutate, four, tmp_path, capsys):
    other = mutate.mutants_of("verify/core/results.py")[:2]
    a = _save(tmp_path / "d-1.json", four, ["killed"] * 4)
    b = _save(tmp_path / "d-2.json", other, ["killed", "survived"])
    rows = mutate.tally(mutate.merge_results([a, b], {})[0])
    assert [r.path for r in rows] == ["verify/core/claims.py", "verify/core/results.py", "TOTAL"]
    assert (rows[-1].run, rows[-1].killed, rows[-1].open) == (6, 5, 1)
    assert mutate.main(["--merge", a, b]) == 0
    text = capsys.readouterr().out
    assert "TOTAL" in text and "83.3%" in text and "survivors (1)" in text and other[1].key in text
    assert mutate.main(["--merge", a, b, "--markdown"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("| file |") and table[1].startswith("|---|")
    assert "| `verify/core/results.py` | 2 (of " in table[3] and "| 50.0% |" in table[3] and table[-1].startswith("| **TOTAL** |")


def test_an_unreadable_file_is_a_clear_error(mutate, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="cannot read"):
        mutate.merge_results([str(bad)], {})
    assert mutate.main(["--merge", str(bad)]) == 2
    bad.write_text('[{"path": "verify/core/claims.py"}]')               # JSON, but not a result
    assert mutate.main(["--merge", str(bad)]) == 2
    assert mutate._floor1(89.96) == 89.9 and mutate._floor1(100.0) == 100.0


def test_a_result_for_a_rewritten_line_is_stale_and_left_out_of_the_score(mutate, four, tmp_path):
    """A saved survivor whose line the source no longer has cannot judge today's code: it is counted
    as stale, not as open (nor a saved kill as killed). Control: the same rows under current keys."""
    gone = mutate.Mutant(**{**four[0].__dict__, "line_hash": "0000000000"})   # the line rewritten
    current = _save(tmp_path / "e-1.json", four[1:3], ["survived", "killed"])
    rewritten = _save(tmp_path / "e-2.json", [gone, gone], ["survived", "survived"])
    merged, warnings = mutate.merge_results([current, rewritten], {})
    row = _row(mutate.tally(merged), four[0].path)
    assert (row.run, row.killed, row.open, row.stale) == (2, 1, 1, 1)
    assert any("not in the current source" in w for w in warnings)
    control, _ = mutate.merge_results([current], {})
    assert _row(mutate.tally(control), four[0].path).stale == 0
