"""prove --x-star on bounded-below polynomials (issue 12, item 5): a finite lower bound is found, x_star
is proved a (local) minimizer where it is one, and no claim prints None."""
from fractions import Fraction


from theorems.prove_hallucination import prove
from verify import SympyObjective, zoo
from verify.cli import main
from verify.ctx import get_context
from verify.rigorous.krawczyk import polynomial_lower_bound, range_lower_bound

from theorems.prove_hallucination import EXPANDED_RING   # (x^2 + y^2 - 1)^2, expanded


def _no_none(cert):
    text = str(cert)
    assert "None" not in text, text


def test_expanded_ring_is_proved_through_its_factored_form():
    obj = SympyObjective(EXPANDED_RING, "x,y")
    lb = range_lower_bound(obj.expr)
    assert lb.value == 0 and "factor" in lb.method
    c = prove(obj, ["-0.5", "0"], "1.5", x_star=["1", "0"])
    assert c.objects["verdict"] == "PROVED", str(c)
    _no_none(c)


def test_tilted_ring_float_minimizer_is_proved_a_local_minimizer():
    # x_star known to float accuracy only: f(x_star) is not min f exactly; the route proves a strict
    # local minimizer x*' within 2^-30 of it and the y mapping onto x*'
    z = zoo.get("tilted_ring")
    c = prove(z.objective, ["0.476", "0"], "1.5", x_star=["-1.0241203002150503", "0"])
    assert c.objects["verdict"] == "PROVED", str(c)
    assert c.claim("f_lower_bound").passed                # a finite global bound, polynomial route
    assert c.claim("x_star_local_minimizer").passed
    _no_none(c)


def test_polynomial_lower_bound_is_finite_and_below_the_minimum():
    z = zoo.get("tilted_ring")
    lb = polynomial_lower_bound(z.objective, f_ref=Fraction(0))
    assert lb.value is not None and "coercive" in lb.method
    min_f = float(z.objective.value([-1.0241203002150503, 0.0], get_context("float64")))  # -0.20244
    assert min_f - 1e-3 < float(lb.value) <= min_f
    # negative controls: odd degree and a non-coercive polynomial are not bounded this way
    assert polynomial_lower_bound(SympyObjective("x**3 + y**2", "x,y"), Fraction(0)).value is None
    assert polynomial_lower_bound(SympyObjective("x**2*y**2 + x", "x,y"), Fraction(0)).value is None


def test_unbounded_or_wrong_x_star_is_never_proved():
    # negative controls: x_star is not a minimizer (a saddle of the tilted ring) -> never PROVED
    z = zoo.get("tilted_ring")
    c = prove(z.objective, ["-0.526", "0"], "1.5", x_star=["0.9738", "0"])
    assert c.objects["verdict"] != "PROVED"
    _no_none(c)
    # an unbounded f: no finite bound, UNDECIDED, and said in words
    u = SympyObjective("x**3 + y**2", "x,y")
    c = prove(u, ["-0.5", "0.3"], "1", x_star=["0", "0"])
    assert c.objects["verdict"] != "PROVED"
    assert "no finite lower bound" in c.claim("f_lower_bound").value
    _no_none(c)


def test_cli_prove_x_star_on_the_expanded_ring(capsys):
    assert main(["prove", "--f", EXPANDED_RING, "--vars", "x,y", "--x", "-0.5,0", "--rho", "1.5",
                 "--x-star", "1,0"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("PROVED") and "None" not in out
