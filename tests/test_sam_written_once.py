"""SAM is written once: no code outside verify/core/ forms the perturbation, and no SAM loop lives
outside the iteration driver.

An AST scan of verify/ (but verify/core/) and theorems/ flags

* a *perturbation*: a sum or difference one of whose terms is a product / quotient with a factor
  named like rho and a unit- or raw-gradient factor — ``x + rho * u``, ``y + rho * gr.u``,
  ``x + rho * unit_gradient(...)``, ``x + rho * obj.grad(x) / n`` (any quotient: a normalized
  direction), ``x + rho * obj.grad(x)`` (USAM), ``eye + rho * du_matrix(...)`` (I + rho Du). A sum
  with a number (``1 + rho * lam``, ``scalar(1) + 2 rho L / ||g||``) is a scalar bound, not a point,
  and is not flagged. Use :class:`verify.core.operators.SamPoint` or :mod:`verify.core.sam`
  (``perturbed_point``, ``shifted_gradient``, ``perturbed_points_batch``, ...).
* a *step loop*: a ``for`` / ``while`` loop that rebinds an iterate by a step, ``x = x - eta * d``
  or ``x -= lr * d`` (a factor named like eta / lr / step size). Use :mod:`verify.core.iterate`
  (``iterates`` for one run with a per-step hook, ``run_batch`` for many starts).

ALLOWED lists the sites that remain, each with a one-line reason; an entry that no longer matches a
site fails too, so the list can only shrink.
"""
import ast
import pathlib

from ast_scan import scan_sources

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCANNED = ("verify", "theorems")
CORE = ("verify", "core")
UNIT_NAMES = {"u", "unit_gradient", "grad", "du_matrix", "sym_du"}
STEP_NAMES = ("eta", "lr", "step_size")

# (path relative to the repository, text of the flagged line) -> why it may stay
ALLOWED: dict[tuple[str, str], str] = {
    ("theorems/rho_threshold.py", "guesses.append(xsf + rho * dv / dn)"):
        "a point at distance rho from x* on the ray to a critical point (geometry, not a gradient)",
    ("verify/nn/train.py", "theta = theta - lr * buf"):
        "the batched torch trainer keeps its in-place loop for speed; its SAM point is sam.perturbed_rows",
}


def _identifier(node) -> str:
    """The name a factor goes by: ``rho``, ``con.rho`` -> rho, ``u[i]`` -> u, ``f(...)`` -> f."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, (ast.Subscript, ast.Call)):
        return _identifier(node.value if isinstance(node, ast.Subscript) else node.func)
    return ""


def _factors(node) -> tuple[list, bool]:
    """The factors of a product / quotient chain and whether it divides."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)):
        left, dl = _factors(node.left)
        right, dr = _factors(node.right)
        return left + right, dl or dr or isinstance(node.op, ast.Div)
    return [node], False


def _is_number(node) -> bool:
    """A literal or ``scalar(<literal>)``: the other side of a scalar bound such as 1 + rho lam."""
    if isinstance(node, ast.Constant):
        return True
    return (isinstance(node, ast.Call) and _identifier(node.func) in ("scalar", "convert")
            and all(isinstance(a, ast.Constant) for a in node.args))


def _is_perturbation(term) -> bool:
    factors, divides = _factors(term)
    names = [_identifier(f) for f in factors]
    return (len(factors) > 1 and any("rho" in n.lower() for n in names)
            and (divides or any(n in UNIT_NAMES for n in names)))


def _is_step(node) -> bool:
    """``x = x - eta * d`` or ``x -= lr * d``."""
    def scaled(term):
        return any(n.lower().startswith(STEP_NAMES) for n in map(_identifier, _factors(term)[0]))
    if isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Sub):
        return scaled(node.value)
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        v, target = node.value, ast.unparse(node.targets[0])
        return (isinstance(v, ast.BinOp) and isinstance(v.op, ast.Sub) and ast.unparse(v.left) == target
                and scaled(v.right))
    return False


def violations(tree: ast.AST):
    """(line, what) for every SAM perturbation and step loop in a parsed module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            for term, other in ((node.left, node.right), (node.right, node.left)):
                if _is_perturbation(term) and not _is_number(other):
                    yield node.lineno, "forms a SAM perturbation (x + rho u)"
                    break
        elif isinstance(node, (ast.For, ast.While)):
            for inner in ast.walk(node):
                if _is_step(inner):
                    yield inner.lineno, "loops gradient steps (x = x - eta d)"


def scan(root: pathlib.Path = ROOT):
    return scan_sources(root, SCANNED, root.joinpath(*CORE), violations)


def test_sam_is_formed_and_iterated_only_in_the_core():
    found = scan()
    new = {k: v for k, v in found.items() if k not in ALLOWED}
    assert not new, ("SAM formulas or step loops outside verify/core/ (use SamPoint / verify.core.sam "
                     "/ verify.core.iterate):\n" + "\n".join(
                         f"  {path} {where}: {line}" for (path, line), where in sorted(new.items())))
    stale = set(ALLOWED) - set(found)
    assert not stale, f"allow-list entries that no longer match a site (remove them): {sorted(stale)}"


def test_every_allowed_site_says_why():
    assert all(isinstance(why, str) and why.strip() and "\n" not in why for why in ALLOWED.values())


def test_the_scan_catches_each_kind_of_site():
    """Negative controls: each pattern, written once, is found (the scan can fail)."""
    source = '''
xp = x + rho * gr.u
yp = y + con.rho * gradient(obj, y, ctx).u
z = x + rho * sam.unit_gradient(obj, x, ctx)
w = theta + rho * obj.grad(theta, ctx) / obj.grad(theta, ctx).norm()
A = ctx.eye(d) + rho * sam.du_matrix(obj, y, ctx)
q = [xh[i] + rho * u[i] for i in range(2)]
for k in range(10):
    x = x - eta * obj.grad(x + rho * g / n, ctx)
while True:
    theta -= lr * m
ok1 = 1 + rho * lam
ok2 = ctx.scalar(1) + ctx.scalar(2) * rho * L / gn
ok3 = x - eta * w
'''
    lines = sorted(line for line, _ in violations(ast.parse(source)))
    assert lines == [2, 3, 4, 5, 6, 7, 9, 9, 11]


def test_a_planted_violation_in_a_module_fails_the_scan(tmp_path):
    """End to end: a module written into a scanned tree is reported by :func:`scan`; the same
    perturbation through the core, or written inside verify/core/, is not."""
    bad = tmp_path / "verify" / "planted.py"
    bad.parent.mkdir()
    bad.write_text("def shift(x, rho, gr):\n    return x + rho * gr.u\n")
    good = tmp_path / "theorems" / "clean.py"
    good.parent.mkdir()
    good.write_text("from verify.core import sam\n\ndef shift(obj, x, rho, ctx):\n"
                    "    return sam.perturbed_point(obj, x, rho, ctx)\n")
    core = tmp_path / "verify" / "core" / "sam.py"
    core.parent.mkdir()
    core.write_text("def perturbed_point(x, rho, u):\n    return x + rho * u\n")
    found = scan(tmp_path)
    assert list(found) == [("verify/planted.py", "return x + rho * gr.u")]
