"""`interp ast-probe`: recover syntax trees of code from a model's hidden states (AST-Probe),
per layer, against the embedding layer and a randomly initialised copy of the model."""

from __future__ import annotations

import argparse
import sys

from interp_cli.options import add_model_options, load_model_from


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("ast-probe", help="probe hidden states for the syntax tree of code",
                              description=__doc__)
    add_model_options(p)
    p.add_argument("--language", default="python",
                   help="python (default), or javascript / go / java / ruby / php with their "
                        "tree-sitter grammar wheel installed and --data")
    p.add_argument("--data", default="stdlib",
                   help="'stdlib' (Python functions of this interpreter's standard library, "
                        "split by file) or a CodeSearchNet directory with train/valid/test "
                        ".jsonl(.gz) files")
    p.add_argument("--train", type=int, default=2000, help="training snippets (default 2000)")
    p.add_argument("--val", type=int, default=300, help="validation snippets (default 300)")
    p.add_argument("--test", type=int, default=300, help="test snippets (default 300)")
    p.add_argument("--layers", type=int, nargs="+", default=None,
                   help="rows to probe (0 = embeddings, l = after l blocks; default all; row 0 "
                        "is always included as the embedding baseline)")
    p.add_argument("--rank", type=int, default=64, help="probe rank for the layer sweep")
    p.add_argument("--ranks", type=int, nargs="*", default=[8, 16, 32, 64, 128],
                   help="ranks swept at the best layer (values above d_model are dropped)")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--patience", type=int, default=5, help="early-stopping patience (epochs)")
    p.add_argument("--batch-size", type=int, default=32, help="snippets per probe minibatch")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-random-baseline", action="store_true",
                   help="skip the randomly initialised model")
    p.add_argument("--examples", type=int, default=4, help="test trees drawn (default 4)")
    p.add_argument("--cache", default=None,
                   help="cache directory for leaf representations (default OUT/cache)")
    p.add_argument("--out", required=True, help="output directory")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from interp.astprobe import ProbeConfig, run_experiment, write_report
    from interp.astprobe.data import codesearchnet_snippets, stdlib_snippets
    from interp.astprobe.parse import get_parser
    from interp.errors import InterpError

    get_parser(args.language)  # unknown or missing grammar: error before loading anything
    for name in ("train", "val", "test"):
        if getattr(args, name) < 1:
            raise InterpError(f"--{name} must be at least 1, got {getattr(args, name)}")
    sizes = {"train": args.train, "val": args.val, "test": args.test}
    if args.data == "stdlib":
        if args.language != "python":
            raise InterpError(f"--data stdlib holds Python code, not {args.language!r}; pass a "
                              "CodeSearchNet directory with --data")
        splits = stdlib_snippets(args.train, args.val, args.test)
    else:
        splits = codesearchnet_snippets(args.data, args.language, limits=sizes)
    model = load_model_from(args)
    cfg = ProbeConfig(rank=args.rank, lr=args.lr, epochs=args.epochs, patience=args.patience,
                      batch_size=args.batch_size, seed=args.seed,
                      device="cpu" if model.device.type == "mps" else str(model.device))
    results = run_experiment(
        model, splits, language=args.language, layers=args.layers, cfg=cfg, ranks=args.ranks,
        random_baseline=not args.no_random_baseline, n_examples=args.examples,
        cache_dir=args.cache or str(Path(args.out) / "cache"))
    results["data"] = args.data
    paths = write_report(results, args.out)
    print(f"{'layer':>5}  {'F1':>6}  {'micro F1':>8}  {'random-init F1':>14}")
    rnd = {r["row"]: r for r in results.get("random_init") or []}
    for r in results["per_layer"]:
        other = f"{rnd[r['row']]['f1']:.3f}" if r["row"] in rnd else "-"
        print(f"{r['row']:>5}  {r['f1']:>6.3f}  {r['micro_f1']:>8.3f}  {other:>14}")
    print(f"best layer {results['best_layer']} (by validation F1); snippets "
          + ", ".join(f"{k} {v}" for k, v in results["n_snippets"].items())
          + "; skipped " + ", ".join(f"{k}: {sum(v.values())}" for k, v in results["skipped"].items()))
    print(f"wrote {', '.join(str(p) for p in paths.values())}", file=sys.stderr)
    return 0
