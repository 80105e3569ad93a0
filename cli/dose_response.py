"""`interp dose-response`: sweep a clamp on neurons and write P(concept) at the next token
per value, for the neurons and for random control neurons of the same layer, as a table
(CSV or JSON) and a self-contained HTML figure."""

from __future__ import annotations

import argparse

from interp_cli.options import comma_list, model_command, model_from, options_from, with_examples
from interp_cli.steer import add_clamp_options

from interp.options import DoseResponseOptions

EXAMPLES = (
    ("interp dose-response --model smollm2-135m-instruct --neuron 29:1433 --prompt \"I "
    "want to tell you about\" --concept sugar,bread --values 0,3x,10x,30x"),
    ("interp dose-response --model interp-tiny --neuron 3:725 --prompts-file "
    "prompts.txt --concept animals --controls 10 --table dose.json"),
)

def add_parser(subparsers) -> None:
    p, add = model_command(subparsers, "dose-response", "concept probability vs clamp value, "
                           "neurons vs controls (table + figure)", __doc__, DoseResponseOptions)
    add("--neuron", action="append", required=True, metavar="LAYER:NEURON",
        help="neuron(s) to clamp together, e.g. 5:123 or 5:123,140; repeatable")
    add("--prompt", action="append", default=[],
        help="a prompt (repeatable); the concept is measured at its next token")
    add("--prompts-file", metavar="FILE", help="more prompts, one per line")
    add("--concept", required=True,
        help="a named list (animals, colours, months, ...), dog,cat,... words")
    add("--values", type=comma_list, help="clamp values, comma-separated; bare numbers are in "
        "--unit, '10x' is always 10 x max activation")
    add("--unit", help="max (multiples of each neuron's max |activation|) or raw")
    add_clamp_options(p)
    add("--controls", type=int, help="random control neurons of the same layer")
    add("--seed", type=int, help="seed for the controls")
    add("--table", metavar="PATH", help="table to write: .csv or .json")
    add("--figure", metavar="PATH", help="figure to write, self-contained HTML; '-' for none")
    with_examples(p, EXAMPLES)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from interp.steer.workflows import dose_response_report

    result, written = dose_response_report(
        model_from(args), args.neuron, args.concept, args.prompt,
        options_from(DoseResponseOptions, args), prompts_file=args.prompts_file)
    print(result.report())
    print("wrote " + ", ".join(written))
    return 0
