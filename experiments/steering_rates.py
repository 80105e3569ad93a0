"""Steering rates on the bundled interp-tiny: for each concept's neuron and clamp value, the
share of sampled continuations that mention the concept (Wilson 95 % interval) and the
concept's share of all words, without and with the clamp (interp.steer.steer). The table of
docs/steering.md.

    .venv/bin/python experiments/steering_rates.py           # full: 5 concepts x 4 values
    .venv/bin/python experiments/steering_rates.py --quick   # CI form: animals at 5x, 20 samples

Inputs: experiments/inputs/steering_rates.json. Writes
experiments/results/steering_rates/<model>[.quick].json (sorted keys; the same bytes on a
rerun with the same torch threads) and prints the table.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from interp.progress import say

if TYPE_CHECKING:
    from interp.models.model import Model

INPUTS_PATH = ROOT / "experiments" / "inputs" / "steering_rates.json"
OUT_DIR = ROOT / "experiments" / "results" / "steering_rates"


def load_inputs(path: Path = INPUTS_PATH, quick: bool = False) -> dict[str, Any]:
    """The committed inputs; `quick` narrows them to the reduced CI form."""
    inputs = json.loads(path.read_text(encoding="utf-8"))
    reduced = inputs.pop("quick")
    if quick:
        inputs["neurons"] = {c: inputs["neurons"][c] for c in reduced["concepts"]}
        inputs["values"] = reduced["values"]
        inputs["n_samples"] = reduced["n_samples"]
    inputs["quick"] = quick
    return inputs


def _arm(result: Any, arm: str) -> dict[str, Any]:
    rate = getattr(result, f"{arm}_rate").to_dict()
    return {"k": rate["k"], "n": rate["n"], "rate": round(rate["rate"], 4),
            "ci": [round(rate["ci_low"], 4), round(rate["ci_high"], 4)],
            "word_share": round(getattr(result, f"{arm}_word_share"), 4)}


def run_study(model: Model, inputs: dict[str, Any], log: bool = True) -> dict[str, Any]:
    """Every (concept, value) cell: the baseline and the steered arm."""
    from interp.steer import steer

    concepts: dict[str, Any] = {}
    for concept, neuron in inputs["neurons"].items():
        cells: dict[str, Any] = {}
        baseline = None
        for value in inputs["values"]:
            t0 = time.perf_counter()
            result = steer(model, inputs["prompt"], f"{neuron}={value}x", inputs["n_samples"],
                           concept=concept, max_new_tokens=inputs["max_new_tokens"],
                           seed=inputs["seed"])
            baseline = _arm(result, "baseline")
            cells[f"{value}x"] = _arm(result, "steered")
            say("steering-rates", f"{concept} {neuron}={value}x: {cells[f'{value}x']['k']}/"
                f"{inputs['n_samples']} ({time.perf_counter() - t0:.0f} s)", enabled=log)
        concepts[concept] = {"neuron": neuron, "baseline": baseline, "steered": cells}
    return {"model": model.name, "fingerprint": model.fingerprint, "inputs": inputs,
            "concepts": concepts}


def _cell(arm: dict[str, Any]) -> str:
    lo, hi = arm["ci"]
    ci = "" if arm["rate"] in (0.0, 1.0) else f" ({lo:.0%}-{hi:.0%})"
    return f"{arm['rate']:.0%}{ci}, {arm['word_share']:.1%}"


def summary(result: dict[str, Any]) -> str:
    """The table of docs/steering.md."""
    values = result["inputs"]["values"]
    rows = [["concept", "neuron", "no clamp", *[f"{v}x" for v in values]]]
    for concept, data in result["concepts"].items():
        rows.append([concept, data["neuron"], _cell(data["baseline"]),
                     *[_cell(data["steered"][f"{v}x"]) for v in values]])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows)


def write_result(result: dict[str, Any], out: Path) -> Path:
    from experiments.common import result_path, write_json

    return write_json(result_path(out, result["model"], result["inputs"]["quick"]), result)


def main(argv: Sequence[str] | None = None) -> int:
    from experiments.common import study_parser
    from interp import load_model

    parser = study_parser(__doc__, OUT_DIR, inputs=INPUTS_PATH)
    args = parser.parse_args(argv)
    inputs = load_inputs(args.inputs, args.quick)
    t0 = time.perf_counter()
    model = load_model(inputs["model"], device="cpu")
    result = run_study(model, inputs)
    path = write_result(result, args.out)
    print(summary(result))
    print(f"{inputs['model']}: {time.perf_counter() - t0:.1f} s; wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
