"""The shipped `interp-circuits`: it loads by name, matches its card, its card's numbers are
reproducible, and it does the tasks it exists for (IOI in both name orders, greater-than)."""

from __future__ import annotations

import json

import pytest

import interp
from interp.bundled import tasks
from interp.models.load import bundled_dir

CARD = bundled_dir("interp-circuits") / "card.json"


@pytest.fixture(scope="module")
def model():
    return interp.load_model("interp-circuits", device="cpu")


@pytest.fixture(scope="module")
def card() -> dict:
    return json.loads(CARD.read_text())


def test_shipped_files_are_small_and_complete():
    files = {p.name: p.stat().st_size for p in bundled_dir("interp-circuits").iterdir()}
    for name in ("config.json", "model.safetensors", "tokenizer.json", "card.json",
                 "MODEL_CARD.md"):
        assert name in files
    assert sum(files.values()) < 20 * 2**20


def test_matches_its_card_and_shares_interp_tiny_tokenizer(model, card):
    assert model.fingerprint == card["fingerprint"]
    assert model.facts.to_dict() == card["facts"]
    tiny = (bundled_dir("interp-tiny") / "tokenizer.json").read_text()
    assert (bundled_dir("interp-circuits") / "tokenizer.json").read_text() == tiny


def test_card_numbers_are_reproducible(model, card):
    k = card["tasks"]
    for name in ("trained", "baba"):
        prompts = tasks.ioi_prompts(k["n_prompts"], k["seed"], name)
        assert round(tasks.contrast_accuracy(model, prompts), 4) == k["ioi_" + name]
    years = tasks.year_prompts(k["n_prompts"], k["seed"])
    assert round(tasks.year_probability_difference(model, years), 4) == k["year_range_prob_diff"]


def test_does_ioi_in_both_name_orders_and_greater_than(model):
    for name in ("trained", "baba", "unseen"):
        assert tasks.contrast_accuracy(model, tasks.ioi_prompts(100, 7, name)) >= 0.7, name
    assert tasks.year_probability_difference(model, tasks.year_prompts(100, 7)) >= 0.5
