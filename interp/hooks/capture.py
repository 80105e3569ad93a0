"""capture: run a model over texts or tokens in batches and keep hook activations on the CPU,
in memory (Activations) or streamed to a directory of safetensors shards (ActivationStore).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import torch
from jaxtyping import Int
from torch import Tensor

from interp.errors import InterpError
from interp.hooks.activations import Activations
from interp.hooks.attach import attach
from interp.hooks.names import SiteSpec, resolve_sites, stop_layer
from interp.hooks.positions import Positions, PositionSpec, parse_positions
from interp.hooks.store import ActivationStore, ShardWriter
from interp.models.devices import dtype_name
from interp.progress import Progress

if TYPE_CHECKING:
    from interp.models.model import Model

Data = str | Tensor | Iterable[str | Sequence[int] | Tensor]
#: Target shard size when shard_tokens is not given.
SHARD_BYTES = 256 * 2**20
#: Hooks whose position (query) axis is dim 2, not dim 1: [batch, head, query, key].
_QUERY_DIM2 = ("hook_pattern", "hook_attn_scores")


def _sequences(
    model: Model, data: Data, attention_mask: Tensor | None, max_length: int
) -> Iterator[tuple[Int[Tensor, " n"], bool]]:
    """(token ids on CPU, truncated?) per sequence, lazily."""
    if isinstance(data, str):
        data = [data]
    if isinstance(data, Tensor):
        if data.dtype.is_floating_point or data.dim() not in (1, 2):
            raise InterpError(f"token tensor must be [batch, pos] integers, got {data.dtype} "
                              f"{tuple(data.shape)}")
        rows = data.reshape(-1, data.shape[-1]).cpu()
        if attention_mask is not None:
            if attention_mask.shape != rows.shape:
                raise InterpError(f"attention_mask shape {tuple(attention_mask.shape)} does not "
                                  f"match tokens {tuple(rows.shape)}")
            keep = attention_mask.cpu().bool()
            data = [row[m] for row, m in zip(rows, keep)]
        else:
            data = list(rows)
    elif attention_mask is not None:
        raise InterpError("attention_mask is only accepted with a [batch, pos] token tensor")
    for i, item in enumerate(data):
        if isinstance(item, str):
            ids = model.to_tokens(item)[0].cpu()
        elif isinstance(item, Tensor) and item.dim() == 1 and not item.dtype.is_floating_point:
            ids = item.cpu().long()
        elif isinstance(item, (list, tuple)) and all(isinstance(t, int) for t in item):
            ids = torch.tensor(item, dtype=torch.long)
        else:
            raise InterpError(f"input item {i} is {type(item).__name__}; expected a str, a list "
                              "of token ids or a 1-D integer tensor")
        if ids.numel() == 0:
            raise InterpError(f"input item {i} has no tokens")
        yield ids[:max_length], ids.numel() > max_length


def _batches(seqs: Iterator[tuple[Tensor, bool]], batch_size: int, pad_id: int,
             ) -> Iterator[tuple[Int[Tensor, "b p"], Int[Tensor, " b"], int]]:
    """Right-padded (tokens, lengths, n_truncated) batches."""
    buf: list[Tensor] = []
    truncated = 0
    for ids, cut in seqs:
        buf.append(ids)
        truncated += cut
        if len(buf) == batch_size:
            yield (*_pad(buf, pad_id), truncated)
            buf, truncated = [], 0
    if buf:
        yield (*_pad(buf, pad_id), truncated)


def _pad(rows: list[Tensor], pad_id: int) -> tuple[Tensor, Tensor]:
    lengths = torch.tensor([r.numel() for r in rows])
    tokens = torch.full((len(rows), int(lengths.max())), pad_id, dtype=torch.long)
    for i, r in enumerate(rows):
        tokens[i, : r.numel()] = r
    return tokens, lengths


def _select(x: Tensor, index: Tensor, pos_dim: int, gather: bool) -> Tensor:
    """Keep slots `index` ([b, k], -1 = none) along `pos_dim`, zeroing the empty ones."""
    y = x.detach().movedim(pos_dim, 1)
    valid = index >= 0
    if gather:
        idx = index.clamp(min=0).to(y.device)
        idx = idx.view(*idx.shape, *([1] * (y.dim() - 2))).expand(*idx.shape, *y.shape[2:])
        y = y.gather(1, idx)
    valid = valid.to(y.device).view(*valid.shape, *([1] * (y.dim() - 2)))
    return y.masked_fill(~valid, 0).movedim(1, pos_dim)


def capture(
    model: Model,
    sites: SiteSpec | Sequence[SiteSpec],
    tokens_or_texts: Data,
    *,
    batch_size: int = 8,
    positions: PositionSpec = None,
    to: str | os.PathLike | None = None,
    shard_tokens: int | None = None,
    progress: bool = False,
    dtype: str | torch.dtype | None = None,
    max_length: int | None = None,
    attention_mask: Tensor | None = None,
    overwrite: bool = False,
) -> Activations | ActivationStore:
    """Run `model` over texts or token ids and capture the activations at `sites`.

    sites: (site, layer) pairs, (site, None) or a bare site name for every layer, or verbatim
        hook names ("blocks.0.attn.hook_z"); see interp.hooks.names.resolve_sites.
    tokens_or_texts: a str, a list/iterable of str (tokenized with model.to_tokens), a
        [batch, pos] token tensor (with optional `attention_mask`), or an iterable of token
        id lists / 1-D tensors. Iterables are consumed lazily, one batch at a time.
    positions: None/"all" (every token), "last" (each sequence's last token), or absolute
        positions (int, list, slice, tensor); slots a sequence is too short for are masked.
    to: a directory to stream safetensors shards into (returns an ActivationStore);
        otherwise everything is returned in memory as Activations.
    shard_tokens: slots (sequences x positions, padding included) per shard; default aims
        at ~256 MiB per shard. dtype: storage dtype (default: the model's).
    max_length: truncate longer sequences (default the model's n_ctx).
    Batches are right-padded and run without gradients, stopping after the last needed
    block; active interventions apply. Padded slots hold zeros and mask False. Attention
    patterns keep TransformerLens' [batch, head, query, key] layout (positions select
    queries; `Activations.flat` does not apply to them).
    """
    from interp.models.devices import resolve_dtype

    names = resolve_sites(model, sites)
    pos = parse_positions(positions, model.facts.n_ctx)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InterpError(f"batch_size must be a positive integer, got {batch_size!r}")
    want = resolve_dtype(dtype)
    store_dtype = model.dtype if want == "auto" else want
    n_ctx = model.facts.n_ctx
    max_length = n_ctx if max_length is None else int(max_length)
    if not 1 <= max_length <= n_ctx:
        raise InterpError(f"max_length {max_length} out of range; valid: 1..{n_ctx}")
    tok = model.tokenizer
    pad_id = next((i for i in (tok.pad_token_id, tok.eos_token_id) if i is not None), 0)
    writer = ShardWriter(to, shard_tokens or 1, overwrite) if to is not None else None
    total = None
    if isinstance(tokens_or_texts, (list, tuple, Tensor, str)):
        n = 1 if isinstance(tokens_or_texts, str) else len(tokens_or_texts)
        total = -(-n // batch_size)
    what = f"{len(names)} hooks" + (f" -> {to}" if to else "")
    bar = Progress("capture", desc=f"capture {what}", total=total, unit="batch",
                   enabled=progress)
    bar.note(f"{what} ...")

    stop = stop_layer(names, model.facts.n_layers)
    state: dict[str, Any] = {}
    grabbed: dict[str, Tensor] = {}

    def make_hook(name: str) -> Any:
        pos_dim = 2 if name.endswith(_QUERY_DIM2) else 1

        def grab(x: Tensor, hook: Any = None) -> None:
            y = _select(x, state["index"], pos_dim, gather=pos.kind != "all")
            grabbed[name] = y.to(device="cpu", dtype=store_dtype)

        return grab

    parts: list[Activations] = []
    n_seq = n_tok = n_cut = 0
    shapes: dict[str, list[int]] = {}
    try:
        with attach(model, {name: make_hook(name) for name in names}):
            seqs = _sequences(model, tokens_or_texts, attention_mask, max_length)
            for tokens, lengths, cut in _batches(seqs, batch_size, pad_id):
                part = _run_batch(model, pos, tokens, lengths, stop, state, grabbed, names, pad_id)
                part.fingerprint, part.meta = model.fingerprint, {"pad_id": pad_id}
                n_seq, n_tok, n_cut = n_seq + len(part), n_tok + part.n_tokens, n_cut + cut
                shapes = shapes or {n: list(part.acts[n].shape[2:]) for n in names}
                if writer is None:
                    parts.append(part)
                else:
                    if shard_tokens is None and n_seq == len(part):  # first batch: size the shards
                        per_slot = sum(t[0, 0].numel() * t.element_size()
                                       for t in part.acts.values())
                        writer.shard_tokens = max(1, SHARD_BYTES // max(1, per_slot))
                    writer.add(part)
                bar.update(1)
            if n_seq == 0:
                raise InterpError("no input sequences given to capture")
            if writer is None:
                bar.note(f"{n_seq} sequences, {n_tok} tokens")
                return Activations.cat(parts)
            cfg = {
                "model": model.name, "fingerprint": model.fingerprint,
                "architecture": model.facts.architecture, "sites": names, "shapes": shapes,
                "dtype": dtype_name(store_dtype), "n_sequences": n_seq, "n_tokens": n_tok,
                "positions": repr(pos), "batch_size": batch_size, "pad_id": pad_id,
                "max_length": max_length, "n_truncated": n_cut,
            }
            writer.finish(cfg)
            bar.note(f"{n_seq} sequences, {n_tok} tokens, {len(writer.files)} shards in {to}")
            return ActivationStore(writer.directory, model)
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    finally:
        bar.close()


def _run_batch(
    model: Model, pos: Positions, tokens: Tensor, lengths: Tensor, stop: int | None,
    state: dict[str, Any], grabbed: dict[str, Tensor], names: list[str], pad_id: int,
) -> Activations:
    """One forward pass; returns the batch's Activations (slots chosen by `pos`)."""
    width = tokens.shape[1]
    index = pos.gather_index(lengths, width)
    state["index"] = index
    grabbed.clear()
    mask = (torch.arange(width) < lengths.unsqueeze(1)).long()
    with torch.no_grad():
        model.bridge(
            tokens.to(model.device), return_type=None, stop_at_layer=stop,
            attention_mask=mask.to(model.device),
        )
    missing = [n for n in names if n not in grabbed]
    if missing:
        raise InterpError(f"hook {missing[0]!r} did not fire during the forward pass")
    valid = index >= 0
    slot_tokens = tokens if pos.kind == "all" else tokens.gather(1, index.clamp(min=0))
    slot_tokens = slot_tokens.masked_fill(~valid, pad_id)
    return Activations({n: grabbed[n] for n in names}, slot_tokens, valid, index)
