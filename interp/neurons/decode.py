"""Decoding maths: neuron vectors -> logits through the (folded) unembedding -> top-k, bottom-k,
probabilities and specialisation scores, in chunks of neurons (bounded memory, any device).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields

import torch
from jaxtyping import Float, Int
from torch import Tensor

from interp.models.devices import dtype_from_name
from interp.neurons.options import DecodeOptions

#: Default memory for one chunk's temporaries (logits and probabilities), in MiB.
DEFAULT_CHUNK_MB = 512


@dataclass
class LayerDecode:
    """One layer's decoded neurons (CPU tensors; ids index the full vocabulary).

    top_*: [d_mlp, top_k], largest logit first. bottom_*: [d_mlp, bottom_k], smallest first.
    """

    top_ids: Int[Tensor, "d_mlp top_k"]
    top_logits: Float[Tensor, "d_mlp top_k"]
    top_probs: Float[Tensor, "d_mlp top_k"]
    bottom_ids: Int[Tensor, "d_mlp bottom_k"]
    bottom_logits: Float[Tensor, "d_mlp bottom_k"]
    bottom_probs: Float[Tensor, "d_mlp bottom_k"]
    margin: Float[Tensor, " d_mlp"]
    entropy: Float[Tensor, " d_mlp"]

    @property
    def top1_prob(self) -> Float[Tensor, " d_mlp"]:
        return self.top_probs[:, 0]

    @property
    def n_neurons(self) -> int:
        return int(self.top_ids.shape[0])

    def tensors(self) -> dict[str, Tensor]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_tensors(cls, tensors: dict[str, Tensor]) -> LayerDecode:
        return cls(**{f.name: tensors[f.name] for f in fields(cls)})

    @classmethod
    def concat(cls, parts: list[LayerDecode]) -> LayerDecode:
        return cls(**{f.name: torch.cat([getattr(p, f.name) for p in parts])
                      for f in fields(cls)})


@dataclass
class Unembedding:
    """The matrix (and bias) that neuron vectors are decoded through, already restricted to the
    kept tokens: logits = v @ weight (+ bias); `token_ids[j]` is column j's vocabulary id."""

    weight: Float[Tensor, "d_model n_kept"]
    bias: Float[Tensor, " n_kept"] | None
    token_ids: Int[Tensor, " n_kept"] | None  # None: all tokens, in order
    center_rows: bool  # LayerNorm centring of each vector (fold_norm with a LayerNorm)
    vector_scale: float = 1.0  # scale="calibrated": the model's factor (interp.neurons.calibrate)


def compute_dtype(options: DecodeOptions) -> torch.dtype:
    return dtype_from_name(options.dtype)


def layer_vectors(model, layer: int, options: DecodeOptions) -> Float[Tensor, "d_mlp d_model"]:
    """The vectors decoded for `layer`: the side's raw rows, except that the down side with
    fold_norm is what the neuron writes (post-MLP norm gain folded in, where there is one)."""
    if options.side == "down" and options.fold_norm:
        return model.write_vectors(layer)
    return model.neuron_vectors(layer, options.side)


def unembedding(model, options: DecodeOptions, device: torch.device | str,
                flagged: Iterable[int] = ()) -> Unembedding:
    """Build the decoding matrix for `model` under `options`, on `device`; `flagged` token ids
    are left out too (the caller passes them when options.flagged_tokens == "exclude")."""
    dtype = compute_dtype(options)
    if options.fold_norm:
        w_u, b_u = model.folded_unembedding(torch.float32)
        bias = b_u if options.bias == "include" else None
    else:
        w_u, bias = model.hf_model.get_output_embeddings().weight.detach().float().T, None
    if options.score == "cosine":  # every token's column at the median column norm
        if dtype == torch.float64:
            w_u = w_u.double()
        norms = w_u.norm(dim=0).clamp_min(torch.finfo(torch.float32).tiny)
        w_u = w_u * (norms.median() / norms)[None, :]
    keep = None
    excluded = sorted(set(options.exclude_tokens) | set(flagged))
    if excluded:
        mask = torch.ones(w_u.shape[1], dtype=torch.bool)
        mask[excluded] = False
        keep = mask.nonzero().squeeze(1)
        w_u = w_u[:, keep.to(w_u.device)]
        bias = None if bias is None else bias[keep.to(bias.device)]
    return Unembedding(
        weight=w_u.to(device=device, dtype=dtype).contiguous(),
        bias=None if bias is None else bias.to(device=device, dtype=torch.float32),
        token_ids=keep,
        center_rows=options.fold_norm and model.facts.norm == "layernorm",
    )


def prepare_vectors(
    vectors: Float[Tensor, "n d_model"], options: DecodeOptions, center_rows: bool,
    vector_scale: float = 1.0,
) -> Float[Tensor, "n d_model"]:
    """Steps 1-3 of the maths (centre over neurons, LayerNorm centring, scale), in float32;
    `vector_scale` is the calibration factor applied when scale="calibrated"."""
    v = vectors.float()
    if options.center == "mean":
        v = v - v.mean(0, keepdim=True)
    if center_rows:
        v = v - v.mean(1, keepdim=True)
    if options.scale in ("norm", "calibrated"):
        norm = v.norm(dim=1, keepdim=True).clamp_min(torch.finfo(torch.float32).tiny)
        factor = vector_scale if options.scale == "calibrated" else 1.0
        v = v * (factor * math.sqrt(v.shape[1]) / norm)
    return v


def chunk_size_for(n_vocab: int, memory_mb: float = DEFAULT_CHUNK_MB) -> int:
    """Neurons per chunk so that about two [chunk, n_vocab] float32 temporaries fit."""
    return max(1, int(memory_mb * 2**20) // (n_vocab * 4 * 2))


@torch.no_grad()
def decode_chunk(
    v: Float[Tensor, "n d_model"], unembed: Unembedding, options: DecodeOptions
) -> LayerDecode:
    """Steps 4-6 for one chunk of prepared vectors (on the unembedding's device)."""
    logits = v.to(unembed.weight.dtype) @ unembed.weight
    if logits.dtype != torch.float64:
        logits = logits.float()
    if unembed.bias is not None:
        logits += unembed.bias
    z = logits if options.temperature == 1.0 else logits / options.temperature
    top_v, top_i = logits.topk(options.top_k, dim=1)
    bot_v, bot_i = logits.topk(options.bottom_k, dim=1, largest=False)
    # one exp pass gives both the normaliser and the entropy: with e = exp(z - max),
    # lse = max + log(sum e) and entropy = lse - sum(e * z) / sum(e)
    zmax = z.amax(dim=1, keepdim=True)
    e = (z - zmax).exp_()
    total = e.sum(dim=1)
    lse = zmax.squeeze(1) + total.log()
    entropy = lse - torch.linalg.vecdot(e, z) / total
    del e
    t = options.temperature
    if top_v.shape[1] > 1:
        second = top_v[:, 1]
    else:  # margin needs the runner-up even when only the top token is kept
        second = logits.topk(min(2, logits.shape[1]), dim=1).values[:, -1]
    ids = unembed.token_ids
    if ids is not None:
        ids = ids.to(top_i.device)
        top_i, bot_i = ids[top_i], ids[bot_i]
    out = LayerDecode(
        top_ids=top_i.to(torch.int32), top_logits=top_v,
        top_probs=(top_v / t - lse[:, None]).exp(),
        bottom_ids=bot_i.to(torch.int32), bottom_logits=bot_v,
        bottom_probs=(bot_v / t - lse[:, None]).exp(),
        margin=top_v[:, 0] - second, entropy=entropy,
    )
    return LayerDecode(**{k: x.float().cpu() if x.is_floating_point() else x.cpu()
                          for k, x in out.tensors().items()})


def decode_vectors(
    vectors: Float[Tensor, "n d_model"],
    unembed: Unembedding,
    options: DecodeOptions,
    chunk_size: int | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> LayerDecode:
    """Decode all rows of `vectors` in chunks of `chunk_size` neurons (default: ~512 MiB of
    temporaries). `on_chunk(n_done)` is called after each chunk. No per-neuron Python loop."""
    device = unembed.weight.device
    v = prepare_vectors(vectors.to(device), options, unembed.center_rows, unembed.vector_scale)
    n = v.shape[0]
    step = chunk_size or chunk_size_for(unembed.weight.shape[1])
    parts = []
    for start in range(0, n, step):
        parts.append(decode_chunk(v[start:start + step], unembed, options))
        if on_chunk is not None:
            on_chunk(min(start + step, n))
    return LayerDecode.concat(parts)
