"""`interp export-neurons`: write a neuron map plus each neuron's top-activating and random text
windows as OpenAI automated-interpretability NeuronRecords (openai/<layer>/<neuron>.json) and
as a Neuronpedia import folder (neuronpedia/<model>/<layer>/), with a cfg.json manifest."""

from __future__ import annotations

import argparse

from interp_cli.options import add_model_options, adder, command, model_from, with_examples

from interp.neurons.export import ExportOptions
from interp.texts.corpora import BUNDLED_CHARS

EXAMPLES = (
    ("interp export-neurons --model interp-tiny --map maps/tiny-up --map maps/tiny-down "
     "--layers 0-1 --out exports/tiny"),
    ("interp export-neurons --model smollm2-135m-instruct --map "
     "neuron-maps/smollm2-135m-instruct-down --neuron 29:1433 --neuron 3:17,18 --corpus "
     "python-docs --out exports/smollm2"),
    ("interp export-neurons --model interp-tiny --map maps/tiny-up --top-k 40 --random 40 "
     "--max-docs 500 --neuronpedia-model tiny-test --out exports/tiny-all"),
)


def add_parser(subparsers) -> None:
    p = command(subparsers, "export-neurons", "neuron records for Neuronpedia and OpenAI's "
                "automated interpretability", __doc__)
    add = adder(p, ExportOptions)
    add("--model", required=True, help="the map's model (bundled name, local HF folder, .gguf "
        "file or cached hub name)")
    add_model_options(p, model=False)
    add("--map", action="append", required=True, metavar="DIR",
        help="neuron map folder (interp map-neurons); repeat for more sides of the same model "
             "(Neuronpedia's pos/neg tokens come from the down side when given)")
    add("--layers", nargs="+", metavar="L",
        help="export every neuron of these layers, e.g. 0 3 or 2-5 (default: the map's layers)")
    add("--neuron", action="append", metavar="LAYER:NEURON",
        help="export this neuron, e.g. 5:123 or 5:123,140; repeatable (instead of --layers)")
    add("--corpus", metavar="FILE|NAME", help="texts: 'bundled', 'python-docs', a .jsonl file "
        "with a \"text\" field or a plain-text file (default: the model's default corpus)")
    add("--corpus-chars", type=int, metavar="N",
        help=f"characters of the bundled corpus (default {BUNDLED_CHARS})")
    add("--max-docs", type=int, help="use at most N documents")
    add("--top-k", type=int, help="top-activating windows per neuron")
    add("--random", type=int, help="random windows (the same ones for every neuron)")
    add("--before", type=int, help="tokens kept before each window's centre")
    add("--after", type=int, help="tokens kept after each window's centre")
    add("--max-length", type=int, help="tokens read per document")
    add("--batch-size", type=int, help="documents per forward pass")
    add("--seed", type=int, help="seed of the random windows")
    add("--neuronpedia-model", metavar="ID", help="Neuronpedia model id (default: the model "
        "name, lower-cased)")
    add("--creator-id", help="Neuronpedia user id the rows name as creator")
    add("--creator-name", help="creator name of the Neuronpedia source set")
    add("--out", required=True, metavar="DIR",
        help="folder to write: new, empty, or a previous export (replaced)")
    with_examples(p, EXAMPLES)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from interp_cli.options import options_from

    from interp.neurons.export import export_neurons, parse_neurons
    from interp.neurons.mapper import parse_layers

    summary = export_neurons(
        model_from(args), args.map, args.out, corpus=args.corpus,
        corpus_chars=args.corpus_chars, max_docs=args.max_docs,
        layers=parse_layers(args.layers), neurons=parse_neurons(args.neuron),
        options=options_from(ExportOptions, args), neuronpedia_model=args.neuronpedia_model,
        progress=True)
    print(summary)
    return 0
