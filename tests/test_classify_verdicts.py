"""Verdict quality of ``classify`` (issue 12, item 5): stationarity judged against the scale of f's
derivatives, and a warning at a seam of a piecewise f; each with its negative control."""
import warnings

import pytest

from verify import SympyObjective, zoo
from verify.cli import main
from verify.core.classify import SeamWarning, classify

APPD = zoo.get("appendix_d").objective
EXP = SympyObjective("exp(x) + y**2", "x,y")


def test_exp_tail_is_near_stationary_not_a_minimizer(fp, mp50):
    # grad f = (e^-40, 0) ~ 4e-18 is below float64's absolute tolerance, but the curvature along it
    # is as small: the 1-D Newton step to a stationary point along -grad f has length 1, not ~0
    r = classify(EXP, ["-40", "0"], "1", fp)
    assert r.kind == "near_stationary"
    assert float(r.stationarity_ratio) > 1e6          # step / allowed step
    assert "Newton step" in r.stationarity_rule and "near_stationary" in str(r)
    # at 50 digits the absolute tolerance (1e-25) already sees the gradient: SAM moves
    assert classify(EXP, ["-40", "0"], "1", mp50).kind == "not_stationary"


def test_genuine_minimizers_stay_minimizers(fp, mp50):
    # negative controls: exact and rounded minimizers, a degenerate one, a manifold of them
    assert classify(EXP, ["-40", "0"], "1", fp).kind == "near_stationary"
    q = SympyObjective("(x - 1/3)**2 + 2*(y + 2/7)**2", "x,y")
    assert classify(q, [1 / 3, -2 / 7], "1", fp).kind == "minimizer"
    exact = mp50.vector([mp50.scalar(1) / 3, mp50.scalar(-2) / 7])
    assert classify(q, exact, "1", mp50).kind == "minimizer"
    ring = zoo.get("ring").objective
    import math
    r = classify(ring, [math.cos(0.3), math.sin(0.3)], "1", fp)   # on the circle to rounding
    assert r.kind == "minimizer" and float(r.stationarity_ratio) <= 1
    quartic = SympyObjective("x**4 + y**2", "x,y")
    assert classify(quartic, ["1e-9", "0"], "1", fp).kind == "minimizer"  # within 1e-9 of x* = 0
    assert classify(quartic, ["1e-5", "0"], "1", fp).kind == "near_stationary"  # 1e-5 away: not
    # next to a saddle, where the gradient line has no curvature (u^T H u = 0): the full step sees it
    r = classify(SympyObjective("x**2 - y**2", "x,y"), ["1e-9", "1e-9"], "1", fp)
    assert (r.kind, r.subkind) == ("critical_point", "saddle")


def test_near_stationary_cli_prints_the_ratio(capsys):
    assert main(["classify", "--f", "exp(x)+y**2", "--vars", "x,y", "--x=-40,0", "--rho", "1"]) == 0
    out = capsys.readouterr().out
    assert "near_stationary" in out and "minimizer" not in out.split("\n")[0]
    assert "ratio" in out


def test_seam_warns_and_flags(fp):
    # x = 0 is a seam of Appendix D's f (the bump's switch W_X ends there): the Hessian jumps
    with pytest.warns(SeamWarning, match="seam"):
        r = classify(APPD, ["0", "0.3"], "2.8", fp)
    assert r.on_seam and any(s.startswith("x: x = 0") for s in r.seams)
    assert "seam" in str(r)
    # x+ on a seam, where the Hessian of f at x+ decides the f_SAM verdicts: this x (Newton on
    # x + 2.8 u(x) = the arc's end (-1.55 cos 0.4, 0.6) on the seam y = 0.6) is off the seams; which
    # side's Hessian is used depends on rounding and flips "isolated" / "non-isolated"
    with pytest.warns(SeamWarning, match="x\\+"):
        r = classify(APPD, ["1.1649284184398738", "-0.4576225468065395"], "2.8", fp)
    assert r.kind == "hallucinated_minimizer" and [s[:3] for s in r.seams] == ["x+:"]


def test_off_seam_gives_no_warning(fp):
    # negative controls: near the seam but not on it, and the paper's x_h = (1.25, 0)
    for x in (["0.01", "0.3"], ["1.25", "0"]):
        with warnings.catch_warnings():
            warnings.simplefilter("error", SeamWarning)
            r = classify(APPD, x, "2.8", fp)
        assert not r.on_seam and r.seams == []
    with warnings.catch_warnings():  # an analytic f has no seams
        warnings.simplefilter("error", SeamWarning)
        assert not classify(EXP, ["0.5", "0"], "1", fp).on_seam


def test_seam_cli_prints_the_warning(capsys):
    with pytest.warns(SeamWarning):
        assert main(["classify", "--f", "zoo:appendix_d", "--x", "0,0.3", "--rho", "2.8"]) == 0
    captured = capsys.readouterr()
    assert "seam" in (captured.out + captured.err).lower()
