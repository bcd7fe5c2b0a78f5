"""Command line: ``sam-verify <command> ...`` (also ``python -m verify``).

Each command lives in its own module under :mod:`verify.commands` exposing ``register(subparsers)``;
the parser picks up every such module. Errors of the library print as one line and exit with
status 2; no traceback reaches the user.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import re
import sys

from .errors import SamVerifyError


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's help ends with its default, unless the help already states it or there is
    none to state (a flag, or no default)."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "default" in text.lower() or action.default is None or action.default is False \
                or action.default is argparse.SUPPRESS \
                or action.required or not action.option_strings:
            return text
        return text + " (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose sub-commands (at every depth) print defaults in their help."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        """Usage errors (a missing option, a malformed integer) as one line, exit 2."""
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="sam-verify", description=(
        "Check the theorems of 'Sharpness-Aware Minimization Can Hallucinate Minimizers' on your "
        "own functions and models."))
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    from . import commands
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        if hasattr(module, "register"):
            module.register(sub)
    return parser


_NEGATIVE_LIST = re.compile(r"^-\d|^-\.\d")


def _join_negative_values(argv: list[str]) -> list[str]:
    """Let ``--x -0.2,0`` work: argparse would read a leading minus as an option."""
    out: list[str] = []
    for token in argv:
        if out and out[-1].startswith("--") and "=" not in out[-1] and _NEGATIVE_LIST.match(token):
            out[-1] = f"{out[-1]}={token}"
        else:
            out.append(token)
    return out


def main(argv=None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = parser.parse_args(_join_negative_values(argv))
    except SystemExit as exc:  # --help (0) or a usage error (2, one line already printed)
        return int(exc.code or 0)
    try:
        return int(args.run(args) or 0)
    except SamVerifyError as exc:
        print(f"sam-verify: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sam-verify: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
