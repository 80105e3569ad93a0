"""`interp attention`: every layer's and head's attention pattern over one prompt, written as
one offline HTML page (thumbnails of a layer's heads, the chosen head large, tokens coloured by
attention on hover, per-head entropy / first-token / previous-token / induction scores); prints
the heads that score highest."""

from __future__ import annotations

import argparse

from interp_cli.options import model_command, model_from, options_from, with_examples

from interp.options import AttentionOptions

EXAMPLES = (
    ("interp attention --model smollm2-135m-instruct --prompt \"The cat sat on the mat. "
     "The cat sat on the\" --out attention.html"),
    "interp attention --model interp-tiny --prompt \"Once upon a time\" --layers 0-1",
    ("interp attention --model gemma-3-270m --prompt \"1, 2, 3, 4, 5,\" --layers 0 5 11 "
     "--out gemma-attention.html"),
)


def add_parser(subparsers) -> None:
    p, add = model_command(subparsers, "attention", "write an attention-pattern page (every "
                           "layer and head) for one prompt", __doc__, AttentionOptions)
    add("--prompt", required=True, help="the text whose attention is shown")
    add("--out", metavar="FILE.html", help="the page written (one self-contained file)")
    add("--layers", nargs="+", metavar="L", help="layers shown, e.g. 0 3 or 2-5 or 0,1 "
        "(default: all)")
    add("--max-tokens", type=int, help="refuse longer prompts (the page grows as tokens²)")
    with_examples(p, EXAMPLES)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from interp.viz.attention import attention_view

    options = options_from(AttentionOptions, args, layers=None if args.layers is None
                           else tuple(args.layers))
    patterns, written = attention_view(model_from(args), args.prompt, options)
    print(patterns.report())
    print(f"wrote {written}")
    return 0
