"""Shared fixtures: the arithmetic contexts every check runs in."""
import pytest

from verify.contexts import get_context

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
