"""User input is data, never code (issue 12, items 1 and 4).

Every string a user can pass (the CLI's --f, --x, --x-star, --max-set, --set-value, --eps, --rho,
--radius, --box and the API's string arguments) is read by one whitelist parser
(:mod:`verify.objectives.parse`). Each attack below would create a file if it were evaluated as
Python; the tests check that the file never appears and that the input is refused with a typed,
one-line error (exit status 2 on the command line). The second half checks the numbers and options
a user can pass: each bad value is a typed error, never a traceback or a silent wrong answer.
"""
import math
from fractions import Fraction

import pytest
import sympy as sp

from verify.cli import main
from verify.ctx import get_context
from verify.errors import (ExpressionError, InvalidRhoError, NonFiniteError, OptionError,
                           PrecisionError, SamVerifyError, ShapeError, UnknownSymbolError)
from verify.objectives.objective import SympyObjective
from verify.objectives.parse import (FUNCTIONS, parse_expression, parse_number, split_vector)

# -- attacks -------------------------------------------------------------------------------------------
# each template, if evaluated as Python, creates the file {p}; {p} is a path inside tmp_path
ATTACKS = {
    "import": "0*__import__('os').system('touch {p}')",
    "builtin call": "0*len(open('{p}', 'w').name)",
    "attribute / dunder": "0*len(x.__class__.__init__.__globals__['__builtins__']['open']('{p}', 'w').name)",
    "lambda": "0*(lambda: open('{p}', 'w'))().closed",
    "indexing": "0*[open('{p}', 'w')][0].closed",
    "comprehension": "0*sum([open('{p}', 'w').closed for i in (1,)])",
    "keyword": "0*print(open('{p}', 'w'), end='')",
    "walrus": "0*(h := open('{p}', 'w')).closed",
}


def _attack(tmp_path, name):
    target = tmp_path / f"pwned_{name.replace(' ', '_').replace('/', '')}"
    return target, ATTACKS[name].format(p=target)


def _one_line_error(capsys, code):
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_expression_attack_never_runs_api(name, tmp_path):
    target, payload = _attack(tmp_path, name)
    with pytest.raises(ExpressionError):
        SympyObjective(f"x**2 + {payload}", "x")
    with pytest.raises(ExpressionError):
        parse_number(f"1 + {payload}")
    assert not target.exists()


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_expression_attack_never_runs_cli(name, tmp_path, capsys):
    target, payload = _attack(tmp_path, name)
    err = _one_line_error(capsys, main(["classify", "--f", f"x**2 + {payload}", "--vars", "x",
                                        "--x", "1", "--rho", "1"]))
    assert "ExpressionError" in err or "UnknownSymbolError" in err
    assert not target.exists()


def _option_attack_never_runs(command, options, option, tmp_path, capsys, prefix=""):
    """``command`` with ``options``, ``option`` set to a number carrying the import payload: one
    line on stderr, exit 2, and the payload's file never created."""
    target, payload = _attack(tmp_path, "import")
    argv = {**options, option: f"{prefix}1 + {payload}"}
    code = main(command + [a for k, v in argv.items() for a in (k, v)])
    _one_line_error(capsys, code)
    assert not target.exists()


@pytest.mark.parametrize("option", ["--x", "--rho"])
def test_number_attack_never_runs_classify(option, tmp_path, capsys):
    _option_attack_never_runs(["classify", "--f", "x**2", "--vars", "x"], {"--x": "1", "--rho": "1"},
                              option, tmp_path, capsys)


@pytest.mark.parametrize("option", ["--x-star", "--x-max", "--eps", "--box"])
def test_number_attack_never_runs_construct(option, tmp_path, capsys):
    _option_attack_never_runs(["construct", "--f", "zoo:ring"], {"--x-star": "1,0", "--x-max": "0,0"},
                              option, tmp_path, capsys, prefix="-2,2,-2," if option == "--box" else "")


def test_curve_and_set_value_attacks_never_run(tmp_path, capsys):
    target, payload = _attack(tmp_path, "import")
    for argv in (["--max-set", f"cos(t) + {payload},sin(t)"],
                 ["--max-set", "cos(t),sin(t)", "--set-value", f"4/3 + {payload}"]):
        code = main(["construct", "--f", "zoo:circle_max", "--x-star", "sqrt(3),0", "--eps", "0.05"]
                    + argv)
        _one_line_error(capsys, code)
    assert not target.exists()


@pytest.mark.parametrize("option", ["--x", "--rho", "--x-star", "--radius"])
def test_number_attack_never_runs_prove(option, tmp_path, capsys):
    _option_attack_never_runs(["prove", "--f", "zoo:appendix_d"], {"--x": "1.25,0", "--rho": "2.8"},
                              option, tmp_path, capsys)


def test_api_string_helpers_never_run_code(tmp_path, mp50):
    from theorems import thm_2_1, thm_2_2, zhou_prop41
    from verify.core.sam import check_rho
    from verify.rigorous.krawczyk import to_fraction
    target, payload = _attack(tmp_path, "import")
    ring = SympyObjective("(x**2 + y**2 - 1)**2", "x,y")
    calls = [lambda: ring.point([f"1 + {payload}", "0"], mp50),
             lambda: thm_2_1.scalar_from_text(f"1 + {payload}", mp50),
             lambda: thm_2_1.as_point(f"1 + {payload},0", ring, mp50),
             lambda: thm_2_2.MaximizerSet.curve(f"cos(t) + {payload},sin(t)")._compiled(mp50),
             lambda: zhou_prop41.certify(f"z**2 + {payload}", 1.0, 1.0, 0.5, "attack"),
             lambda: check_rho(f"1 + {payload}", mp50),
             lambda: to_fraction(f"1 + {payload}")]
    for call in calls:
        with pytest.raises(SamVerifyError):
            call()
    assert not target.exists()


# -- the grammar ---------------------------------------------------------------------------------------
X, Y = sp.symbols("x y", real=True)


@pytest.mark.parametrize("text,expected", [
    ("2.8", sp.Rational(14, 5)), ("1e-3", sp.Rational(1, 1000)), (".5", sp.Rational(1, 2)),
    ("2.5E+2", sp.Integer(250)), ("6/5", sp.Rational(6, 5)), ("-0.2", sp.Rational(-1, 5)),
    ("x^2 + 1", X**2 + 1), ("x**-1", 1 / X), ("-x**2", -X**2), ("(x + y)*2.8", (X + Y) * sp.Rational(14, 5)),
    ("sqrt(3)*x", sp.sqrt(3) * X), ("exp(-x**2)*sin(y) + log(x, 2)", sp.exp(-X**2) * sp.sin(Y) + sp.log(X, 2)),
    ("pi*E", sp.pi * sp.E), ("abs(x) + Abs(y)", sp.Abs(X) + sp.Abs(Y)),
    ("Max(x, y) - Min(x, 0) + sign(x) + Heaviside(y) + floor(x) + ceiling(y)",
     sp.Max(X, Y) - sp.Min(X, 0) + sp.sign(X) + sp.Heaviside(Y) + sp.floor(X) + sp.ceiling(Y)),
    ("tanh(x) + cosh(y) + sinh(x) + atan(y) + tan(x) + cos(y) + asin(x) + acos(y)",
     sp.tanh(X) + sp.cosh(Y) + sp.sinh(X) + sp.atan(Y) + sp.tan(X) + sp.cos(Y) + sp.asin(X) + sp.acos(Y)),
    ("Piecewise((x, x < 0), (y**2, (0 <= x) & (x < 1)), (1, True))",
     sp.Piecewise((X, X < 0), (Y**2, sp.And(X >= 0, X < 1)), (1, True))),
    ("Piecewise((x, -1 < x <= 1), (0, True))", sp.Piecewise((X, sp.And(X > -1, X <= 1)), (0, True))),
])
def test_grammar_accepts_and_keeps_decimals_exact(text, expected):
    expr, symbols = parse_expression(text, ["x", "y"])
    assert symbols == (X, Y)
    assert sp.simplify(expr - expected) == 0 if not expr.has(sp.Piecewise) else expr == expected


def test_parser_matches_sympy_on_the_zoo():
    from sympy.parsing.sympy_parser import (convert_xor, parse_expr, rationalize,
                                            standard_transformations)
    from verify.objectives.zoo import ZOO
    for z in ZOO.values():
        if isinstance(z.expr, str):
            names = z.variables.split(",")
            local = {n: sp.Symbol(n, real=True) for n in names}
            # the reference parser is run on our own constant strings only
            ref = parse_expr(z.expr, local_dict=local,
                             transformations=standard_transformations + (convert_xor, rationalize))
            assert parse_expression(z.expr, names)[0] == ref, z.name


@pytest.mark.parametrize("text,piece", [
    ("x.real", "attribute"), ("x[0]", "indexing"), ("'x'", "string"), ("lambda: x", "lambda"),
    ("x if y else 1", "conditional"), ("exp(x=1)", "keyword"), ("foo(x)", "'foo'"),
    ("__import__", "__import__"), ("x % 2", "%"), ("x // 2", "//"), ("[x]", "list"), ("x, y", "tuple"),
    ("1j*x", "1j"), ("0x10*x", "0x10"), ("1_000*x", "1_000"), ("exp", "exp"), ("x(1)", "'x'"),
    ("x == 1", "comparison"), ("Piecewise((x, x))", "condition"), ("not x", "not"),
    ("9**9**9", "too large"), ("1e99999", "too large"), ("x +* y", "cannot parse"),
])
def test_grammar_refuses(text, piece):
    with pytest.raises(ExpressionError, match="cannot parse") as info:
        parse_expression(text, ["x", "y"])
    assert piece in str(info.value) and "\n" not in str(info.value)


def test_unknown_names_are_named_and_typed():
    with pytest.raises(UnknownSymbolError, match="'z'"):
        parse_expression("x + z", ["x", "y"])
    with pytest.raises(NonFiniteError):
        parse_number("inf")
    with pytest.raises(NonFiniteError):
        parse_number("1/0")


@pytest.mark.parametrize("names,needle", [(["x", "x"], "twice"), (["x", "2y"], "'2y'"),
                                          (["x", "__class__"], "'__class__'"), (["exp"], "'exp'"),
                                          (["lambda"], "'lambda'"), (["x", ""], "empty")])
def test_bad_variable_names(names, needle):
    with pytest.raises(ExpressionError, match=needle):
        parse_expression("1", names)


@pytest.mark.parametrize("text,value", [("sqrt(3)", math.sqrt(3)), ("6/5", 1.2), ("1e-3", 1e-3),
                                        ("-0.2", -0.2), ("-(1/3)", -1 / 3), ("2**-2", 0.25)])
def test_numbers(text, value):
    assert float(parse_number(text)) == value


@pytest.mark.parametrize("text", ["x", "sqrt(-1)", "nan", "log(0)", "1,2", ""])
def test_numbers_refused(text):
    with pytest.raises(SamVerifyError):
        parse_number(text, "--rho")


def test_split_vector():
    assert split_vector(" 1, sqrt(3) ,-0.2", "--x") == ["1", "sqrt(3)", "-0.2"]
    assert split_vector("Max(t, 0),sin(t)", "--max-set") == ["Max(t, 0)", "sin(t)"]
    for bad in ("1,,0", "1,0,", ",1", ""):
        with pytest.raises(ShapeError, match="empty"):
            split_vector(bad, "--x")


def test_functions_are_the_documented_set():
    readme = (__import__("pathlib").Path(__file__).parents[1] / "README.md").read_text()
    for name in FUNCTIONS:
        assert f"`{name}`" in readme or name in readme


# -- numbers and options (item 4) ---------------------------------------------------------------------
RING_ARGS = ["--f", "(x**2+y**2-1)**2", "--vars", "x,y"]


@pytest.mark.parametrize("extra,needle", [
    (["--tol", "nan"], "NonFiniteError"), (["--tol", "inf"], "NonFiniteError"),
    (["--tol", "1e9"], "OptionError"), (["--tol", "0"], "PrecisionError"), (["--tol", "-1"], "PrecisionError"),
    (["--dps", "1000000"], "PrecisionError"), (["--dps", "0"], "PrecisionError"),
    (["--dps", "-5"], "PrecisionError"), (["--dps", "3"], "PrecisionError"),
])
def test_classify_bad_options(extra, needle, capsys):
    err = _one_line_error(capsys, main(["classify"] + RING_ARGS + ["--x", "-0.2,0", "--rho", "1.2"] + extra))
    assert needle in err


@pytest.mark.parametrize("argv,needle", [
    (["--f", "(x**2", "--vars", "x", "--x", "1", "--rho", "1"], "cannot parse"),
    (RING_ARGS + ["--x", "1,,0", "--rho", "1"], "empty"),
    (["--f", "x**2", "--vars", "x,x", "--x", "1,0", "--rho", "1"], "twice"),
    (RING_ARGS + ["--x", "1,0", "--rho", "nan"], "InvalidRhoError"),
    (RING_ARGS + ["--x", "1,0", "--rho", "abc"], "'abc'"),
    (RING_ARGS + ["--x", "1,0", "--rho", "0"], "InvalidRhoError"),
    (RING_ARGS + ["--x", "1,0"], "--rho"),                       # argparse errors are one line too
])
def test_classify_bad_input_one_line(argv, needle, capsys):
    assert needle in _one_line_error(capsys, main(["classify"] + argv))


def test_classify_accepts_every_number_form(capsys):
    outs = []
    for rho, x in (("1.2", "-0.2,0"), ("6/5", "-1/5,0"), ("12e-1", "-2e-1,0"), ("sqrt(36/25)", "-0.2,0")):
        assert main(["classify"] + RING_ARGS + ["--x", x, "--rho", rho, "--dps", "30", "--json"]) == 0
        outs.append(__import__("json").loads(capsys.readouterr().out))
    assert all(o["kind"] == "hallucinated_minimizer" for o in outs)
    assert len({(o["rho"], tuple(o["x"]), o["f_sam"]) for o in outs}) == 1
    assert main(["classify"] + RING_ARGS + ["--x", "sqrt(3)/2,1/2", "--rho", "1"]) == 0   # exact forms


def test_prove_and_construct_bad_options(capsys):
    for argv, needle in ((["prove", "--f", "zoo:ring", "--x", "-0.2,0", "--rho", "1.2", "--dps", "0"],
                          "PrecisionError"),
                         (["prove", "--f", "zoo:ring", "--x", "-0.2,0", "--rho", "1.2", "--radius", "nan"],
                          "NonFiniteError"),
                         (["prove", "--f", "zoo:ring", "--x", "-0.2,0", "--rho", "sqrt(2)"], "rational"),
                         (["construct", "--f", "zoo:ring", "--x-star", "1,0", "--x-max", "0,0", "--dps",
                           "1000000"], "PrecisionError"),
                         (["construct", "--f", "zoo:ring", "--x-star", "1,,0", "--x-max", "0,0"], "empty"),
                         (["construct", "--f", "zoo:ring", "--x-star", "1,0", "--x-max", "0,0",
                           "--fraction", "nan"], "NonFiniteError"),
                         (["construct", "--f", "zoo:ring", "--x-star", "1,0", "--x-max", "0,0",
                           "--box", "-2,2,2,-2"], "--box"),
                         (["construct", "--f", "zoo:ring", "--x-star", "1,0", "--x-max", "0,0",
                           "--eps", "nan"], "NonFiniteError")):
        assert needle in _one_line_error(capsys, main(argv)), argv


def test_api_typed_errors(fp):
    from theorems.prove_hallucination import prove
    from verify.core.classify import classify
    ring = SympyObjective("(x**2 + y**2 - 1)**2", "x,y")
    nan = float("nan")
    for kwargs in ({"rho": nan}, {"x": [nan, "0"]}, {"radius": nan}, {"x_star": ["1", nan]},
                   {"rho": float("inf")}, {"dps": -5}, {"dps": 10 ** 6}):
        call = {"x": ["-0.2", "0"], "rho": "1.2", **kwargs}
        with pytest.raises(SamVerifyError):
            prove(ring, call.pop("x"), call.pop("rho"), **call)
    for samples in (0, -1, 2.5, "8"):
        with pytest.raises(OptionError, match="samples"):
            classify(ring, ["-0.2", "0"], "1.2", fp, samples=samples)
    for tol, err in ((nan, NonFiniteError), (1e9, OptionError), (-1.0, PrecisionError)):
        with pytest.raises(err):
            classify(ring, ["-0.2", "0"], "1.2", fp, tol=tol)
    assert classify(ring, ["-0.2", "0"], "6/5", fp).kind == classify(ring, ["-0.2", "0"], "1.2", fp).kind
    assert classify(ring, ["-0.2", "0"], "6/5", fp, tol="1/10000000").tol == repr(1e-7)
    with pytest.raises(InvalidRhoError):
        classify(ring, ["-0.2", "0"], "-6/5", fp)


@pytest.mark.parametrize("dps", [0, -5, 3, 10 ** 6, 2.5, "50"])
def test_get_context_precision_bounds(dps):
    with pytest.raises(PrecisionError, match="digits"):
        get_context("mpmath", dps=dps)
    with pytest.raises(PrecisionError, match="digits"):
        get_context("arb", dps=dps)


def test_point_strings_use_the_parser(mp50, fp):
    ring = SympyObjective("(x**2 + y**2 - 1)**2", "x,y")
    x = ring.point(["sqrt(3)/2", "1/2"], mp50)
    assert abs(ring.value(x, mp50)) < mp50.scalar("1e-45")
    assert list(ring.point(["-0.2", "6/5"], fp)) == [-0.2, 1.2]
    assert Fraction(str(ring.point(["0.1", "0"], mp50)[0])[:10]) == Fraction("0.10000000")


@pytest.mark.parametrize("argv,needle", [
    (["mlp", "sweep", "--rhos", "0.5,,2"], "empty"), (["mlp", "sweep", "--rhos", "1,nan"], "not finite"),
    (["mlp", "sweep", "--rhos", "1,-2"], ">= 0"), (["mlp", "sweep", "--switch-rhos", "x"], "'x'"),
    (["report", "--jobs", "0", "--list"], "--jobs"),
])
def test_other_commands_share_the_number_reader(argv, needle, capsys):
    assert needle in _one_line_error(capsys, main(argv))


@pytest.mark.parametrize("text", ["1e400", "-10**400", "2**(10**7/3)", "pi**100000"])
def test_numbers_beyond_float_range_or_too_large_are_refused(text):
    with pytest.raises((NonFiniteError, ExpressionError)):
        parse_number(text, "--x")
