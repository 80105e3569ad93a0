"""Wall time of the SAE method vs activation patching vs attribution patching, same process,
interleaved repeats; and SAE training throughput (activations/s).

    .venv/bin/python benchmarks/circuits.py [--model interp-tiny] [--task greater-than]
        [--n-prompts 50] [--repeats 3] [--threads N] [--device auto]

Prints the median seconds per method (SAE split into head outputs and train + score), each
method's ratio to activation patching, and the SAE trainer's throughput on the paper's batch
(10 prompts x all heads) and on a streamed run (batches of 4,096 random d_model vectors).
Activation patching costs one forward per head, so its time grows with n_layers x n_heads;
the SAE method's does not (one forward, then a tiny SAE).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from interp import load_model
from interp.circuits import (
    SAESettings,
    activation_patching,
    attribution_patching,
    make_task,
    sae_circuit,
)
from interp.sae import SAEConfig, SparseAutoencoder, train_sae


def streamed_throughput(d: int, n_latents: int, batches: int, device: torch.device) -> float:
    gen = torch.Generator().manual_seed(0)
    data = [torch.randn(4096, d, generator=gen) for _ in range(batches)]
    sae = SparseAutoencoder(SAEConfig(d_in=d, n_latents=n_latents)).to(device)
    return train_sae(sae, iter(data)).activations_per_s


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="interp-tiny")
    p.add_argument("--task", default="greater-than")
    p.add_argument("--n-prompts", type=int, default=50)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    p.add_argument("--device", default="auto")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    model = load_model(args.model, device=args.device)
    task = make_task(args.task, model, args.n_prompts, 0)
    f = model.facts
    times: dict[str, list[float]] = {"sae": [], "sae: head outputs": [], "sae: train + score": [],
                                     "activation patching": [], "attribution patching": []}
    rate = []
    for r in range(args.repeats):
        res = sae_circuit(model, task, SAESettings(seed=r))
        times["sae"].append(res.seconds["total"])
        times["sae: head outputs"].append(res.seconds["head outputs"])
        times["sae: train + score"].append(res.seconds["train + score"])
        rate.append(res.log.activations_per_s)
        times["activation patching"].append(activation_patching(model, task).seconds)
        times["attribution patching"].append(attribution_patching(model, task).seconds)
    med = {k: statistics.median(v) for k, v in times.items()}
    base = med["activation patching"]
    print(f"model {model.name} ({f.n_layers} layers x {f.n_heads} heads), task {args.task}, "
          f"{len(task)} prompt pairs, device {model.device}, torch threads "
          f"{torch.get_num_threads()}, median of {args.repeats}")
    print(f"{'method':<24}{'seconds':>10}{'x patching':>12}")
    for k, v in med.items():
        print(f"{k:<24}{v:>10.3f}{v / base:>12.3f}")
    t0 = time.perf_counter()
    streamed = streamed_throughput(f.d_model, 200, 8, model.device)
    print(f"SAE training, paper batch ({10 * f.n_layers * f.n_heads} activations x 500 epochs): "
          f"{statistics.median(rate):,.0f} activations/s")
    print(f"SAE training, streamed 8 x 4,096 x {f.d_model}: {streamed:,.0f} activations/s "
          f"({time.perf_counter() - t0:.2f} s)")


if __name__ == "__main__":
    main()
