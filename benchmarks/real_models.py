"""Real models: first load (GGUF dequantised into a fresh cache), cached load (to a usable
model, Python imports excluded; goal <= 5 s on 2 cores), and a full `map-neurons` of every
side, against the bare matmul bound of the same shapes run in the same process; with --bf16,
each side again with the matmul in bfloat16 (`--compute-dtype bfloat16`: the CPU's
AVX512-BF16 or AMX units where it has them), its own bare bound, and how far its top-1 /
top-20 agree with float32.

    .venv/bin/python benchmarks/real_models.py                          # SmolLM2, all sides
    .venv/bin/python benchmarks/real_models.py --model gemma-3-270m --sides up
    .venv/bin/python benchmarks/real_models.py --skip-first-load        # keep today's cache
    .venv/bin/python benchmarks/real_models.py --skip-first-load --bf16 # + bfloat16 rows
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def seconds(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--sides", nargs="+", default=None, help="default: every side")
    parser.add_argument("--skip-first-load", action="store_true",
                        help="do not time a conversion into a fresh cache")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--bf16", action="store_true", help="also map in bfloat16")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N (maps and bound)")
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    # imports first, so that the load times below exclude them
    import transformer_lens.model_bridge  # noqa: F401
    import transformers  # noqa: F401

    from interp import load_model
    from interp.neurons import decode_neurons
    from interp.neurons.report import format_table

    rows = []
    if not args.skip_first_load:
        with tempfile.TemporaryDirectory() as tmp:
            before = os.environ.get("INTERP_CACHE_DIR")
            os.environ["INTERP_CACHE_DIR"] = tmp
            try:
                first, _ = seconds(lambda: load_model(args.model, device="cpu"))
                again, _ = seconds(lambda: load_model(args.model, device="cpu"))
            finally:
                if before is None:
                    os.environ.pop("INTERP_CACHE_DIR")
                else:
                    os.environ["INTERP_CACHE_DIR"] = before
        rows += [("first load (conversion)", f"{first:.1f} s", ""),
                 ("cached load (fresh cache)", f"{again:.2f} s", "goal <= 5 s")]
    load_model(args.model, device="cpu")  # make sure the user's cache holds it
    cached, model = seconds(lambda: load_model(args.model, device=args.device))
    rows.append(("cached load", f"{cached:.2f} s", "goal <= 5 s"))

    f = model.facts
    sides = args.sides or (["up", "gate", "down"] if f.gated_mlp else ["up", "down"])
    # warm the one-time caches (calibration) so the map is timed alone
    for side in sides:
        decode_neurons(model, side, layers=[0])
    total_map = 0.0
    maps = {}
    for side in sides:
        t, maps[side] = seconds(lambda side=side: decode_neurons(model, side))
        total_map += t
        rows.append((f"map-neurons --side {side} ({f.n_layers} x {f.d_mlp} neurons)",
                     f"{t:.1f} s", f"{t / f.n_layers:.2f} s/layer"))
    total_bf16 = 0.0
    if args.bf16:
        from interp.neurons import agreement

        for side in sides:
            t, low = seconds(lambda side=side: decode_neurons(model, side, dtype="bfloat16"))
            total_bf16 += t
            ag = agreement(maps[side], low)
            rows.append((f"map-neurons --side {side} --compute-dtype bfloat16", f"{t:.1f} s",
                         (f"top-1 agreement with float32 {ag.top1:.3f}, top-{ag.k} overlap "
                         f"{ag.topk_overlap:.3f}")))

    # the bound: the same matmuls, nothing else, in chunks of the decoder's size
    from interp.neurons.decode import chunk_size_for

    w_u, _ = model.folded_unembedding(torch.float32)
    chunk = chunk_size_for(f.d_vocab)
    v = torch.randn(chunk, f.d_model, device=w_u.device)
    out = torch.empty(chunk, f.d_vocab, device=w_u.device)
    n_chunks = -(-f.d_mlp // chunk) * f.n_layers * len(sides)

    def bare() -> None:
        for _ in range(n_chunks):
            torch.matmul(v, w_u, out=out)

    def synced() -> None:
        bare()
        if w_u.is_cuda:
            torch.cuda.synchronize()

    bound, _ = seconds(synced)
    flop = 2.0 * f.n_layers * len(sides) * f.d_mlp * f.d_model * f.d_vocab
    rows.append((f"bare matmul bound ({flop / 1e12:.2f} TFLOP)", f"{bound:.1f} s",
                 f"{flop / bound / 1e9:.0f} GFLOP/s"))
    rows.append(("map / bound", f"{total_map / bound:.2f}x",
                 f"decode runs at {bound / total_map:.2f} of the matmul's rate"))
    if args.bf16:
        w_u, v, out = w_u.bfloat16(), v.bfloat16(), out.bfloat16()
        bound16, _ = seconds(synced)
        rows.append(("bare matmul bound, bfloat16", f"{bound16:.1f} s",
                     f"{flop / bound16 / 1e9:.0f} GFLOP/s"))
        rows.append(("map bfloat16 / bound float32", f"{total_bf16 / bound:.2f}x",
                     f"bfloat16 map / its own bound {total_bf16 / bound16:.2f}x"))
    print(f"{args.model}: {f.n_layers} layers, d_mlp {f.d_mlp}, d_model {f.d_model}, "
          f"vocab {f.d_vocab}; torch threads {torch.get_num_threads()}")
    print(format_table(("what", "time", "note"), rows))


if __name__ == "__main__":
    main()
