"""Resume a forward pass at any layer: run the model once on a batch while recording what it
passed to each decoder block (the residual stream and the block's other arguments: masks,
rotary tables), then run blocks L..end again from a changed residual, without recomputing
blocks 0..L-1. Exact (it calls the same blocks with the same arguments), and hooks on the
blocks still fire; what it saves is the first L blocks and, for the logits, every position but
the ones asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from jaxtyping import Float, Int
from torch import Tensor

from interp.errors import InterpError
from interp.hooks.modules import ModuleHooks

if TYPE_CHECKING:
    from interp.models.model import Model

#: Block arguments that carry state between calls and must not be replayed.
_CACHE_ARGS = ("past_key_value", "past_key_values", "layer_past", "cache_position")


@dataclass
class BlockInputs:
    """What each block received on one batch: `hidden[L]` is block L's input residual
    [batch, pos, d_model]; `args[L]` / `kwargs[L]` its other positional / keyword arguments."""

    hidden: list[Float[Tensor, "batch pos d_model"]]
    args: list[tuple[Any, ...]]
    kwargs: list[dict[str, Any]]

    @property
    def batch(self) -> int:
        return int(self.hidden[0].shape[0])


def record_block_inputs(
    model: Model, tokens: Int[Tensor, "batch pos"]
) -> tuple[BlockInputs, Float[Tensor, "batch pos d_vocab"]]:
    """Run `model` on `tokens` (no KV cache) and return each block's inputs and the logits."""
    blocks = model.bridge.blocks
    n = len(blocks)
    hidden: list[Any] = [None] * n
    args: list[Any] = [None] * n
    kwargs: list[Any] = [None] * n

    def recorder(i: int) -> Any:
        def record(module: Any, a: tuple[Any, ...], kw: dict[str, Any]) -> None:
            x = a[0] if a else kw["hidden_states"]
            hidden[i] = x.detach()
            args[i] = tuple(a[1:]) if a else ()
            kwargs[i] = {k: v for k, v in kw.items() if k != "hidden_states"}

        return record

    with ModuleHooks() as hooks, torch.no_grad():  # block kwargs: no TL hook point has them
        for i, b in enumerate(blocks):
            hooks.pre(b, recorder(i))
        logits = model.bridge(tokens.to(model.device), return_type="logits", use_cache=False)
    if any(h is None for h in hidden):
        raise InterpError("the model did not call every block in order; cannot resume it")
    for kw in kwargs:
        for key in _CACHE_ARGS:
            if key in kw:
                kw[key] = None
    return BlockInputs(hidden, args, kwargs), logits


def _tile(x: Any, batch: int, copies: int) -> Any:
    """x repeated `copies` times along dim 0 where its dim 0 is the batch (tuples too)."""
    if isinstance(x, Tensor) and x.dim() > 0 and x.shape[0] == batch and copies > 1:
        return x.repeat(copies, *([1] * (x.dim() - 1)))
    if isinstance(x, tuple):
        return tuple(_tile(y, batch, copies) for y in x)
    return x


@torch.no_grad()
def run_from(
    model: Model, inputs: BlockInputs, layer: int, hidden: Float[Tensor, "big pos d_model"],
) -> Float[Tensor, "big pos d_model"]:
    """The residual stream after the last block, running blocks `layer`..end from `hidden`.
    `hidden`'s batch may be a multiple k of the recorded one (k copies, copy-major: rows
    c * batch + i are copy c of prompt i); the blocks' other arguments are tiled to match."""
    blocks = model.bridge.blocks
    if not 0 <= layer < len(blocks):
        raise InterpError(f"layer {layer} out of range; valid: 0..{len(blocks) - 1}")
    batch = inputs.batch
    if hidden.shape[0] % batch:
        raise InterpError(f"hidden batch {hidden.shape[0]} is not a multiple of the recorded "
                          f"batch {batch}")
    copies = hidden.shape[0] // batch
    x = hidden
    for i in range(layer, len(blocks)):
        a = _tile(inputs.args[i], batch, copies)
        kw = {k: _tile(v, batch, copies) for k, v in inputs.kwargs[i].items()}
        out = blocks[i](x, *a, **kw)
        x = out[0] if isinstance(out, tuple) else out
    return x


@torch.no_grad()
def logits_at(
    model: Model, resid: Float[Tensor, "big pos d_model"], positions: Int[Tensor, " big"],
) -> Float[Tensor, "big d_vocab"]:
    """The model's logits at one position per row of a final residual stream (final norm,
    unembedding and the model's logit soft-capping, if any)."""
    x = resid[torch.arange(resid.shape[0], device=resid.device), positions.to(resid.device)]
    return model.cap_logits(model.bridge.unembed(model.bridge.ln_final(x[:, None, :]))[:, 0])
