"""Every command's --help ends with two or three examples, and each example is a command line
the parser accepts (flags and values as written; nothing is run)."""

from __future__ import annotations

import argparse
import shlex

import pytest
from interp_cli.main import build_parser
from interp_cli.options import EXAMPLES_HEADING


def _commands() -> dict[str, argparse.ArgumentParser]:
    """Every (sub)command's parser by its words, e.g. "codebook train"."""
    found: dict[str, argparse.ArgumentParser] = {}

    def walk(parser: argparse.ArgumentParser, words: list[str]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found[" ".join([*words, name])] = sub
                    walk(sub, [*words, name])

    walk(build_parser(), [])
    return found


COMMANDS = _commands()


def test_every_command_is_found():
    assert {"map-neurons", "atlas", "codebook", "codebook train", "codebook steer"} \
        <= set(COMMANDS)


@pytest.mark.parametrize("words", sorted(COMMANDS))
def test_help_shows_examples_that_parse(words, capsys):
    parser = COMMANDS[words]
    help_text = parser.format_help()
    heading = f"\n{EXAMPLES_HEADING}\n"
    assert heading in help_text
    examples = [line.strip() for line in help_text.rsplit(heading, 1)[1].splitlines()
                if line.strip()]
    assert 2 <= len(examples) <= 3, examples
    for line in examples:
        argv = shlex.split(line)
        assert argv[0] == "interp" and " ".join(argv[1:]).startswith(words.split()[0]), line
        args = build_parser().parse_args(argv[1:])  # exits (SystemExit) on a bad flag
        assert callable(args.run), line
