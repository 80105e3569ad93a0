"""Ablation baselines for head importance: activation patching (hook_z of one head taken from
the corrupted prompt or its mean; every head of a layer in one batched pass from that layer)
and attribution patching (its first-order estimate from one forward and one backward pass).

Scores are the drop in the task metric, as a fraction of (clean - corrupted): 1 means patching
that head alone removes the whole clean-vs-corrupted gap, 0 means no effect.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from jaxtyping import Bool, Float
from torch import Tensor

from interp.circuits.heads import pad, z_hook_names
from interp.circuits.tasks.base import Task, answer_index, task_tokens
from interp.errors import choices_error, range_error
from interp.hooks import attach
from interp.models.resume import logits_at, record_block_inputs, run_from

if TYPE_CHECKING:
    from interp.models.model import Model

MODES = ("corrupted", "mean")


@dataclass
class PatchResult:
    """scores: [n_layers, n_heads] drop in the metric / (clean - corrupted); raw: the drop
    itself; clean / corrupted: the metric's mean on positives / negatives."""

    method: str
    scores: Float[Tensor, "n_layers n_heads"]
    raw: Float[Tensor, "n_layers n_heads"]
    clean: float
    corrupted: float
    seconds: float


def task_metric(logits: Float[Tensor, "n d_vocab"], task: Task) -> Float[Tensor, " n"]:
    """Per-prompt metric of final-position logits (see Task)."""
    good, good_mask = (t.to(logits.device) for t in answer_index(task.good))
    bad, bad_mask = (t.to(logits.device) for t in answer_index(task.bad))
    x = logits.float()
    if task.metric == "prob_diff":
        x = x.softmax(-1)
        return (x.gather(1, good) * good_mask).sum(1) - (x.gather(1, bad) * bad_mask).sum(1)
    mean = lambda ids, m: (x.gather(1, ids) * m).sum(1) / m.sum(1)
    return mean(good, good_mask) - mean(bad, bad_mask)


def _last_logits(model: Model, tokens: Tensor, lengths: Tensor) -> Tensor:
    logits = model.bridge(tokens.to(model.device), return_type="logits")
    return logits[torch.arange(len(lengths)), lengths.to(logits.device) - 1]


def _padded_pair(model: Model, task: Task) -> tuple[Tensor, Tensor, Tensor]:
    """Right-padded clean (positive) and corrupted (negative) tokens, and their lengths
    (a task's pairs have equal lengths)."""
    pos, neg = task_tokens(model, task)
    clean_tok, lengths = pad(pos)
    corrupt_tok, _ = pad(neg)
    return clean_tok, corrupt_tok, lengths


def _metric(model: Model, task: Task, tokens: Tensor, lengths: Tensor,
            fns: dict[str, Any] | None = None) -> Tensor:
    with attach(model, fns or {}):
        return task_metric(_last_logits(model, tokens, lengths), task)


@torch.no_grad()
def activation_patching(model: Model, task: Task, *, mode: str = "corrupted") -> PatchResult:
    """Patch each head's hook_z in the positive prompts with its value on the paired negative
    ("corrupted") or its mean over all negative positions ("mean"). Exact, and batched: the
    clean run records every block's inputs (interp.models.resume), then for each layer all its
    heads are patched at once, one copy of the prompts per head, running only that layer and
    the ones after it, and only the last positions through the unembedding."""
    start = time.perf_counter()
    raw, clean, corrupted = patched_drops(model, task, None, mode=mode)
    gap = clean - corrupted
    return PatchResult(f"activation patching ({mode})", raw[..., 0] / _safe(gap), raw[..., 0],
                       clean, corrupted, time.perf_counter() - start)


@torch.no_grad()
def patched_drops(
    model: Model, task: Task, where: Bool[Tensor, "n_classes n pos"] | None, *,
    mode: str = "corrupted", layers: Sequence[int] | None = None,
) -> tuple[Float[Tensor, "n_layers n_heads n_classes"], float, float]:
    """(drop of the metric, clean mean, corrupted mean) when one head's hook_z is patched at
    the positions where[c] of each prompt (right-padded; None: every position), for every
    layer (or only `layers`; the others are NaN), head and class c: one batched pass per
    layer and class (activation_patching)."""
    if mode not in MODES:
        raise choices_error("patching mode", mode, MODES)
    f = model.facts
    for layer in layers or ():
        if not isinstance(layer, int) or not 0 <= layer < f.n_layers:
            raise range_error("layer", layer, f.n_layers)
    clean_tok, corrupt_tok, lengths = _padded_pair(model, task)
    names = z_hook_names(model)
    corrupt_z: dict[str, Tensor] = {}

    def grabber(name: str) -> Any:
        def grab(z: Tensor, hook: Any = None) -> None:
            corrupt_z[name] = z.detach().clone()

        return grab

    corrupted = _metric(model, task, corrupt_tok, lengths, {n: grabber(n) for n in names})
    inputs, logits = record_block_inputs(model, clean_tok)
    last = lengths.to(logits.device) - 1
    n = len(lengths)
    clean = task_metric(logits[torch.arange(n, device=logits.device), last], task)
    del logits
    if mode == "mean":
        keep = (torch.arange(clean_tok.shape[1])[None] < lengths[:, None]).to(model.device)
        for name, z in corrupt_z.items():
            mean = (z * keep[:, :, None, None]).sum((0, 1)) / keep.sum()
            corrupt_z[name] = mean.expand_as(z)
    masks = [None] if where is None else list(where.to(model.device).bool())
    raw = torch.zeros(f.n_layers, f.n_heads, len(masks))
    if layers is not None:
        raw[[x for x in range(f.n_layers) if x not in set(layers)]] = float("nan")
    for layer, name in enumerate(names):
        if layers is not None and layer not in layers:
            continue
        for c, mask in enumerate(masks):
            def patch(z: Tensor, hook: Any = None, _n: str = name, _m: Any = mask) -> Tensor:
                z = z.clone()
                copies = z.view(f.n_heads, n, *z.shape[1:])  # copy h patches head h
                for head in range(f.n_heads):
                    new = corrupt_z[_n][:, :, head].to(z.dtype)
                    if _m is not None:
                        new = torch.where(_m[:, :, None], new, copies[head, :, :, head])
                    copies[head, :, :, head] = new
                return z

            with attach(model, {name: patch}):
                resid = run_from(model, inputs, layer,
                                 inputs.hidden[layer].repeat(f.n_heads, 1, 1))
            patched = logits_at(model, resid, last.repeat(f.n_heads))
            for head in range(f.n_heads):
                rows = task_metric(patched[head * n:(head + 1) * n], task)
                raw[layer, head, c] = float((clean - rows).mean())
    return raw, float(clean.mean()), float(corrupted.mean())


def attribution_patching(model: Model, task: Task) -> PatchResult:
    """First-order estimate of activation patching (Nanda 2023): drop ~= -(z_corrupt -
    z_clean) . d metric / d z, summed over positions and d_head; one clean forward + backward
    and one corrupted forward."""
    start = time.perf_counter()
    f = model.facts
    clean_tok, corrupt_tok, lengths = _padded_pair(model, task)
    names = z_hook_names(model)
    saved: dict[str, Tensor] = {}

    def keeper(name: str, grad: bool) -> Any:
        def keep(z: Tensor, hook: Any = None) -> Tensor:
            if grad:
                if not z.requires_grad:
                    z = z.detach().requires_grad_(True)
                z.retain_grad()
                saved[name] = z
                return z
            saved[name + ":corrupt"] = z.detach()
            return z

        return keep

    with torch.no_grad():
        corrupted = _metric(model, task, corrupt_tok, lengths,
                            {n: keeper(n, False) for n in names})
    with torch.enable_grad():
        clean = _metric(model, task, clean_tok, lengths, {n: keeper(n, True) for n in names})
        clean.mean().backward()
    keep_pos = (torch.arange(clean_tok.shape[1])[None] < lengths[:, None]).to(model.device)
    raw = torch.zeros(f.n_layers, f.n_heads)
    for layer, n in enumerate(names):
        z, grad = saved[n].detach(), saved[n].grad
        delta = (saved[n + ":corrupt"] - z) * grad * keep_pos[:, :, None, None]
        raw[layer] = -delta.sum((0, 1, 3)).float().cpu()
    gap = float(clean.detach().mean() - corrupted.mean())
    model.bridge.zero_grad(set_to_none=True)
    return PatchResult("attribution patching", raw / _safe(gap), raw, float(clean.detach().mean()),
                       float(corrupted.mean()), time.perf_counter() - start)


def _safe(gap: float) -> float:
    return gap if abs(gap) > 1e-8 else 1e-8
