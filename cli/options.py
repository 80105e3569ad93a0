"""Wiring shared by the subcommands: parsers whose --help shows each default, defaults read from
the library's option dataclasses (interp.options), and options built from the parsed
arguments."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from interp.options import ModelOptions

EXAMPLES_HEADING = "examples:"


class HelpFormatter(argparse.HelpFormatter):
    """Appends "(default: X)" to an option's help when it has a default worth showing; keeps
    the examples (see `with_examples`) one per line."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith(EXAMPLES_HEADING):
            return "\n".join(indent + line for line in text.splitlines())
        return super()._fill_text(text, width, indent)

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        value = action.default
        if (not action.option_strings or action.required or value is None
                or isinstance(value, bool) or value == [] or value == ()
                or value is argparse.SUPPRESS or "(default" in text):
            return text
        shown = ",".join(map(str, value)) if isinstance(value, (list, tuple)) else value
        return f"{text} (default: {str(shown).replace('%', '%%')})"


def command(subparsers: Any, name: str, help: str, description: str | None
            ) -> argparse.ArgumentParser:
    """A subcommand parser whose --help shows the defaults."""
    return subparsers.add_parser(name, help=help, description=description,
                                 formatter_class=HelpFormatter)


def with_examples(parser: argparse.ArgumentParser, examples: Sequence[str]) -> None:
    """Show `examples` (whole command lines) at the end of the parser's --help."""
    parser.epilog = "\n".join([EXAMPLES_HEADING, *(f"  {line}" for line in examples)])


def defaults(cls: type) -> dict[str, Any]:
    """{field: default} of an options dataclass (the one place the defaults are written)."""
    return {f.name: f.default for f in dataclasses.fields(cls)
            if f.default is not dataclasses.MISSING}


def adder(parser: argparse.ArgumentParser, cls: type) -> Callable[..., argparse.Action]:
    """`parser.add_argument`, but an option named after a field of the options dataclass
    `cls` gets that field's default."""
    fields = defaults(cls)

    def add(*flags: str, **kwargs: Any) -> argparse.Action:
        action = parser.add_argument(*flags, **kwargs)
        if action.dest in fields and "default" not in kwargs:
            action.default = fields[action.dest]
        return action

    return add


def options_from(cls: type, args: argparse.Namespace, **given: Any) -> Any:
    """An options dataclass from the parsed arguments of the same names (`given` first)."""
    names = {f.name for f in dataclasses.fields(cls)} - set(given)
    return cls(**{n: getattr(args, n) for n in names if hasattr(args, n)}, **given)


def add_model_options(parser: argparse.ArgumentParser, model: bool = True) -> None:
    """--model (unless `model` is False), --device and --dtype, defaults from ModelOptions."""
    add = adder(parser, ModelOptions)
    if model:
        add("--model", help="a model name (interp-tiny, interp-circuits, smollm2-135m-instruct, "
            "gemma-3-270m), a .gguf file, a local Hugging Face directory, or a cached hub name")
    add("--device", help="auto, cpu, cuda, cuda:N or mps")
    add("--dtype", help="float32, bfloat16 or float16")


def model_command(subparsers: Any, name: str, help: str, description: str | None, cls: type
                  ) -> tuple[argparse.ArgumentParser, Callable[..., argparse.Action]]:
    """A subcommand with the model options, and its `adder` for the options dataclass `cls`."""
    parser = command(subparsers, name, help, description)
    add_model_options(parser)
    return parser, adder(parser, cls)


def model_from(args: argparse.Namespace) -> ModelOptions:
    return ModelOptions(args.model, device=args.device, dtype=args.dtype)


def comma_list(text: str) -> list[str]:
    """An argparse type: "a,b, c" -> ["a", "b", "c"]."""
    return [part.strip() for part in text.split(",") if part.strip()]
