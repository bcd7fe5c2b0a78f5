"""Shared fixtures: the arithmetic contexts every check runs in."""
import pytest

from verify.ctx import get_context

CONTEXT_KINDS = ["float64", "mpmath", "arb", "torch"]


@pytest.fixture(params=CONTEXT_KINDS)
def any_ctx(request):
    return get_context(request.param, dps=50, device="cpu")


@pytest.fixture
def mp50():
    return get_context("mpmath", dps=50)


@pytest.fixture
def fp():
    return get_context("float64")


def assert_construction_residuals(con, tiny) -> None:
    """The two residuals the Section 2 construction must drive to roundoff at the working precision:
    the identity x_h + rho u(x_h) = x_star and the level f(x_h) = f(x_max) - eps."""
    from verify.core.sam import gradient
    ctx = con.ctx
    u = gradient(con.objective, con.x_h, ctx).u
    assert ctx.norm(con.x_h + con.rho * u - con.x_star) <= tiny
    assert abs(con.objective.value(con.x_h, ctx) - (con.f_max - con.eps)) <= tiny


def load_benchmark(name: str):
    """The module ``benchmarks/<name>.py`` (not a package), for the benchmarks' smoke tests."""
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
