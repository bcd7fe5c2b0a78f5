"""No test asserts on wall-clock time (issue 12, item 7): CI machines can be ten times slower than a
developer's, so a time limit in a test fails for reasons unrelated to correctness. Speed goals live in
``benchmarks/`` scripts, which print times and ratios measured in one run."""
import ast
import pathlib

CLOCKS = {"perf_counter", "time", "monotonic", "process_time", "perf_counter_ns", "monotonic_ns",
          "time_ns", "elapsed"}


def _mentions_clock(node: ast.AST) -> bool:
    names = {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}
    names |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    return bool(names & CLOCKS)


def _upper_limits(compare: ast.Compare) -> bool:
    """Whether the comparison bounds a clock reading from above (``elapsed < 180``, ``1 > t``), the
    kind a slow machine breaks. A lower bound (``elapsed >= 1.5`` after sleeping 1.5 s) or a
    comparison with 0 is a sanity check a slow machine cannot fail."""
    operands = [compare.left, *compare.comparators]
    for left, op, right in zip(operands, compare.ops, operands[1:]):
        if any(isinstance(o, ast.Constant) and o.value == 0 for o in (left, right)):
            continue
        if isinstance(op, (ast.Lt, ast.LtE)) and _mentions_clock(left):
            return True
        if isinstance(op, (ast.Gt, ast.GtE)) and _mentions_clock(right):
            return True
    return False


def _timed_asserts(source: str) -> list[int]:
    """Line numbers of ``assert`` statements that put an upper limit on a clock reading or an
    ``elapsed`` time."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Assert):
            continue
        if any(_upper_limits(n) for n in ast.walk(node.test) if isinstance(n, ast.Compare)):
            lines.append(node.lineno)
    return lines


def test_detector_finds_a_timed_assert():
    # the negative control: the detector must see the patterns it is meant to forbid
    assert _timed_asserts("import time\nt0 = time.perf_counter()\nassert time.perf_counter() - t0 < 1\n")
    assert _timed_asserts("assert cert.elapsed < 1.0\n")
    assert _timed_asserts("assert elapsed < 180, 'too slow'\n")
    assert _timed_asserts("assert 2.0 > time.perf_counter() - t0\n")
    assert not _timed_asserts("assert built.elapsed >= 0\nassert x < 1\n")
    assert not _timed_asserts("assert float(elapsed) >= 1.5\n")  # a lower bound: slowness cannot fail it


def test_no_test_asserts_on_wall_clock_time():
    here = pathlib.Path(__file__).parent
    offenders = {p.name: _timed_asserts(p.read_text()) for p in sorted(here.glob("test_*.py"))
                 if p.name != pathlib.Path(__file__).name}
    assert not {k: v for k, v in offenders.items() if v}, offenders
