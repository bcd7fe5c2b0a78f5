"""Nested progress bars for the long steps inside a report section (training steps, Krylov
iterations, traced points), so that no bar of ``sam-verify report`` stands still for long.

Off by default: library calls and tests print nothing. The report turns it on around each
section it runs in its own process (``with progress.shown(): ...``); a section then wraps a long
loop as ``for k in progress.bar(range(n), desc="training")``, or, when the loop lives in a callee
that reports by callback, ``with progress.bar(total=n, desc=...) as b: ...; b.update()``. Bars are
tqdm's, below the report's section bar, removed when done, refreshed at most twice a second.
"""
from __future__ import annotations

import contextlib
import sys

_SHOWN = False


def enabled() -> bool:
    """Whether nested bars are shown now (inside a section of a report with progress on)."""
    return _SHOWN


@contextlib.contextmanager
def shown(on: bool = True):
    """Show nested bars while the block runs (when ``on``)."""
    global _SHOWN
    before, _SHOWN = _SHOWN, bool(on)
    try:
        yield
    finally:
        _SHOWN = before


def bar(iterable=None, total: int | None = None, desc: str = "", unit: str = "it", force: bool = False,
        **kw):
    """A tqdm bar nested under the section's bar; a silent pass-through when bars are off, unless
    ``force`` (a command's own bar, shown when stderr is a terminal)."""
    from tqdm.auto import tqdm
    kw.setdefault("leave", False)
    kw.setdefault("mininterval", 0.5)
    return tqdm(iterable, total=total, desc=f"  {desc}", unit=unit, disable=None if force else not _SHOWN,
                file=sys.stderr, dynamic_ncols=True, **kw)
