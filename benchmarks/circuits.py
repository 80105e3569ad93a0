"""Wall time of the SAE method vs activation patching vs attribution patching, same process,
interleaved repeats; and SAE training throughput (activations/s).

    .venv/bin/python benchmarks/circuits.py [--model interp-tiny] [--task greater-than]
        [--n-prompts 50] [--repeats 3] [--threads N] [--device auto]

Prints the median seconds per method (SAE split into head outputs and train + score), each
method's ratio to activation patching, and the SAE trainer's throughput on the paper's batch
(10 prompts x all heads) and on a streamed run (batches of 4,096 random d_model vectors).
Activation patching runs every head of a layer as one batch from that layer on
(interp.models.resume); the baseline beside it is the plain method, one full forward per head,
timed on the heads of --baseline-layers layers and projected to all (its cost per head is the
same at every layer), with the largest difference of its scores from the batched ones. The SAE
method's time does not grow with the number of heads (one forward, then a tiny SAE).

    .venv/bin/python benchmarks/circuits.py --model smollm2-135m-instruct --task ioi \
        --repeats 1 --baseline-layers 2

With --bf16, activation patching runs once more on the model loaded in bfloat16 (same
process, same prompts): its seconds, its ratio to float32 patching, and how far its scores
agree with float32's (Pearson r over heads, largest difference, and the heads over the
0.05 threshold in both).
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from interp.circuits.patching import PatchResult
    from interp.circuits.tasks import Task
    from interp.models.model import Model


def streamed_throughput(d: int, n_latents: int, batches: int, device: torch.device) -> float:
    gen = torch.Generator().manual_seed(0)
    data = [torch.randn(4096, d, generator=gen) for _ in range(batches)]
    sae = SparseAutoencoder(SAEConfig(d_in=d, n_latents=n_latents)).to(device)
    return train_sae(sae, iter(data)).activations_per_s


def per_head_patching(model: Model, task: Task, layers: list[int]) -> tuple[float, torch.Tensor]:
    """The plain method on `layers`: one full forward per head with its hook_z taken from the
    corrupted prompt; (seconds, raw drops [len(layers), n_heads])."""
    from interp.circuits.heads import z_hook_names
    from interp.circuits.patching import _padded_pair, task_metric
    from interp.hooks import attach

    t0 = time.perf_counter()
    clean_tok, corrupt_tok, lengths = _padded_pair(model, task)
    names = z_hook_names(model)
    saved = {}
    rows = torch.arange(len(lengths))

    def metric(tokens, fns):
        with torch.no_grad(), attach(model, fns):
            logits = model.bridge(tokens.to(model.device), return_type="logits")
        return task_metric(logits[rows, lengths - 1], task)

    metric(corrupt_tok, {names[i]: (lambda z, hook, _i=i: saved.__setitem__(_i, z.clone()))
                         for i in layers})
    clean = metric(clean_tok, {})
    raw = torch.zeros(len(layers), model.facts.n_heads)
    for row, layer in enumerate(layers):
        for head in range(model.facts.n_heads):
            def patch(z, hook, _l=layer, _h=head):
                z = z.clone()
                z[:, :, _h] = saved[_l][:, :, _h]
                return z

            raw[row, head] = float((clean - metric(clean_tok, {names[layer]: patch})).mean())
    return time.perf_counter() - t0, raw


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="interp-tiny")
    p.add_argument("--task", default="greater-than")
    p.add_argument("--n-prompts", type=int, default=50)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    p.add_argument("--device", default="auto")
    p.add_argument("--baseline-layers", type=int, default=None,
                   help="time the one-forward-per-head baseline on this many layers (spread "
                        "over the model) and project it to all; default: every layer")
    p.add_argument("--bf16", action="store_true",
                   help="also patch with the model loaded in bfloat16, against float32")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    model = load_model(args.model, device=args.device)
    task = make_task(args.task, model, args.n_prompts, 0)
    f = model.facts
    times: dict[str, list[float]] = {"sae": [], "sae: head outputs": [], "sae: train + score": [],
                                     "activation patching": [], "attribution patching": []}
    rate = []
    n_base = f.n_layers if args.baseline_layers is None else max(1, min(args.baseline_layers,
                                                                          f.n_layers))
    base_layers = sorted({round(i * (f.n_layers - 1) / max(1, n_base - 1))
                          for i in range(n_base)})
    times["per-head forwards (baseline)"] = []
    diff = 0.0
    for r in range(args.repeats):
        res = sae_circuit(model, task, SAESettings(seed=r))
        times["sae"].append(res.seconds["total"])
        times["sae: head outputs"].append(res.seconds["head outputs"])
        times["sae: train + score"].append(res.seconds["train + score"])
        rate.append(res.log.activations_per_s)
        patch = activation_patching(model, task)
        times["activation patching"].append(patch.seconds)
        seconds, raw = per_head_patching(model, task, base_layers)
        times["per-head forwards (baseline)"].append(seconds * f.n_layers / len(base_layers))
        diff = max(diff, float((raw - patch.raw[base_layers]).abs().max()))
        times["attribution patching"].append(attribution_patching(model, task).seconds)
    med = {k: statistics.median(v) for k, v in times.items()}
    base = med["activation patching"]
    print(f"model {model.name} ({f.n_layers} layers x {f.n_heads} heads), task {args.task}, "
          f"{len(task)} prompt pairs, device {model.device}, torch threads "
          f"{torch.get_num_threads()}, median of {args.repeats}")
    print(f"{'method':<30}{'seconds':>10}{'x patching':>12}")
    for k, v in med.items():
        print(f"{k:<30}{v:>10.3f}{v / base:>12.3f}")
    if args.bf16:
        bf16_patching(args, task, patch, base)
    print(f"baseline timed on layers {base_layers}"
          f"{'' if len(base_layers) == f.n_layers else ', projected to all'}; largest "
          f"difference of its raw scores from the batched ones {diff:.2e}")
    t0 = time.perf_counter()
    streamed = streamed_throughput(f.d_model, 200, 8, model.device)
    print(f"SAE training, paper batch ({10 * f.n_layers * f.n_heads} activations x 500 epochs): "
          f"{statistics.median(rate):,.0f} activations/s")
    print(f"SAE training, streamed 8 x 4,096 x {f.d_model}: {streamed:,.0f} activations/s "
          f"({time.perf_counter() - t0:.2f} s)")


def bf16_patching(args: argparse.Namespace, task: Task, fp32: PatchResult,
                  fp32_seconds: float) -> None:
    """Activation patching on the model in bfloat16 beside float32's scores (same prompts)."""
    low = load_model(args.model, device=args.device, dtype=torch.bfloat16)
    patch = activation_patching(low, task)
    a, b = fp32.scores.flatten().double(), patch.scores.flatten().double()
    r = float(torch.corrcoef(torch.stack([a, b]))[0, 1])
    over_a, over_b = a.abs() >= 0.05, b.abs() >= 0.05
    both, either = int((over_a & over_b).sum()), int((over_a | over_b).sum())
    print(f"{'activation patching, bfloat16':<30}{patch.seconds:>10.3f}"
          f"{patch.seconds / fp32_seconds:>12.3f}")
    print(f"bfloat16 vs float32 scores: Pearson r {r:.4f}, largest difference "
          f"{float((a - b).abs().max()):.4f}; heads with |score| >= 0.05: {int(over_a.sum())} "
          f"float32, {int(over_b.sum())} bfloat16, {both} in both of {either}")


if __name__ == "__main__":
    main()
