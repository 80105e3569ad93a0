"""A synthetic NeuronMap (and activation records) of any size, without a model: for benchmarks
of the atlas at the scale of large models (e.g. Llama-3.1-8B: 32 layers x 14,336 neurons,
vocabulary 128,256) and for tests with chosen (e.g. adversarial) vocabularies. Seeded, so the
same call gives the same map.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import torch

from interp.neurons.decode import LayerDecode
from interp.neurons.neuron_map import NeuronMap
from interp.neurons.options import DecodeOptions
from interp.neurons.store import MapHeader, vocab_digest

if TYPE_CHECKING:
    from interp.atlas.records import ActivationRecords


def synthetic_vocab(n: int, seed: int = 0) -> list[str]:
    """n distinct token-like strings (" word", "Word", "##ab", digits)."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    out, seen = [], set()
    while len(out) < n:
        word = "".join(rng.choice(letters) for _ in range(rng.randint(1, 9)))
        form = rng.choice((" " + word, word, word.capitalize(), " " + word.capitalize(),
                           str(rng.randint(0, 9999))))
        if form not in seen:
            seen.add(form)
            out.append(form)
    return out


def synthetic_map(n_layers: int, d_mlp: int, vocab: int | list[str], *, top_k: int = 20,
                  bottom_k: int = 10, side: str = "up", seed: int = 0,
                  model: str = "synthetic", fingerprint: str | None = None,
                  d_model: int = 4096) -> NeuronMap:
    """A NeuronMap with random top/bottom tokens and a peaked softmax per neuron."""
    vocab = synthetic_vocab(vocab, seed) if isinstance(vocab, int) else list(vocab)
    options = DecodeOptions(side=side, top_k=top_k, bottom_k=bottom_k)
    header = MapHeader(model=model, fingerprint=fingerprint or f"synthetic{seed:07d}",
                       architecture="Synthetic", n_layers=n_layers, d_mlp=d_mlp,
                       d_model=d_model, d_vocab=len(vocab), options=options,
                       vocab_sha256=vocab_digest(vocab))
    gen = torch.Generator().manual_seed(seed)
    data = {}
    for layer in range(n_layers):
        ids = torch.randint(0, len(vocab), (d_mlp, top_k + bottom_k), generator=gen,
                            dtype=torch.int32)
        sharp = torch.rand(d_mlp, 1, generator=gen) * 6
        top = torch.sort(torch.randn(d_mlp, top_k, generator=gen) * sharp, 1,
                         descending=True).values + 8
        bottom = torch.sort(-torch.rand(d_mlp, bottom_k, generator=gen) * 5 - 8, 1).values
        lse = torch.logsumexp(torch.cat([top, torch.full((d_mlp, 1), float(len(vocab))).log()],
                                        1), 1, keepdim=True)
        margin = top[:, 0] - top[:, 1] if top_k > 1 else torch.zeros(d_mlp)
        data[layer] = LayerDecode(
            top_ids=ids[:, :top_k].contiguous(), top_logits=top, top_probs=(top - lse).exp(),
            bottom_ids=ids[:, top_k:].contiguous(), bottom_logits=bottom,
            bottom_probs=(bottom - lse).exp(), margin=margin,
            entropy=torch.rand(d_mlp, generator=gen) * 10)
    return NeuronMap(header, vocab, data)


def synthetic_records(nmap: NeuronMap, *, top_k: int = 16, window: tuple[int, int] = (12, 4),
                      n_docs: int = 4096, seed: int = 0) -> ActivationRecords:
    """ActivationRecords for every layer of `nmap` (its model and fingerprint) with random
    windows of its vocabulary (skewed to low ids, so common tokens recur as in real text)."""
    from interp.atlas.records import ActivationRecords
    from interp.atlas.topk import HIST_EDGES, N_BINS

    h = nmap.header
    d, w = h.d_mlp, window[0] + 1 + window[1]
    gen = torch.Generator().manual_seed(seed)
    n_tokens = n_docs * 64
    layers = {}
    for layer in nmap.layers:
        top = torch.sort(torch.rand(d, top_k, generator=gen) * 5 + 0.1, 1, descending=True).values
        acts = torch.randn(d, top_k, w, generator=gen).clamp(max=0.9) * top[..., None] / 3
        acts[:, :, window[0]] = top
        ids = (torch.rand(d, top_k, w, generator=gen) ** 3 * h.d_vocab).to(torch.int32)
        hist = torch.randint(0, 50, (d, N_BINS), generator=gen)
        hist[:, N_BINS // 2] += n_tokens - hist.sum(1)
        layers[layer] = {
            "top_values": top, "top_doc": torch.randint(0, n_docs, (d, top_k), generator=gen),
            "top_pos": torch.full((d, top_k), window[0]), "window_ids": ids,
            "window_acts": acts, "hist": hist, "act_mean": torch.zeros(d),
            "act_std": torch.ones(d), "act_min": -top[:, 0] / 3, "act_max": top[:, 0],
            "frac_pos": torch.full((d,), 0.5),
            "related_ids": torch.randint(0, d, (d, 8), generator=gen, dtype=torch.int32),
            "related_cos": torch.rand(d, 8, generator=gen)}
    header = {"model": h.model, "fingerprint": h.fingerprint, "site": "mlp_post",
              "n_layers": h.n_layers, "d_mlp": d, "top_k": top_k, "window": list(window),
              "hist_edges": HIST_EDGES, "n_tokens": n_tokens, "n_docs": n_docs,
              "corpus": {"name": "synthetic", "sha256": "0" * 64}, "max_length": 64,
              "related_side": "up", "skip_bos": True}
    return ActivationRecords(header, layers)
