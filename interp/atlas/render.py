"""The atlas's data: per-layer shards of neuron pages (decoded tokens per side, examples,
histogram, related neurons, dose-response) and the index overview, as plain JSON-ready lists.
Every model string is passed through interp.atlas.text.visible; numbers are rounded so the
bytes are the same on every run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from interp.atlas.text import visible

if TYPE_CHECKING:
    from interp.atlas.labels import Labels
    from interp.atlas.records import ActivationRecords
    from interp.neurons.neuron_map import NeuronMap

SPEC_BINS = 20  # bins of the top-1 probability histogram on the index page
TOP_NEURONS = 12  # most specialised neurons listed per layer on the index page
#: Which neurons the "most specialised" lists consider (shown on the index page).
SPECIALISED_RULE = ("top-1 token holds a letter or digit and is not special, unreachable, "
                    "under-trained (when the map flagged them) or a norm-bias token (the 1 % of "
                    "tokens with the largest folded-unembedding norm, when the map recorded them)")


def listable_tokens(nmap: NeuronMap) -> torch.Tensor:
    """[d_vocab] bool: tokens a "most specialised" list may show (SPECIALISED_RULE): not
    punctuation or whitespace only, not among the map's flagged tokens, not norm-bias tokens."""
    ok = torch.tensor([any(ch.isalnum() for ch in s) for s in nmap.vocab], dtype=torch.bool)
    flags = nmap.header.extras.get("token_flags")
    ids: list[int] = []
    if flags:
        from interp.models.vocab import TokenFlags

        ids = TokenFlags.from_dict(flags).ids()
    ids += nmap.header.extras.get("norm_bias", {}).get("ids", [])
    if ids:
        ok[torch.tensor(ids, dtype=torch.long)] = False
    return ok


def _r(t: torch.Tensor, decimals: int) -> list:
    """Rounded list; non-finite values become None (JSON null)."""
    a = np.round(t.detach().double().cpu().numpy(), decimals)
    out = a.tolist()
    if not np.isfinite(a).all():
        bad = ~np.isfinite(a)
        for idx in zip(*np.nonzero(bad), strict=True):
            ref = out
            for i in idx[:-1]:
                ref = ref[i]
            ref[idx[-1]] = None
    return out


class Strings:
    """A shard's string table: each distinct shown string once, referenced by index."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        if text not in self.index:
            self.index[text] = len(self.index)
        return self.index[text]

    def table(self) -> list[str]:
        return list(self.index)


class Shown:
    """The shown forms of a vocabulary's tokens, computed once per token for the whole site:
    `label` (spaces visible, for token lists) and `text` (spaces kept, for running text)."""

    def __init__(self, vocab: list[str]) -> None:
        self.vocab = vocab
        self._label: dict[int, str] = {}
        self._text: dict[int, str] = {}

    def label(self, token_id: int) -> str:
        if token_id not in self._label:
            self._label[token_id] = visible(self.vocab[token_id])
        return self._label[token_id]

    def text(self, token_id: int) -> str:
        if token_id not in self._text:
            self._text[token_id] = visible(self.vocab[token_id], keep_spaces=True)
        return self._text[token_id]


def shard(maps: list[NeuronMap], layer: int, start: int, stop: int,
          records: ActivationRecords | None, dose: dict[tuple[int, int], list[dict]],
          shown: Shown | None = None, labels: Labels | None = None) -> dict[str, Any]:
    """The data of neurons start..stop-1 of `layer` (one file of the site); a side's
    "concepts" (interp.atlas.labels) appear where it has some."""
    shown = shown or Shown(maps[0].vocab)
    strings = Strings()
    used = torch.cat([t[start:stop].flatten() for m in maps
                      for t in (m.layer(layer).top_ids, m.layer(layer).bottom_ids)])
    label = {t: strings(shown.label(t)) for t in torch.unique(used).tolist()}

    sides = []
    for nmap in maps:
        d = nmap.layer(layer)
        sl = slice(start, stop)
        sides.append({
            "top_ids": d.top_ids[sl].tolist(), "top_logits": _r(d.top_logits[sl], 3),
            "top_probs": _r(d.top_probs[sl], 5), "bottom_ids": d.bottom_ids[sl].tolist(),
            "bottom_logits": _r(d.bottom_logits[sl], 3), "p1": _r(d.top_probs[sl, 0], 5),
            "margin": _r(d.margin[sl], 3), "entropy": _r(d.entropy[sl], 3),
        })
    rec = records.layers.get(layer) if records is not None else None
    if rec is not None:
        sl = slice(start, stop)
        ex = {"values": _r(rec["top_values"][sl], 3), "doc": rec["top_doc"][sl].tolist(),
              "ids": rec["window_ids"][sl].tolist(), "acts": _r(rec["window_acts"][sl], 3),
              "hist": rec["hist"][sl].tolist(),
              "stats": _r(torch.stack([rec[k][sl] for k in ("act_mean", "act_std", "act_min",
                                                            "act_max", "frac_pos")], 1), 4),
              "rel": rec["related_ids"][sl].tolist(), "cos": _r(rec["related_cos"][sl], 3)}
        before = int(records.header["window"][0])
        window = rec["window_ids"][sl]
        text = {t: strings(shown.text(t)) for t in torch.unique(window[window >= 0]).tolist()}
    neurons = []
    for i in range(stop - start):
        sides_out = []
        for si, s in enumerate(sides):
            sides_out.append({
                "top": [[label[t], lg, p] for t, lg, p in
                        zip(s["top_ids"][i], s["top_logits"][i], s["top_probs"][i], strict=True)],
                "bot": [[label[t], lg] for t, lg in
                        zip(s["bottom_ids"][i], s["bottom_logits"][i], strict=True)],
                "p1": s["p1"][i], "margin": s["margin"][i], "entropy": s["entropy"][i]})
            found = (labels or {}).get((layer, si), {}).get(start + i)
            if found:
                sides_out[-1]["concepts"] = found
        entry: dict[str, Any] = {"sides": sides_out}
        if rec is not None:
            examples = []
            for value, doc, ids, acts in zip(ex["values"][i], ex["doc"][i], ex["ids"][i],
                                             ex["acts"][i], strict=True):
                if doc < 0 or value is None:
                    continue
                keep = [j for j, t in enumerate(ids) if t >= 0]
                focus = keep.index(before) if before in keep else -1
                examples.append([value, doc, focus, [text[ids[j]] for j in keep],
                                 [acts[j] for j in keep]])
            entry |= {"examples": examples, "hist": ex["hist"][i], "stats": ex["stats"][i],
                      "related": [[layer, n, c] for n, c in
                                  zip(ex["rel"][i], ex["cos"][i], strict=True)]}
        doses = dose.get((layer, start + i))
        if doses:
            entry["dose"] = doses
        neurons.append(entry)
    return {"layer": layer, "start": start, "strings": strings.table(), "neurons": neurons}


def overview(maps: list[NeuronMap]) -> list[dict[str, Any]]:
    """Per layer: for each side, the histogram of top-1 probabilities (SPEC_BINS bins on
    [0, 1]), its median, the median margin, and the most specialised neurons among those whose
    top-1 token is listable (SPECIALISED_RULE; the histogram and medians count every neuron)."""
    vocab = maps[0].vocab
    listable = [listable_tokens(nmap) for nmap in maps]
    out = []
    for layer in maps[0].layers:
        sides = []
        for nmap, ok in zip(maps, listable, strict=True):
            d = nmap.layer(layer)
            p1 = d.top_probs[:, 0].float()
            hist = torch.histc(p1.clamp(0, 1), bins=SPEC_BINS, min=0.0, max=1.0).long()
            ranked = torch.where(ok[d.top_ids[:, 0].long()], p1, torch.tensor(-1.0))
            best = [n for n in torch.sort(-ranked, stable=True).indices[:TOP_NEURONS].tolist()
                    if ranked[n] >= 0]
            sides.append({
                "hist": hist.tolist(), "median_p1": _r(p1.median(), 4),
                "median_margin": _r(d.margin.median(), 3),
                "over_half": int((p1 > 0.5).sum()),
                "best": [[n, visible(vocab[int(d.top_ids[n, 0])]), _r(p1[n], 4)] for n in best],
            })
        out.append({"layer": layer, "sides": sides})
    return out
