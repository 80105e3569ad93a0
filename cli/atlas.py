"""`interp atlas`: render neuron maps into a static HTML neuron atlas that opens from disk
(file://, no network). With --model, first collects each neuron's top-activating examples and
activation histogram over a corpus (one streaming pass); --dose adds clamp dose-response
summaries from `interp dose-response --table F.json` tables."""

from __future__ import annotations

import argparse
import sys

from interp_cli.options import (
    add_model_options,
    adder,
    command,
    model_from,
    options_from,
    with_examples,
)

from interp.options import AtlasOptions
from interp.texts.corpora import BUNDLED_CHARS

EXAMPLES = (
    ("interp atlas --map neuron-maps/smollm2-135m-instruct-up --model "
    "smollm2-135m-instruct --corpus python-docs --max-docs 16 --out atlas/smollm2"),
    "interp atlas --map maps/up --map maps/down --out atlas/decoded-only",
    ("interp atlas --map maps/tiny-up --model interp-tiny --dose dose.json --out "
    "atlas/tiny"),
)

def add_parser(subparsers) -> None:
    p = command(subparsers, "atlas", "a static HTML neuron atlas (opens from disk)", __doc__)
    add = adder(p, AtlasOptions)
    add("--map", action="append", required=True, metavar="DIR",
        help="neuron map folder (interp map-neurons); repeat for more sides (up, gate, down) "
             "of the same model")
    add("--model", default=None, help="collect activation examples with this model (bundled "
        "name, local HF folder or cached hub name); it must be the map's model")
    add_model_options(p, model=False)
    add("--corpus", metavar="FILE|NAME",
        help="texts for the examples: 'bundled' (the bundled models' generated simple English, "
             "fixed seed), 'python-docs' (committed real English prose and Python code), a "
             ".jsonl file with a \"text\" field per line, or a plain-text file with documents "
             "separated by blank lines (default: 'bundled' for a bundled model, 'python-docs' "
             "for any other)")
    add("--corpus-chars", type=int, metavar="N",
        help=f"characters of the bundled corpus (default {BUNDLED_CHARS})")
    add("--max-docs", type=int, help="use at most N documents")
    add("--top-examples", type=int, help="top-activating documents kept per neuron")
    add("--records", metavar="DIR", help="activation records: read from DIR if it holds some "
        "(no model needed), else collected with --model and saved there")
    add("--dose", action="append", default=[], metavar="FILE.json",
        help="a dose-response table (interp dose-response --table F.json) or a folder of them; "
             "repeatable")
    add("--shard-size", type=int, help="neurons per data file of the pages")
    add("--out", required=True, metavar="SITE",
        help="site folder to write: new, empty, or a previous atlas (replaced)")
    with_examples(p, EXAMPLES)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from interp.atlas import build_atlas

    o = options_from(AtlasOptions, args)
    if args.model is None and o.corpus is not None:
        print("note: --corpus is used only with --model (to collect examples)", file=sys.stderr)
    summary = build_atlas(args.map, args.out, model=args.model and model_from(args),
                          corpus=o.corpus, corpus_chars=o.corpus_chars, max_docs=o.max_docs,
                          records=args.records, dose=args.dose, shard_size=o.shard_size,
                          top_k=o.top_examples, progress=True)
    print(summary)
    print(f"open {Path(args.out) / 'index.html'} in a browser (works offline, from disk)")
    return 0
