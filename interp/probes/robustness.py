"""Controls and robustness variants for concept depth: a randomly initialised model of the same
shape, the paper's random-letter noise prefix, and weight quantisation (bf16, int8, and block
rounding to 4, 3 or 2 bits).

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
- `quantized_model(model, "int4" | "int3" | "int2")`: the same weights rounded further, the way
  GGUF's Q4_1 rounds a block: each run of BLOCK consecutive weights along a row gets its own
  min and step (max - min) / (2**bits - 1), weights rounded to the nearest of the 2**bits
  levels (asymmetric, so 2 bits keep 4 levels). On a real model loaded from a Q4/Q8 GGUF these
  are weights already dequantised once, rounded again: the issue's "compare a layer's accuracy
  on the dequantised weights with the same weights rounded further".
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

QUANTIZATIONS = ("bf16", "int8", "int4", "int3", "int2")
#: Weights per block of the 4/3/2-bit rounding (GGUF's Q4_0/Q4_1 block size).
BLOCK = 32
NOISE_PREFIXES = ("aaa", "bbb")

__all__ = ["BLOCK", "NOISE_PREFIXES", "QUANTIZATIONS", "noisy_texts", "quantize_blocks_",
           "quantize_int8_", "quantized_model", "random_init_model"]


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


@torch.no_grad()
def quantize_blocks_(module: torch.nn.Module, bits: int, block: int = BLOCK,
                     skip: Sequence[str] = ("unembed", "lm_head")) -> int:
    """Round every nn.Linear weight (not under `skip`) in place to `bits` bits per block of
    `block` weights along each row, asymmetric (min and step per block; the last block of a
    row may be shorter); returns how many were rounded."""
    levels = 2 ** int(bits) - 1
    n = 0
    for name, sub in module.named_modules():
        if not isinstance(sub, torch.nn.Linear) or any(s in name.split(".") for s in skip):
            continue
        w = sub.weight
        for start in range(0, w.shape[1], block):
            part = w[:, start:start + block]
            low = part.amin(dim=1, keepdim=True)
            step = (part.amax(dim=1, keepdim=True) - low).clamp(min=1e-12) / levels
            part.copy_(((part - low) / step).round().clamp(0, levels) * step + low)
        n += 1
    return n


def quantized_model(model: Model, kind: str) -> Any:
    """`model` reloaded from its source and quantised: kind "bf16", "int8", "int4", "int3" or
    "int2" (module docstring).

    The returned Model has `variant` set (the kind), which the representation cache keys on,
    and `quantized_linears` (the int kinds: how many weight matrices were rounded).
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
    out.quantized_linears = (quantize_int8_(out.bridge) if kind == "int8" else
                             quantize_blocks_(out.bridge, int(kind[3:])))
    out.variant = kind
    out.name = f"{model.name}+{kind}"
    return out
