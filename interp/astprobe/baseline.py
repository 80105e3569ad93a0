"""Control model for the AST probe: the same architecture and tokenizer with fresh random
weights (Hugging Face's own initialisation, fixed seed), loaded through the same wrapper. As
the paper defines it (the reference's `generate_baseline`), the trained model's input
embeddings are kept by default: only the blocks are random (`keep_embeddings=False`: the
embeddings re-initialised too, interp's baseline before issue 20).

The other baseline, the embedding layer, needs no model of its own: it is row 0 of the
representations (the residual entering block 0)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from interp.models.random_init import copy_embeddings
from interp.models.random_init import random_init_model as shared_random_init_model

if TYPE_CHECKING:
    from interp.models.model import Model


def random_init_model(model: Model, seed: int = 0, *, keep_embeddings: bool = True) -> Any:
    """A randomly initialised copy of `model`'s architecture, its input embeddings kept
    (`interp.models.random_init.copy_embeddings`) unless `keep_embeddings` is False.

    For an `interp.Model`, `interp.models.random_init.random_init_model` (an `interp.Model` on
    the same device and dtype); for a plain Hugging Face model (e.g. an encoder), a model of
    the same class built from its config under `seed`."""
    if hasattr(model, "bridge"):
        return shared_random_init_model(model, seed=seed, keep_embeddings=keep_embeddings)
    from transformers import AutoModel

    rng = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        fresh = AutoModel.from_config(model.config).eval()
    finally:
        torch.random.set_rng_state(rng)
    if keep_embeddings:
        copy_embeddings(model, fresh)
    return fresh
