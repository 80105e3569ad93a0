"""Circuit finding: per-head codebook ids vs discrete-SAE codes, same head scoring, same task,
same ground truth (the hand-wired planted-circuit GPT-2 of interp.circuits.planted, two
wirings; with negatives that share their positive's fillers and with fresh fillers).

    .venv/bin/python benchmarks/codebook_circuits.py [--prompts 40] [--seeds 3]

Prints, per setting and method: ROC-AUC, precision / recall at the top 3 heads (the circuit's
size), and wall time (head outputs + fit + score), averaged over seeds.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--prompts", type=int, default=40, help="prompt pairs per task (40)")
    p.add_argument("--seeds", type=int, default=3, help="seeds per setting (3)")
    p.add_argument("--codes", type=int, default=8, help="codes per head codebook (8)")
    p.add_argument("--no-layer-norm", dest="layer_norm", action="store_false",
                   help="codebooks without the LayerNorm before snapping")
    a = p.parse_args()

    import torch

    from interp import load_model
    from interp.circuits import classify, roc_auc, sae_circuit
    from interp.circuits.discover import SAESettings
    from interp.circuits.planted import build_planted_model, planted_circuit, planted_task
    from interp.codebook.circuits import codebook_circuit

    torch.set_num_threads(1)
    wirings = {"a": {}, "b": {"layer0": (0, 2), "mover": 1, "seed": 1}}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, wiring in wirings.items():
            model = load_model(build_planted_model(Path(tmp) / name, **wiring), device="cpu")
            truth = planted_circuit(wiring.get("layer0", (1, 3)),
                                    wiring.get("mover", 2)).mask(2, 4)
            for shared in (True, False):
                stats: dict[str, list[tuple[float, float, float, float]]] = {
                    "codebook": [], "sae": []}
                for seed in range(a.seeds):
                    task = planted_task(a.prompts, seed, shared_fillers=shared)
                    cb = codebook_circuit(model, task, n_codes=a.codes, layer_norm=a.layer_norm,
                                          seed=seed)
                    sae = sae_circuit(model, task, SAESettings(seed=seed))
                    for method, scores, secs in (("codebook", cb.scores, cb.seconds["total"]),
                                                 ("sae", sae.scores, sae.seconds["total"])):
                        c = classify(scores, truth, top_n=3)
                        stats[method].append((roc_auc(scores, truth), c.precision, c.recall,
                                              secs))
                for method, values in stats.items():
                    mean = [statistics.mean(v[i] for v in values) for i in range(4)]
                    rows.append((f"wiring {name}, {'shared' if shared else 'fresh'} fillers",
                                 method, *mean))
    print(f"{'setting':<32} {'method':<9} {'AUC':>5} {'P@3':>5} {'R@3':>5} {'seconds':>8}")
    for setting, method, auc, prec, rec, secs in rows:
        print(f"{setting:<32} {method:<9} {auc:>5.2f} {prec:>5.2f} {rec:>5.2f} {secs:>8.2f}")


if __name__ == "__main__":
    main()
