"""Per-head outputs: each attention head's contribution to the residual stream, hook_z times
that head's slice of W_O (TransformerLens' hook_result, without b_O), pooled over positions.

Heads are numbered flat, layer-major: index = layer * n_heads + head (query heads under GQA).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch
from jaxtyping import Float, Int
from torch import Tensor

from interp.errors import InterpError, choices_error, range_error
from interp.hooks import attach

if TYPE_CHECKING:
    from interp.models.model import Model

POOLINGS = ("mean", "last", "none")


def head_label(layer: int, head: int) -> str:
    return f"L{layer}H{head}"


def head_labels(model: Model) -> list[str]:
    f = model.facts
    return [head_label(layer, h) for layer in range(f.n_layers) for h in range(f.n_heads)]


def check_head(model: Model, layer: int, head: int) -> int:
    """Flat index of (layer, head), or InterpError naming the valid range."""
    f = model.facts
    if not isinstance(layer, int) or not 0 <= layer < f.n_layers:
        raise range_error("layer", layer, f.n_layers)
    if not isinstance(head, int) or not 0 <= head < f.n_heads:
        raise range_error("head", head, f.n_heads)
    return layer * f.n_heads + head


def z_hook_names(model: Model) -> list[str]:
    return [model.hook_name("attn_z", layer) for layer in range(model.facts.n_layers)]


def output_weights(model: Model) -> list[Float[Tensor, "n_heads d_head d_model"]]:
    """W_O per layer, [n_heads, d_head, d_model] (read-only, detached)."""
    out = []
    for layer in range(model.facts.n_layers):
        w_o = model.bridge.blocks[layer].attn.W_O.detach()
        f = model.facts
        if tuple(w_o.shape) != (f.n_heads, f.d_head, f.d_model):
            raise InterpError(f"W_O of layer {layer} has shape {tuple(w_o.shape)}; expected "
                              f"({f.n_heads}, {f.d_head}, {f.d_model})")
        out.append(w_o)
    return out


def pad(rows: Sequence[Tensor], pad_id: int = 0) -> tuple[Int[Tensor, "b p"], Int[Tensor, " b"]]:
    """Right-pad 1-D token tensors: (tokens, lengths). Causal attention makes right padding
    harmless to the real positions."""
    lengths = torch.tensor([int(r.numel()) for r in rows])
    tokens = torch.full((len(rows), int(lengths.max())), pad_id, dtype=torch.long)
    for i, r in enumerate(rows):
        tokens[i, : r.numel()] = r.cpu()
    return tokens, lengths


def pool(
    x: Float[Tensor, "b p n d"], lengths: Int[Tensor, " b"], pooling: str
) -> Tensor:
    """Pool [batch, pos, heads, d] over real positions: "mean" (the paper), "last", "none"."""
    if pooling == "none":
        return x
    if pooling == "last":
        return x[torch.arange(x.shape[0]), lengths.to(x.device) - 1]
    if pooling == "mean":
        mask = torch.arange(x.shape[1], device=x.device)[None, :] < lengths.to(x.device)[:, None]
        return (x * mask[:, :, None, None]).sum(1) / lengths.to(x.device, x.dtype)[:, None, None]
    raise choices_error("pooling", pooling, POOLINGS)


@torch.no_grad()
def head_outputs(
    model: Model,
    prompts: Sequence[Tensor] | Sequence[str],
    *,
    pooling: str = "mean",
    batch_size: int = 32,
) -> Float[Tensor, "batch n_heads_total d_model"]:
    """Every head's output for each prompt, [n_prompts, n_layers * n_heads, d_model] (or
    [n_prompts, pos, n_layers * n_heads, d_model] for pooling "none", zero past each prompt's
    end). prompts: strings (tokenized with the model's BOS default) or 1-D token tensors."""
    if pooling not in POOLINGS:
        raise choices_error("pooling", pooling, POOLINGS)
    rows = [model.to_tokens(p)[0] if isinstance(p, str) else p for p in prompts]
    if not rows:
        raise InterpError("no prompts given")
    names = z_hook_names(model)
    w_o = [w.float() for w in output_weights(model)]
    grabbed: dict[str, Tensor] = {}

    def grabber(name: str) -> Any:
        def grab(z: Tensor, hook: Any = None) -> None:
            grabbed[name] = z.detach()

        return grab

    parts = []
    fns = {name: grabber(name) for name in names}
    with attach(model, fns):
        for start in range(0, len(rows), batch_size):
            tokens, lengths = pad(rows[start:start + batch_size])
            model.bridge(tokens.to(model.device), return_type=None)
            per_layer = [torch.einsum("bphd,hdm->bphm", grabbed[n].float(), w)
                         for n, w in zip(names, w_o)]
            x = torch.cat(per_layer, dim=2)  # [b, p, L*H, d_model]
            if pooling == "none":
                cols = torch.arange(x.shape[1], device=x.device)
                keep = cols[None] < lengths.to(x.device)[:, None]
                x = x * keep[:, :, None, None]
            parts.append(pool(x, lengths, pooling).cpu())
    if pooling == "none":
        width = max(p.shape[1] for p in parts)
        parts = [torch.nn.functional.pad(p, (0, 0, 0, 0, 0, width - p.shape[1])) for p in parts]
    return torch.cat(parts)
