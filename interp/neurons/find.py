"""Find neurons for words: which neurons' top tokens include a word (or a set of words),
matching the word with and without a leading space and in lower / Capitalised / UPPER case.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from interp.errors import InterpError, choices_error
from interp.options import FindNeuronsOptions

if TYPE_CHECKING:
    from interp.neurons.neuron_map import NeuronMap

RANK_BY = ("mass", "hits")


@dataclass(frozen=True)
class NeuronHit:
    """A neuron whose top-k tokens include some of the searched tokens.

    mass: summed probability of the matching tokens among its top-k; hits: how many of its
    top-k tokens match; best_rank: 1-based rank of its best matching token; matched: the
    matching token strings in rank order; top: its first five top tokens (for context).
    """

    layer: int
    neuron: int
    mass: float
    hits: int
    best_rank: int
    matched: tuple[str, ...]
    top: tuple[str, ...]


def token_variants(word: str) -> list[str]:
    """"cat" -> ["cat", " cat", "Cat", " Cat", "CAT", " CAT"] (unique, in that order)."""
    base = word[1:] if word.startswith(" ") and len(word) > 1 else word
    out: list[str] = []
    for form in (base, base.lower(), base.capitalize(), base.upper()):
        for s in (form, " " + form):
            if s not in out:
                out.append(s)
    return out


_LOOKUPS: dict[int, tuple[list[str], int, dict[str, list[int]]]] = {}
_KEEP_LOOKUPS = 8


def _vocab_lookup(vocab: list[str]) -> dict[str, list[int]]:
    """String -> ids of `vocab`, kept for the last few vocabularies seen (a map's vocabulary is
    searched for many words in a row; building the index is most of a search's time). An
    entry holds its list, so the id it is keyed by stays that list's."""
    kept = _LOOKUPS.get(id(vocab))
    if kept is not None and kept[0] is vocab and kept[1] == len(vocab):
        return kept[2]
    lookup: dict[str, list[int]] = {}
    for i, s in enumerate(vocab):
        lookup.setdefault(s, []).append(i)
    if len(_LOOKUPS) >= _KEEP_LOOKUPS:
        del _LOOKUPS[next(iter(_LOOKUPS))]
    _LOOKUPS[id(vocab)] = (vocab, len(vocab), lookup)
    return lookup


def token_ids(vocab: list[str], words: Iterable[str], variants: bool = True) -> list[int]:
    """Vocabulary ids whose decoded string equals a word (or one of its variants)."""
    lookup = _vocab_lookup(vocab)
    ids: set[int] = set()
    for word in words:
        for form in (token_variants(word) if variants else [word]):
            ids.update(lookup.get(form, ()))
    return sorted(ids)


def find_neurons(
    nmap: NeuronMap, tokens: str | Iterable[str], *, variants: bool = True,
    limit: int | None = FindNeuronsOptions.limit, by: str = FindNeuronsOptions.by,
) -> list[NeuronHit]:
    """Neurons of `nmap` ranked by how much of their top-k goes to `tokens`.

    by="mass" ranks by the summed probability of matching tokens (ties: more hits first);
    by="hits" by the number of matching tokens (ties: mass). Only the stored top-k is
    searched. A word that is not a single token (in any variant) matches nothing; if no word
    matches any token, InterpError says so.
    """
    words = [tokens] if isinstance(tokens, str) else list(tokens)
    if not words or not all(isinstance(w, str) and w.strip() for w in words):
        raise InterpError(f"find needs one or more non-empty words, got {tokens!r}")
    FindNeuronsOptions(limit, by, variants)
    if by not in RANK_BY:
        raise choices_error("by", by, RANK_BY)
    if not nmap.data:  # (a map without neurons does not load: interp.neurons.store)
        raise InterpError(f"the neuron map of {nmap.model} has no layers, so there is nothing "
                          "to search; map its layers with map-neurons first")
    ids = token_ids(nmap.vocab, words, variants)
    if not ids:
        tried = ", ".join(repr(w) for w in words[:5])
        raise InterpError(f"none of {tried} is a single token in this map's vocabulary "
                          f"({'with variants' if variants else 'exactly'})")
    target = torch.tensor(ids)
    hits: list[NeuronHit] = []
    for layer, data in nmap.data.items():
        match = torch.isin(data.top_ids.long(), target)  # [d_mlp, k]
        count = match.sum(1)
        mass = (data.top_probs * match).sum(1)
        first = match.float().argmax(1)
        for n in count.nonzero().squeeze(1).tolist():
            row = data.top_ids[n].tolist()
            hits.append(NeuronHit(
                layer=layer, neuron=n, mass=float(mass[n]), hits=int(count[n]),
                best_rank=int(first[n]) + 1,
                matched=tuple(nmap.vocab[t] for t, m in zip(row, match[n].tolist(), strict=True)
                              if m),
                top=tuple(nmap.vocab[t] for t in row[:5]),
            ))
    key = ((lambda h: (-h.mass, -h.hits)) if by == "mass" else (lambda h: (-h.hits, -h.mass)))
    hits.sort(key=lambda h: (*key(h), h.layer, h.neuron))
    return hits if limit is None else hits[:limit]


def count_coherent(
    nmap: NeuronMap, words: Iterable[str], min_hits: int = 3, *, variants: bool = True
) -> dict[int, int]:
    """Per layer, how many neurons have at least `min_hits` of `words` (any variant) among
    their top-k tokens: a simple count of concept neurons (compare with random directions)."""
    ids = torch.tensor(token_ids(nmap.vocab, list(words), variants), dtype=torch.long)
    return {layer: int((torch.isin(data.top_ids.long(), ids).sum(1) >= min_hits).sum())
            for layer, data in nmap.data.items()}
