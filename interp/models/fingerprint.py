"""Model fingerprint: a short stable hash of the architecture and a fixed sample of weights.

Artifacts store it so they can refuse a different model. Cheap: a few dozen values per tensor.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

import torch

from interp.models.facts import ModelFacts

#: Values sampled per parameter tensor (evenly spaced + pseudo-random fixed positions).
N_EVEN = 16
N_SCATTER = 16
#: HF config keys that change the computation without changing any tensor shape.
CONFIG_KEYS = (
    "layer_norm_eps", "layer_norm_epsilon", "rms_norm_eps", "rope_theta", "rotary_pct",
    "partial_rotary_factor", "rope_scaling", "rope_parameters", "use_parallel_residual",
    "final_logit_softcapping", "attn_logit_softcapping", "sliding_window",
)


def sample_positions(numel: int) -> list[int]:
    """Fixed flat positions for a tensor of `numel` elements (pure Python: device-independent)."""
    if numel <= N_EVEN + N_SCATTER:
        return list(range(numel))
    even = [(i * (numel - 1)) // (N_EVEN - 1) for i in range(N_EVEN)]
    scatter = [(2654435761 * (i + 1) + 97) % numel for i in range(N_SCATTER)]
    return sorted(set(even + scatter))


def sample_values(tensor: torch.Tensor) -> bytes:
    """Sampled values, rounded to bfloat16 and stored as float32 little-endian bytes.

    Rounding to bf16 makes the hash the same whether the checkpoint is loaded in fp32, fp16 or
    bf16, on any device; works on non-contiguous tensors without copying them.
    """
    t = tensor.detach()
    if t.numel() == 0:
        return b""
    flat = sample_positions(t.numel())
    index = []
    for size in reversed(t.shape):
        index.append([p % size for p in flat])
        flat = [p // size for p in flat]
    idx = tuple(torch.tensor(ix, device=t.device) for ix in reversed(index))
    values = t[idx] if t.dim() else t.reshape(1)
    values = values.float().to(torch.bfloat16).float().cpu().contiguous()
    return values.numpy().astype("<f4").tobytes()


def canonical_name(name: str) -> str:
    """Parameter name with TransformerBridge's `_original_component` segments removed."""
    return ".".join(part for part in name.split(".") if part != "_original_component")


def config_extras(hf_config: Any) -> dict[str, Any]:
    """JSON-safe values of the CONFIG_KEYS that this HF config defines."""
    out = {}
    for key in CONFIG_KEYS:
        value = getattr(hf_config, key, None)
        if value is not None:
            out[key] = json.loads(json.dumps(value, sort_keys=True, default=str))
    return out


def fingerprint_params(
    named_params: Iterable[tuple[str, torch.Tensor]],
    facts: ModelFacts,
    hf_config: Any = None,
    length: int = 16,
) -> str:
    """Hex sha256 (first `length` chars) of facts, config extras, names, shapes, sampled values.

    Equal for the same checkpoint reloaded (any device, any float dtype); different for models
    whose architecture differs or whose weights differ at a sampled position (any two trained
    or randomly initialised models do). Names are canonicalised with `canonical_name`.
    """
    h = hashlib.sha256()
    head = {"facts": facts.to_dict(), "config": config_extras(hf_config)}
    h.update(json.dumps(head, sort_keys=True).encode())
    params = {canonical_name(n): p for n, p in named_params}
    for name in sorted(params):
        p = params[name]
        h.update(f"\n{name}:{tuple(p.shape)}:".encode())
        h.update(sample_values(p))
    return h.hexdigest()[:length]


def weights_digest(module: torch.nn.Module, length: int = 16) -> str:
    """Hex blake2b (first `length` chars) of every parameter and buffer, byte for byte, with
    names, shapes and dtypes: the key for values derived from a model *as it is now*, which
    the fingerprint's sampled values would not notice an edited neuron of (about 0.5 s for
    SmolLM2's 540 MB in float32)."""
    h = hashlib.blake2b(digest_size=32)
    tensors = [*module.named_parameters(), *module.named_buffers()]
    for name, t in sorted(tensors, key=lambda item: item[0]):
        t = t.detach()
        h.update(f"\n{name}:{tuple(t.shape)}:{t.dtype}:".encode())
        if t.numel():
            h.update(t.cpu().contiguous().reshape(-1).view(torch.uint8).numpy().data)
    return h.hexdigest()[:length]
