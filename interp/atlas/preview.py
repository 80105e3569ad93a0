"""Preview shards of the atlas: per block of PREVIEW_BLOCK neurons of a layer, what a search
hit or a row of the layer's browse page shows (max activation, a snippet of the top example,
and per side the top-1 probability, the first top tokens and the concept labels). The browse
page loads a layer's blocks; a search loads the blocks of the hits it shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from interp.atlas.render import Shown, Strings

if TYPE_CHECKING:
    from interp.atlas.labels import Labels
    from interp.atlas.records import ActivationRecords
    from interp.neurons.neuron_map import NeuronMap

PREVIEW_BLOCK = 128  # neurons per preview file (a search loads one per previewed hit)
PREVIEW_TOKENS = 5  # top tokens per side in a preview
SNIPPET_BEFORE, SNIPPET_AFTER = 8, 3  # tokens around the peak in a snippet
SNIPPET_CHARS = 48  # most characters of the text before (and after) the peak token
P1_SCALE = 10_000  # top-1 probabilities as integers in units of 1e-4


def _clip(text: str, chars: int, left: bool) -> str:
    """At most `chars` characters of `text`, cut at the far end from the peak ("…")."""
    if len(text) <= chars:
        return text
    return "\u2026" + text[-chars:] if left else text[:chars] + "\u2026"


def snippet(ids: list[int], focus: int, shown: Shown) -> list[str] | None:
    """[text before, peak token, text after] of one example window (-1: no token)."""
    if focus < 0 or focus >= len(ids) or ids[focus] < 0:
        return None
    before = [t for t in ids[max(0, focus - SNIPPET_BEFORE):focus] if t >= 0]
    after = [t for t in ids[focus + 1:focus + 1 + SNIPPET_AFTER] if t >= 0]
    return [_clip("".join(shown.text(t) for t in before), SNIPPET_CHARS, True),
            shown.text(ids[focus]),
            _clip("".join(shown.text(t) for t in after), SNIPPET_CHARS // 2, False)]


def preview_shard(maps: list[NeuronMap], layer: int, start: int, stop: int,
                  records: ActivationRecords | None, labels: Labels, shown: Shown
                  ) -> dict[str, Any]:
    """{"layer", "start", "strings", "neurons"}: neurons[i] = [max activation or None,
    snippet or None, per side [top-1 p (1e-4 units), [token string indices], [concepts]]]."""
    strings = Strings()
    sides = []
    for s, nmap in enumerate(maps):
        d = nmap.layer(layer)
        ids = d.top_ids[start:stop, :PREVIEW_TOKENS].tolist()
        p1 = (d.top_probs[start:stop, 0].double() * P1_SCALE).round().long().tolist()
        found = labels.get((layer, s), {})
        sides.append([[p, [strings(shown.label(t)) for t in row], found.get(start + i, [])]
                      for i, (p, row) in enumerate(zip(p1, ids, strict=True))])
    rec = records.layers.get(layer) if records is not None else None
    neurons = []
    for i in range(stop - start):
        act = snip = None
        if rec is not None:
            n = start + i
            value = float(rec["act_max"][n])
            act = round(value, 3) if torch.isfinite(torch.tensor(value)) else None
            if int(rec["top_doc"][n, 0]) >= 0:
                snip = snippet(rec["window_ids"][n, 0].tolist(),
                               int(records.header["window"][0]), shown)
        neurons.append([act, snip, [side[i] for side in sides]])
    return {"layer": layer, "start": start, "strings": strings.table(), "neurons": neurons}
