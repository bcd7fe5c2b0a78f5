"""Every option of every command (at every depth) has help text and shows its default."""
from __future__ import annotations

import argparse

from verify.cli import build_parser


def _parsers(parser, path=("sam-verify",)):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, path + (name,))


def _options(parser):
    for a in parser._actions:
        if a.option_strings and not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction)):
            yield a


def option_problems(parser) -> list[str]:
    problems = []
    for path, p in _parsers(parser):
        text = p.format_help()
        for a in _options(p):
            name = f"{' '.join(path)} {a.option_strings[-1]}"
            if not (a.help or "").strip():
                problems.append(f"{name}: no help text")
                continue
            flag = isinstance(a, (argparse._StoreTrueAction, argparse._StoreFalseAction))
            if a.required or flag:
                continue
            if a.default is None:
                if "default" not in a.help.lower():
                    problems.append(f"{name}: default None, and the help does not say what that means")
            elif f"(default: {a.default})" not in " ".join(text.split()) and "default" not in a.help.lower():
                problems.append(f"{name}: default {a.default!r} not shown")
    return problems


def test_every_option_has_help_and_default():
    assert option_problems(build_parser()) == []


def test_the_check_finds_a_missing_help_and_a_silent_default():
    """Negative control: options without help, or with an unexplained default None, are named."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    p = sub.add_parser("extra")
    p.add_argument("--bare", type=int, default=3)
    p.add_argument("--vague", default=None, help="something")
    problems = option_problems(parser)
    assert any("extra --bare: no help text" in x for x in problems)
    assert any("extra --vague: default None" in x for x in problems)


def test_help_shows_defaults():
    parser = build_parser()
    mlp = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices["mlp"]
    train = next(a for a in mlp._actions if isinstance(a, argparse._SubParsersAction)).choices["train"]
    text = " ".join(train.format_help().split())
    assert "hidden units per layer (default: 32)" in text
    assert "learning rate eta (default: 0.01)" in text
