"""pytest plugin (registered through the ``pytest11`` entry point).

``--runslow`` runs tests marked ``slow``; tests marked ``gpu`` are skipped where CUDA is absent.
"""
from __future__ import annotations

import pytest


def pytest_addoption(parser):
    group = parser.getgroup("sam-verify")
    group.addoption("--runslow", action="store_true", default=False, help="run tests marked slow")


def pytest_collection_modifyitems(config, items):
    skip_slow = pytest.mark.skip(reason="slow: pass --runslow to run")
    cuda = _cuda_available()
    skip_gpu = pytest.mark.skip(reason="no CUDA device present")
    for item in items:
        if "slow" in item.keywords and not config.getoption("--runslow"):
            item.add_marker(skip_slow)
        if "gpu" in item.keywords and not cuda:
            item.add_marker(skip_gpu)


def _cuda_available() -> bool:
    try:
        import torch
        return bool(torch.cuda.is_available())
    except ImportError:
        return False
