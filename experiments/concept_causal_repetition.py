"""How the steered continuations that name a concept read: of each concept's target
continuations that name it, at every strength whose interval lies above zero, how many repeat
one word three times in a row ("water water water"). The causal study's automatic fluency
criteria (perplexity, the share of distinct words over all 50 continuations) miss that
repetition; this reading counts it.

Reads a causal result (experiments/results/concept_causal/<model>.json) and the run's
continuations (one JSON line per prompt: {"prompt", "texts"}, rows in the order of
concept_causal.plan_rows: the unclamped row, then per concept, per strength, the target and
its controls). Gemma's are those of the first 38 prompts, kept from the run's checkpoint
(gemma-3-270m.first38.jsonl); SmolLM2's run kept none.

    .venv/bin/python experiments/concept_causal_repetition.py \
        --inputs experiments/inputs/concept_causal_gemma.json

Writes experiments/results/concept_causal/<model>.repetition.json and prints the counts.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from experiments.concept_causal import INPUTS_PATH, OUT_DIR, load_inputs

REPEATED = re.compile(r"\b(\w+)\W+\1\W+\1\b", re.IGNORECASE)  # one word three times in a row
READS_ORDINARY = 0.8  # share of naming continuations without such a repeat


def reading(result: dict[str, Any], inputs: dict[str, Any],
            continuations: list[dict[str, Any]]) -> dict[str, Any]:
    """Per steered (concept, strength): naming continuations and how many repeat a word; the
    concepts steered with text that reads as ordinary at some strength (the automatic
    criteria held and at least READS_ORDINARY of the naming continuations unrepeated)."""
    from interp.steer.concepts import mention_pattern

    per_concept = len(inputs["values"]) * (1 + inputs["controls"])
    cells: dict[str, list[dict[str, Any]]] = {}
    ordinary: list[str] = []
    for c, (name, target) in enumerate(inputs["targets"].items()):
        pattern = mention_pattern(target["words"])
        for v, cell in enumerate(result["concepts"][name]["strengths"]):
            if cell["ci"][0] <= 0:
                continue
            row = 1 + c * per_concept + v * (1 + inputs["controls"])  # the target's row
            naming = [e["texts"][row] for e in continuations if pattern.search(e["texts"][row])]
            repeated = sum(bool(REPEATED.search(t)) for t in naming)
            cells.setdefault(name, []).append({"value": cell["value"], "naming": len(naming),
                                               "repeated": repeated, "fluent": cell["fluent"]})
            if (cell["fluent"] and naming and name not in ordinary
                    and len(naming) - repeated >= READS_ORDINARY * len(naming)):
                ordinary.append(name)
    return {"model": result["model"], "prompts": len(continuations), "cells": cells,
            "reads_ordinary": ordinary}


def main(argv: Sequence[str] | None = None) -> int:
    from experiments.common import result_path, study_parser, write_json

    parser = study_parser(__doc__, OUT_DIR, inputs=INPUTS_PATH)
    args = parser.parse_args(argv)
    inputs = load_inputs(args.inputs, args.quick)
    result = json.loads(result_path(args.out, inputs["model"], args.quick).read_text("utf-8"))
    source = result_path(args.out, inputs["model"], args.quick, suffix=".first38.jsonl")
    lines = source.read_text(encoding="utf-8").splitlines()
    continuations = sorted((json.loads(line) for line in lines), key=lambda e: e["prompt"])
    out = reading(result, inputs, continuations)
    path = write_json(result_path(args.out, inputs["model"], args.quick, ".repetition.json"), out)
    for name, cells in out["cells"].items():
        print(f"{name:16s} " + " | ".join(f"{c['value']}x: {c['repeated']} of {c['naming']} "
                                          f"repeated" for c in cells))
    print(f"reads as ordinary: {len(out['reads_ordinary'])} ({', '.join(out['reads_ordinary'])})"
          f"; wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
