"""The shipped `interp-tiny`: it loads through the user's path, matches its model card, and
the card's numbers are reproducible by the card's own measuring code."""

from __future__ import annotations

import json

import pytest

import interp
from interp.bundled import tasks
from interp.models.load import bundled_dir

CARD = bundled_dir("interp-tiny") / "card.json"


@pytest.fixture(scope="module")
def tiny():
    return interp.load_model("interp-tiny", device="cpu")


@pytest.fixture(scope="module")
def card() -> dict:
    return json.loads(CARD.read_text())


def test_shipped_files_are_small_and_complete():
    files = {p.name: p.stat().st_size for p in bundled_dir("interp-tiny").iterdir()}
    for name in ("config.json", "model.safetensors", "tokenizer.json", "card.json",
                 "MODEL_CARD.md"):
        assert name in files
    assert sum(files.values()) < 40 * 2**20


def test_matches_its_card(tiny, card):
    assert tiny.fingerprint == card["fingerprint"]
    assert tiny.facts.to_dict() == card["facts"]
    assert tiny.facts.architecture == "LlamaForCausalLM" and tiny.facts.gated_mlp


def test_card_task_number_is_reproducible(tiny, card):
    k = card["tasks"]
    prompts = tasks.ioi_prompts(k["n_prompts"], k["seed"], "trained")
    assert round(tasks.contrast_accuracy(tiny, prompts), 4) == k["ioi_trained"]


def test_concept_words_are_single_tokens(tiny):
    from interp.texts.wordlists import ANIMALS, MONTHS

    for word in [*ANIMALS, *MONTHS]:
        assert len(tiny.tokenizer.encode(" " + word, add_special_tokens=False)) == 1, word


def test_cached_and_uncached_generation_agree(tiny):
    prompt = tiny.to_tokens("Once upon a time, there was a little")
    cached = tiny.generate(prompt, max_new_tokens=12, use_cache=True)
    uncached = tiny.generate(prompt, max_new_tokens=12, use_cache=False)
    assert cached.tolist() == uncached.tolist()
