"""Running per-neuron state over a stream of batches: the top-k documents by each neuron's
largest activation (with a window of tokens and activations around it), a histogram on fixed
bins, and moments. Memory depends on the neuron count and k, never on the corpus length.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from jaxtyping import Bool, Float, Int
from torch import Tensor

#: Histogram bin edges, shared by every neuron: signed half-decades from 1e-3 to 1e2, so
#: heavy-tailed activations of any model show up (bins: (-inf, -100), ..., [-1e-3, 1e-3),
#: ..., [100, inf)).
_MAGNITUDES = [10 ** (e / 2) for e in range(-6, 5)]
HIST_EDGES: list[float] = [-m for m in reversed(_MAGNITUDES)] + _MAGNITUDES
N_BINS = len(HIST_EDGES) + 1


@dataclass
class LayerState:
    """One layer's running statistics for `units` neurons (k examples, W-token windows)."""

    values: Float[Tensor, "units k"]
    doc: Int[Tensor, "units k"]
    pos: Int[Tensor, "units k"]
    window_ids: Int[Tensor, "units k w"]
    window_acts: Float[Tensor, "units k w"]
    hist: Int[Tensor, "units bins"]
    total: Float[Tensor, " units"]
    total_sq: Float[Tensor, " units"]
    max: Float[Tensor, " units"]
    min: Float[Tensor, " units"]
    n_pos: Int[Tensor, " units"]
    n_tokens: int = 0

    @classmethod
    def empty(cls, units: int, k: int, window: int) -> LayerState:
        return cls(
            values=torch.full((units, k), -torch.inf), doc=torch.full((units, k), -1),
            pos=torch.full((units, k), -1), window_ids=torch.full((units, k, window), -1,
                                                                  dtype=torch.int32),
            window_acts=torch.zeros(units, k, window), hist=torch.zeros(units, N_BINS,
                                                                        dtype=torch.int64),
            total=torch.zeros(units, dtype=torch.float64),
            total_sq=torch.zeros(units, dtype=torch.float64),
            max=torch.full((units,), -torch.inf), min=torch.full((units,), torch.inf),
            n_pos=torch.zeros(units, dtype=torch.int64),
        )

    def update(self, acts: Float[Tensor, "b p units"], tokens: Int[Tensor, "b p"],
               valid: Bool[Tensor, "b p"], first_doc: int, before: int, after: int) -> None:
        """Fold one batch (documents first_doc.. first_doc+b-1) into the state."""
        acts = acts.float()
        flat = acts[valid]  # [n, units]
        units = acts.shape[-1]
        if flat.shape[0]:
            self.n_tokens += flat.shape[0]
            self.total += flat.double().sum(0)
            self.total_sq += flat.double().pow(2).sum(0)
            self.max = torch.maximum(self.max, flat.amax(0))
            self.min = torch.minimum(self.min, flat.amin(0))
            self.n_pos += (flat > 0).sum(0)
            bins = torch.bucketize(flat, torch.tensor(HIST_EDGES), right=True)
            bins += torch.arange(units) * N_BINS
            self.hist += torch.bincount(bins.flatten(), minlength=units * N_BINS
                                        ).view(units, N_BINS)
        self._merge_top(acts, tokens, valid, first_doc, before, after)

    def _merge_top(self, acts: Tensor, tokens: Tensor, valid: Tensor, first_doc: int,
                   before: int, after: int) -> None:
        _b, p, units = acts.shape
        k = self.values.shape[1]
        masked = acts.masked_fill(~valid[..., None], -torch.inf)
        best, where = masked.max(1)  # [b, units]: each document's peak per neuron
        cand = torch.cat([self.values, best.T], 1)  # old entries first: they win ties
        order = cand.sort(dim=1, descending=True, stable=True).indices[:, :k]  # [units, k]
        is_new = order >= k
        row = (order - k).clamp(min=0)  # batch row of new entries
        unit = torch.arange(units)[:, None].expand(units, k)
        new_pos = where.T.gather(1, row)
        offsets = torch.arange(-before, after + 1)
        wpos = new_pos[..., None] + offsets  # [units, k, w]
        wrow = row[..., None].expand_as(wpos)
        inside = (wpos >= 0) & (wpos < p)
        wpos_c = wpos.clamp(0, p - 1)
        ok = inside & valid[wrow, wpos_c]
        new_ids = torch.where(ok, tokens[wrow, wpos_c], -1).to(torch.int32)
        new_acts = torch.where(ok, acts[wrow, wpos_c, unit[..., None].expand_as(wpos)], 0.0)
        old = order.clamp(max=k - 1)
        keep = is_new[..., None]
        self.window_ids = torch.where(keep, new_ids, self.window_ids.gather(
            1, old[..., None].expand_as(new_ids)))
        self.window_acts = torch.where(keep, new_acts, self.window_acts.gather(
            1, old[..., None].expand_as(new_acts)))
        self.doc = torch.where(is_new, row + first_doc, self.doc.gather(1, old))
        self.pos = torch.where(is_new, new_pos, self.pos.gather(1, old))
        self.values = cand.gather(1, order)
