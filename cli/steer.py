"""`interp steer`: sample generations with and without neuron clamps and print both, with the
fraction of samples that mention a concept (and its Wilson confidence interval)."""

from __future__ import annotations

import argparse
import json

from interp_cli.options import add_model_options, load_model_from


def add_clamp_options(p: argparse.ArgumentParser) -> None:
    """Options shared by steer and dose-response: mode, positions, site, scale corpus."""
    p.add_argument("--mode", default=None,
                   help="set (default), add or scale: how VALUE acts on the activation "
                        "(overrides '=' in --clamp; '+=' and '*=' always mean add and scale)")
    p.add_argument("--positions", default="all",
                   help="token positions to clamp: all (default), last, 5, 2,4 or a slice 3:")
    p.add_argument("--site", default="mlp_post",
                   help="mlp_post (default, the down projection's input), mlp_pre or "
                        "mlp_pre_linear (gated MLPs)")
    p.add_argument("--scale-corpus", default=None, metavar="FILE",
                   help="text file (one document per line) for the activation scale behind "
                        "'x' values (default: generated simple English)")


def read_lines(path: str) -> list[str]:
    """Non-empty lines of a text file, or InterpError."""
    from interp.errors import InterpError

    try:
        with open(path, encoding="utf-8") as f:
            return [line.rstrip("\n") for line in f if line.strip()]
    except OSError as err:
        raise InterpError(f"cannot read '{path}': {err.strerror or err}") from None


def scales_from(args: argparse.Namespace, model):
    """The activation scale from --scale-corpus, or None (the default corpus, on demand)."""
    from interp.steer import activation_scale

    if args.scale_corpus is None:
        return None
    return activation_scale(model, site=args.site, corpus=read_lines(args.scale_corpus))


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("steer", help="sample with and without neuron clamps; concept rate",
                              description=__doc__)
    add_model_options(p)
    p.add_argument("--clamp", action="append", required=True, metavar="LAYER:NEURON=VALUE",
                   help="e.g. 5:123=10x (set to 10 x its max activation on a reference "
                        "corpus), 5:123=4.5 (raw), 5:1,7=10x (two neurons), 5:123+=3 (add), "
                        "5:123*=0 (scale); repeat for more")
    add_clamp_options(p)
    p.add_argument("--prompt", required=True, help="the prompt to continue")
    p.add_argument("-n", "--n-samples", type=int, default=50,
                   help="samples per arm (default 50)")
    p.add_argument("--concept", default=None,
                   help="words to count: a named list (animals, colours, foods, months, "
                        "weekdays, numbers, jobs, places) or dog,cat,...")
    p.add_argument("--max-new-tokens", type=int, default=30, help="tokens per sample (30)")
    p.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (1.0)")
    p.add_argument("--top-k", type=int, default=None, help="sample from the top k tokens")
    p.add_argument("--top-p", type=float, default=None, help="nucleus sampling threshold")
    p.add_argument("--seed", type=int, default=0, help="random seed, same for both arms (0)")
    p.add_argument("--show", type=int, default=5, help="samples to print per arm (5)")
    p.add_argument("--json", action="store_true", help="print everything as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from interp.steer import Clamp, steer
    from interp.steer.clamps import parse_positions_text
    from interp.steer.dose import check_prompts

    check_prompts(args.prompt)
    positions = parse_positions_text(args.positions)
    clamps = [Clamp.parse(text, mode=args.mode, positions=positions, site=args.site)
              for text in args.clamp]  # malformed input fails before the model loads
    model = load_model_from(args)
    scales = scales_from(args, model)
    result = steer(model, args.prompt, clamps, args.n_samples, concept=args.concept,
                   max_new_tokens=args.max_new_tokens, temperature=args.temperature,
                   top_k=args.top_k, top_p=args.top_p, seed=args.seed, scales=scales)
    if args.json:
        print(json.dumps(result.to_dict(), indent=1))
    else:
        print(result.report(show=args.show))
    return 0
