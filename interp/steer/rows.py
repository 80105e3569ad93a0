"""Clamps that differ from one batch row to the next: many clamp conditions (neurons x values,
plus an unclamped row) run as one batch over the same prompt, instead of one generate call per
condition. Row r of every forward call gets its own clamps, at every position (mode "set" on
mlp_post), including each generated token under the KV cache.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from interp.errors import InterpError, range_error
from interp.hooks import attach

if TYPE_CHECKING:
    from interp.models.model import Model

#: One row's clamps: (layer, neuron, raw activation value) triples; an empty list is no clamp.
RowClamps = Sequence[tuple[int, int, float]]


def _hook(n_rows: int, rows: Tensor, neurons: Tensor, values: Tensor) -> Any:
    def fn(act: Tensor, hook: Any) -> Tensor:
        if act.shape[0] != n_rows:
            raise InterpError(f"row clamps cover {n_rows} rows; this forward call has a "
                              f"batch of {act.shape[0]}")
        act = act.clone()
        act[rows.to(act.device), :, neurons.to(act.device)] = values.to(act.device, act.dtype)[
            :, None]
        return act
    return fn


def row_clamps(model: Model, clamps: Sequence[RowClamps]) -> Any:
    """Context manager: while open, batch row r of every forward call has its MLP neurons
    `clamps[r]` set to their raw values at every position (mlp_post, like Clamp mode "set"
    with positions "all"); a batch of any other size than len(clamps) is an error. Hooks
    detach on exit, even when the body raises.

        with row_clamps(model, [[], [(5, 12, 3.0)], [(5, 40, 3.0)]]):
            out = model.generate(tokens.expand(3, -1), ...)
    """
    per_layer: dict[int, list[tuple[int, int, float]]] = defaultdict(list)
    d_mlp, n_layers = model.facts.d_mlp, model.facts.n_layers
    for r, row in enumerate(clamps):
        for layer, neuron, value in row:
            if not 0 <= int(layer) < n_layers:
                raise range_error("layer", layer, n_layers)
            if not 0 <= int(neuron) < d_mlp:
                raise range_error("neuron", neuron, d_mlp)
            if not torch.isfinite(torch.tensor(float(value))):
                raise InterpError(f"row {r}: clamp value {value!r} is not a finite number")
            per_layer[int(layer)].append((r, int(neuron), float(value)))
    fns = {}
    for layer, items in sorted(per_layer.items()):
        rows, neurons, values = (torch.tensor(col) for col in zip(*items))
        fns[model.hook_name("mlp_post", layer)] = _hook(len(clamps), rows, neurons, values.float())
    return attach(model, fns)
