"""The atlas's search index: token -> the neurons whose top tokens include it, ranked by the
probability they give it; sharded into buckets by a hash of the search key, so the browser
loads one small file per query whatever the model's size.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch

from interp.atlas.text import bucket_of, search_key, visible

if TYPE_CHECKING:
    from interp.neurons.neuron_map import NeuronMap

#: Neurons kept per search key (the best by summed probability).
DEFAULT_SEARCH_LIMIT = 50
#: Index entries per bucket aimed at (sets the number of buckets).
ENTRIES_PER_BUCKET = 4000
MASS_SCALE = 10_000  # masses are stored as integers in units of 1e-4


def build_search(maps: list[NeuronMap], limit: int = DEFAULT_SEARCH_LIMIT
                 ) -> tuple[int, list[list]]:
    """(n_buckets, buckets): bucket b is a list of [key, shown key, entries] sorted by key;
    entries are [layer, neuron, side index, mass (1e-4 units), best rank (1-based)] sorted by
    mass (then layer, neuron, side). Tokens of the same key ("Dog", " dog") add up."""
    vocab = maps[0].vocab
    key_of: dict[str, int] = {}
    keys: list[str] = []
    token_key_list = []
    for token in vocab:
        key = search_key(token)
        if key not in key_of:
            key_of[key] = len(keys)
            keys.append(key)
        token_key_list.append(key_of[key])
    token_key = torch.tensor(token_key_list, dtype=torch.int64)
    empty = key_of.get("")
    parts = []
    n_layers, d_mlp = maps[0].header.n_layers, maps[0].header.d_mlp
    for side, nmap in enumerate(maps):
        for layer, data in nmap.data.items():
            k = data.top_ids.shape[1]
            key = token_key[data.top_ids.long()]  # [d_mlp, k]
            neuron = torch.arange(d_mlp)[:, None].expand_as(key)
            code = ((key * n_layers + layer) * d_mlp + neuron) * len(maps) + side
            rank = torch.arange(1, k + 1).expand_as(key)
            parts.append((code.flatten(), data.top_probs.flatten().double(), rank.flatten()))
    code = torch.cat([p[0] for p in parts])
    prob = torch.cat([p[1] for p in parts])
    rank = torch.cat([p[2] for p in parts])
    uniq, inverse = torch.unique(code, return_inverse=True)  # sorted by key, layer, neuron
    mass = torch.zeros(len(uniq), dtype=torch.float64).scatter_add_(0, inverse, prob)
    best = torch.full((len(uniq),), 2**31, dtype=torch.int64).scatter_reduce_(
        0, inverse, rank, "amin")
    n_sides = len(maps)
    side = uniq % n_sides
    rest = uniq // n_sides
    neuron, rest = rest % d_mlp, rest // d_mlp
    layer, key = rest % n_layers, rest // n_layers
    mass_int = (mass * MASS_SCALE).round().long()
    # order: by key, then mass descending; torch.unique already sorted by (key, layer, ...)
    order = torch.sort(-mass_int, stable=True).indices
    order = order[torch.sort(key[order], stable=True).indices]
    key, layer, neuron, side = key[order], layer[order], neuron[order], side[order]
    mass_int, best = mass_int[order], best[order]
    starts = torch.ones(len(key), dtype=torch.bool)
    starts[1:] = key[1:] != key[:-1]
    group_start = torch.cummax(torch.where(starts, torch.arange(len(key)), 0), 0).values
    keep = (torch.arange(len(key)) - group_start) < limit
    if empty is not None:
        keep &= key != empty
    key = key[keep]
    entries = torch.stack([layer, neuron, side, mass_int, best], 1)[keep].tolist()
    n_buckets = max(1, math.ceil(len(entries) / ENTRIES_PER_BUCKET))
    first = torch.ones(len(key), dtype=torch.bool)
    first[1:] = key[1:] != key[:-1]
    starts = first.nonzero().squeeze(1).tolist()
    ends = [*starts[1:], len(entries)]
    grouped = {kid: entries[a:b] for kid, a, b in
               zip(key[starts].tolist() if starts else [], starts, ends, strict=True)}
    buckets: list[list] = [[] for _ in range(n_buckets)]
    for kid in sorted(grouped, key=lambda i: keys[i]):
        text = keys[kid]
        buckets[bucket_of(text, n_buckets)].append([text, visible(text), grouped[kid]])
    return n_buckets, buckets
