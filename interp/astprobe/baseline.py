"""Control model for the AST probe: the same architecture and tokenizer with fresh random
weights (Hugging Face's own initialisation, fixed seed), loaded through the same wrapper.

The other baseline, the embedding layer, needs no model of its own: it is row 0 of the
representations (the residual entering block 0)."""

from __future__ import annotations

import tempfile
from typing import Any

import torch


def random_init_model(model: Any, seed: int = 0) -> Any:
    """A randomly initialised copy of `model`'s architecture.

    For an `interp.Model` the result is an `interp.Model` (saved to a temporary directory
    with the model's tokenizer and loaded with `load_model`, on the same device and dtype);
    for a plain Hugging Face model, a model of the same class built from its config."""
    from transformers import AutoModel, AutoModelForCausalLM

    cpu_rng = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        if not hasattr(model, "bridge"):
            return AutoModel.from_config(model.config).eval()
        fresh = AutoModelForCausalLM.from_config(model.hf_model.config)
    finally:
        torch.random.set_rng_state(cpu_rng)
    from interp.models.load import _progress_bars, load_model

    with tempfile.TemporaryDirectory(prefix="interp-random-init-") as tmp:
        with _progress_bars(False):
            fresh.save_pretrained(tmp)
        model.tokenizer.save_pretrained(tmp)
        out = load_model(tmp, device=model.device, dtype=model.dtype)
    out.name = f"{model.name} (random init, seed {seed})"
    return out
