"""A control model: the same architecture, config and tokenizer with fresh random weights.

Probes compare against it so that what they find is not an artefact of the architecture or
of probe capacity (concept depth, AST probe). It is loaded through `load_model` like any
checkpoint, so it has its own fingerprint and caches of the two never mix.
"""

from __future__ import annotations

import tempfile
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from interp.models.model import Model


def random_init_model(model: Model, seed: int = 0, device: str | torch.device | None = None
                      ) -> Any:
    """A freshly initialised `interp.Model` with `model`'s HF config and tokenizer.

    Weights come from Hugging Face's own `from_config` initialisation under `seed` (the global
    torch RNG is restored afterwards). Same device (unless `device`) and dtype as `model`.
    Named "<name>+random-init(seed=S)", `path` None, `variant` "random-init-S".
    """
    from transformers import AutoModelForCausalLM

    from interp.models.load import _progress_bars, load_model

    rng = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        fresh = AutoModelForCausalLM.from_config(model.hf_model.config)
    finally:
        torch.random.set_rng_state(rng)
    with tempfile.TemporaryDirectory(prefix="interp-random-init-") as tmp, _progress_bars(False):
        fresh.save_pretrained(tmp)
        model.tokenizer.save_pretrained(tmp)
        out = load_model(tmp, device=device or model.device, dtype=model.dtype)
    out.name = f"{model.name}+random-init(seed={seed})"
    out.path = None
    out.variant = f"random-init-{seed}"
    return out
