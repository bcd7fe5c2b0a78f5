"""Every fact the zoo records about its functions, checked at 50 digits."""
import pytest
import sympy as sp

from verify import zoo
from verify.ctx import get_context

MP = get_context("mpmath", dps=50)
TOL = MP.scalar("1e-45")
POINTS = [(name, which, i) for name, z in zoo.ZOO.items()
          for which in ("minimizers", "maximizers", "saddles") for i in range(len(getattr(z, which)))]


@pytest.mark.parametrize("name,which,i", POINTS)
def test_recorded_critical_points_are_critical_with_the_recorded_type(name, which, i):
    z = zoo.get(name)
    x = z.critical(which, i, MP)
    assert MP.norm(z.objective.grad(x, MP)) <= TOL
    eig = MP.eigvalsh(z.objective.hess(x, MP))
    if which == "maximizers":
        assert eig[-1] < -TOL
    elif which == "saddles":
        assert eig[0] < -TOL < TOL < eig[-1]
    else:
        assert eig[0] >= -TOL
        if z.min_value is not None:
            assert abs(z.objective.value(x, MP) - MP.scalar(sp.Rational(z.min_value))) <= TOL


@pytest.mark.parametrize("name", [n for n, z in zoo.ZOO.items() if z.minimizer_manifold])
def test_minimizer_manifold_parametrization_and_dimension(name):
    z = zoo.get(name)
    for t in ((sp.Rational(1, 7), sp.Rational(2, 9)), (sp.Rational(-1, 3), sp.Rational(1, 5))):
        point = [sp.nsimplify(c) for c in z.minimizer_manifold(t[: z.manifold_dim] + t[z.manifold_dim:])]
        x = z.objective.point([MP.mp.mpf(sp.N(c, 60)) for c in point], MP)
        assert MP.norm(z.objective.grad(x, MP)) <= TOL
        eig = MP.eigvalsh(z.objective.hess(x, MP))
        nullity = sum(1 for e in eig if abs(e) <= MP.scalar("1e-40"))
        assert nullity == z.manifold_dim, (name, eig)


@pytest.mark.parametrize("name", ["circle_max"])
def test_maximizer_set_is_critical_with_value(name):
    z = zoo.get(name)
    for t in (sp.Rational(1, 3), sp.Rational(5, 2)):
        x = z.objective.point([MP.mp.mpf(sp.N(c, 60)) for c in z.maximizer_set((t,))], MP)
        assert MP.norm(z.objective.grad(x, MP)) <= TOL
        assert abs(z.objective.value(x, MP) - MP.scalar(sp.Rational(z.maximizer_set_value))) <= TOL
        eig = MP.eigvalsh(z.objective.hess(x, MP))
        assert eig[0] < -TOL and abs(eig[1]) <= TOL  # negative across the circle, flat along it


@pytest.mark.parametrize("name", [n for n, z in zoo.ZOO.items() if z.convex])
def test_convex_controls_have_positive_definite_hessians_on_samples(name):
    import numpy as np
    z = zoo.get(name)
    fp = get_context("float64")
    rng = np.random.default_rng(1)
    for _ in range(50):
        x = rng.uniform(-3, 3, z.dim)
        assert np.linalg.eigvalsh(z.objective.hess(x, fp))[0] > 0


def test_smoothness_declarations():
    assert zoo.get("appendix_d").objective.smoothness == "C1"
    assert zoo.get("ring").objective.is_analytic
    assert not zoo.get("appendix_d").objective.is_analytic
