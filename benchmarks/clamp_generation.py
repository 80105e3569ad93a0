"""Generation speed with one neuron clamp vs none, same process, interleaved repeats.

    .venv/bin/python benchmarks/clamp_generation.py [--model interp-tiny] [--device cpu]

Prints tokens/s (median of --repeats) for: no clamp, one clamp at all positions, one clamp at
"last", and the slowdown of each against no clamp. The issue's target: a clamp costs < 10 %.
On CUDA, --check-sync runs the clamped generation under torch.cuda.set_sync_debug_mode("warn")
and reports how many host-device synchronisations the hooks add over the unclamped run.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from typing import TYPE_CHECKING

import torch

from interp import load_model
from interp.steer import Clamp, clamp

if TYPE_CHECKING:
    from interp.models.model import Model


def tokens_per_s(model: Model, tokens: torch.Tensor, new: int, specs: list[Clamp]) -> float:
    t0 = time.perf_counter()
    if specs:
        with clamp(model, *specs):
            model.generate(tokens, new, stop_at_eos=False)
    else:
        model.generate(tokens, new, stop_at_eos=False)
    if model.device.type == "cuda":
        torch.cuda.synchronize()
    return tokens.shape[0] * new / (time.perf_counter() - t0)


def count_syncs(model: Model, tokens: torch.Tensor, new: int, specs: list[Clamp]) -> int:
    torch.cuda.set_sync_debug_mode("warn")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if specs:
                with clamp(model, *specs):
                    model.generate(tokens, new, stop_at_eos=False)
            else:
                model.generate(tokens, new, stop_at_eos=False)
    finally:
        torch.cuda.set_sync_debug_mode(0)
    return sum("synchroniz" in str(w.message) for w in caught)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="interp-tiny")
    p.add_argument("--device", default="auto")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--new-tokens", type=int, default=64)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--check-sync", action="store_true")
    args = p.parse_args()
    model = load_model(args.model, device=args.device)
    tokens = model.to_tokens("Once upon a time, there was a little").expand(args.batch, -1)
    layer = model.facts.n_layers - 1
    arms = {"none": [], "clamp all": [Clamp(layer, 0, 5.0)],
            "clamp last": [Clamp(layer, 0, 5.0, positions="last")]}
    tokens_per_s(model, tokens, 8, [])  # warm-up
    rates: dict[str, list[float]] = {arm: [] for arm in arms}
    for _ in range(args.repeats):
        for arm, specs in arms.items():  # interleaved, so load changes hit every arm
            rates[arm].append(tokens_per_s(model, tokens, args.new_tokens, specs))
    base = statistics.median(rates["none"])
    print(f"{model.name} on {model.device} ({torch.get_num_threads()} threads), batch "
          f"{args.batch}, {args.new_tokens} new tokens, KV cache, median of {args.repeats}")
    print(f"{'arm':<12} {'tokens/s':>10} {'vs none':>9}")
    for arm, values in rates.items():
        med = statistics.median(values)
        print(f"{arm:<12} {med:>10.1f} {med / base - 1:>+8.1%}")
    if args.check_sync and model.device.type == "cuda":
        extra = count_syncs(model, tokens, 16, arms["clamp all"]) - count_syncs(
            model, tokens, 16, [])
        print(f"host-device syncs added by the clamp over 16 steps: {extra}")


if __name__ == "__main__":
    main()
