"""Compare two neuron maps of the same shape (e.g. a base and a fine-tuned model): top-1
agreement overall and per layer, and top-k overlap (the paper's base vs instruct: 75.4 %).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from jaxtyping import Int
from torch import Tensor

from interp.errors import InterpError

if TYPE_CHECKING:
    from interp.neurons.neuron_map import NeuronMap


@dataclass(frozen=True)
class Agreement:
    """top1: fraction of neurons whose top token is the same in both maps; topk_overlap: mean
    of |top-k(a) & top-k(b)| / k; both overall (all shared layers' neurons) and per layer."""

    top1: float
    topk_overlap: float
    k: int
    n_neurons: int
    top1_per_layer: dict[int, float]
    topk_overlap_per_layer: dict[int, float]

    def rows(self) -> list[tuple[str, int, float, float]]:
        """(layer, neurons, top-1 agreement, top-k overlap) per layer, then "all"."""
        per = self.n_neurons // max(1, len(self.top1_per_layer))
        out = [(str(layer), per, self.top1_per_layer[layer], self.topk_overlap_per_layer[layer])
               for layer in self.top1_per_layer]
        return out + [("all", self.n_neurons, self.top1, self.topk_overlap)]


def topk_overlap(a: Int[Tensor, "n k"], b: Int[Tensor, "n k"]) -> Tensor:
    """Per row, how many ids of `a` also appear in the same row of `b` (ids unique per row)."""
    return (a[:, :, None] == b[:, None, :]).any(-1).sum(-1)


def agreement(a: NeuronMap, b: NeuronMap, k: int | None = None) -> Agreement:
    """Agreement of two maps over the layers they share (same d_mlp and vocabulary needed;
    the models may differ: that is what this measures). k defaults to the smaller top_k."""
    if a.header.d_mlp != b.header.d_mlp:
        raise InterpError(f"maps have different MLP widths ({a.header.d_mlp} vs "
                          f"{b.header.d_mlp}); they cannot be compared neuron by neuron")
    if a.header.vocab_sha256 != b.header.vocab_sha256:
        raise InterpError("maps use different vocabularies; token ids cannot be compared")
    shared = sorted(set(a.layers) & set(b.layers))
    if not shared:
        raise InterpError(f"maps share no layer (layers {a.layers} vs {b.layers})")
    k_max = min(a.options.top_k, b.options.top_k)
    k = k_max if k is None else k
    if not 1 <= k <= k_max:
        raise InterpError(f"k must be in 1..{k_max} (the smaller top_k of the maps), got {k}")
    top1, over = {}, {}
    same_total, overlap_total = 0, 0
    for layer in shared:
        ia, ib = a.data[layer].top_ids.long(), b.data[layer].top_ids.long()
        same = ia[:, 0] == ib[:, 0]
        ov = topk_overlap(ia[:, :k], ib[:, :k])
        top1[layer] = float(same.float().mean())
        over[layer] = float(ov.float().mean()) / k
        same_total += int(same.sum())
        overlap_total += int(ov.sum())
    n = a.header.d_mlp * len(shared)
    return Agreement(top1=same_total / n, topk_overlap=overlap_total / (n * k), k=k,
                     n_neurons=n, top1_per_layer=top1, topk_overlap_per_layer=over)


def same_maps(a: NeuronMap, b: NeuronMap) -> bool:
    """True when both maps hold the same layers with bit-identical tensors (and header)."""
    if a.header != b.header or a.layers != b.layers:
        return False
    return all(torch.equal(x, y) for layer in a.layers
               for x, y in zip(a.data[layer].tensors().values(),
                               b.data[layer].tensors().values(), strict=True))
