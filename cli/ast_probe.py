"""`interp ast-probe`: recover syntax trees of code from a model's hidden states (AST-Probe),
per layer, against the embedding layer and a randomly initialised copy of the model."""

from __future__ import annotations

import argparse
import sys

from interp_cli.options import model_command, model_from, options_from, with_examples

from interp.options import AstProbeOptions

EXAMPLES = (
    "interp ast-probe --model interp-tiny --out runs/ast",
    ("interp ast-probe --model smollm2-135m-instruct --layers 0 8 15 22 30 --ranks 8 "
    "32 128 --out runs/ast-smollm2"),
)

def add_parser(subparsers) -> None:
    p, add = model_command(subparsers, "ast-probe", "probe hidden states for the syntax tree "
                           "of code", __doc__, AstProbeOptions)
    add("--language", help="python, or javascript / go / java / ruby / php with their "
        "tree-sitter grammar wheel installed and --data")
    add("--data", help="'stdlib' (Python functions of this interpreter's standard library, "
        "split by file) or a CodeSearchNet directory with train/valid/test .jsonl(.gz) files")
    add("--train", type=int, help="training snippets")
    add("--val", type=int, help="validation snippets")
    add("--test", type=int, help="test snippets")
    add("--layers", type=int, nargs="+", help="rows to probe (0 = embeddings, l = after l "
        "blocks; default all; row 0 is always included as the embedding baseline)")
    add("--rank", type=int, help="probe rank for the layer sweep")
    add("--ranks", type=int, nargs="*",
        help="ranks swept at the best layer (values above d_model are dropped)")
    add("--epochs", type=int, help="training epochs")
    add("--lr", type=float, help="learning rate")
    add("--patience", type=int, help="early-stopping patience (epochs)")
    add("--batch-size", type=int, help="snippets per probe minibatch")
    add("--select-on", choices=("task", "total"),
        help="validation loss for early stopping, lr cuts and the kept weights: the task loss "
        "(task, the paper's) or task loss + orthogonality penalty (total; for very small runs)")
    add("--seed", type=int, help="random seed")
    add("--no-random-baseline", dest="random_baseline", action="store_false",
        help="skip the randomly initialised model")
    add("--random-embeddings", choices=("kept", "fresh"),
        help="the random-init baseline keeps the model's input embeddings (kept, the paper's "
        "baseline) or re-initialises them too (fresh)")
    add("--examples", type=int, help="test trees drawn")
    add("--cache", help="cache directory for leaf representations (default OUT/cache)")
    add("--out", required=True, help="output directory")
    with_examples(p, EXAMPLES)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from interp.astprobe.report import ast_probe_report, results_table

    options = options_from(AstProbeOptions, args)
    results, paths = ast_probe_report(model_from(args), args.out, options)
    print(results_table(results))
    print(f"wrote {', '.join(str(p) for p in paths.values())}", file=sys.stderr)
    return 0
