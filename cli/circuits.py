"""`interp circuits`: score every attention head for a task with the SAE method of O'Neill &
Bui (2024), activation patching and/or attribution patching; write a ranked head table (CSV +
JSON), heatmaps (offline HTML) and each method's wall time; compare with a ground truth."""

from __future__ import annotations

import argparse

from interp_cli.options import add_model_options, load_model_from

TASK_NAMES = ("ioi", "greater-than", "docstring")
METHOD_NAMES = ("sae", "patching", "attribution")


def _methods(text: str) -> list[str]:
    from interp.errors import choices_error

    out = list(METHOD_NAMES) if text == "all" else [m.strip() for m in text.split(",")]
    for m in out:
        if m not in METHOD_NAMES:
            raise choices_error("method", m, (*METHOD_NAMES, "all"))
    return out


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("circuits", help="find a task's circuit heads (SAE codes, "
                              "patching)", description=__doc__)
    add_model_options(p)
    p.add_argument("--task", default=None, help="ioi, greater-than or docstring")
    p.add_argument("--task-file", default=None, metavar="JSON",
                   help="a custom task instead: {positives, negatives, answers, wrong}")
    p.add_argument("--method", default="sae",
                   help="sae (default), patching, attribution, a comma list, or all")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory")
    p.add_argument("--truth", default=None,
                   help="ground truth: a bundled circuit (ioi-gpt2-small, greater-than-gpt2-"
                        "small, docstring-attn-only-4l), a JSON file, or 'patching' (heads "
                        "whose activation-patching score reaches --truth-threshold)")
    p.add_argument("--truth-threshold", type=float, default=0.1,
                   help="|patching score| (fraction of the clean-corrupt gap) for --truth "
                        "patching (0.1)")
    p.add_argument("--ioi-words", default="paper",
                   help="IOI names/places/objects/templates: paper (default) or bundled "
                        "(those of interp-tiny's training corpus)")
    p.add_argument("--ioi-corrupt", default="s1",
                   help="which mention of the IOI subject a negative replaces by a third name: "
                        "s1 (the paper's, default) or s2")
    p.add_argument("-n", "--n-prompts", type=int, default=50, help="prompt pairs (50)")
    p.add_argument("--seed", type=int, default=0, help="prompt and SAE seed (0)")
    p.add_argument("--pooling", default="mean", help="mean (the paper) or last")
    p.add_argument("--score", default="count",
                   help="count (the paper), fraction or frequency")
    p.add_argument("--latents", type=int, default=200, help="SAE latents (200)")
    p.add_argument("--l1", type=float, default=0.02, help="L1 coefficient (0.02)")
    p.add_argument("--epochs", type=int, default=500, help="full-batch epochs (500)")
    p.add_argument("--n-train", type=int, default=10, help="prompts the SAE trains on (10)")
    p.add_argument("--patch-mode", default="corrupted", help="corrupted (default) or mean")
    p.add_argument("--top-n", type=int, default=None,
                   help="heads predicted for precision/recall (default: the truth's size)")
    p.add_argument("--threshold", type=float, default=None,
                   help="also report precision/recall for scores above this value")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from interp.circuits import SAESettings, load_circuit, make_task, run_circuits
    from interp.circuits.tasks.custom import task_from_file
    from interp.errors import InterpError, choices_error

    methods = _methods(args.method)
    if (args.task is None) == (args.task_file is None):
        raise InterpError("give exactly one of --task (ioi, greater-than, docstring) or "
                          "--task-file")
    if args.task is not None and args.task not in TASK_NAMES:
        raise choices_error("task", args.task, TASK_NAMES)
    if args.n_prompts < 2:
        raise InterpError(f"--n-prompts must be at least 2, got {args.n_prompts}")
    truth = args.truth
    if truth not in (None, "patching"):
        truth = load_circuit(truth)  # bad files fail before the model loads
    settings = SAESettings(n_latents=args.latents, l1=args.l1, epochs=args.epochs,
                           n_train=args.n_train, score=args.score, seed=args.seed)
    model = load_model_from(args)
    if args.task_file is not None:
        task = task_from_file(model, args.task_file)
    else:
        extra = ({"words": args.ioi_words, "corrupt": args.ioi_corrupt} if args.task == "ioi"
                 else {})
        task = make_task(args.task, model, args.n_prompts, args.seed, **extra)
    report = run_circuits(model, task, methods, truth=truth,
                          truth_threshold=args.truth_threshold, settings=settings,
                          pooling=args.pooling, patch_mode=args.patch_mode, top_n=args.top_n,
                          threshold=args.threshold, progress=True)
    written = report.write(args.out)
    print(report.summary())
    print("wrote " + ", ".join(str(p) for p in written))
    return 0
