"""steer: both arms sampled from one seed, concept rate with a Wilson interval, cached ==
uncached, and a planted neuron raises the rate."""

from __future__ import annotations

import re

import pytest

from interp.errors import InterpError
from interp.hooks import active_interventions
from interp.steer import Clamp, steer, wilson_interval

CLAMP, WORD = "1:7=20", "the"  # the planted neuron (conftest.py)


@pytest.fixture(scope="module")
def result(planted):
    model = planted.model
    return steer(model, "The cat sat", CLAMP, n_samples=40, concept=WORD,
                 max_new_tokens=10, seed=1, batch_size=16)


def test_planted_neuron_raises_the_concept_rate(result):
    assert len(result.baseline) == len(result.steered) == 40
    base, steered = result.baseline_rate, result.steered_rate
    assert steered.n == 40 and base.n == 40
    # k: samples with " the" as a whole word in any case (or a plural), counted here
    word = re.compile(r"\bthe(?:s|es)?\b", re.IGNORECASE)
    assert steered.k == sum(bool(word.search(s)) for s in result.steered)
    assert base.k == sum(bool(word.search(s)) for s in result.baseline)
    assert steered.interval[0] > base.interval[1], (base, steered)
    assert steered.interval == wilson_interval(steered.k, 40)
    assert result.steered_word_share > result.baseline_word_share
    text = result.report(show=2)
    assert "steered" in text and str(steered) in text
    assert result.to_dict()["steered_rate"]["k"] == steered.k


def test_same_seed_same_samples_and_cache_agrees(planted, result):
    model = planted.model
    again = steer(model, "The cat sat", [Clamp.parse(CLAMP)], n_samples=40,
                  concept=WORD, max_new_tokens=10, seed=1, batch_size=16,
                  use_cache=False)
    assert again.baseline == result.baseline
    assert again.steered == result.steered
    assert active_interventions(model) == []


def test_without_concept_no_rates(planted):
    model = planted.model
    res = steer(model, "A dog", "0:1=2", n_samples=2, max_new_tokens=3)
    assert res.baseline_rate is None and "concept" not in res.report()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"prompt": ""}, "prompt 0 is empty"),
    ({"clamps": "0:1=2,5"}, "bad clamp value"),
    ({"clamps": "0:100=2"}, "neuron 100 out of range"),
    ({"n_samples": 0}, "n_samples must be a positive integer"),
    ({"temperature": 0.0}, "temperature must be a finite number > 0"),
])
def test_bad_input(planted, kwargs, message):
    model = planted.model
    args = {"prompt": "A dog", "clamps": "0:1=2", "n_samples": 2} | kwargs
    with pytest.raises(InterpError, match=message):
        steer(model, **args, max_new_tokens=2)
