"""No test asserts on wall-clock time (issue 12, item 7): CI machines can be ten times slower than a
developer's, so a time limit in a test fails for reasons unrelated to correctness. Speed goals live in
``benchmarks/`` scripts, which print times and ratios measured in one run."""
import ast
import pathlib

CLOCKS = {"perf_counter", "time", "monotonic", "process_time", "perf_counter_ns", "monotonic_ns",
          "time_ns", "elapsed"}


def _limit(compare: ast.Compare) -> bool:
    """A comparison against anything but 0 (``elapsed >= 0`` is a sanity check, not a limit)."""
    operands = [compare.left, *compare.comparators]
    return not any(isinstance(o, ast.Constant) and o.value == 0 for o in operands)


def _timed_asserts(source: str) -> list[int]:
    """Line numbers of ``assert`` statements that compare a clock reading or an ``elapsed`` time."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Assert):
            continue
        for cmp in (n for n in ast.walk(node.test) if isinstance(n, ast.Compare) and _limit(n)):
            names = {n.attr for n in ast.walk(cmp) if isinstance(n, ast.Attribute)}
            names |= {n.id for n in ast.walk(cmp) if isinstance(n, ast.Name)}
            if names & CLOCKS:
                lines.append(node.lineno)
                break
    return lines


def test_detector_finds_a_timed_assert():
    # the negative control: the detector must see the patterns it is meant to forbid
    assert _timed_asserts("import time\nt0 = time.perf_counter()\nassert time.perf_counter() - t0 < 1\n")
    assert _timed_asserts("assert cert.elapsed < 1.0\n")
    assert _timed_asserts("assert elapsed < 180, 'too slow'\n")
    assert not _timed_asserts("assert built.elapsed >= 0\nassert x < 1\n")


def test_no_test_asserts_on_wall_clock_time():
    here = pathlib.Path(__file__).parent
    offenders = {p.name: _timed_asserts(p.read_text()) for p in sorted(here.glob("test_*.py"))
                 if p.name != pathlib.Path(__file__).name}
    assert not {k: v for k, v in offenders.items() if v}, offenders
