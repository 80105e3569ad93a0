"""The paper's experiment on the shipped interp-tiny: the neuron whose down vector decodes most
to animal words raises P(animal) when clamped, controls do not, and steering raises the
fraction of samples that mention an animal beyond the confidence intervals."""

from __future__ import annotations

import pytest
import torch

import interp
from interp.models.load import bundled_dir
from interp.steer import activation_scale, concept_token_ids, dose_response, steer

pytestmark = pytest.mark.skipif(not (bundled_dir("interp-tiny") / "config.json").is_file(),
                                reason="the bundled interp-tiny is not installed")

PROMPTS = ["Once upon a time, there was a little", "One day, the girl saw a",
           "We went to the", "It was a cold day in", "In the morning, she ate some",
           "Tom and Anna looked at the"]


@pytest.fixture(scope="module")
def tiny():
    model = interp.load_model("interp-tiny", device="cpu")
    ids = concept_token_ids(model.tokenizer, "animals")
    w_u, _ = model.folded_unembedding(torch.float32)
    best = (-1.0, 0, 0)
    for layer in range(model.facts.n_layers):  # decode each neuron's down vector
        probs = (model.neuron_vectors(layer, "down").float() @ w_u).softmax(-1)
        mass = probs[:, ids].sum(-1)
        best = max(best, (float(mass.max()), layer, int(mass.argmax())))
    scales = activation_scale(model, layers=[best[1]])
    return model, f"{best[1]}:{best[2]}", scales


def test_animal_neuron_dose_response_rises_controls_do_not(tiny):
    model, target, scales = tiny
    result = dose_response(model, target, PROMPTS, "animals", [0, 2, 5, 10], n_controls=3,
                           scales=scales)
    means = result.probs.mean(-1)
    base = float(result.baseline.mean())
    assert float(means[0, 3]) > base + 0.3, (target, means[0], base)
    assert (means[0, 1:] >= means[0, :-1]).all()
    assert (means[1:, 2] - base).abs().max() < 0.1, means[1:]


def test_steering_raises_the_animal_rate(tiny):
    model, target, scales = tiny
    result = steer(model, "Then they went to the", f"{target}=3x", 50, concept="animals",
                   max_new_tokens=20, seed=0, scales=scales)
    assert result.steered_rate.interval[0] > result.baseline_rate.interval[1], result.report(0)
