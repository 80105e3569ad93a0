"""Are decoded probabilities comparable across models? The paper's reading (scale "norm")
against interp's calibrated scale, on every model that is here: per layer, the median top-1
probability and entropy of the decoded up neurons, the share of "specialised" neurons (top-1
probability >= 0.5), and the model's own next-token median top-1 probability on the
calibration's reference text.

    .venv/bin/python experiments/calibration.py                       # every installed model
    .venv/bin/python experiments/calibration.py --models interp-tiny --layers 0 1   # CI form

Writes experiments/results/calibration/<model>.json (deterministic) and a summary table.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from interp.progress import say

SPECIALISED = 0.5
OUT = Path(__file__).resolve().parent / "results" / "calibration"


def available_models() -> list[str]:
    from interp.models.load import BUNDLED_MODELS
    from interp.models.real import REAL_MODELS, installed

    return [*BUNDLED_MODELS, *(name for name in REAL_MODELS if installed(name))]


def measure(name: str, layers: list[int] | None, side: str) -> dict:
    from interp import load_model
    from interp.neurons import decode_neurons

    model = load_model(name, device="cpu")
    out: dict = {"model": name, "fingerprint": model.fingerprint, "side": side,
                 "specialised_threshold": SPECIALISED}
    for scale in ("norm", "calibrated"):
        nmap = decode_neurons(model, side, layers=layers, top_k=5, bottom_k=0, scale=scale)
        per_layer = {}
        for layer, data in nmap.data.items():
            per_layer[str(layer)] = {
                "median_top1": float(data.top1_prob.median()),
                "median_entropy": float(data.entropy.median()),
                "share_specialised": float((data.top1_prob >= SPECIALISED).float().mean()),
            }
        top1 = torch.cat([d.top1_prob for d in nmap.data.values()])
        out[scale] = {"layers": per_layer, "median_top1": float(top1.median()),
                      "share_specialised": float((top1 >= SPECIALISED).float().mean())}
        if scale == "calibrated":
            calibration = nmap.header.extras["calibration"]
            out["factor"] = calibration["factor"]
            out["own_median_top1"] = calibration["model"]["median_top1"]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=None)
    parser.add_argument("--layers", nargs="+", type=int, default=None)
    parser.add_argument("--side", default="up")
    parser.add_argument("--out-dir", type=Path, default=OUT)
    args = parser.parse_args()
    from interp.atomic import write_atomic
    from interp.neurons.report import format_table

    rows = []
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name in args.models or available_models():
        say("calibration", name)
        result = measure(name, args.layers, args.side)
        write_atomic(args.out_dir / f"{name}.json",
                     json.dumps(result, indent=1, sort_keys=True) + "\n")
        rows.append((name, result["factor"], result["own_median_top1"],
                     result["norm"]["median_top1"], result["calibrated"]["median_top1"],
                     result["norm"]["share_specialised"],
                     result["calibrated"]["share_specialised"]))
    print(format_table(("model", "factor", "own top1", "top1 norm", "top1 calibrated",
                        f"p1>={SPECIALISED} norm", f"p1>={SPECIALISED} calibrated"), rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
