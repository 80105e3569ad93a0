"""Activation patching per head and position: one head's hook_z patched at one named position
of each prompt (IOI: interp.circuits.tasks.ioi.ioi_positions), so that prompts of different
templates line up by role, not by index. Same machinery and score as activation_patching.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from jaxtyping import Bool, Float, Int
from torch import Tensor

from interp.circuits.heads import pad
from interp.circuits.patching import _safe, patched_drops
from interp.circuits.tasks.base import Task, task_tokens
from interp.errors import InterpError

if TYPE_CHECKING:
    from interp.models.model import Model


@dataclass
class PositionPatchResult:
    """scores: [n_layers, n_heads, n_positions] drop in the metric / (clean - corrupted) when
    that head is patched at that position only; raw: the drop; positions: the class names."""

    method: str
    positions: list[str]
    scores: Float[Tensor, "n_layers n_heads n_positions"]
    raw: Float[Tensor, "n_layers n_heads n_positions"]
    clean: float
    corrupted: float
    seconds: float

    def at(self, layer: int, head: int) -> dict[str, float]:
        """{position name: score} of one head."""
        return {p: float(self.scores[layer, head, i]) for i, p in enumerate(self.positions)}


def position_masks(
    model: Model, task: Task, positions: dict[str, Int[Tensor, " n"]]
) -> Bool[Tensor, "n_classes n pos"]:
    """[n_classes, n_prompts, padded length] bool: True at each prompt's index of each class;
    InterpError for a wrong count or an index outside a prompt."""
    pos, _ = task_tokens(model, task)
    _, lengths = pad(pos)
    width = int(lengths.max())
    out = torch.zeros(len(positions), len(task), width, dtype=torch.bool)
    for c, (name, idx) in enumerate(positions.items()):
        idx = torch.as_tensor(idx).long().flatten()
        if idx.numel() != len(task):
            raise InterpError(f"position {name!r} has {idx.numel()} indices for {len(task)} "
                              "prompts; give one index per prompt")
        bad = (idx < 0) | (idx >= lengths)
        if bool(bad.any()):
            i = int(bad.nonzero()[0])
            raise InterpError(f"position {name!r} of prompt {i} is {int(idx[i])}; valid: "
                              f"0..{int(lengths[i]) - 1}")
        out[c, torch.arange(len(task)), idx] = True
    return out


@torch.no_grad()
def position_patching(
    model: Model, task: Task, positions: dict[str, Int[Tensor, " n"]], *,
    mode: str = "corrupted", layers: Sequence[int] | None = None,
) -> PositionPatchResult:
    """Patch each head's hook_z at one position per prompt, for each named position (one
    index per prompt): exact, one batched pass per layer and position over all heads.
    layers: patch only these (the other layers' scores are NaN)."""
    if not positions:
        raise InterpError("no positions given; pass {name: [one index per prompt]}")
    start = time.perf_counter()
    masks = position_masks(model, task, positions)
    raw, clean, corrupted = patched_drops(model, task, masks, mode=mode, layers=layers)
    return PositionPatchResult(f"activation patching per position ({mode})", list(positions),
                               raw / _safe(clean - corrupted), raw, clean, corrupted,
                               time.perf_counter() - start)
