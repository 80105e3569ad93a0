"""`interp map-neurons`: decode every MLP neuron through the LM head into a neuron map
(resumable: each finished layer is saved; rerunning continues; --shard i/n splits layers)."""

from __future__ import annotations

import argparse
import re

from interp_cli.options import add_model_options, load_model_from

_SPAN = re.compile(r"^(\d+)(?:-(\d+))?$")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "map-neurons", help="decode every MLP neuron through the LM head (a neuron map)",
        description=__doc__ + " The decoding options and their maths are documented in "
        "docs/decode-neurons.md (and interp.neurons.options).")
    add_model_options(p)
    p.add_argument("--side", default="up", help="up (W_in, what a neuron reads), gate (W_gate, "
                   "gated MLPs only) or down (W_out, what it writes); default up")
    p.add_argument("--layers", nargs="+", default=None, metavar="L",
                   help="layers to map, e.g. 0 3 or 2-5 or 0,1 (default: all)")
    p.add_argument("--top-k", type=int, default=20, help="top tokens kept per neuron (20)")
    p.add_argument("--bottom-k", type=int, default=10, help="bottom tokens kept per neuron (10)")
    p.add_argument("--center", default="mean", help="mean (default): subtract the layer's "
                   "mean neuron vector first; none: decode the raw vectors")
    p.add_argument("--no-fold-norm", dest="fold_norm", action="store_false",
                   help="do not fold the final norm into the unembedding (naive decode)")
    p.add_argument("--scale", default="calibrated", help="calibrated (default: rms 1, then "
                   "the model's calibration factor, so probabilities compare across models), "
                   "norm (rms 1: a normalised residual state, the paper's reading) or raw")
    p.add_argument("--score", default="logit", help="logit (default, the paper) or cosine "
                   "(every token's unembedding at equal norm: removes the bias towards "
                   "large-norm tokens)")
    p.add_argument("--flagged-tokens", default="keep", help="keep (default), mark or exclude "
                   "special, unreachable and under-trained tokens (Land & Bartolo 2024)")
    p.add_argument("--bias", default="exclude", help="exclude (default) or include the folded "
                   "unembedding bias")
    p.add_argument("--temperature", type=float, default=1.0, help="softmax temperature (1.0)")
    p.add_argument("--exclude-tokens", type=int, nargs="+", default=None, metavar="ID",
                   help="token ids to leave out of ranking and softmax")
    p.add_argument("--compute-dtype", default="float32",
                   help="matmul dtype: float32 (default), float64 or bfloat16")
    p.add_argument("--chunk-size", type=int, default=None,
                   help="neurons per matmul (default: ~512 MiB of temporaries)")
    p.add_argument("--shard", default=None, metavar="I/N",
                   help="map only shard I of N (round robin over the layers); join the "
                        "shards' directories with `interp merge-maps`")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output directory (default: neuron-maps/<model>-<side>)")
    p.set_defaults(run=run)


def parse_layers(items: list[str] | None) -> list[int] | None:
    from interp.errors import InterpError

    if items is None:
        return None
    out: list[int] = []
    for item in items:
        for part in filter(None, item.split(",")):
            m = _SPAN.match(part.strip())
            if not m:
                raise InterpError(f"bad --layers value {part!r}; use e.g. 3, 0,2 or 1-4")
            lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
            if hi < lo:
                raise InterpError(f"bad --layers range {part!r}: end before start")
            out.extend(range(lo, hi + 1))
    return out


def parse_shard(text: str | None) -> tuple[int, int] | None:
    from interp.errors import InterpError

    if text is None:
        return None
    m = re.match(r"^(\d+)/(\d+)$", text.strip())
    if not m or not 0 <= int(m.group(1)) < int(m.group(2)):
        raise InterpError(f"bad --shard {text!r}; use I/N with 0 <= I < N, e.g. 0/4")
    return int(m.group(1)), int(m.group(2))


def default_out(model_name: str, side: str) -> str:
    base = re.sub(r"[^\w.-]+", "-", str(model_name).rstrip("/").split("/")[-1]) or "model"
    return f"neuron-maps/{base}-{side}"


def run(args: argparse.Namespace) -> int:
    from interp.neurons import DecodeOptions, decode_neurons
    from interp.neurons.mapper import resolve_layers, shard_layers
    from interp.neurons.report import summary_table

    options = DecodeOptions(
        side=args.side, top_k=args.top_k, bottom_k=args.bottom_k, center=args.center,
        fold_norm=args.fold_norm, scale=args.scale, score=args.score,
        flagged_tokens=args.flagged_tokens, bias=args.bias,
        temperature=args.temperature, exclude_tokens=tuple(args.exclude_tokens or ()),
        dtype=args.compute_dtype)
    layers, shard = parse_layers(args.layers), parse_shard(args.shard)
    if args.chunk_size is not None and args.chunk_size < 1:
        from interp.errors import InterpError

        raise InterpError(f"--chunk-size must be at least 1, got {args.chunk_size}")
    model = load_model_from(args)
    layers = resolve_layers(model.facts.n_layers, layers)
    if shard is not None:
        layers = shard_layers(layers, *shard)
        if not layers:
            print(f"shard {args.shard}: no layers to map (only {model.facts.n_layers})")
            return 0
    out = args.out or default_out(model.name, options.side)
    nmap = decode_neurons(model, layers=layers, options=options, chunk_size=args.chunk_size,
                          out=out, progress=True)
    print(summary_table(nmap))
    state = "complete" if nmap.complete else f"{len(nmap.layers)}/{model.facts.n_layers} layers"
    print(f"saved to {out} ({state}; fingerprint {nmap.fingerprint})")
    return 0
