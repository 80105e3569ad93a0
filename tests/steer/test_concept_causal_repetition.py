"""The repetition reading of the causal study's continuations
(experiments/concept_causal_repetition.py): its rule on hand-made text, and on Gemma's committed
continuations the counts the docs quote."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "experiments" / "results" / "concept_causal"


def test_three_in_a_row_is_repetition_and_two_is_not(experiment):
    rule = experiment("concept_causal_repetition").REPEATED
    assert rule.search(" water water Water bottle") and rule.search("table, table. table")
    assert not rule.search(" water water bottle water") and not rule.search("tables table table")


def test_gemma_reading_matches_a_recount(experiment):
    study = experiment("concept_causal_repetition")
    inputs = study.load_inputs(ROOT / "experiments" / "inputs" / "concept_causal_gemma.json")
    result = json.loads((RESULTS / "gemma-3-270m.json").read_text(encoding="utf-8"))
    lines = (RESULTS / "gemma-3-270m.first38.jsonl").read_text(encoding="utf-8").splitlines()
    continuations = sorted((json.loads(line) for line in lines), key=lambda e: e["prompt"])
    out = study.reading(result, inputs, continuations)
    assert out["prompts"] == 38
    assert set(out["cells"]) == set(result["summary"]["concepts_steered"])
    drinks = {c["value"]: (c["repeated"], c["naming"]) for c in out["cells"]["drinks"]}
    assert drinks[3] == (26, 32)
    assert out["reads_ordinary"] == ["building", "medicine", "months", "music", "seasons",
                                     "sports", "time_units", "weekdays"]
    assert json.loads((RESULTS / "gemma-3-270m.repetition.json").read_text()) == out
