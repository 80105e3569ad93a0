"""Controls and robustness variants for concept depth: a randomly initialised model of the same
shape, the paper's random-letter noise prefix, and weight quantisation (bf16, int8).

- The random-init control model lives in `interp.models.random_init` (shared with the AST
  probe); `interp.probes` exports it.
- `noisy_texts(texts, seed)`: each text gets "aaa" or "bbb" (chosen at random, fixed seed)
  glued in front with no space, as the paper's `add_noise` does ("aaaThe city of ...").
- `quantized_model(model, "bf16")`: the checkpoint reloaded in bfloat16 (activations bf16 too).
- `quantized_model(model, "int8")`: simulated int8 weights: every nn.Linear weight inside the
  blocks (attention q/k/v/o and MLP projections; embeddings, norms and the LM head stay fp32,
  as bitsandbytes' load_in_8bit leaves the LM head) is rounded per output channel to
  symmetric int8 (scale = max|w_row| / 127) and stored back dequantised. torch's own dynamic
  quantisation (`torch.ao.quantization.quantize_dynamic`, deprecated in torch 2.13) swaps only
  the LM head of a TransformerBridge, so it does not quantise the blocks and is not used.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch

from interp.errors import choices_error
from interp.models.random_init import random_init_model

if TYPE_CHECKING:
    from interp.models.model import Model

QUANTIZATIONS = ("bf16", "int8")
NOISE_PREFIXES = ("aaa", "bbb")

__all__ = ["NOISE_PREFIXES", "QUANTIZATIONS", "noisy_texts", "quantize_int8_", "quantized_model",
           "random_init_model"]


def noisy_texts(texts: Sequence[str], seed: int = 0) -> list[str]:
    """Each text with "aaa" or "bbb" prepended (no space), chosen with `seed`."""
    rng = random.Random(seed)
    return [rng.choice(NOISE_PREFIXES) + t for t in texts]


@torch.no_grad()
def quantize_int8_(module: torch.nn.Module, skip: Sequence[str] = ("unembed", "lm_head")
                   ) -> int:
    """Round every nn.Linear weight (not under `skip`) to per-row symmetric int8 in place;
    returns how many were quantised."""
    n = 0
    for name, sub in module.named_modules():
        if not isinstance(sub, torch.nn.Linear) or any(s in name.split(".") for s in skip):
            continue
        w = sub.weight
        scale = w.abs().amax(dim=1, keepdim=True).clamp(min=1e-12) / 127.0
        w.copy_((w / scale).round().clamp(-127, 127) * scale)
        n += 1
    return n


def quantized_model(model: Model, kind: str) -> Any:
    """`model` reloaded from its source and quantised: kind "bf16" or "int8" (module docstring).

    The returned Model has `variant` set ("bf16"/"int8"), which the representation cache keys
    on, and `quantized_linears` (int8: how many weight matrices were rounded).
    """
    from interp.models.load import load_model

    if kind not in QUANTIZATIONS:
        raise choices_error("quantization", kind, QUANTIZATIONS)
    source = model.path if model.path is not None else model.name
    if kind == "bf16":
        out = load_model(source, device=model.device, dtype="bfloat16")
        out.variant = "bf16"
        return out
    out = load_model(source, device=model.device, dtype=model.dtype)
    out.quantized_linears = quantize_int8_(out.bridge)
    out.variant = "int8"
    out.name = f"{model.name}+int8"
    return out
