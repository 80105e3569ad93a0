"""Concept labels for the atlas: a neuron side is labelled with a concept of
interp.texts.wordlists.CONCEPTS when at least MIN_WORDS distinct words of it (any case, with or
without a leading space) are among its top tokens. Searchable and shown on the pages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from interp.atlas.text import search_key
from interp.texts.wordlists import CONCEPTS

if TYPE_CHECKING:
    from interp.neurons.neuron_map import NeuronMap

#: Distinct concept words a neuron's top tokens must hold for the label.
MIN_WORDS = 3
#: {(layer, side index): {neuron: [concept, ...]}}: only labelled neurons appear.
Labels = dict[tuple[int, int], dict[int, list[str]]]


def concept_labels(maps: list[NeuronMap], min_words: int = MIN_WORDS) -> Labels:
    """The concept labels of every neuron side of `maps` (concepts in name order)."""
    names = sorted(CONCEPTS)
    words: dict[str, int] = {}
    for name in names:
        for w in CONCEPTS[name]:
            words.setdefault(search_key(w), len(words))
    member = torch.zeros(len(words) + 1, len(names), dtype=torch.int64)  # last row: no word
    for c, name in enumerate(names):
        for w in CONCEPTS[name]:
            member[words[search_key(w)], c] = 1
    word_of = torch.tensor([words.get(search_key(t), len(words)) for t in maps[0].vocab],
                           dtype=torch.int64)
    out: Labels = {}
    for side, nmap in enumerate(maps):
        for layer, data in nmap.data.items():
            wid = torch.sort(word_of[data.top_ids.long()], 1).values  # [d_mlp, k]
            first = torch.ones_like(wid, dtype=torch.bool)
            first[:, 1:] = wid[:, 1:] != wid[:, :-1]
            counts = (member[wid] * first[..., None]).sum(1)  # [d_mlp, concepts]
            hit = counts >= min_words
            found: dict[int, list[str]] = {}
            for n, c in hit.nonzero().tolist():
                found.setdefault(n, []).append(names[c])
            if found:
                out[(layer, side)] = found
    return out
