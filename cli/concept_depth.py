"""`interp concept-depth`: per-layer linear probes for labelled texts; the jumping and
converging points of each dataset, with a random-init control, noise and quantisation runs.
Writes results.json, summary.csv and concept_depth.html (offline) into --out."""

from __future__ import annotations

import argparse

from interp_cli.options import add_model_options, load_model_from


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("concept-depth", help="per-layer probes: where a concept "
                              "becomes linearly decodable", description=__doc__)
    add_model_options(p)
    p.add_argument("--dataset", action="append", required=True, metavar="NAME|FILE",
                   help="bundled dataset (word_category, capital_fact, sentiment, coin_flip) "
                        "or a file: the paper's cities.csv, common_claim.csv, counterfact.csv, "
                        "hateeval.tsv, stsa.binary.*, sarcasm.json, coin_flip.json, "
                        "StrategyQA_task.json, or any .csv/.tsv/.json/.jsonl; repeat for more")
    p.add_argument("--text-column", default=None, help="text column of a tabular/JSON file")
    p.add_argument("--label-column", default=None, help="label column of a tabular/JSON file")
    p.add_argument("--group-column", default=None,
                   help="group-id column of a tabular/JSON file (default: 'group' if every "
                        "row has one); a group never straddles a train/test split")
    p.add_argument("--no-groups", action="store_true",
                   help="ignore group ids: plain stratified k-fold")
    p.add_argument("--max-per-class", type=int, default=None,
                   help="cap each class at this many examples (sampled with --seed)")
    p.add_argument("--paper-prompt", action="store_true",
                   help="wrap texts in the paper's instruction for their dataset format")
    p.add_argument("--site", default="resid_pre",
                   help="resid_pre (default; row 0 = embedding), resid_mid, resid_post or "
                        "mid_norm (the paper's post-attention norm output)")
    p.add_argument("--pooling", default="last", help="last (default, the paper's) or mean")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds (5)")
    p.add_argument("--seed", type=int, default=0, help="folds, controls, noise (0)")
    p.add_argument("--control", action="append", default=[], metavar="random-init",
                   help="random-init: the same probes on a randomly initialised model of the "
                        "same shape")
    p.add_argument("--noise", action="store_true",
                   help="also run with the paper's random 'aaa'/'bbb' prefix on every text")
    p.add_argument("--quantize", action="append", default=[], metavar="bf16|int8",
                   help="also run with quantised weights; repeat for both")
    p.add_argument("--jump", type=float, default=0.1,
                   help="jumping point: accuracy rise over every earlier layer (0.1)")
    p.add_argument("--margin", type=float, default=0.05,
                   help="a point needs accuracy >= chance + margin (0.05)")
    p.add_argument("--tol", type=float, default=0.02,
                   help="converging point: first layer within tol of the maximum (0.02)")
    p.add_argument("--batch-size", type=int, default=16, help="texts per forward pass (16)")
    p.add_argument("--cache", default=None, metavar="DIR",
                   help="representation cache (default: OUT/cache)")
    p.add_argument("--relative", action="store_true",
                   help="plot against depth / n_layers instead of blocks")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory")
    p.set_defaults(run=run)


def _check_floats(args: argparse.Namespace) -> None:
    from interp.errors import InterpError

    for name in ("jump", "margin", "tol"):
        v = getattr(args, name)
        if not 0 <= v <= 1:
            raise InterpError(f"--{name} must be in 0..1, got {v}")
    if args.batch_size < 1:
        raise InterpError(f"--batch-size must be >= 1, got {args.batch_size}")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from interp.probes.datasets import load_dataset
    from interp.probes.formats import paper_prompt
    from interp.probes.runner import check_options, run_concept_depth

    check_options(args.site, args.pooling, args.folds, args.control, args.quantize)
    _check_floats(args)
    datasets = []
    for spec in args.dataset:  # every file is read and checked before the model loads
        ds = load_dataset(spec, text_column=args.text_column, label_column=args.label_column,
                          max_per_class=args.max_per_class, seed=args.seed,
                          group_column=args.group_column, use_groups=not args.no_groups)
        if ds.groups is not None and len(set(ds.groups)) < args.folds:
            from interp.errors import InterpError

            raise InterpError(f"dataset {ds.name!r} has only {len(set(ds.groups))} groups for "
                              f"{args.folds}-fold cross-validation; need >= {args.folds} "
                              "(or --no-groups)")
        if args.paper_prompt:
            ds = ds.with_texts([paper_prompt(t, ds.meta.get("format", "")) for t in ds.texts],
                               "")
        datasets.append(ds)
    names = [d.name for d in datasets]
    if len(set(names)) != len(names):
        from interp.errors import InterpError

        raise InterpError(f"dataset names repeat ({', '.join(names)}); pass each once")
    model = load_model_from(args)
    out = Path(args.out)
    result = run_concept_depth(
        model, datasets, site=args.site, pooling=args.pooling, folds=args.folds,
        seed=args.seed, cache_dir=args.cache or out / "cache", controls=args.control,
        noise=args.noise, quantize=args.quantize, batch_size=args.batch_size, jump=args.jump,
        margin=args.margin, tol=args.tol)
    from interp.viz.concept_depth import report_html

    paths = result.write(out, report_html(result, relative=args.relative))
    print(result.table())
    print(f"model {model.name} fingerprint {model.fingerprint}; wrote "
          + ", ".join(str(p) for p in paths.values()))
    return 0
