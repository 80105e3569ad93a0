"""Neuron decoding speed: the full decode (matmul + top-k + bottom-k + probabilities + entropy +
writing the layer file) against a bare torch.matmul of the same shapes and a naive per-neuron
loop, all in this process on random weights; plus time and peak memory for one
Llama-3.1-8B-shaped layer (14,336 x 4,096 against a 128,256-token unembedding), projected to
32 layers.

    .venv/bin/python benchmarks/decode_neurons.py              # Llama-3.1-8B shapes, 1 layer
    .venv/bin/python benchmarks/decode_neurons.py --small      # 2,048 x 1,024 vs 32,000 tokens
    .venv/bin/python benchmarks/decode_neurons.py --device cuda --layers 32
"""

from __future__ import annotations

import argparse
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from interp.neurons import DecodeOptions
from interp.neurons.decode import (
    Unembedding,
    chunk_size_for,
    decode_chunk,
    decode_vectors,
    prepare_vectors,
)
from interp.neurons.report import format_table
from interp.neurons.store import MapHeader, write_layer

LLAMA_8B = {"n": 14_336, "d": 4_096, "vocab": 128_256, "layers": 32}
SMALL = {"n": 2_048, "d": 1_024, "vocab": 32_000, "layers": 16}


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def peak_memory_gb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # Linux: KiB


def timed(fn, device: torch.device) -> float:
    sync(device)
    t0 = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    p.add_argument("--small", action="store_true", help="2,048 x 1,024 vs 32,000 tokens")
    p.add_argument("--shape", type=int, nargs=3, metavar=("N", "D", "VOCAB"),
                   help="custom shape: neurons per layer, d_model, vocabulary")
    p.add_argument("--layers", type=int, default=1, help="layers to decode for real (1)")
    p.add_argument("--sample", type=int, default=None, metavar="M",
                   help="time only M neurons of each layer and extrapolate to the layer "
                        "(the chunks are the same, so rates are unchanged; saves minutes)")
    p.add_argument("--dtype", default="float32", help="float32 or bfloat16 matmul")
    p.add_argument("--top-k", type=int, default=20)
    p.add_argument("--loop-neurons", type=int, default=64,
                   help="neurons timed in the per-neuron loop (extrapolated to a layer)")
    p.add_argument("--chunk-mb", type=float, default=512, help="memory per chunk (MiB)")
    p.add_argument("--repeat", type=int, default=2,
                   help="alternate bare matmul and full decode this many times; keep the "
                        "fastest of each (robust to other load on the machine)")
    args = p.parse_args()

    if args.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(args.device)
    shape = dict(SMALL if args.small else LLAMA_8B)
    if args.shape:
        shape.update(n=args.shape[0], d=args.shape[1], vocab=args.shape[2])
    n_layer, d, vocab = shape["n"], shape["d"], shape["vocab"]
    n = min(args.sample or n_layer, n_layer)
    scale_up = n_layer / n
    opts = DecodeOptions(top_k=args.top_k, dtype=args.dtype)
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}[args.dtype]
    gen = torch.Generator(device="cpu").manual_seed(0)

    weight = (torch.randn(d, vocab, generator=gen) / d**0.5).to(device=device, dtype=dtype)
    unembed = Unembedding(weight=weight, bias=None, token_ids=None, center_rows=False)
    layers = [torch.randn(n, d, generator=gen).to(device) for _ in range(args.layers)]
    chunk = chunk_size_for(vocab, args.chunk_mb)
    flops_layer = 2.0 * n * d * vocab  # of the neurons actually timed
    header = MapHeader(model="random", fingerprint="0" * 16, architecture="random",
                       n_layers=args.layers, d_mlp=n, d_model=d, d_vocab=vocab, options=opts,
                       vocab_sha256="-")

    # warm up (allocator, kernels, threads)
    decode_chunk(prepare_vectors(layers[0][:chunk], opts, False), unembed, opts)

    # 1. bare matmul over the same chunks, output into a reused buffer
    buf = torch.empty(chunk, vocab, device=device, dtype=dtype)
    v0 = layers[0].to(dtype)

    def bare() -> None:
        for start in range(0, n, chunk):
            part = v0[start:start + chunk]
            torch.matmul(part, weight, out=buf[: part.shape[0]])

    # 2. the full decode, writing each layer file; alternated with the bare matmul
    t_bares, times = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(max(1, args.repeat)):
            t_bares.append(timed(bare, device))
            times.append(sum(timed(lambda v=vectors, i=i: write_layer(
                Path(tmp), header, i, decode_vectors(v, unembed, opts, chunk)), device)
                for i, vectors in enumerate(layers)) / len(layers))
    t_bare, t_decode = min(t_bares), min(times)

    # 3. naive per-neuron loop (one vector at a time, top-k each)
    m = min(args.loop_neurons, n)
    vprep = prepare_vectors(layers[0][:m], opts, False).to(dtype)

    def loop() -> None:
        for i in range(m):
            logits = (vprep[i] @ weight).float()
            logits.topk(opts.top_k)
            logits.topk(opts.bottom_k, largest=False)

    t_loop = timed(loop, device) * n / m
    t_bare, t_decode, t_loop = t_bare * scale_up, t_decode * scale_up, t_loop * scale_up
    flops_layer *= scale_up
    peak = peak_memory_gb(device)

    gflops = lambda t: flops_layer / t / 1e9
    rows = [
        ("bare torch.matmul (same chunks)", t_bare, gflops(t_bare), 1.0),
        ("full decode (+top/bottom-k, probs, entropy, write)", t_decode, gflops(t_decode),
         t_bare / t_decode),
        (f"per-neuron loop ({m} timed, extrapolated)", t_loop, gflops(t_loop), t_bare / t_loop),
    ]
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
    print(f"device: {device} ({name or platform.machine()}), threads {torch.get_num_threads()}, "
          f"torch {torch.__version__}, dtype {args.dtype}")
    sampled = f" ({n:,} timed, extrapolated)" if n < n_layer else ""
    print(f"one layer: {n_layer:,} neurons{sampled} x d_model {d:,} vs {vocab:,} tokens; "
          f"chunk {chunk} neurons; top_k {opts.top_k}, bottom_k {opts.bottom_k}")
    print(format_table(("method", "s / layer", "GFLOP/s", "rate vs matmul"), rows))
    print(f"full decode vs matmul: {t_bare / t_decode:.2f} of the matmul's rate (target >= 0.7); "
          f"batched vs per-neuron loop: {t_loop / t_decode:.1f}x")
    n_model = shape["layers"]
    print(f"decoded {args.layers} layer(s) x {len(times)} repeats; projection for {n_model} "
          f"layers: {t_decode * n_model:.0f} s ({t_decode * n_model / 60:.1f} min); "
          f"peak memory {peak:.2f} GB ({'CUDA allocated' if device.type == 'cuda' else 'RSS'})")


if __name__ == "__main__":
    main()
