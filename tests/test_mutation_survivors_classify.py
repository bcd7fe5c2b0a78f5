"""classify's second-order evidence for a hallucinated minimizer, on points built so that each test of
_local_min_evidence decides alone: the smallest eigenvalue, not any other, must be read (a saddle x+
whose other eigenvalue is positive; an f_SAM Hessian indefinite by more than tol while x+ passes)."""
from __future__ import annotations

import pytest

from verify.core.classify import classify, default_tol
from verify.objectives.objective import SympyObjective

XY = "x,y"
T = 2.0 ** -8      # an explicit dyadic tolerance
TILTED_RING = "(x**2 + y**2 - 1)**2 - y**2/1024"


class _NoThirdDerivatives(SympyObjective):
    """The same f without d3v: classify cannot form f_SAM's Hessian and must rely on x+ and samples."""

    def d3v(self, x, v, ctx):
        raise NotImplementedError("no third derivatives")


def _shallow_saddle(cls=SympyObjective):
    """x^2/2 - 1e-6 y^2/2: from x = (0, -1) with rho = 1 the SAM step lands on the saddle x+ = 0,
    Hessian eigenvalues (-1e-6, 1); f_SAM falls along y with curvature -1e-6, which the sampled
    neighbours (radius <= 1e-2) cannot see against the default tolerance 1e-8."""
    return cls("x**2/2 - y**2/2000000", XY)


def test_a_saddle_under_the_sam_step_is_not_a_hallucinated_minimizer(fp):
    r = classify(_shallow_saddle(), [0.0, -1.0], 1.0, fp)
    assert r.kind == "sam_stationary"
    assert r.subkind == ""                                  # x+ is no minimizer of f: no A.6 route
    assert [float(e) for e in r.hess_f_at_x_plus_eigenvalues] == pytest.approx([-1e-6, 1.0])
    assert float(r.hess_f_sam_eigenvalues[0]) == pytest.approx(-1e-6, rel=1e-6)
    assert float(r.sampled_min_increase) >= -float(r.tol)   # the samples alone would pass it
    assert any("x+ eigenvalues" in line and "(indefinite)" in line for line in r.reasons)
    assert any("f_SAM eigenvalues" in line and "(indefinite)" in line for line in r.reasons)


def test_without_third_derivatives_a_saddle_x_plus_still_refutes(fp):
    """No f_SAM Hessian: the verdict rests on x+ being a minimizer of f to second order."""
    r = classify(_shallow_saddle(_NoThirdDerivatives), [0.0, -1.0], 1.0, fp)
    assert r.hess_f_sam_eigenvalues == []
    assert (r.kind, r.subkind) == ("sam_stationary", "")
    control = classify(_NoThirdDerivatives("x**2/2 + y**2/2000000", XY), [0.0, -1.0], 1.0, fp)
    assert control.kind == "not_stationary"                 # a bowl: the SAM step overshoots 0


def test_f_sam_indefinite_beyond_tol_refutes_even_when_x_plus_passes(fp):
    """Ring (x^2 + y^2 - 1)^2 tilted by -y^2/1024: x = (-1/4, 0), rho = 5/4 lands on the critical
    point x+ = (1, 0), whose Hessian eigenvalue -2^-9 is within tol = 2^-8 (PSD). The SAM map
    stretches the y direction 4x, so f_SAM's Hessian has -16 * 2^-9 = -2^-5 < -tol: x is no local
    minimizer of f_SAM, though no sampled neighbour shows the fall beyond tol."""
    r = classify(SympyObjective(TILTED_RING, XY), [-0.25, 0.0], 1.25, fp, tol=T)
    assert float(r.hess_f_at_x_plus_eigenvalues[0]) == -2.0 ** -9
    lam = [float(e) for e in r.hess_f_sam_eigenvalues]
    assert lam[0] < -T < 0 < lam[1]
    assert float(r.sampled_min_increase) >= -T
    assert (r.kind, r.subkind) == ("sam_stationary", "")      # no route claimed for a refuted point
    # negative controls: the untilted ring is a manifold of hallucinated minimizers (PSD, not PD) ...
    ring = classify(SympyObjective("(x**2 + y**2 - 1)**2", XY), [-0.25, 0.0], 1.25, fp, tol=T)
    assert ring.kind == "hallucinated_minimizer" and ring.subkind.startswith("non-isolated")
    # ... and without third derivatives the tilted ring passes on x+ and the samples alone
    blind = classify(_NoThirdDerivatives(TILTED_RING, XY), [-0.25, 0.0], 1.25, fp, tol=T)
    assert blind.kind == "hallucinated_minimizer"


# -- the sampled neighbours: radii 1e-2, 1e-3, 1e-4 times max(1, ||x||) ---------------------------------
def test_a_quartic_fall_is_seen_at_the_outer_sampling_radius(fp):
    """1-D f = -z^4 from x = -1/2, rho = 1/2: x+ = 0 has f'' = 0 (PSD within tol), f_SAM's Hessian is
    0, and f_SAM(x +- r) - f_SAM(x) = -r^4: -1e-8 at the outer radius 1e-2, beyond tol = 2^-30, but
    -1e-12 at 1e-3. Only the samples at 1e-2 refute the point."""
    r = classify(SympyObjective("-z**4", "z"), [-0.5], 0.5, fp, tol=2.0 ** -30)
    assert r.kind == "sam_stationary" and r.subkind == ""
    assert float(r.sampled_min_increase) == pytest.approx(-1e-8, rel=1e-6)


def test_a_minimizer_of_f_sam_is_not_refuted_beyond_the_outer_radius(fp):
    """1-D f = z^2/2 - 2222 z^4: x+ = 0 is a strict minimizer of f, but f < 0 again from |z| = 0.015.
    From x = -1/2 (rho = 1/2) f_SAM(y) = f(y + 1/2) near x, so x is a local minimizer of f_SAM on a
    ball of radius 0.015, which the samples (radius <= 1e-2) stay inside; samples at 2e-2 or 1e-1
    would land where f_SAM is lower."""
    r = classify(SympyObjective("z**2/2 - 2222*z**4", "z"), [-0.5], 0.5, fp)
    assert r.kind == "hallucinated_minimizer" and r.subkind.startswith("isolated")
    assert 0 < float(r.sampled_min_increase) <= 0.5e-4           # the smallest radius, 1e-4, decides


def test_a_maximizer_needs_the_largest_eigenvalue_below_minus_tol_in_3d(fp):
    """Eigenvalues (-2, -1, 1): a saddle, though two of three are negative (in 2-D the second
    eigenvalue is the largest, in 3-D it is not)."""
    r = classify(SympyObjective("-x**2 - y**2/2 + z**2/2", "x,y,z"), [0.0, 0.0, 0.0], 1.0, fp)
    assert (r.kind, r.subkind) == ("critical_point", "saddle")
    r = classify(SympyObjective("-x**2 - y**2/2 - z**2/2", "x,y,z"), [0.0, 0.0, 0.0], 1.0, fp)
    assert (r.kind, r.subkind) == ("critical_point", "maximizer")


# -- the stationarity rule: a Newton step of at most the point's accuracy a = sqrt(eps) max(1, |x|) -----
def test_stationary_up_to_a_newton_step_of_exactly_the_accuracy(fp):
    """f = x^2/4 at x = k a: ||grad f|| = k a/2 <= tol, and both Newton steps are k a (all exact in
    binary): ratio k. k = 1 is stationary (a minimizer), k = 3/2 is not (near_stationary)."""
    a = fp.to_float(default_tol(fp))
    f = SympyObjective("x**2/4", "x")
    at = classify(f, [a], 1.0, fp)
    assert (at.kind, float(at.stationarity_ratio)) == ("minimizer", 1.0)
    beyond = classify(f, [1.5 * a], 1.0, fp)
    assert (beyond.kind, float(beyond.stationarity_ratio)) == ("near_stationary", 1.5)


def test_a_tiny_constant_slope_is_not_stationary(fp):
    """f = 1e-9 x (Hessian 0): ||grad f|| is below tol, but no Newton step reaches a critical point
    (both steps infinite): near_stationary, never a minimizer, and no division by a zero eigenvalue."""
    r = classify(SympyObjective("x/1000000000", "x"), [0.5], 1.0, fp)
    assert r.kind == "near_stationary" and r.stationarity_ratio == "inf"


# -- seams of a piecewise f: reported within the radius, the radius included ------------------------------
def test_seams_at_exactly_the_radius_and_at_a_critical_point_of_the_switching_function(fp):
    from verify.core.classify import seams_near
    kink = SympyObjective("Abs(x - 1) + y**2", XY)
    assert len(seams_near(kink, kink.point(["1.25", "0"], fp), fp, 0.25)) == 1   # distance = radius
    steep = SympyObjective("Abs(2*x - 2) + y**2", XY)        # |h| = 1/2, ||grad h|| = 2: distance 1/4
    assert seams_near(steep, steep.point(["1.25", "0"], fp), fp, 0.2) == []
    assert len(seams_near(steep, steep.point(["1.25", "0"], fp), fp, 0.25)) == 1
    cross = SympyObjective("Abs(x*y) + x**2 + y**2", XY)     # h = x y: h = 0 and grad h = 0 at 0
    found = seams_near(cross, cross.point(["0", "0"], fp), fp, 0.01)
    assert len(found) == 1 and "distance 0" in found[0]


def test_x_plus_eigenvalue_at_exactly_minus_tol_passes_without_f_sam_hessian(fp):
    """The tilted ring with -y^2/512: Hess f(x+) has eigenvalue -2^-8 = -tol exactly, which counts
    as PSD; with no third derivatives that (and the samples) decides."""
    tie = _NoThirdDerivatives("(x**2 + y**2 - 1)**2 - y**2/512", XY)
    r = classify(tie, [-0.25, 0.0], 1.25, fp, tol=T)
    assert float(r.hess_f_at_x_plus_eigenvalues[0]) == -T
    assert r.kind == "hallucinated_minimizer"


def test_the_seam_warning_points_at_the_callers_line(fp):
    """x = 0 is a seam of Appendix D's f: the warning names this file, the caller of classify."""
    from verify import zoo
    from verify.core.classify import SeamWarning
    with pytest.warns(SeamWarning) as caught:
        classify(zoo.get("appendix_d").objective, ["0", "0.3"], "2.8", fp)
    assert caught[0].filename == __file__


@pytest.mark.parametrize("sign,x,rho,kind,subkind", [
    ("", -0.25, 1.25, "hallucinated_minimizer", "non-isolated"),    # f_SAM'' = +tol: PSD, not PD
    ("-", -0.25, 0.75, "hallucinated_minimizer", "non-isolated")])  # f_SAM'' = -tol: still PSD
def test_f_sam_hessian_at_exactly_plus_or_minus_tol(fp, sign, x, rho, kind, subkind):
    """1-D f = +-((z^2 - 1)^2/2048 + (z^2 - 1)^4) from x = -1/4 (|f'(x)| = 1.65 > tol): the SAM step
    lands exactly on z = +-1, where f'' = +-2^-8 = +-tol, and (1-D, grad f(x+) = 0) f_SAM'' = f''(x+)
    exactly: positive definite needs > tol, semidefinite allows = -tol."""
    f = SympyObjective(f"{sign}((z**2 - 1)**2/2048 + (z**2 - 1)**4)", "z")
    r = classify(f, [x], rho, fp, tol=T)
    assert abs(float(r.hess_f_sam_eigenvalues[0])) == T
    assert r.kind == kind and r.subkind.startswith(subkind)
