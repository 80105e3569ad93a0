"""`interp codebook train|search|steer`: finetune codebook bottlenecks at named sites and save
them; find the codes (and neurons) that mark a regex or a word set; activate a code while
sampling and compare a concept's rate with the codebook model's baseline."""

from __future__ import annotations

import argparse
import json

from interp_cli.options import command, model_command, model_from, options_from, with_examples

from interp.options import CodebookSearchOptions, CodebookSteerOptions, CodebookTrainOptions

TEXTS = ("{what}, one document per line (default: the model's default corpus: generated "
         "stories for a bundled toy model, the committed real text (python-docs) otherwise)")


TRAIN_EXAMPLES = (
    "interp codebook train --model interp-tiny --site 2:mlp_out --out runs/books",
    ("interp codebook train --model smollm2-135m-instruct --site 10:attn_z --codes 256 "
    "-k 4 --steps 100 --out runs/books-smollm2"),
)
SEARCH_EXAMPLES = (
    ("interp codebook search --model interp-tiny --codebooks runs/books --words "
    "animals"),
    ("interp codebook search --model interp-tiny --codebooks runs/books --regex "
    "'def |return' --neurons"),
)
STEER_EXAMPLES = (
    ("interp codebook steer --model interp-tiny --codebooks runs/books --code "
    "2:mlp_out#17 --prompt \"Once upon a time\" --concept animals"),
    ("interp codebook steer --model interp-tiny --codebooks runs/books --code "
    "2:mlp_out#17 --mode add --strength 2 --prompt \"The\" -n 8"),
)
EXAMPLES = (
    "interp codebook train --model interp-tiny --site 2:mlp_out --out runs/books",
    ("interp codebook search --model interp-tiny --codebooks runs/books --words "
    "animals"),
    ("interp codebook steer --model interp-tiny --codebooks runs/books --code "
    "2:mlp_out#17 --prompt \"Once upon a time\" --concept animals"),
)

def _on(flag: bool) -> str:
    return "on" if flag else "off"


def add_parser(subparsers) -> None:
    p = command(subparsers, "codebook", "codebook bottlenecks: train, search, steer", __doc__)
    with_examples(p, EXAMPLES)
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    t, add = model_command(sub, "train", "finetune codebooks at sites and save them", None,
                           CodebookTrainOptions)
    add("--site", action="append", required=True, metavar="LAYER:SITE",
        help="e.g. 2:mlp_out, 3:attn_out or 1:attn_z (one codebook per head); repeatable")
    add("--codes", type=int, help="codes per codebook")
    add("-k", type=int, help="active codes per token")
    add("--similarity", help="cosine or inner")
    add("--layer-norm", action=argparse.BooleanOptionalAction,
        help=f"LayerNorm before snapping, as the paper's code (default: "
        f"{_on(CodebookTrainOptions.layer_norm)})")
    add("--steps", type=int, help="training steps")
    add("--batch-size", type=int, help="rows per step")
    add("--seq-len", type=int, help="tokens per row")
    add("--lr", type=float, help="codebook learning rate")
    add("--train-model", action="store_true", help="train the model's weights too (default: "
        "frozen)")
    add("--kmeans", action=argparse.BooleanOptionalAction,
        help=f"k-means initialisation of the codes, else random as in the paper (default: "
        f"{_on(CodebookTrainOptions.kmeans)})")
    add("--replace-dead-every", type=int, help="re-seed unused codes every N steps (0: never)")
    add("--texts", metavar="FILE", help=TEXTS.format(what="training text"))
    add("--train-chars", type=int, help="characters of generated text to train on")
    add("--eval-rows", type=int, help="held-out rows for health")
    add("--seed", type=int, help="random seed")
    add("--out", required=True, metavar="DIR", help="directory to save them in")
    with_examples(t, TRAIN_EXAMPLES)
    t.set_defaults(run=run_train)

    s, add = model_command(sub, "search", "codes (and neurons) that mark a regex or words", None,
                           CodebookSearchOptions)
    add("--codebooks", required=True, metavar="DIR", help="saved codebooks")
    what = s.add_mutually_exclusive_group(required=True)
    what.add_argument("--regex", help="mark tokens overlapping a match (case-insensitive)")
    what.add_argument("--words", help="mark these words: dog,cat,... or a named concept "
                      "(animals, colours, months, ...)")
    add("--texts", metavar="FILE", help=TEXTS.format(what="text to search"))
    add("--search-chars", type=int, help="characters of generated text to search")
    add("--top", type=int, help="cards to show")
    add("--min-active", type=int, help="ignore codes active on fewer tokens")
    add("--neurons", action="store_true", help="also search MLP neurons")
    add("--json", action="store_true", help="print the cards as JSON")
    with_examples(s, SEARCH_EXAMPLES)
    s.set_defaults(run=run_search)

    g, add = model_command(sub, "steer", "sample with a code activated vs the codebook model",
                           None, CodebookSteerOptions)
    add("--codebooks", required=True, metavar="DIR", help="saved codebooks")
    add("--code", action="append", required=True, metavar="LAYER:SITE#CODE",
        help="e.g. 2:mlp_out#17 or 1:attn_z/h3#5 (a search card's unit); repeatable")
    add("--mode", help="slot (replace the least similar active codes) or add (add STRENGTH x "
        "the code)")
    add("--strength", type=float, help="slot: how many of the k codes to replace; add: the "
        "multiple")
    add("--positions", help="all, last, 5, 2,4 or 3:")
    add("--prompt", required=True, help="the prompt to continue")
    add("-n", "--n-samples", type=int, help="samples per arm")
    add("--concept", help="words to count (animals, dog,cat)")
    add("--max-new-tokens", type=int, help="tokens per sample")
    add("--temperature", type=float, help="sampling temperature")
    add("--seed", type=int, help="random seed, same for both arms")
    add("--show", type=int, help="samples to print per arm")
    add("--json", action="store_true", help="print everything as JSON")
    with_examples(g, STEER_EXAMPLES)
    g.set_defaults(run=run_steer)


def run_train(args: argparse.Namespace) -> int:
    from interp.codebook import train_codebooks

    options = options_from(CodebookTrainOptions, args)
    print(train_codebooks(model_from(args), args.site, args.out, options).report())
    return 0


def run_search(args: argparse.Namespace) -> int:
    from interp.codebook import search_codebooks

    found = search_codebooks(model_from(args), args.codebooks, regex=args.regex,
                             words=args.words, options=options_from(CodebookSearchOptions, args))
    print(json.dumps(found.to_dict(), indent=1) if args.json else found.report())
    return 0


def run_steer(args: argparse.Namespace) -> int:
    from interp.codebook import steer_codebooks

    options = options_from(CodebookSteerOptions, args)
    result = steer_codebooks(model_from(args), args.codebooks, args.code, args.prompt, options)
    print(json.dumps(result.to_dict(), indent=1) if args.json else result.report(options.show))
    return 0
