"""The steering-rate study (experiments/steering_rates.py) in its reduced CI form: it runs, its
JSON has the committed shape, its counts agree with a recount of the samples, and the committed
full run used the committed inputs."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "experiments" / "results" / "steering_rates" / "interp-tiny.json"


def test_quick_form_counts_what_steer_samples(tmp_path: Path, experiment):
    from interp import load_model
    from interp.steer import steer

    study = experiment("steering_rates")
    inputs = study.load_inputs(quick=True)
    model = load_model(inputs["model"], device="cpu")
    result = study.run_study(model, inputs, log=False)
    path = study.write_result(result, tmp_path)
    assert json.loads(path.read_text()) == json.loads(json.dumps(result))
    (concept, neuron), = inputs["neurons"].items()
    value = inputs["values"][0]
    cell = result["concepts"][concept]
    # an independent call with the same settings gives the same samples: recount them
    again = steer(model, inputs["prompt"], f"{neuron}={value}x", inputs["n_samples"],
                  concept=concept, max_new_tokens=inputs["max_new_tokens"], seed=inputs["seed"])
    assert cell["steered"][f"{value}x"]["k"] == again.steered_rate.k
    assert cell["baseline"]["k"] == again.baseline_rate.k
    assert cell["baseline"]["n"] == inputs["n_samples"]
    # at 5x the clamp raises the rate above the baseline's interval (the arms are not swapped)
    assert cell["steered"][f"{value}x"]["ci"][0] > cell["baseline"]["ci"][1]


def test_committed_full_run_used_the_committed_inputs(experiment):
    study = experiment("steering_rates")
    committed = json.loads(COMMITTED.read_text())
    assert committed["inputs"] == study.load_inputs()
    for data in committed["concepts"].values():
        assert set(data["steered"]) == {f"{v}x" for v in committed["inputs"]["values"]}
        # the clamp raises the concept rate at the largest value for every concept
        top = data["steered"][f"{committed['inputs']['values'][-1]}x"]
        assert top["ci"][0] > data["baseline"]["ci"][1]
