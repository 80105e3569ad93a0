"""The SAE method of O'Neill & Bui 2024: per-head outputs on positive and negative prompts,
one SAE shared by all heads trained on a few prompts, one argmax code per head and prompt,
heads scored by the codes only positives produce."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch
from jaxtyping import Bool, Float, Int
from torch import Tensor

from interp.circuits.heads import head_outputs
from interp.circuits.scores import edge_scores, head_scores, top_pair_heads
from interp.circuits.tasks.base import Task, task_tokens
from interp.errors import InterpError
from interp.options import CircuitsOptions, paper_l1
from interp.sae import SAEConfig, SparseAutoencoder, TrainLog, sae_codes, train_sae

if TYPE_CHECKING:
    from interp.models.model import Model


@dataclass(frozen=True)
class SAESettings:
    """The paper's defaults (O'Neill & Bui's code): 200 ReLU latents, L1 0.02 (0.05 on
    docstring: l1=None takes the task's, see interp.options.paper_l1), Adam 1e-3, 500
    full-batch epochs on 10 prompts (every head's vector of each), their SAE (unit-norm
    encoder columns and decoder columns, independent N(0, 1) init, pre-bias from 0), plain
    argmax codes (0 where no latent fires), "count" head scores."""

    n_latents: int = CircuitsOptions.latents
    l1: float | None = CircuitsOptions.l1
    lr: float = 1e-3
    epochs: int = CircuitsOptions.epochs
    n_train: int = CircuitsOptions.n_train
    activation: str = "relu"
    k: int | None = None
    score: str = CircuitsOptions.score
    seed: int = CircuitsOptions.seed
    unit_norm: str = "oneill-bui"
    init: str = "oneill-bui"
    init_bias: bool = False
    silent: str = "argmax"

    def l1_for(self, task: str | None) -> float:
        """The L1 coefficient used on task `task`: `l1`, or the paper's for that task."""
        return paper_l1(task) if self.l1 is None else self.l1


@dataclass
class SAECircuitResult:
    """scores: [n_layers, n_heads]; codes: [n_prompts, n_heads_total] (positives first);
    seconds per stage. Edge scores are computed on demand by `edges()`, the paper's node
    scores from edges by `edge_heads()`."""

    scores: Float[Tensor, "n_layers n_heads"]
    codes: Int[Tensor, "n n_heads_total"]
    is_positive: Bool[Tensor, " n"]
    sae: SparseAutoencoder
    log: TrainLog
    seconds: dict[str, float] = field(default_factory=dict)

    def edges(self, normalise: bool = False, denominator: str = "sum"
              ) -> Float[Tensor, "n_heads_total n_heads_total"]:
        """Edge scores from code co-occurrence (see interp.circuits.scores.edge_scores)."""
        return edge_scores(self.codes, self.is_positive, normalise, denominator)

    def edge_heads(self, normalise: bool = False, denominator: str = "sum"
                   ) -> Float[Tensor, "n_layers n_heads"]:
        """The paper's node scores from the top edge pairs (scores.top_pair_heads, with
        their n_heads_per_layer ** 2 // 2 slots)."""
        n_layers, n_heads = self.scores.shape
        heads = top_pair_heads(self.edges(normalise, denominator), n_heads ** 2 // 2)
        return heads.view(n_layers, n_heads)


def score_outputs(
    outputs: Float[Tensor, "n n_heads_total d_model"], is_positive: Bool[Tensor, " n"],
    settings: SAESettings | None = None, *, task: str | None = None, progress: bool = False,
) -> tuple[Tensor, Tensor, SparseAutoencoder, TrainLog]:
    """(head scores [n_heads_total], codes, sae, log) from pooled head outputs; `task` names
    the task for the paper's per-task L1 when settings.l1 is None."""
    settings = settings or SAESettings()
    if outputs.dim() != 3 or outputs.shape[0] != is_positive.shape[0]:
        raise InterpError(f"head outputs must be [n_prompts, n_heads, d_model] with one label "
                          f"per prompt; got {tuple(outputs.shape)}")
    n, _, d = outputs.shape
    if not 1 <= settings.n_train <= n:
        raise InterpError(f"n_train {settings.n_train} out of range; valid: 1..{n}")
    gen = torch.Generator().manual_seed(settings.seed)
    train_idx = torch.randperm(n, generator=gen)[: settings.n_train]
    x = outputs.float()
    cfg = SAEConfig(d_in=d, n_latents=settings.n_latents, activation=settings.activation,
                    k=settings.k, l1=settings.l1_for(task), unit_norm=settings.unit_norm,
                    init=settings.init)
    sae = SparseAutoencoder(cfg, seed=settings.seed)
    log = train_sae(sae, x[train_idx].reshape(-1, d), epochs=settings.epochs, lr=settings.lr,
                    seed=settings.seed, init_bias=settings.init_bias, progress=progress)
    codes = sae_codes(sae, x, silent=settings.silent)  # [n, H]
    return head_scores(codes, is_positive, settings.score), codes, sae, log


def sae_circuit(
    model: Model, task: Task, settings: SAESettings | None = None, *, pooling: str = "mean",
    progress: bool = False,
) -> SAECircuitResult:
    """Score every head of `model` for `task` with the SAE method (timed per stage)."""
    settings = settings or SAESettings()
    f = model.facts
    t0 = time.perf_counter()
    if pooling == "none":
        raise InterpError("the SAE method needs pooled head outputs (pooling 'mean' or 'last')")
    pos, neg = task_tokens(model, task)
    outputs = head_outputs(model, pos + neg, pooling=pooling)
    t1 = time.perf_counter()
    is_positive = torch.cat([torch.ones(len(pos)), torch.zeros(len(neg))]).bool()
    scores, codes, sae, log = score_outputs(outputs, is_positive, settings, task=task.name,
                                            progress=progress)
    t2 = time.perf_counter()
    seconds = {"head outputs": t1 - t0, "train + score": t2 - t1, "total": t2 - t0}
    return SAECircuitResult(scores.view(f.n_layers, f.n_heads), codes, is_positive, sae, log,
                            seconds)
