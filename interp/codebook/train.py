"""Finetune codebooks spliced into a model: LM loss plus the codebook reconstruction loss,
with the model frozen (default) or trained too; optional k-means initialisation and periodic
dead-code replacement (both off by default, as in the paper's configurations). Texts are
packed into fixed-length token rows."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from jaxtyping import Int
from torch import Tensor

from interp.codebook.splice import Codebooks, splice
from interp.errors import InterpError
from interp.models.devices import deterministic_algorithms
from interp.options import CodebookTrainOptions
from interp.progress import say

if TYPE_CHECKING:
    from interp.models.model import Model


@dataclass
class TrainConfig:
    """Finetuning settings; the defaults shared with `interp codebook train` are read from
    interp.options.CodebookTrainOptions."""

    steps: int = CodebookTrainOptions.steps
    batch_size: int = CodebookTrainOptions.batch_size
    seq_len: int = CodebookTrainOptions.seq_len
    lr: float = CodebookTrainOptions.lr
    recon_weight: float = 1.0
    train_model: bool = CodebookTrainOptions.train_model
    model_lr: float = 1e-4
    kmeans_init: bool = CodebookTrainOptions.kmeans
    kmeans_tokens: int = 8192
    replace_dead_every: int = CodebookTrainOptions.replace_dead_every
    seed: int = CodebookTrainOptions.seed

    def check(self) -> None:
        for name in ("steps", "batch_size", "seq_len", "kmeans_tokens"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InterpError(f"{name} must be a positive integer, got {value!r}")
        if not self.lr > 0 or not self.model_lr > 0:
            raise InterpError(f"learning rates must be positive, got lr={self.lr}, "
                              f"model_lr={self.model_lr}")
        if self.recon_weight < 0 or self.replace_dead_every < 0:
            raise InterpError("recon_weight and replace_dead_every must be >= 0")


@dataclass
class TrainLog:
    """Per-step LM loss and reconstruction loss, codes replaced, and the wall time."""

    lm_loss: list[float] = field(default_factory=list)
    recon_loss: list[float] = field(default_factory=list)
    replaced: list[int] = field(default_factory=list)
    seconds: float = 0.0


def pack_tokens(model: Model, texts: Sequence[str], seq_len: int) -> Int[Tensor, "rows seq"]:
    """Tokenise texts (BOS per text, as the model does) and cut the stream into rows."""
    if isinstance(texts, str) or not texts:
        raise InterpError("texts must be a non-empty list of strings")
    stream = torch.cat([model.to_tokens(t)[0].cpu() for t in texts])
    rows = len(stream) // seq_len
    if rows < 1:
        raise InterpError(f"texts give {len(stream)} tokens, fewer than one row of "
                          f"seq_len={seq_len}")
    return stream[: rows * seq_len].view(rows, seq_len)


def kmeans_init(model: Model, codebooks: Codebooks, tokens: Tensor, n_tokens: int = 8192,
                seed: int = 0) -> None:
    """Initialise every codebook with k-means of its site's activations (original model;
    each codebook normalises them first when it has the layer norm)."""
    from interp.hooks import capture

    names = {str(s): model.hook_name(s.site, s.layer) for s, _ in codebooks.items()}
    rows = max(1, min(len(tokens), -(-n_tokens // tokens.shape[1])))
    acts = capture(model, list(names.values()), tokens[:rows], batch_size=8)
    for s, book in codebooks.items():
        data = acts.flat(names[str(s)]).float()
        book.kmeans_init(data.reshape(len(data), book.groups, book.dim), seed=seed)


def finetune(model: Model, codebooks: Codebooks, data: Sequence[str] | Tensor,
             config: TrainConfig | None = None, progress: bool = True, **overrides: Any
             ) -> TrainLog:
    """Train the codebooks (and the model when config.train_model) spliced into `model`.

    data: texts (packed into rows of config.seq_len) or a [rows, seq] token tensor.
    Loss = LM loss + recon_weight x sum of the codebooks' reconstruction losses (per codebook:
    the token-mean squared error, summed over its groups). The model's
    requires_grad flags are restored afterwards; with train_model its weights change (and
    `model.fingerprint` no longer describes them: save the model and reload it).
    """
    cfg = config or TrainConfig()
    for key, value in overrides.items():
        if not hasattr(cfg, key):
            raise InterpError(f"unknown training option {key!r}")
        setattr(cfg, key, value)
    cfg.check()
    codebooks.check_model(model)
    tokens = data if isinstance(data, Tensor) else pack_tokens(model, data, cfg.seq_len)
    if cfg.kmeans_init:
        kmeans_init(model, codebooks, tokens, cfg.kmeans_tokens, cfg.seed)
    params = list(model.bridge.parameters())
    flags = [p.requires_grad for p in params]
    groups = [{"params": list(codebooks.parameters()), "lr": cfg.lr}]
    if cfg.train_model:
        groups.append({"params": params, "lr": cfg.model_lr})
    log = TrainLog()
    gen = torch.Generator().manual_seed(cfg.seed)
    start = time.time()
    was_training = model.bridge.training
    try:
        for p in params:
            p.requires_grad_(cfg.train_model)
        opt = torch.optim.Adam(groups)
        codebooks.reset_counts()
        with splice(model, codebooks), deterministic_algorithms():
            for step in range(cfg.steps):
                batch = tokens[torch.randint(len(tokens), (cfg.batch_size,), generator=gen)]
                lm = model.bridge(batch.to(model.device), return_type="loss")
                recon = sum(b.reconstruction_loss() for _, b in codebooks.items())
                loss = lm + cfg.recon_weight * recon
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                log.lm_loss.append(float(lm.detach()))
                log.recon_loss.append(float(recon.detach()))
                every = cfg.replace_dead_every
                if every and (step + 1) % every == 0 and step + 1 < cfg.steps:
                    n = sum(b.replace_dead(b.last_input.reshape(-1, b.groups, b.dim),
                                           seed=cfg.seed + step)
                            for _, b in codebooks.items() if b.last_input is not None)
                    log.replaced.append(int(n))
                if progress and (step + 1) % max(1, cfg.steps // 10) == 0:
                    say("codebook", f"step {step + 1}/{cfg.steps}: lm {log.lm_loss[-1]:.4f} "
                        f"recon {log.recon_loss[-1]:.4f}")
    finally:
        for p, flag in zip(params, flags):
            p.requires_grad_(flag)
        model.bridge.train(was_training)
        for book in codebooks.values():
            book.last_ids = book.last_input = None
    log.seconds = time.time() - start
    return log
