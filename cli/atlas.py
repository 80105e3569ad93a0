"""`interp atlas`: render neuron maps into a static HTML neuron atlas that opens from disk
(file://, no network). With --model, first collects each neuron's top-activating examples and
activation histogram over a corpus (one streaming pass); --dose adds clamp dose-response
summaries from `interp dose-response --table F.json` tables."""

from __future__ import annotations

import argparse
import shlex
import sys


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("atlas", help="a static HTML neuron atlas (opens from disk)",
                              description=__doc__)
    p.add_argument("--map", action="append", required=True, metavar="DIR",
                   help="neuron map folder (interp map-neurons); repeat for more sides "
                        "(up, gate, down) of the same model")
    p.add_argument("--model", default=None,
                   help="collect activation examples with this model (bundled name, local "
                        "HF folder or cached hub name); it must be the map's model")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument("--dtype", default=None, help="float32, bfloat16 or float16")
    p.add_argument("--corpus", default="bundled", metavar="FILE|NAME",
                   help="texts for the examples: 'bundled' (generated simple English, fixed "
                        "seed; default), 'python-docs' (committed real English prose and "
                        "Python code, for real models), a .jsonl file with a \"text\" field "
                        "per line, or a plain-text file with documents separated by blank lines")
    p.add_argument("--corpus-chars", type=int, default=None, metavar="N",
                   help="characters of the bundled corpus (default 200000)")
    p.add_argument("--max-docs", type=int, default=None, help="use at most N documents")
    p.add_argument("--top-examples", type=int, default=16,
                   help="top-activating documents kept per neuron (16)")
    p.add_argument("--records", default=None, metavar="DIR",
                   help="activation records: read from DIR if it holds some (no model "
                        "needed), else collected with --model and saved there")
    p.add_argument("--dose", action="append", default=[], metavar="FILE.json",
                   help="a dose-response table (interp dose-response --table F.json); "
                        "repeatable")
    p.add_argument("--shard-size", type=int, default=64,
                   help="neurons per data file of the pages (64)")
    p.add_argument("--out", required=True, metavar="SITE",
                   help="site folder to write: new, empty, or a previous atlas (replaced)")
    p.set_defaults(run=run)


def rebuild_command(args: argparse.Namespace) -> str:
    """The command line that rebuilds this atlas (recorded in its provenance)."""
    parts = ["interp", "atlas"]
    for path in args.map:
        parts += ["--map", path]
    if args.model is not None:
        parts += ["--model", args.model, "--corpus", args.corpus]
        for flag, value, default in (("--corpus-chars", args.corpus_chars, None),
                                     ("--max-docs", args.max_docs, None),
                                     ("--top-examples", args.top_examples, 16),
                                     ("--dtype", args.dtype, None)):
            if value != default:
                parts += [flag, str(value)]
    if args.records is not None:
        parts += ["--records", args.records]
    for path in args.dose:
        parts += ["--dose", path]
    if args.shard_size != 64:
        parts += ["--shard-size", str(args.shard_size)]
    return shlex.join([*parts, "--out", args.out])


def run(args: argparse.Namespace) -> int:
    from interp.atlas import build_atlas
    from interp.atlas.corpus import BUNDLED_CHARS, open_corpus
    from interp.atlas.site import check_output, load_maps
    from interp.errors import InterpError

    if args.top_examples < 1:
        raise InterpError(f"--top-examples must be at least 1, got {args.top_examples}")
    maps = load_maps(args.map)  # bad maps and a bad --out fail before a model loads
    from pathlib import Path

    check_output(Path(args.out))
    model, corpus = None, args.corpus
    if args.model is not None:
        corpus = open_corpus(args.corpus, n_chars=args.corpus_chars or BUNDLED_CHARS,
                             max_docs=args.max_docs)
        from interp import load_model

        model = load_model(args.model, device=args.device, dtype=args.dtype)
    if args.model is None and args.corpus != "bundled":
        print("note: --corpus is used only with --model (to collect examples)", file=sys.stderr)
    summary = build_atlas(maps, args.out, model=model, corpus=corpus, records=args.records,
                          dose=args.dose, shard_size=args.shard_size, command=rebuild_command(args),
                          progress=True, top_k=args.top_examples)
    print(summary)
    print(f"open {Path(args.out) / 'index.html'} in a browser (works offline, from disk)")
    return 0
