"""tools/mutate.py mutant keys: 'file | line hash | mutation #k' (no function name), so saved records
and equivalents keep naming the same mutant when a function is renamed or split or its lines move;
records and equivalents lines of the first scheme (with the function) are mapped, or reported stale
where the mapping is ambiguous."""
from __future__ import annotations

import json
import textwrap

import pytest
from mutate_tool import load_mutate_tool

PATH = "pkg/mod.py"

BEFORE = textwrap.dedent("""\
    LIMIT = 3


    def below(x):
        return x < LIMIT


    def clip(x):
        if x > LIMIT:
            return LIMIT
        if x > LIMIT:
            return LIMIT
        return 2 * x


    def sign(x):
        if x >= 0:
            return 1
        return -1
    """)

# below renamed and moved down; clip split (its lines now in _clip_part); sign unchanged but its
# lines also appear in sign_again; clip's last line changed its text
AFTER = textwrap.dedent("""\
    LIMIT = 3


    def helper(x):
        return x + 1


    def is_below(x):
        return x < LIMIT


    def _clip_part(x):
        if x > LIMIT:
            return LIMIT
        if x > LIMIT:
            return LIMIT
        return 3 * x


    def clip(x):
        return _clip_part(x)


    def sign(x):
        if x >= 0:
            return 1
        return -1


    def sign_again(x):
        if x >= 0:
            return 1
        return -1
    """)


@pytest.fixture(scope="module")
def mutate():
    return load_mutate_tool()


@pytest.fixture
def project(mutate, tmp_path, monkeypatch):
    """A one-module project the tool reads as its tree; returns a function that writes the module."""
    monkeypatch.setattr(mutate, "ROOT", tmp_path)
    (tmp_path / "pkg").mkdir()

    def write(source):
        (tmp_path / PATH).write_text(source)
        return mutate.mutants_of(PATH)
    return write


def _one(mutants, function, description):
    return next(m for m in mutants if m.function == function and m.description == description)


def _rows(mutants, statuses, legacy=False):
    rows = []
    for m, status in zip(mutants, statuses):
        d = {**m.__dict__, "status": status}
        if legacy:          # as the first scheme saved it: no scheme field, count per function
            d["description"] = m.legacy.split(" | ")[3]
            del d["scheme"], d["legacy"]
        rows.append(d)
    return rows


def _save(path, rows) -> str:
    path.write_text(json.dumps(rows, default=str))
    return str(path)


def test_a_key_survives_a_rename_and_a_move_where_the_first_scheme_did_not(mutate):
    before = [m for m in mutate.mutants_of(PATH, BEFORE) if m.function == "below"]
    after = [m for m in mutate.mutants_of(PATH, AFTER) if m.function == "is_below"]
    assert [m.key for m in before] == [m.key for m in after] and len(before) == 2
    assert before[0].line != after[0].line
    assert {m.legacy for m in before}.isdisjoint({m.legacy for m in after})   # old keys went stale
    assert "below" not in before[0].key and before[0].key.count(" | ") == 2


def test_k_counts_the_same_text_and_mutation_across_the_file(mutate):
    after = mutate.mutants_of(PATH, AFTER)
    first = _one(after, "sign", "Compare >= -> > #0")
    second = _one(after, "sign_again", "Compare >= -> > #1")
    assert first.line_hash == second.line_hash and first.key != second.key
    assert first.legacy.endswith("#0") and second.legacy.endswith("#0")     # per function before


def test_merge_matches_records_across_the_rename(mutate, project, tmp_path):
    before = project(BEFORE)
    below = [m for m in before if m.function == "below"]
    changed = _one(before, "clip", "Constant 2 -> 3 #0")                    # its text changes
    early = _save(tmp_path / "m-1.json", _rows(below + [changed], ["survived"] * 3))
    after = project(AFTER)
    late = _save(tmp_path / "m-2.json", _rows([_one(after, "is_below", below[0].description)],
                                               ["killed"]))
    merged, warnings = mutate.merge_results([early, late], {})
    status = {m.key: m.status for m in merged}
    assert status[below[0].key] == "killed"                                  # the later run wins
    assert [status[m.key] for m in below[1:]] == ["survived"]
    assert {m.function for m in merged if m.key in {b.key for b in below}} == {"is_below"}
    assert warnings == [f"not in the current source (code changed since the run?): {changed.key}"]


def test_records_of_the_first_scheme_are_mapped(mutate, project, tmp_path):
    before = project(BEFORE)
    picked = [_one(before, "below", "Compare < -> <= #0"),        # function renamed: one place
              _one(before, "clip", "Compare > -> >= #1"),         # function split: both in one
              _one(before, "sign", "Compare >= -> > #0")]         # function kept: exact match
    old = _save(tmp_path / "old.json", _rows(picked, ["killed", "survived", "killed"], legacy=True))
    after = project(AFTER)
    merged, warnings = mutate.merge_results([old], {})
    assert warnings == []
    got = {(m.function, m.line, m.description): m.status for m in merged}
    clip_lines = [m.line for m in after if m.function == "_clip_part"
                  and m.description.startswith("Compare > -> >=")]
    assert got == {("is_below", 9, "Compare < -> <= #0"): "killed",
                   ("_clip_part", clip_lines[1], "Compare > -> >= #1"): "survived",
                   ("sign", 25, "Compare >= -> > #0"): "killed"}


def test_an_ambiguous_record_of_the_first_scheme_is_reported_not_guessed(mutate, project, tmp_path):
    project(AFTER)
    sign = _one(mutate.mutants_of(PATH), "sign", "Compare >= -> > #0")
    gone = {**sign.__dict__, "function": "old_sign", "status": "killed"}   # text in two functions now
    del gone["scheme"], gone["legacy"]
    merged, warnings = mutate.merge_results([_save(tmp_path / "amb.json", [gone])], {})
    assert merged[0].scheme == 1 and "old_sign" in merged[0].key
    assert len(warnings) == 1 and "old_sign" in warnings[0]
    control = {**gone, "function": "sign"}                                 # the same, function kept
    merged, warnings = mutate.merge_results([_save(tmp_path / "ok.json", [control])], {})
    assert warnings == [] and merged[0].key == sign.key


def test_equivalents_lines_of_both_schemes(mutate, project, tmp_path, monkeypatch):
    after = project(AFTER)
    renamed = _one(after, "is_below", "Compare < -> <= #0")
    again = _one(after, "sign_again", "Compare >= -> > #1")
    eq = tmp_path / "equivalents.txt"
    eq.write_text("# comment\n"
                  f"{PATH} | below | {renamed.line_hash} | Compare < -> <= #0 | renamed since\n"
                  f"{again.key} | new scheme\n"
                  f"{PATH} | old_sign | {again.line_hash} | Compare >= -> > #0 | ambiguous now\n")
    monkeypatch.setattr(mutate, "EQUIVALENTS", eq)
    loaded = mutate.load_equivalents()
    assert loaded[renamed.key] == "renamed since" and loaded[again.key] == "new scheme"
    stale = [k for k in loaded if k not in {m.key for m in after}]
    assert stale == [f"{PATH} | old_sign | {again.line_hash} | Compare >= -> > #0"]
    eq.write_text(f"{PATH} | {again.line_hash} | too few\n")
    with pytest.raises(SystemExit, match="malformed"):
        mutate.load_equivalents()


def test_a_sample_does_not_depend_on_the_equivalents_file(mutate):
    pool = mutate.mutants_of("verify/core/claims.py")
    draw = [m.key for m in mutate._sample(pool, ["verify/core/claims.py"], 0, 12, 5)]
    for m in pool[::3]:
        m.status = "equivalent"
    again = mutate._sample(pool, ["verify/core/claims.py"], 0, 12, 5)
    assert [m.key for m in again] == draw and len(draw) == 12
    assert any(m.status == "equivalent" for m in again)                     # drawn, not run
    assert [m.key for m in mutate._sample(pool, ["verify/core/claims.py"], 0, 12, 6)] != draw
