"""AST-probe costs: all layers from one forward pass vs one pass per layer, and probe training
with one torch thread vs the default, same process and inputs.

    .venv/bin/python benchmarks/ast_probe.py [--model interp-tiny] [--snippets 100]

The reference implementation reruns the model for every layer it probes; `compute_leaf_reps`
captures every row in one pass and caches it. The per-layer baseline here runs the same
capture once per row (what a per-layer rerun costs). Probe training uses tiny matrices, where
extra threads mostly contend; the last two rows time 5 epochs of one probe both ways.
"""

from __future__ import annotations

import argparse
import time

import torch

from interp import load_model
from interp.astprobe.data import stdlib_snippets
from interp.astprobe.experiment import prepare_samples
from interp.astprobe.reps import compute_leaf_reps
from interp.astprobe.train import Vocab, _train


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="interp-tiny")
    ap.add_argument("--snippets", type=int, default=100)
    args = ap.parse_args()
    model = load_model(args.model, device="cpu")
    n = args.snippets
    samples, _ = prepare_samples(model, stdlib_snippets(n, max(4, n // 4), max(4, n // 4)))
    train, val = samples["train"], samples["val"]
    rows = model.facts.n_layers + 1

    compute_leaf_reps(model, val, progress=False)  # warm-up (first forward passes are slow)
    t0 = time.perf_counter()
    reps = compute_leaf_reps(model, train, progress=False)
    one_pass = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(rows):
        compute_leaf_reps(model, train, progress=False)
    per_layer = time.perf_counter() - t0

    vocab = Vocab.from_samples(train)
    xs = reps.layer(rows // 2)
    val_x = compute_leaf_reps(model, val, progress=False).layer(rows // 2)
    timings = {}
    default_threads = torch.get_num_threads()
    for threads in (1, default_threads):
        torch.set_num_threads(threads)
        t0 = time.perf_counter()
        _train(xs, train, val_x, val, vocab, 64, 5.0, 1e-2, 5, 5, 32, 0, "cpu", 0)
        timings[threads] = time.perf_counter() - t0
    torch.set_num_threads(default_threads)

    print(f"{len(train)} training snippets, {sum(s.n_leaves for s in train)} leaves, "
          f"{rows} rows, {model.name}")
    print(f"{'workload':<44} {'seconds':>8} {'ratio':>7}")
    print(f"{'leaf vectors, all rows in one pass':<44} {one_pass:>8.2f} {1.0:>7.2f}")
    print(f"{'leaf vectors, one pass per row (reference)':<44} {per_layer:>8.2f} "
          f"{per_layer / one_pass:>7.2f}")
    print(f"{'probe, 5 epochs, 1 thread':<44} {timings[1]:>8.2f} {1.0:>7.2f}")
    print(f"{f'probe, 5 epochs, {default_threads} threads (default)':<44} "
          f"{timings[default_threads]:>8.2f} {timings[default_threads] / timings[1]:>7.2f}")


if __name__ == "__main__":
    main()
