"""`interp logit-lens`: the residual stream after each block decoded through the model's final
norm and LM head; prints the top tokens per row at one position and where each target token
becomes the top prediction."""

from __future__ import annotations

import argparse
import json

from interp_cli.options import model_command, model_from, options_from, with_examples

from interp.options import LogitLensOptions

EXAMPLES = (
    ("interp logit-lens --model smollm2-135m-instruct --prompt \"The capital of France is\" "
     "--target \" Paris\" --figure lens.html"),
    ("interp logit-lens --model interp-tiny --prompt \"Once upon a time\" --top-k 10 "
     "--json lens.json"),
    "interp logit-lens --model gemma-3-270m --prompt \"1, 2, 3, 4,\" --position -2",
)


def add_parser(subparsers) -> None:
    p, add = model_command(subparsers, "logit-lens", "decode the residual stream after each "
                           "block through the LM head", __doc__, LogitLensOptions)
    add("--prompt", required=True, help="the text to read")
    add("--target", dest="targets", action="append", default=[], metavar="TOKEN",
        help="a token to follow (one token of the vocabulary, e.g. \" Paris\"); repeat for more")
    add("--top-k", type=int, help="top tokens kept per row and position")
    add("--position", type=int, help="the position the printed table reads (negative counts "
        "from the end)")
    add("--figure", metavar="FILE.html", help="write the heatmap (and target curves) here")
    add("--json", metavar="FILE.json", help="write every row's top tokens and the targets here")
    add("--tuned", metavar="DIR", help="a tuned lens saved by tuned-lens (config.json + "
        "params.pt): read each row through its translator first")
    add("--print-json", action="store_true", help="print the numbers as JSON instead of a table")
    with_examples(p, EXAMPLES)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from interp.lens.workflow import logit_lens_report

    options = options_from(LogitLensOptions, args, targets=tuple(args.targets))
    lens, written = logit_lens_report(model_from(args), args.prompt, options)
    print(json.dumps(lens.to_dict(), indent=1) if args.print_json
          else lens.report(options.position))
    for path in written:
        print(f"wrote {path}")
    return 0
