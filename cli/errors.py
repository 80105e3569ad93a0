"""Library messages name parameters (batch_size, use_groups=False, model gpt2); the command
shows them as the flags that set them (--batch-size, --no-groups, --model gpt2)."""

from __future__ import annotations

import argparse
import re


def chosen(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The (sub)parser of the command that runs."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and getattr(args, action.dest, None):
            return chosen(action.choices[getattr(args, action.dest)], args)
    return parser


def with_flags(message: str, parser: argparse.ArgumentParser, args: argparse.Namespace
               ) -> str:
    """`message` with the parameters it names as the flags of the command that runs: a
    snake_case name anywhere, a name that opens the message ("folds must ..."), a name followed
    by the value given ("model gpt2") and "name=True/False" of a switch (use_groups=False)."""
    for action in chosen(parser, args)._actions:
        flags = [s for s in action.option_strings if s.startswith("--")]
        if not flags or action.dest in ("help", "version"):
            continue
        name, flag = re.escape(action.dest), flags[0]
        if isinstance(action.const, bool):
            message = re.sub(rf"\b{name}={action.const}\b", flag, message)
            continue
        if "_" in action.dest:
            message = re.sub(rf"(?<![-\w]){name}\b", flag, message)
        message = re.sub(rf"^{name}(?= must\b)", flag, message)
        given = getattr(args, action.dest, None)
        for value in given if isinstance(given, list) else [given]:
            if isinstance(value, (str, int, float)):
                message = re.sub(rf"(?<![-\w]){name}(?= {re.escape(str(value))})", flag,
                                 message)
    return message
