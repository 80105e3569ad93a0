"""`interp concept-depth`: per-layer linear probes for labelled texts; the jumping and
converging points of each dataset, with a random-init control, noise and quantisation runs.
Writes results.json, summary.csv and concept_depth.html (offline) into --out."""

from __future__ import annotations

import argparse

from interp_cli.options import model_command, model_from, options_from, with_examples

from interp.options import ConceptDepthOptions

EXAMPLES = (
    ("interp concept-depth --model smollm2-135m-instruct --dataset capital_world "
    "--control control-task --out runs/depth"),
    ("interp concept-depth --model interp-tiny --dataset my.csv --text-column sentence "
    "--label-column label --out runs/mine"),
    ("interp concept-depth --model smollm2-135m-instruct --dataset syllogism --noise "
    "--quantize int2 --out runs/robust"),
)

def add_parser(subparsers) -> None:
    p, add = model_command(subparsers, "concept-depth", "per-layer probes: where a concept "
                           "becomes linearly decodable", __doc__, ConceptDepthOptions)
    add("--dataset", action="append", required=True, metavar="NAME|FILE",
        help="bundled dataset (word_category, capital_fact, sentiment, coin_flip; for real "
             "models animal_word, capital_world, sentiment_varied, number_compare, syllogism) "
             "or a file: "
             "the paper's cities.csv, common_claim.csv, counterfact.csv, hateeval.tsv, "
             "stsa.binary.*, sarcasm.json, coin_flip.json, StrategyQA_task.json, or any "
             ".csv/.tsv/.json/.jsonl; repeat for more")
    add("--text-column", help="text column of a tabular/JSON file")
    add("--label-column", help="label column of a tabular/JSON file")
    add("--group-column", help="group-id column of a tabular/JSON file (default: 'group' if "
        "every row has one); a group never straddles a train/test split")
    add("--no-groups", dest="use_groups", action="store_false",
        help="ignore group ids: plain stratified k-fold")
    add("--max-per-class", type=int,
        help="cap each class at this many examples (sampled with --seed)")
    add("--paper-prompt", action="store_true",
        help="wrap texts in the paper's instruction for their dataset format")
    add("--site", help="resid_pre (row 0 = embedding), resid_mid, resid_post or mid_norm (the "
        "paper's post-attention norm output)")
    add("--pooling", help="last (the paper's) or mean")
    add("--folds", type=int, help="cross-validation folds")
    add("--seed", type=int, help="folds, controls, noise")
    add("--control", action="append", default=[], metavar="random-init|control-task",
        help="random-init: the same probes on a randomly initialised model of the same shape; "
        "control-task: Hewitt & Liang's word-type control task (one random label per word "
        "type) and its selectivity per layer; repeat for both")
    add("--noise", action="store_true",
        help="also run with the paper's random 'aaa'/'bbb' prefix on every text")
    add("--quantize", action="append", default=[], metavar="bf16|int8|int4|int3|int2",
        help="also run with quantised weights (int4/3/2: rounded per block of 32, as GGUF's "
             "Q4_1); repeatable")
    add("--jump", type=float, help="jumping point: accuracy rise over every earlier layer")
    add("--margin", type=float, help="a point needs accuracy >= chance + margin")
    add("--tol", type=float, help="converging point: first layer within tol of the maximum")
    add("--batch-size", type=int, help="texts per forward pass")
    add("--cache", metavar="DIR", help="representation cache (default: OUT/cache)")
    add("--relative", action="store_true",
        help="plot against depth / n_layers instead of blocks")
    add("--out", required=True, metavar="DIR", help="output directory")
    with_examples(p, EXAMPLES)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from interp.probes import concept_depth_report

    result, paths = concept_depth_report(model_from(args), args.dataset, args.out,
                                         options_from(ConceptDepthOptions, args))
    print(result.table())
    print(f"model {result.params['model']} fingerprint {result.params['fingerprint']}; wrote "
          + ", ".join(str(p) for p in paths.values()))
    return 0
