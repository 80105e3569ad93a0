"""Fixtures for interp.steer: a tiny Llama with one planted concept neuron."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import pytest
import torch

if TYPE_CHECKING:
    from interp.models.model import Model

PLANTED_LAYER, PLANTED_NEURON = 1, 7
CONCEPT_WORD = "the"  # " the" is one of the few whole-word tokens of the test tokenizer


def plant(model: Model, layer: int, neuron: int, token_id: int, norm: float = 1.0) -> None:
    """Point a neuron's down vector at a token's (folded) unembedding direction."""
    w_u, _ = model.folded_unembedding(torch.float32)
    direction = w_u[:, token_id]
    direction = direction - direction.mean() if model.facts.norm == "layernorm" else direction
    down = model.neuron_vectors(layer, "down")  # a view on the checkpoint's weights
    with torch.no_grad():
        down[neuron] = (norm * direction / direction.norm()).to(down.dtype)


class Planted(NamedTuple):
    model: Model
    token_id: int
    layer: int = PLANTED_LAYER
    neuron: int = PLANTED_NEURON
    word: str = CONCEPT_WORD

    @property
    def target(self) -> str:
        return f"{self.layer}:{self.neuron}"


@pytest.fixture(scope="module")
def planted(tiny_model_dirs) -> Planted:
    """A freshly loaded tiny Llama whose neuron 1:7 writes " the" (test modules cannot import
    conftest under importlib mode, so the constants travel with the fixture)."""
    from interp import load_model

    model = load_model(tiny_model_dirs["llama"], device="cpu")
    token_id = model.tokenizer.encode(" " + CONCEPT_WORD, add_special_tokens=False)
    assert len(token_id) == 1
    plant(model, PLANTED_LAYER, PLANTED_NEURON, token_id[0], norm=3.0)
    return Planted(model, token_id[0])
