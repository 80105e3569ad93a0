"""`interp map-neurons`: decode every MLP neuron through the LM head into a neuron map
(resumable: each finished layer is saved; rerunning continues; --shard i/n splits layers)."""

from __future__ import annotations

import argparse

from interp_cli.options import model_command, model_from, options_from, with_examples

from interp.neurons.options import DecodeOptions

EXAMPLES = (
    "interp map-neurons --model smollm2-135m-instruct --score cosine",
    "interp map-neurons --model interp-tiny --side down --layers 0-2 --top-k 50",
    "interp map-neurons --model gemma-3-270m --shard 0/2 --out maps/shard0",
)

def add_parser(subparsers) -> None:
    p, add = model_command(subparsers, "map-neurons", "decode every MLP neuron through the LM "
                           "head (a neuron map)", __doc__ + " The decoding options and their "
                           "maths are documented in docs/decode-neurons.md (and "
                           "interp.neurons.options).", DecodeOptions)
    add("--side", help="up (W_in, what a neuron reads), gate (W_gate, gated MLPs only) or down "
        "(W_out, what it writes)")
    add("--layers", nargs="+", metavar="L",
        help="layers to map, e.g. 0 3 or 2-5 or 0,1 (default: all)")
    add("--top-k", type=int, help="top tokens kept per neuron")
    add("--bottom-k", type=int, help="bottom tokens kept per neuron")
    add("--center", help="mean: subtract the layer's mean neuron vector first; none: decode "
        "the raw vectors")
    add("--no-fold-norm", dest="fold_norm", action="store_false",
        help="do not fold the final norm into the unembedding (naive decode)")
    add("--scale", help="calibrated (rms 1, then the model's calibration factor, so "
        "probabilities compare across models), norm (rms 1: a normalised residual state, the "
        "paper's reading) or raw")
    add("--score", help="logit (the paper) or cosine (every token's unembedding at equal norm: "
        "removes the bias towards large-norm tokens)")
    add("--flagged-tokens", help="keep, mark or exclude special, unreachable and under-trained "
        "tokens (Land & Bartolo 2024)")
    add("--bias", help="exclude or include the folded unembedding bias")
    add("--temperature", type=float, help="softmax temperature")
    add("--exclude-tokens", type=int, nargs="+", metavar="ID",
        help="token ids to leave out of ranking and softmax")
    add("--compute-dtype", default=DecodeOptions.dtype,
        help="matmul dtype: float32, float64 or bfloat16")
    add("--chunk-size", type=int, help="neurons per matmul (default: ~512 MiB of temporaries)")
    add("--shard", metavar="I/N", help="map only shard I of N (round robin over the layers); "
        "join the shards' directories with `interp merge-maps`")
    add("--out", metavar="DIR", help="output directory (default: neuron-maps/<model>-<side>)")
    with_examples(p, EXAMPLES)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from interp.neurons import map_neurons
    from interp.neurons.report import summary_table

    options = options_from(DecodeOptions, args, dtype=args.compute_dtype)
    done = map_neurons(model_from(args), options, layers=args.layers, shard=args.shard,
                       chunk_size=args.chunk_size, out=args.out)
    if done.nmap is None:
        print(f"shard {args.shard}: no layers to map (only {done.n_layers})")
        return 0
    print(summary_table(done.nmap))
    state = ("complete" if done.nmap.complete
             else f"{len(done.nmap.layers)}/{done.n_layers} layers")
    print(f"saved to {done.out} ({state}; fingerprint {done.nmap.fingerprint})")
    return 0
