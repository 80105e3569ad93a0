"""Codebook health per site: active codes, dead fraction, usage entropy, reconstruction error,
and the LM-loss increase of the model with codebooks over the original model."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import torch
from jaxtyping import Int
from torch import Tensor

from interp.codebook.splice import Codebooks, splice

if TYPE_CHECKING:
    from interp.models.model import Model


@dataclass(frozen=True)
class SiteHealth:
    """Usage over the evaluation tokens of one codebook (all groups together).

    active: codes used at least once; dead_fraction: 1 - active / codes; entropy_bits: of the
    code-usage distribution (max log2(codes)); relative_error: E|out - x|^2 / E|x|^2."""

    site: str
    codes: int
    active: int
    dead_fraction: float
    entropy_bits: float
    max_entropy_bits: float
    relative_error: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Health:
    """Per-site health plus the LM loss without and with all codebooks spliced in."""

    sites: list[SiteHealth]
    loss_original: float
    loss_codebooks: float
    n_tokens: int

    @property
    def loss_increase(self) -> float:
        return self.loss_codebooks - self.loss_original

    def to_dict(self) -> dict[str, Any]:
        return {"sites": [s.to_dict() for s in self.sites], "loss_original": self.loss_original,
                "loss_codebooks": self.loss_codebooks, "loss_increase": self.loss_increase,
                "n_tokens": self.n_tokens}

    def table(self) -> str:
        """A plain-text table, one row per site, and the loss line."""
        head = f"{'site':<12} {'codes':>6} {'active':>6} {'dead':>6} {'H bits':>7} {'rel err':>8}"
        lines = [head, "-" * len(head)]
        for s in self.sites:
            lines.append(f"{s.site:<12} {s.codes:>6} {s.active:>6} {s.dead_fraction:>6.1%} "
                         f"{s.entropy_bits:>7.2f} {s.relative_error:>8.3f}")
        lines.append(f"LM loss: original {self.loss_original:.4f}, with codebooks "
                     f"{self.loss_codebooks:.4f} (increase {self.loss_increase:+.4f}) over "
                     f"{self.n_tokens} tokens")
        return "\n".join(lines)


def _entropy_bits(counts: Tensor) -> float:
    p = counts.double() / counts.sum().clamp_min(1)
    p = p[p > 0]
    return float(-(p * p.log2()).sum())


@torch.no_grad()
def health(model: Model, codebooks: Codebooks, tokens: Int[Tensor, "rows seq"],
           batch_size: int = 8) -> Health:
    """Evaluate the codebooks on token rows (e.g. held-out rows from pack_tokens)."""
    codebooks.check_model(model)
    rows = tokens.to(model.device)
    err = {str(s): [0.0, 0.0] for s, _ in codebooks.items()}
    base = cb = 0.0
    n = 0
    saved = {str(s): b.counts.clone() for s, b in codebooks.items()}
    try:
        codebooks.reset_counts()
        for i in range(0, len(rows), batch_size):
            batch = rows[i: i + batch_size]
            weight = batch.shape[0] * (batch.shape[1] - 1)
            base += float(model.bridge(batch, return_type="loss")) * weight
            with splice(model, codebooks):
                cb += float(model.bridge(batch, return_type="loss")) * weight
            for s, book in codebooks.items():
                x = book.last_input.float()
                out = book.lookup(book.last_ids).float()
                err[str(s)][0] += float(((out - x) ** 2).sum())
                err[str(s)][1] += float((x**2).sum())
            n += weight
        sites = []
        for s, book in codebooks.items():
            counts = book.counts.reshape(-1)
            active = int((counts > 0).sum())
            num, den = err[str(s)]
            sites.append(SiteHealth(
                site=str(s), codes=counts.numel(), active=active,
                dead_fraction=1 - active / counts.numel(),
                entropy_bits=sum(_entropy_bits(c) for c in book.counts) / book.groups,
                max_entropy_bits=math.log2(book.n_codes),
                relative_error=num / max(den, 1e-12)))
    finally:
        for s, book in codebooks.items():
            book.counts.copy_(saved[str(s)])
            book.last_ids = book.last_input = None
    return Health(sites, base / max(n, 1), cb / max(n, 1), n)
