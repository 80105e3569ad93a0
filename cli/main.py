"""Entry point of the `interp` command: argument wiring only, no logic.

Each subcommand lives in its own module exposing `add_parser(subparsers)`; its `run(args)`
parses, calls one library function and prints. Library modules are imported only when a
command runs, so `interp --help` stays fast (no torch, no transformer-lens). Any `InterpError`
becomes one `error: ...` line, its parameter names shown as the command's flags, and exit
status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from interp import __version__

SUBCOMMANDS = (
    "info", "map_neurons", "merge_maps", "find_neurons", "compare_neurons", "steer",
    "dose_response", "atlas", "circuits", "codebook", "ast_probe", "concept_depth",
    "logit_lens", "export_neurons", "attention",
)
"""Modules under interp_cli, one per subcommand."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="interp",
        description="Mechanistic interpretability for transformer language models.",
    )
    parser.add_argument("--version", action="version", version=f"interp {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"interp_cli.{name}").add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    from interp_cli.errors import with_flags

    from interp.errors import InterpError

    try:
        return int(args.run(args) or 0)
    except InterpError as err:
        print(f"error: {with_flags(str(err), parser, args)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
