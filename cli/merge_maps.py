"""`interp merge-maps`: join neuron-map shards (same model and options) into one directory."""

from __future__ import annotations

import argparse

from interp_cli.options import command, with_examples

EXAMPLES = (
    "interp merge-maps --out maps/gemma-up maps/shard0 maps/shard1",
    "interp merge-maps --out maps/all maps/layers-0-14 maps/layers-15-29",
)

def add_parser(subparsers) -> None:
    p = command(subparsers, "merge-maps", "join neuron-map shards into one map", __doc__)
    p.add_argument("maps", nargs="+", metavar="DIR", help="shard directories")
    p.add_argument("--out", required=True, metavar="DIR", help="merged map directory")
    with_examples(p, EXAMPLES)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from interp.neurons import merge_maps
    from interp.neurons.report import summary_table

    merged = merge_maps(args.maps, args.out)
    print(summary_table(merged))
    n = merged.header.n_layers
    state = "complete" if merged.complete else f"{len(merged.layers)}/{n} layers"
    print(f"merged {len(args.maps)} maps into {args.out} ({state})")
    return 0
