"""`interp circuits`: score every attention head for a task with the SAE method of O'Neill &
Bui (2024), activation patching and/or attribution patching; write a ranked head table (CSV +
JSON), heatmaps (offline HTML) and each method's wall time; compare with a ground truth."""

from __future__ import annotations

import argparse

from interp_cli.options import model_command, model_from, options_from, with_examples

from interp.options import PAPER_L1, PAPER_L1_OTHER, CircuitsOptions

EXAMPLES = (
    "interp circuits --model interp-circuits --task ioi --out runs/ioi",
    ("interp circuits --model smollm2-135m-instruct --task ioi --method "
    "patching,attribution -n 50 --out runs/ioi-smollm2"),
    ("interp circuits --model interp-tiny --task-file my_task.json --method all --out "
    "runs/custom"),
)

def add_parser(subparsers) -> None:
    p, add = model_command(subparsers, "circuits", "find a task's circuit heads (SAE codes, "
                           "patching)", __doc__, CircuitsOptions)
    add("--task", help="ioi, greater-than or docstring")
    add("--task-file", metavar="JSON",
        help="a custom task instead: {positives, negatives, answers, wrong}")
    add("--method", help="sae, patching, attribution, a comma list, or all")
    add("--out", required=True, metavar="DIR", help="output directory")
    add("--truth", help="ground truth: a bundled circuit (ioi-gpt2-small, greater-than-gpt2-"
        "small, docstring-attn-only-4l), a JSON file, or 'patching' (heads whose "
        "activation-patching score reaches --truth-threshold; patching is then not scored)")
    add("--truth-threshold", type=float, help="|patching score| (fraction of the "
        "clean-corrupt gap) for --truth patching")
    add("--ioi-words", help="IOI names/places/objects/templates: paper or bundled (those of "
        "interp-tiny's training corpus)")
    add("--ioi-corrupt", help="IOI negatives: paper (the indirect object's mentions become a "
        "third name, the subject's first mention the indirect object), s1 or s2 (that mention "
        "of the subject becomes a third name)")
    add("-n", "--n-prompts", type=int, help="prompt pairs")
    add("--seed", type=int, help="prompt and SAE seed")
    add("--pooling", help="mean (the paper) or last")
    add("--score", help="count (the paper), fraction or frequency")
    add("--latents", type=int, help="SAE latents")
    per_task = ", ".join(f"{v:g} on {k}" for k, v in PAPER_L1.items())
    add("--l1", type=float, help=f"SAE L1 coefficient (default: the paper's for the task, "
        f"{per_task}, {PAPER_L1_OTHER:g} otherwise)")
    add("--epochs", type=int, help="full-batch epochs")
    add("--n-train", type=int, help="prompts the SAE trains on")
    add("--patch-mode", help="corrupted or mean")
    add("--top-n", type=int,
        help="heads predicted for precision/recall (default: the truth's size)")
    add("--threshold", type=float,
        help="also report precision/recall for scores above this value")
    with_examples(p, EXAMPLES)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from interp.circuits import circuit_report

    report, written = circuit_report(model_from(args), args.out,
                                     options_from(CircuitsOptions, args), task=args.task,
                                     task_file=args.task_file, truth=args.truth)
    print(report.summary())
    print("wrote " + ", ".join(str(p) for p in written))
    return 0
