"""rho threshold: the smallest rho with hallucinated minimizers against the distances from argmin f to
the nearest maximizer and saddle."""
import pytest

from theorems import rho_threshold as R


def _bracket(c):
    lo, hi = c.objects["threshold bracket [rho_lo, rho_hi]"]
    return float(lo), float(hi)


@pytest.mark.parametrize("name,expected", [("ring", 1.0), ("tilted_ring", 1.0742), ("ring3", 1.0)])
def test_threshold_is_the_maximizer_distance(name, expected):
    c = R.certify_example(name, quick=True)
    lo, hi = _bracket(c)
    assert lo <= expected + 1e-3 and hi >= expected - 1e-3 and hi - lo < 0.01
    assert c.passed, str(c)


def test_ring_window_closes_at_rho_2():
    # on the ring the hallucinated circle r = rho - 1 exists only for 1 < rho < 2
    c = R.certify_example("ring", quick=True)
    assert c.objects["scanned rho with hallucinated minimizers"] == "[1.1, 1.9]"


def test_saddle_sets_the_threshold_on_the_double_well():
    c = R.certify_example("double_well2", quick=True)
    lo, hi = _bracket(c)
    assert abs(hi - 1.0) < 0.01                      # the saddle (0, 1) is at distance 1 from (1, 1)
    assert not c.claim("exceeds_max_distance").passed  # the maximizer is at distance sqrt 2
    assert c.claim("threshold_at_nearest_critical_point").passed
    assert c.findings and "Sections 2.1 and 4.1" in c.findings[0].source


def test_convex_control_has_none():
    c = R.certify_example("convex_lse", quick=True)
    assert c.passed and "none found" in c.objects["threshold"]


def test_report_quick(tmp_path):
    certs = R.report_certificates(quick=True, figdir=tmp_path)
    assert (tmp_path / "rho_threshold.png").exists()
    for c in certs:
        c.to_json()
