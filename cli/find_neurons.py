"""`interp find-neurons`: neurons whose decoded top tokens include the given words."""

from __future__ import annotations

import argparse


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("find-neurons", help="find neurons that decode to words",
                              description=__doc__ + " Words match with and without a leading "
                              "space and in lower/Capitalised/UPPER case unless --exact.")
    p.add_argument("words", nargs="+", metavar="WORD")
    p.add_argument("--map", required=True, metavar="DIR", help="a neuron map directory")
    p.add_argument("--limit", type=int, default=20, help="rows to print (20)")
    p.add_argument("--by", default="mass", help="rank by mass (summed probability of the "
                   "matching tokens; default) or hits (how many match)")
    p.add_argument("--exact", action="store_true", help="match the words exactly")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from interp.errors import InterpError
    from interp.neurons import NeuronMap, find_neurons
    from interp.neurons.report import format_table

    if args.limit < 1:
        raise InterpError(f"--limit must be at least 1, got {args.limit}")
    nmap = NeuronMap.load(args.map)
    hits = find_neurons(nmap, args.words, variants=not args.exact, limit=args.limit, by=args.by)
    if not hits:
        print(f"no neuron has {' / '.join(args.words)} among its top {nmap.options.top_k} tokens")
        return 0
    rows = [(h.layer, h.neuron, h.mass, h.hits, h.best_rank,
             " ".join(repr(t) for t in h.matched[:4]), " ".join(repr(t) for t in h.top))
            for h in hits]
    print(format_table(("layer", "neuron", "mass", "hits", "best rank", "matched",
                        "top tokens"), rows))
    return 0
