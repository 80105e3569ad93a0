"""`interp steer`: sample generations with and without neuron clamps and print both, with the
fraction of samples that mention a concept (and its Wilson confidence interval)."""

from __future__ import annotations

import argparse
import json

from interp_cli.options import adder, model_command, model_from, options_from, with_examples

from interp.options import ClampOptions, SteerOptions

EXAMPLES = (
    ("interp steer --model interp-tiny --clamp 3:725=10x --prompt \"Once upon a time\" "
    "--concept animals"),
    ("interp steer --model smollm2-135m-instruct --clamp 29:1433=10x --prompt \"I want "
    "to tell you about\" -n 8 --concept sugar,bread"),
    ("interp steer --model interp-tiny --clamp 3:725=2 --mode add --prompt \"The\" "
    "--json"),
)

def add_clamp_options(p: argparse.ArgumentParser) -> None:
    """Options shared by steer and dose-response: mode, positions, site, scale corpus."""
    add = adder(p, ClampOptions)
    add("--mode", help="set (default), add or scale: how VALUE acts on the activation "
        "(overrides '=' in --clamp; '+=' and '*=' always mean add and scale)")
    add("--positions", help="token positions to clamp: all, last, 5, 2,4 or a slice 3:")
    add("--site", help="mlp_post (the down projection's input), mlp_pre or mlp_pre_linear "
        "(gated MLPs)")
    add("--scale-corpus", metavar="FILE", help="text file (one document per line) for the "
        "activation scale behind 'x' values (default: generated simple English)")


def add_parser(subparsers) -> None:
    p, add = model_command(subparsers, "steer", "sample with and without neuron clamps; "
                           "concept rate", __doc__, SteerOptions)
    add("--clamp", action="append", required=True, metavar="LAYER:NEURON=VALUE",
        help="e.g. 5:123=10x (set to 10 x its max activation on a reference corpus), 5:123=4.5 "
             "(raw), 5:1,7=10x (two neurons), 5:123+=3 (add), 5:123*=0 (scale); repeat for more")
    add_clamp_options(p)
    add("--prompt", required=True, help="the prompt to continue")
    add("-n", "--n-samples", type=int, help="samples per arm")
    add("--concept", help="words to count: a named list (animals, colours, foods, months, "
        "weekdays, numbers, jobs, places) or dog,cat,...")
    add("--max-new-tokens", type=int, help="tokens per sample")
    add("--temperature", type=float, help="sampling temperature")
    add("--top-k", type=int, help="sample from the top k tokens")
    add("--top-p", type=float, help="nucleus sampling threshold")
    add("--seed", type=int, help="random seed, same for both arms")
    add("--show", type=int, help="samples to print per arm")
    add("--json", action="store_true", help="print everything as JSON")
    with_examples(p, EXAMPLES)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from interp.steer.workflows import steer_prompt

    options = options_from(SteerOptions, args)
    result = steer_prompt(model_from(args), args.prompt, args.clamp, options)
    print(json.dumps(result.to_dict(), indent=1) if args.json else result.report(options.show))
    return 0
