"""`interp info`: print a model's facts, fingerprint and hook sites, and for a real model its
card (source, licence, quantisation, held-out loss, behaviour checks)."""

from __future__ import annotations

import argparse
import json

from interp_cli.options import add_model_options, command, model_from, with_examples

EXAMPLES = (
    "interp info --model smollm2-135m-instruct",
    "interp info --model interp-tiny --layer 2",
    "interp info --model path/to/model.gguf --json",
)

def add_parser(subparsers) -> None:
    parser = command(subparsers, "info", "print a model's facts, fingerprint and sites", __doc__)
    add_model_options(parser)
    parser.add_argument("--layer", type=int, default=None,
                        help="also print each site's TransformerLens hook name at this "
                        "layer (e.g. blocks.3.mlp.hook_post)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    with_examples(parser, EXAMPLES)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from interp.models.cards import card_lines, model_info

    info = model_info(model_from(args), layer=args.layer)
    card = info.pop("card")
    if args.json:
        print(json.dumps({**info, "card": card} if card else info, indent=1))
        return 0
    width = max(len(key) for key in info)
    for key, value in info.items():
        print(f"{key:<{width}}  {value}")
    if card:
        print("\nmodel card (measured by experiments/model_cards.py):")
        for line in card_lines(card):
            print(f"  {line}")
    return 0
