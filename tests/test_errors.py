"""Every bad-input path raises a typed error whose message names the problem; the CLI prints one
line and exits non-zero."""
import numpy as np
import pytest

from verify import sam, zoo
from verify.core.classify import classify
from verify.cli import main
from verify.ctx import get_context
from verify.errors import (BackendError, ConvergenceError, HypothesisError, InvalidRhoError,
                           NonFiniteError, PrecisionError, ShapeError, UndecidedError,
                           UnknownSymbolError, ZeroGradientError)
from verify.objectives.objective import AutogradObjective, SympyObjective
from verify.core.solve import critical_point

RING = zoo.get("ring").objective


def test_zero_gradient_where_u_is_undefined(any_ctx):
    x = RING.point([0, 0] if any_ctx.name == "torch" else ["0", "0"], any_ctx)
    with pytest.raises(ZeroGradientError, match="u\\(x\\).*undefined"):
        sam.perturbed_point(RING, x, 1, any_ctx)


def test_rigorous_zero_gradient_that_cannot_be_excluded():
    arb = get_context("arb")
    box = arb.box(["0", "0"], "1e-3")
    with pytest.raises(ZeroGradientError, match="cannot be excluded"):
        sam.gradient(RING, box, arb)


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "abc"])
def test_rho_must_be_positive_and_finite(bad, fp):
    with pytest.raises(InvalidRhoError, match="rho"):
        sam.sam_value(RING, RING.point([0.5, 0], fp), bad, fp)


def test_nan_and_inf_inputs(fp):
    with pytest.raises(NonFiniteError, match="not finite"):
        RING.point([np.nan, 0.0], fp)
    f = SympyObjective("log(x) + y", "x,y")
    with np.errstate(all="ignore"):
        with pytest.raises(NonFiniteError, match="grad f"):
            sam.sam_value(f, f.point([0.0, 0.0], fp), 1.0, fp)     # grad f(0, 0) = (inf, 1)
        with pytest.raises(NonFiniteError, match="f_SAM"):
            sam.sam_value(f, f.point([-1.0, 0.0], fp), 1.0, fp)    # f(x+) = log(negative) = nan


def test_shape_mismatch(fp):
    with pytest.raises(ShapeError, match="length 2"):
        RING.point([1.0, 2.0, 3.0], fp)


def test_unknown_symbols():
    with pytest.raises(UnknownSymbolError, match="'z'"):
        SympyObjective("x**2 + z", "x,y")


def test_tolerance_tighter_than_precision(fp):
    with pytest.raises(PrecisionError, match="unit roundoff"):
        classify(RING, [0.3, 0.0], 1.0, fp, tol=1e-30)


def test_undecided_interval_comparison():
    arb = get_context("arb")
    with pytest.raises(UndecidedError, match="overlap"):
        arb.less(arb.ball("1", "0.1"), arb.scalar("1.05"))
    # a piecewise seam straddled by a box cannot pick a branch silently
    f = zoo.get("appendix_d").objective
    with pytest.raises(UndecidedError):
        f.value(arb.box(["0", "0"], "1e-6"), arb)


def test_non_analytic_objective_refused_by_analytic_only_theorem():
    with pytest.raises(HypothesisError, match="real-analytic"):
        zoo.get("appendix_d").objective.require_analytic("Theorem 2.2")
    with pytest.raises(HypothesisError, match="cannot be declared analytic"):
        SympyObjective("Abs(x) + y**2", "x,y", smoothness="analytic")


def test_backend_errors():
    ag = AutogradObjective(lambda x: x[0] ** 2, 1)
    with pytest.raises(BackendError, match="supports"):
        ag.point([1.0], get_context("mpmath"))
    with pytest.raises(BackendError, match="unknown arithmetic"):
        get_context("quad")
    with pytest.raises(BackendError, match="cannot parse"):
        SympyObjective("x +* y", "x,y")


def test_newton_non_convergence_is_reported(fp):
    f = SympyObjective("exp(x) + y**2", "x,y")  # no critical point
    with pytest.raises(ConvergenceError, match="residual"):
        critical_point(f, [0.0, 0.0], fp, max_iter=5)


@pytest.mark.parametrize("argv,needle", [
    (["classify", "--f", "x**2+y", "--vars", "x", "--x", "1", "--rho", "1"], "UnknownSymbolError"),
    (["classify", "--f", "x**2", "--vars", "x", "--x", "0", "--rho", "1"], None),
    (["classify", "--f", "x**2", "--vars", "x", "--x", "1", "--rho", "-1"], "InvalidRhoError"),
    (["classify", "--f", "x**2", "--vars", "x", "--x", "1,2", "--rho", "1"], "ShapeError"),
    (["classify", "--f", "x**2", "--vars", "x", "--x", "inf", "--rho", "1"], "NonFiniteError"),
    (["classify", "--f", "x**2", "--vars", "x", "--x", "1", "--rho", "1", "--tol", "1e-40"],
     "PrecisionError"),
])
def test_cli_errors_are_one_line(argv, needle, capsys):
    code = main(argv)
    err = capsys.readouterr().err
    if needle is None:
        assert code == 0
        return
    assert code == 2
    assert needle in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_newton_failure_names_a_singular_jacobian(mp50):
    from verify import zoo as z
    from theorems import thm_2_2
    circle = z.get("circle_max").objective
    # x_star at the centre of the circle of maximizers: every point of the outer boundary of C_eps is
    # farthest, so the Lagrange system has no isolated solution
    with pytest.raises(ConvergenceError, match="not isolated"):
        thm_2_2.construct(circle, ["0", "0"], thm_2_2.MaximizerSet.curve("cos(t),sin(t)"), mp50,
                          set_value="4/3", eps="0.05")
