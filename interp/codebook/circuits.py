"""Circuit finding with per-head codebooks: a codebook on every layer's attn_z (one codebook
per head, before the output projection) gives each head an integer code per prompt, and the
circuits issue's head scoring (codes seen on positives and never on negatives) runs on those
ids exactly as on SAE codes (O'Neill & Bui 2024).

Like the SAE method, the codebooks are fitted on a few prompts only (k-means, no model
finetuning); each prompt's per-head z is pooled (mean over its tokens, or the last token)
and snapped to its nearest code.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from jaxtyping import Bool, Float, Int
from torch import Tensor

from interp.codebook.splice import Codebooks
from interp.errors import InterpError, choices_error

if TYPE_CHECKING:
    from interp.models.model import Model

POOLINGS = ("mean", "last")


@dataclass
class CodebookCircuitResult:
    """scores: [n_layers, n_heads]; codes: [n_prompts, n_layers * n_heads] (positives first)."""

    scores: Float[Tensor, "n_layers n_heads"]
    codes: Int[Tensor, "n n_heads_total"]
    is_positive: Bool[Tensor, " n"]
    codebooks: Codebooks
    seconds: dict[str, float] = field(default_factory=dict)


@torch.no_grad()
def pooled_z(model: Model, prompts: list[Tensor], pooling: str = "mean", batch_size: int = 32
             ) -> Float[Tensor, "n n_layers n_heads d_head"]:
    """Per-head z of every layer, pooled per prompt (padding excluded)."""
    from interp.hooks import capture

    if pooling not in POOLINGS:
        raise choices_error("pooling", pooling, POOLINGS)
    names = [model.hook_name("attn_z", layer) for layer in range(model.facts.n_layers)]
    acts = capture(model, names, prompts, batch_size=batch_size)
    mask = acts.mask.float()  # [n, pos]
    out = []
    for name in names:
        z = acts[name].float()  # [n, pos, heads, d_head]
        if pooling == "mean":
            out.append((z * mask[..., None, None]).sum(1) / mask.sum(1)[:, None, None])
        else:
            last = mask.sum(1).long() - 1
            out.append(z[torch.arange(len(z)), last])
    return torch.stack(out, 1)


def codebook_circuit(model: Model, task: Any, *, n_codes: int = 8, n_train: int = 10,
                     pooling: str = "mean", score: str = "count", layer_norm: bool = True,
                     seed: int = 0) -> CodebookCircuitResult:
    """Score every head for `task` (an interp.circuits Task) with k=1 per-head codebooks
    fitted by k-means on `n_train` random prompts' pooled z (timed per stage); layer_norm:
    the codebooks normalise z first (interp.codebook.Codebook)."""
    from interp.circuits.scores import head_scores
    from interp.circuits.tasks.base import task_tokens

    f = model.facts
    t0 = time.perf_counter()
    pos, neg = task_tokens(model, task)
    z = pooled_z(model, pos + neg, pooling)  # [n, L, H, d]
    t1 = time.perf_counter()
    n = len(z)
    if not 1 <= n_train <= n:
        raise InterpError(f"n_train {n_train} out of range; valid: 1..{n}")
    gen = torch.Generator().manual_seed(seed)
    train = z[torch.randperm(n, generator=gen)[:n_train]]
    books = Codebooks.create(model, [f"{layer}:attn_z" for layer in range(f.n_layers)],
                             n_codes=n_codes, k=1, similarity="inner", layer_norm=layer_norm,
                             seed=seed)
    codes = []
    for layer, book in enumerate(books.values()):
        book.kmeans_init(train[:, layer].cpu(), seed=seed + layer)
        book.track_usage = False
        codes.append(book.top_ids(z[:, layer].to(book.codes))[..., 0].cpu())  # [n, H]
    codes_t = torch.cat(codes, 1)
    is_positive = torch.cat([torch.ones(len(pos)), torch.zeros(len(neg))]).bool()
    scores = head_scores(codes_t, is_positive, score).view(f.n_layers, f.n_heads)
    t2 = time.perf_counter()
    return CodebookCircuitResult(scores, codes_t, is_positive, books,
                                 {"head outputs": t1 - t0, "fit + score": t2 - t1,
                                  "total": t2 - t0})
