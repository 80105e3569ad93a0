"""`interp find-neurons`: neurons whose decoded top tokens include the given words."""

from __future__ import annotations

import argparse

from interp_cli.options import adder, command, with_examples

from interp.options import FindNeuronsOptions

EXAMPLES = (
    "interp find-neurons dog cat horse --map neuron-maps/smollm2-135m-instruct-up",
    ("interp find-neurons California --exact --limit 5 --map "
    "neuron-maps/smollm2-135m-instruct-down"),
)

def add_parser(subparsers) -> None:
    p = command(subparsers, "find-neurons", "find neurons that decode to words",
                __doc__ + " Words match with and without a leading space and in "
                "lower/Capitalised/UPPER case unless --exact.")
    add = adder(p, FindNeuronsOptions)
    add("words", nargs="+", metavar="WORD")
    add("--map", required=True, metavar="DIR", help="a neuron map directory")
    add("--limit", type=int, help="rows to print")
    add("--by", help="rank by mass (summed probability of the matching tokens) or hits (how "
        "many match)")
    add("--exact", dest="variants", action="store_false", help="match the words exactly")
    with_examples(p, EXAMPLES)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from interp.neurons import NeuronMap, find_neurons
    from interp.neurons.report import hits_table

    nmap = NeuronMap.load(args.map)
    hits = find_neurons(nmap, args.words, variants=args.variants, limit=args.limit, by=args.by)
    print(hits_table(hits) if hits else f"no neuron has {' / '.join(args.words)} among its "
          f"top {nmap.options.top_k} tokens")
    return 0
