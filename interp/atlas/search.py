"""The atlas's search index: search key -> the neurons whose top tokens include it (ranked by
the probability they give it), the neurons whose top-activating examples contain it (ranked by
their activation on it, relative to their top example) and the neurons labelled with it as a
concept; sharded into buckets by a hash of the key, so the browser loads one small file per
query whatever the model's size.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch

from interp.atlas.text import bucket_of, search_key, visible

if TYPE_CHECKING:
    from interp.atlas.labels import Labels
    from interp.atlas.records import ActivationRecords
    from interp.neurons.neuron_map import NeuronMap

#: Neurons kept per search key and kind of hit (the best first).
DEFAULT_SEARCH_LIMIT = 50
#: Index entries per bucket aimed at (sets the number of buckets).
ENTRIES_PER_BUCKET = 4000
MASS_SCALE = 10_000  # masses and relative activations are integers in units of 1e-4


def token_keys(vocab: list[str]) -> tuple[list[str], torch.Tensor]:
    """(distinct search keys, [d_vocab] int64: each token's key index)."""
    key_of: dict[str, int] = {}
    index = []
    for token in vocab:
        index.append(key_of.setdefault(search_key(token), len(key_of)))
    return list(key_of), torch.tensor(index, dtype=torch.int64)


def _grouped(key: torch.Tensor, rows: torch.Tensor, limit: int) -> dict[int, list]:
    """Rows already sorted by key (then rank) -> {key: its first `limit` rows as lists}."""
    if not len(key):
        return {}
    first = torch.ones(len(key), dtype=torch.bool)
    first[1:] = key[1:] != key[:-1]
    start = torch.cummax(torch.where(first, torch.arange(len(key)), 0), 0).values
    keep = (torch.arange(len(key)) - start) < limit
    key, rows = key[keep], rows[keep]
    first = torch.ones(len(key), dtype=torch.bool)
    first[1:] = key[1:] != key[:-1]
    starts = first.nonzero().squeeze(1).tolist()
    listed = rows.tolist()
    ends = [*starts[1:], len(listed)]
    return {k: listed[a:b] for k, a, b in zip(key[starts].tolist(), starts, ends, strict=True)}


def _by_key_then(key: torch.Tensor, score: torch.Tensor) -> torch.Tensor:
    """Order: by key, then score descending, stable (keeps the earlier order among ties)."""
    order = torch.sort(-score, stable=True).indices
    return order[torch.sort(key[order], stable=True).indices]


def token_hits(maps: list[NeuronMap], token_key: torch.Tensor, limit: int) -> dict[int, list]:
    """{key index: [[layer, neuron, side index, mass (1e-4 units), best rank (1-based)], ...]}
    sorted by mass (then layer, neuron, side). Tokens of the same key ("Dog", " dog") add up."""
    parts = []
    n_layers, d_mlp, n_sides = maps[0].header.n_layers, maps[0].header.d_mlp, len(maps)
    for side, nmap in enumerate(maps):
        for layer, data in nmap.data.items():
            k = data.top_ids.shape[1]
            key = token_key[data.top_ids.long()]  # [d_mlp, k]
            neuron = torch.arange(d_mlp)[:, None].expand_as(key)
            code = ((key * n_layers + layer) * d_mlp + neuron) * n_sides + side
            rank = torch.arange(1, k + 1).expand_as(key)
            parts.append((code.flatten(), data.top_probs.flatten().double(), rank.flatten()))
    if not parts:
        return {}
    uniq, inverse = torch.unique(torch.cat([p[0] for p in parts]), return_inverse=True)
    mass = torch.zeros(len(uniq), dtype=torch.float64).scatter_add_(
        0, inverse, torch.cat([p[1] for p in parts]))
    best = torch.full((len(uniq),), 2**31, dtype=torch.int64).scatter_reduce_(
        0, inverse, torch.cat([p[2] for p in parts]), "amin")
    side, rest = uniq % n_sides, uniq // n_sides
    neuron, rest = rest % d_mlp, rest // d_mlp
    layer, key = rest % n_layers, rest // n_layers
    mass_int = (mass * MASS_SCALE).round().long()
    order = _by_key_then(key, mass_int)  # unique() sorted by (key, layer, neuron, side)
    rows = torch.stack([layer, neuron, side, mass_int, best], 1)[order]
    return _grouped(key[order], rows, limit)


def example_hits(records: ActivationRecords, token_key: torch.Tensor, d_mlp: int, limit: int
                 ) -> dict[int, list]:
    """{key index: [[layer, neuron, relative activation (1e-4 units), activation], ...]}: the
    neurons whose top-activating examples hold a token of that key, by their highest activation
    on it divided by their top example's (clamped to [-1, 1]), then layer and neuron."""
    codes, scores, acts = [], [], []
    n_layers = int(records.header["n_layers"])
    for layer, rec in sorted(records.layers.items()):
        ids = rec["window_ids"].long()  # [d, k, w]
        act = rec["window_acts"].float()
        top = rec["top_values"][:, :1].float()
        ok = (ids >= 0) & (rec["top_doc"] >= 0)[..., None] & torch.isfinite(act)
        scale = top.abs().clamp(min=1e-6).where(torch.isfinite(top), torch.ones_like(top))
        rel = (act / scale[..., None]).clamp(-1, 1)
        neuron = torch.arange(ids.shape[0])[:, None, None].expand_as(ids)
        code = (token_key[ids.clamp(min=0)] * n_layers + layer) * d_mlp + neuron
        uniq, inverse = torch.unique(code[ok], return_inverse=True)
        rel_int = (rel[ok].double() * MASS_SCALE).round().long()
        best = torch.full((len(uniq),), -2**31, dtype=torch.int64).scatter_reduce_(
            0, inverse, rel_int, "amax")
        peak = torch.full((len(uniq),), -math.inf).scatter_reduce_(0, inverse, act[ok], "amax")
        codes.append(uniq)
        scores.append(best)
        acts.append(peak)
    if not codes:
        return {}
    code, score, act = torch.cat(codes), torch.cat(scores), torch.cat(acts)
    sort = torch.sort(code, stable=True).indices  # by key, layer, neuron
    code, score, act = code[sort], score[sort], act[sort]
    neuron, rest = code % d_mlp, code // d_mlp
    layer, key = rest % n_layers, rest // n_layers
    order = _by_key_then(key, score)
    grouped = _grouped(key[order], torch.stack([layer, neuron, score], 1)[order], limit)
    peaks = _grouped(key[order], act[order, None], limit)
    return {k: [[*r, round(p[0], 3)] for r, p in zip(rows, peaks[k], strict=True)]
            for k, rows in grouped.items()}


def concept_hits(labels: Labels, limit: int) -> dict[str, list]:
    """{concept: [[layer, neuron, side index], ...]} in layer, neuron, side order."""
    out: dict[str, list] = {}
    for (layer, side), found in sorted(labels.items()):
        for neuron, names in found.items():
            for name in names:
                out.setdefault(name, []).append([layer, neuron, side])
    return {k: sorted(v)[:limit] for k, v in out.items()}


def build_search(maps: list[NeuronMap], limit: int = DEFAULT_SEARCH_LIMIT,
                 records: ActivationRecords | None = None, labels: Labels | None = None
                 ) -> tuple[int, list[list]]:
    """(n_buckets, buckets): bucket b is a list of [key, shown key, token hits, example hits,
    concept hits] sorted by key (see token_hits, example_hits, concept_hits); the empty key
    (whitespace-only tokens) is not searchable."""
    keys, token_key = token_keys(maps[0].vocab)
    tokens = {keys[k]: v for k, v in token_hits(maps, token_key, limit).items()}
    examples = {} if records is None else {
        keys[k]: v for k, v in example_hits(records, token_key, maps[0].header.d_mlp,
                                            limit).items()}
    concepts = concept_hits(labels or {}, limit)
    every = sorted((set(tokens) | set(examples) | set(concepts)) - {""})
    n_entries = sum(len(d.get(k, ())) for k in every for d in (tokens, examples, concepts))
    n_buckets = max(1, math.ceil(n_entries / ENTRIES_PER_BUCKET))
    buckets: list[list] = [[] for _ in range(n_buckets)]
    for key in every:
        buckets[bucket_of(key, n_buckets)].append(
            [key, visible(key), tokens.get(key, []), examples.get(key, []),
             concepts.get(key, [])])
    return n_buckets, buckets
