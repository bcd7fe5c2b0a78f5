"""The rival papers' index: every listed module exists and is a report section; no rival module is
left out; a ghost entry is caught."""
from theorems import rivals_index as ri


def test_every_listed_module_exists_and_every_rival_module_is_listed():
    cert = ri.certify()
    assert cert.passed, str(cert)
    for e in ri.ENTRIES:
        if e.status == ri.CHECKED:
            ok, evidence = ri.module_status(e.module)
            assert ok, (e.result, evidence)


def test_both_papers_and_all_statuses_are_present():
    papers = {e.paper for e in ri.ENTRIES}
    assert papers == {ri.KIM, ri.ZHOU}
    assert all(e.note for e in ri.ENTRIES if e.status == ri.NOT_HERE)


def test_ghost_module_is_caught():
    ghost = ri.Entry(ri.KIM, "ghost", ri.CHECKED, "kim_no_such_module")
    control = ri.certify(ri.ENTRIES + [ghost], expected=False)
    assert not control.claim("module kim_no_such_module").passed and control.as_expected
    unlisted = ri.certify([e for e in ri.ENTRIES if e.module != "kim_thm2"], expected=False)
    assert not unlisted.claim("coverage").passed
