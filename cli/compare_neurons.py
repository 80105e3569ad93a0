"""`interp compare-neurons`: top-1 agreement and top-k overlap of two neuron maps."""

from __future__ import annotations

import argparse

from interp_cli.options import command, with_examples

EXAMPLES = (
    "interp compare-neurons maps/base-up maps/tuned-up",
    "interp compare-neurons maps/base-down maps/tuned-down --k 10",
)

def add_parser(subparsers) -> None:
    p = command(subparsers, "compare-neurons", "agreement of two neuron maps", __doc__)
    p.add_argument("map_a", metavar="DIR_A")
    p.add_argument("map_b", metavar="DIR_B")
    p.add_argument("--k", type=int, default=None,
                   help="top-k for the overlap (default: the smaller top_k of the maps)")
    with_examples(p, EXAMPLES)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from interp.neurons import NeuronMap, agreement
    from interp.neurons.report import format_table

    a, b = NeuronMap.load(args.map_a), NeuronMap.load(args.map_b)
    result = agreement(a, b, k=args.k)
    print(f"A: {a.model} ({a.fingerprint}, {a.options.side})  "
          f"B: {b.model} ({b.fingerprint}, {b.options.side})")
    print(format_table(("layer", "neurons", "top-1 agreement", f"top-{result.k} overlap"),
                       result.rows()))
    return 0
