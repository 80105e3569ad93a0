"""collect_records: one streaming pass of a model over a corpus that keeps, per MLP neuron, a
running top-k of documents (peak activation and the token window around it), a histogram and
moments; plus each neuron's most similar weight vectors. The result feeds the atlas.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import torch

from interp import __version__
from interp.atlas.records import ActivationRecords
from interp.atlas.topk import HIST_EDGES, LayerState
from interp.errors import InterpError
from interp.options import AtlasOptions
from interp.progress import Progress
from interp.texts.corpora import Corpus, default_corpus_name, open_corpus

if TYPE_CHECKING:
    from interp.models.model import Model

DEFAULT_TOP_K = AtlasOptions.top_examples
DEFAULT_BEFORE, DEFAULT_AFTER = 12, 4
DEFAULT_RELATED = 8


def similar_neurons(vectors: torch.Tensor, n: int, chunk: int = 2048
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row, the `n` other rows of `vectors` with the highest cosine similarity:
    (ids [rows, n] int32, cosines [rows, n] float32), computed in chunks of rows."""
    v = torch.nn.functional.normalize(vectors.detach().float(), dim=1)
    n = min(n, v.shape[0] - 1)
    ids, cos = [], []
    for start in range(0, v.shape[0], chunk):
        sim = v[start:start + chunk] @ v.T
        rows = torch.arange(start, start + sim.shape[0])
        sim[torch.arange(sim.shape[0]), rows] = -torch.inf  # not itself
        top = sim.topk(n, dim=1)
        ids.append(top.indices.to(torch.int32))
        cos.append(top.values)
    return torch.cat(ids), torch.cat(cos)


def _has_bos(model: Model) -> bool:
    bos = model.tokenizer.bos_token_id
    return bos is not None and int(model.to_tokens("a")[0, 0]) == bos


def collect_records(
    model: Model,
    corpus: str | os.PathLike | Corpus | Iterable[str] | None = None,
    layers: int | Sequence[int] | None = None,
    *,
    top_k: int = DEFAULT_TOP_K,
    before: int = DEFAULT_BEFORE,
    after: int = DEFAULT_AFTER,
    related: int = DEFAULT_RELATED,
    related_side: str = "up",
    site: str = "mlp_post",
    batch_size: int = 8,
    max_length: int = 128,
    progress: bool = False,
) -> ActivationRecords:
    """Activation records of every neuron of `layers` (default all) at `site` over `corpus`.

    corpus: a corpus name ("bundled": the toy models' stories, "python-docs": real text), a
    .jsonl / text file path, a Corpus, or any iterable of texts; None: the model's default
    (interp.texts.default_corpus_name). Each document is truncated to `max_length` tokens; the
    BOS position is left out. Per neuron and layer the records hold (k = top_k, w = before +
    1 + after): top_values [k] (the k documents with the highest peak activation, ties to
    the earlier document), top_doc / top_pos [k] (document index, peak position), window_ids /
    window_acts [k, w] (token ids, -1 = none, and this neuron's activations around the peak),
    hist [bins] (counts on interp.atlas.topk.HIST_EDGES), act_mean / act_std / act_min /
    act_max / frac_pos (fraction > 0), related_ids / related_cos [related] (highest cosine
    similarity of the `related_side` weight vectors in the same layer).
    """
    from interp.hooks import active_interventions, capture

    for name, value, low in (("top_k", top_k, 1), ("before", before, 0), ("after", after, 0),
                             ("related", related, 0), ("batch_size", batch_size, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise InterpError(f"{name} must be an integer >= {low}, got {value!r}")
    if active_interventions(model):
        raise InterpError("collect records on the unmodified model: interventions are active "
                          "(remove them with interp.hooks.remove_all(model))")
    n_layers = model.facts.n_layers
    layers = list(range(n_layers)) if layers is None else (
        [layers] if isinstance(layers, int) else sorted(set(layers)))
    names = [model.hook_name(site, layer) for layer in layers]  # validates site and layers
    if related:
        model.neuron_vectors(layers[0], related_side)  # validates the side
    if corpus is None:
        corpus = default_corpus_name(model)
    if isinstance(corpus, (str, os.PathLike)):
        corpus = open_corpus(corpus)
    described = corpus.describe() if isinstance(corpus, Corpus) else {"name": "given"}
    max_length = min(int(max_length), model.facts.n_ctx)
    bos = _has_bos(model)
    states = {layer: LayerState.empty(model.facts.d_mlp, top_k, before + 1 + after)
              for layer in layers}
    bar = Progress("collect", desc="collect records", unit="doc", enabled=progress)
    bar.note(f"{len(layers)} layers over corpus {described['name']} ...")
    docs = iter(corpus)
    n_docs = 0
    with bar:
        while batch := list(itertools.islice(docs, batch_size)):
            acts = capture(model, [(site, layer) for layer in layers], batch,
                           batch_size=batch_size, dtype=torch.float32, max_length=max_length)
            valid = acts.mask.clone()
            if bos:
                valid[:, 0] = False
            for layer, name in zip(layers, names, strict=True):
                states[layer].update(acts[name], acts.tokens, valid, n_docs, before, after)
            n_docs += len(batch)
            bar.update(len(batch))
    n_tokens = states[layers[0]].n_tokens
    if n_tokens == 0:
        raise InterpError("the corpus gave no tokens to record (every document was empty or "
                          "only a BOS token); give documents with text")
    out: dict[int, dict[str, torch.Tensor]] = {}
    for layer, s in states.items():
        mean = s.total / n_tokens
        std = (s.total_sq / n_tokens - mean.pow(2)).clamp(min=0).sqrt()
        if related:
            rel_ids, rel_cos = similar_neurons(model.neuron_vectors(layer, related_side), related)
        else:
            rel_ids = torch.zeros(model.facts.d_mlp, 0, dtype=torch.int32)
            rel_cos = torch.zeros(model.facts.d_mlp, 0)
        out[layer] = {
            "top_values": s.values, "top_doc": s.doc.to(torch.int64),
            "top_pos": s.pos.to(torch.int64), "window_ids": s.window_ids,
            "window_acts": s.window_acts, "hist": s.hist, "act_mean": mean.float(),
            "act_std": std.float(), "act_min": s.min, "act_max": s.max,
            "frac_pos": (s.n_pos.double() / n_tokens).float(),
            "related_ids": rel_ids, "related_cos": rel_cos.float(),
        }
    bar.note(f"{n_docs} documents, {n_tokens} tokens")
    header = {
        "model": str(model.name), "fingerprint": model.fingerprint, "site": site,
        "n_layers": n_layers, "d_mlp": model.facts.d_mlp, "top_k": top_k,
        "window": [before, after], "hist_edges": HIST_EDGES, "n_tokens": n_tokens,
        "n_docs": n_docs, "corpus": described, "max_length": max_length,
        "related_side": related_side if related else None, "skip_bos": bos,
        "interp_version": __version__,
    }
    return ActivationRecords(header, out)
