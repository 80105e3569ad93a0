"""A control model: the same architecture, config and tokenizer with fresh random weights.

Probes compare against it so that what they find is not an artefact of the architecture or
of probe capacity (concept depth, AST probe). It is loaded through `load_model` like any
checkpoint, so it has its own fingerprint and caches of the two never mix.

`keep_embeddings=True` gives the AST-Probe paper's baseline (Hernandez Lopez et al. 2022, whose
`generate_baseline` builds a fresh model and puts the trained model's embedding module back):
every block re-initialised, the input embeddings (token, and learned positions or token types
where the model has them) copied from `model`.
"""

from __future__ import annotations

import tempfile
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

if TYPE_CHECKING:
    from interp.models.model import Model


def copy_embeddings(src: nn.Module, dst: nn.Module) -> list[str]:
    """Copy `src`'s input embeddings into `dst` (same architecture); the names copied.

    Every `nn.Embedding` (token embeddings, learned positions, token types) is copied; so is an
    encoder's whole `embeddings` module where there is one (BERT / RoBERTa: its LayerNorm too,
    as the AST-Probe reference keeps it). Rotary positions have no weights to copy."""
    # a loaded model's HF modules are wrapped by bridge components: drop the wrapper's name
    weights = {k.replace("._original_component", ""): v for k, v in src.state_dict().items()}
    copied = []
    with torch.no_grad():
        for name, mod in dst.named_modules():
            whole = name.rsplit(".", 1)[-1] == "embeddings" and not isinstance(mod, nn.Embedding)
            if not (isinstance(mod, nn.Embedding) or whole):
                continue
            if any(name.startswith(c + ".") for c in copied):
                continue  # inside an `embeddings` module already copied
            state = mod.state_dict()
            keys = [f"{name}.{k}" for k in state]
            if not all(k in weights for k in keys):
                continue
            mod.load_state_dict({k: weights[f"{name}.{k}"] for k in state})
            copied.append(name)
    return copied


def random_init_model(model: Model, seed: int = 0, device: str | torch.device | None = None,
                      *, keep_embeddings: bool = False) -> Any:
    """A freshly initialised `interp.Model` with `model`'s HF config and tokenizer.

    Weights come from Hugging Face's own `from_config` initialisation under `seed` (the global
    torch RNG is restored afterwards). Same device (unless `device`) and dtype as `model`.
    Named "<name>+random-init(seed=S)", `path` None, `variant` "random-init-S".
    With `keep_embeddings` (the AST-Probe paper's baseline) the input embeddings are `model`'s
    (`copy_embeddings`); then the name ends "random-init(seed=S, embeddings kept)" and the
    variant is "random-init-S-keep-embed".
    """
    from transformers import AutoModelForCausalLM

    from interp.models.load import _progress_bars, load_model

    rng = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        fresh = AutoModelForCausalLM.from_config(model.hf_model.config)
    finally:
        torch.random.set_rng_state(rng)
    if keep_embeddings and not copy_embeddings(model.hf_model, fresh):
        from interp.errors import InterpError

        raise InterpError(f"{model.name}: no input embeddings found to keep")
    with tempfile.TemporaryDirectory(prefix="interp-random-init-") as tmp, _progress_bars(False):
        fresh.save_pretrained(tmp)
        model.tokenizer.save_pretrained(tmp)
        out = load_model(tmp, device=device or model.device, dtype=model.dtype)
    kept = ", embeddings kept" if keep_embeddings else ""
    out.name = f"{model.name}+random-init(seed={seed}{kept})"
    out.path = None
    out.variant = f"random-init-{seed}" + ("-keep-embed" if keep_embeddings else "")
    return out
