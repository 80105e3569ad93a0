"""The dose-response study (experiments/dose_response.py) in its reduced CI form on the bundled
interp-tiny: the target is the decoded top hit, its baseline equals P(concept) computed prompt by
prompt by hand, its curve rises far above the controls, and the committed results match the
committed inputs."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from interp.models.load import bundled_dir

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not (bundled_dir("interp-tiny") / "config.json").is_file(),
                                reason="the bundled interp-tiny is not installed")


@pytest.fixture(scope="module")
def study(experiment) -> tuple[ModuleType, Any, dict[str, Any]]:
    from interp import load_model

    dr = experiment("dose_response")
    inputs = dr.load_inputs(quick=True)
    model = load_model(inputs["model"], device="cpu")
    return dr, model, dr.run_study(model, inputs, log=False)


def test_quick_form_is_the_committed_reduction(study):
    dr, _, result = study
    full = json.loads(dr.INPUTS_PATH.read_text(encoding="utf-8"))
    quick = result["inputs"]
    assert quick["quick"] and quick["prompts"] == full["prompts"][:full["quick"]["prompts"]]
    assert list(result["concepts"]) == full["quick"]["concepts"]
    data = result["concepts"]["animals"]
    curves = data["curves"]
    assert [c["role"] for c in curves][:1 + quick["controls"]] == (
        ["target"] + ["control"] * quick["controls"])
    assert all(len(c["mean"]) == len(quick["values"]) for c in curves)
    assert data["target"] == data["down_hits"][0]["neuron"] == curves[0]["neuron"]
    masses = [h["mass"] for h in data["down_hits"]]
    assert masses == sorted(masses, reverse=True) and masses[0] > 0.5


def test_baseline_is_p_concept_by_hand(study):
    """P(concept) of each prompt without a clamp, from one unpadded forward per prompt."""
    _, model, result = study
    from interp.texts.wordlists import ANIMALS

    data = result["concepts"]["animals"]
    assert data["words"] == list(ANIMALS)
    ids = set()
    for word in ANIMALS:  # as written, Capitalised, UPPER; each with and without a space
        for form in (word, word[:1].upper() + word[1:], word.upper()):
            for spelling in (form, " " + form):
                encoded = model.tokenizer.encode(spelling, add_special_tokens=False)
                if len(encoded) == 1:
                    ids.add(encoded[0])
    assert data["n_token_ids"] == len(ids) > 20
    by_hand = []
    for prompt in result["inputs"]["prompts"]:
        probs = model.logits(model.to_tokens(prompt))[0, -1].double().softmax(-1)
        by_hand.append(float(probs[sorted(ids)].sum()))
    assert data["baseline"]["per_prompt"] == pytest.approx(by_hand, abs=2e-5)
    assert data["baseline"]["mean"] == pytest.approx(sum(by_hand) / len(by_hand), abs=2e-5)


def test_target_rises_controls_do_not(study):
    _, _, result = study
    values = result["inputs"]["values"]
    data = result["concepts"]["animals"]
    base = data["baseline"]["mean"]
    target = data["curves"][0]
    top = values.index(max(values))
    assert target["mean"][top] > base + 0.5, (target["mean"], base)
    assert target["mean"] == sorted(target["mean"])  # rises with the dose
    # the controls got the target's raw values and stay far below it
    for curve in data["curves"][1:1 + result["inputs"]["controls"]]:
        assert curve["raw_values"] == target["raw_values"]
        assert max(curve["mean"]) < base + 0.2, curve
    assert data["controls_max"][top] < target["mean"][top] - 0.4
    assert target["raw_values"][top] == pytest.approx(max(values) * target["max_abs"], rel=1e-5)


def test_writes_deterministic_json_and_figure(study, tmp_path):
    dr, _, result = study
    paths = dr.write_result(result, tmp_path)
    assert [p.name for p in paths] == ["interp-tiny.quick.json", "interp-tiny.quick.figure.json"]
    first = paths[0].read_bytes()
    assert json.loads(first) == json.loads(json.dumps(result))
    dr.write_result(json.loads(first), tmp_path)
    assert paths[0].read_bytes() == first
    figure = json.loads(paths[1].read_text())
    assert any(t["name"].startswith("target ") for t in figure["data"])


def test_committed_results_come_from_the_committed_inputs(experiment):
    dr = experiment("dose_response")
    path = dr.OUT_DIR / "interp-tiny.json"
    committed = json.loads(path.read_text(encoding="utf-8"))
    inputs = dr.load_inputs()
    assert committed["inputs_sha256"] == inputs["sha256"]
    assert committed["inputs"] == {k: v for k, v in inputs.items() if k != "sha256"}
    for data in committed["concepts"].values():
        target = data["curves"][0]
        assert target["role"] == "target" and len(target["mean"]) == len(inputs["values"])
    assert (dr.OUT_DIR / "interp-tiny.figure.json").is_file()
