"""Decoding maths: neuron vectors -> logits through the (folded) unembedding -> top-k, bottom-k,
probabilities and specialisation scores, in chunks of neurons (bounded memory, any device).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import torch
from jaxtyping import Float, Int
from torch import Tensor

from interp.models.devices import dtype_from_name
from interp.neurons.options import DecodeOptions

if TYPE_CHECKING:
    from interp.models.model import Model

#: Default memory for one chunk's temporaries (logits and probabilities), in MiB.
DEFAULT_CHUNK_MB = 512
#: On CPU, the summary after the matmul runs on blocks of rows whose float32 logits fit in this
#: many bytes, so that its several reads hit the cache, not memory (benchmarks/real_models.py).
CACHE_BLOCK_BYTES = 8 * 2**20
#: With a low-precision matmul, this many extra candidates at each end are re-ranked in float32.
RERANK_SLACK = 16


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
    exact: Float[Tensor, "n_kept d_model"] | None = None  # float32 rows, for a low-precision weight


def compute_dtype(options: DecodeOptions) -> torch.dtype:
    return dtype_from_name(options.dtype)


def layer_vectors(model: Model, layer: int,
                  options: DecodeOptions) -> Float[Tensor, "d_mlp d_model"]:
    """The vectors decoded for `layer`: the side's raw rows, except that the down side with
    fold_norm is what the neuron writes (post-MLP norm gain folded in, where there is one)."""
    if options.side == "down" and options.fold_norm:
        return model.write_vectors(layer)
    return model.neuron_vectors(layer, options.side)


def unembedding(model: Model, options: DecodeOptions, device: torch.device | str,
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
    low = dtype in (torch.bfloat16, torch.float16)
    return Unembedding(
        weight=w_u.to(device=device, dtype=dtype).contiguous(),
        exact=w_u.T.to(device=device, dtype=torch.float32).contiguous() if low else None,
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


def block_rows(n_vocab: int, device: torch.device) -> int:
    """Rows per block of the pass after the matmul: on CPU, as many as keep one block's float32
    logits within CACHE_BLOCK_BYTES (its several reads then hit the cache, not memory); on an
    accelerator, every row of the chunk at once."""
    if device.type != "cpu":
        return 2**62
    return max(1, CACHE_BLOCK_BYTES // (n_vocab * 4))


@torch.no_grad()
def decode_chunk(
    v: Float[Tensor, "n d_model"], unembed: Unembedding, options: DecodeOptions
) -> LayerDecode:
    """Steps 4-6 for one chunk of prepared vectors (on the unembedding's device): one matmul,
    then the per-row summary in cache-sized blocks."""
    logits = v.to(unembed.weight.dtype) @ unembed.weight
    rows = block_rows(logits.shape[1], logits.device)
    return LayerDecode.concat([
        summarise_logits(logits[s:s + rows], v[s:s + rows], unembed, options)
        for s in range(0, logits.shape[0], rows)])


def summarise_logits(
    logits: Float[Tensor, "n n_kept"], v: Float[Tensor, "n d_model"], unembed: Unembedding,
    options: DecodeOptions,
) -> LayerDecode:
    """Top-k, bottom-k, probabilities, margin and entropy of each row of `logits` (v @ W in the
    compute dtype). With a low-precision matmul (`unembed.exact` set), the candidates at each end
    are re-ranked by their float32 logits, and the top candidates' float32 terms replace theirs
    in the normaliser and the entropy: only the rest of the vocabulary stays low-precision."""
    if logits.dtype != torch.float64:
        logits = logits.float()
    if unembed.bias is not None:
        logits = logits + unembed.bias
    t = options.temperature
    z = logits if t == 1.0 else logits / t
    n_vocab = logits.shape[1]
    slack = RERANK_SLACK if unembed.exact is not None else 0
    top_v, top_i = logits.topk(min(max(options.top_k, 2) + slack, n_vocab), dim=1)
    bot_v, bot_i = logits.topk(min(options.bottom_k + slack, n_vocab) if options.bottom_k else 0,
                               dim=1, largest=False)
    # softmax's kernel, not exp(z - max): it is several times faster on CPU where z - max is
    # subnormal-small. lse from the top token's probability; entropy = lse - sum(p * z).
    p = torch.softmax(z, dim=1)
    lse = top_v[:, 0] / t - p.gather(1, top_i[:, :1]).squeeze(1).log()
    pz = torch.linalg.vecdot(p, z)  # sum(p * z)
    if unembed.exact is not None:
        # the top candidates' exact logits replace their low-precision terms in the normaliser
        # and in sum(p * z); the rest of the vocabulary keeps its low-precision terms
        p_low, z_low = p.gather(1, top_i), top_v / t
        both = exact_logits(v, torch.cat([top_i, bot_i], dim=1), unembed)
        top_v, bot_v = both[:, :top_i.shape[1]], both[:, top_i.shape[1]:]
        w = (top_v / t - lse[:, None]).exp()  # exact exp(z) relative to the low normaliser
        ratio = (1 - p_low.sum(1)).clamp_min(0) + w.sum(1)
        pz = (pz - (p_low * z_low).sum(1) + (w * top_v / t).sum(1)) / ratio
        lse = lse + ratio.log()
        top_v, order = top_v.sort(dim=1, descending=True)
        top_i = top_i.gather(1, order)
        bot_v, order = bot_v.sort(dim=1)
        bot_i = bot_i.gather(1, order)
    del p
    entropy = lse - pz
    margin = top_v[:, 0] - top_v[:, 1] if n_vocab > 1 else torch.zeros_like(top_v[:, 0])
    top_v, top_i = top_v[:, :options.top_k], top_i[:, :options.top_k]
    bot_v, bot_i = bot_v[:, :options.bottom_k], bot_i[:, :options.bottom_k]
    ids = unembed.token_ids
    if ids is not None:
        ids = ids.to(top_i.device)
        top_i, bot_i = ids[top_i], ids[bot_i]
    out = LayerDecode(
        top_ids=top_i.to(torch.int32), top_logits=top_v,
        top_probs=(top_v / t - lse[:, None]).exp(),
        bottom_ids=bot_i.to(torch.int32), bottom_logits=bot_v,
        bottom_probs=(bot_v / t - lse[:, None]).exp(),
        margin=margin, entropy=entropy,
    )
    return LayerDecode(**{k: x.float().cpu() if x.is_floating_point() else x.cpu()
                          for k, x in out.tensors().items()})


def exact_logits(
    v: Float[Tensor, "n d_model"], candidates: Int[Tensor, "n k"], unembed: Unembedding,
) -> Float[Tensor, "n k"]:
    """The float32 logits (bias added) of each row's candidate tokens, in their order."""
    n, k = candidates.shape
    columns = unembed.exact.index_select(0, candidates.flatten()).view(n, k, -1)
    exact = (columns * v.float()[:, None, :]).sum(2)  # faster than bmm of [n, k, d] x [n, d, 1]
    return exact if unembed.bias is None else exact + unembed.bias[candidates]


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
