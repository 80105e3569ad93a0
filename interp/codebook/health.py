"""Codebook health per site: active codes, dead fraction, usage entropy, reconstruction error;
and the model with codebooks against the original on the same tokens: LM loss, next-token
accuracy, and each row's loss (for intervals over rows)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
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
    """Per-site health plus the LM loss and next-token accuracy without and with all codebooks
    spliced in (token means), and each row's mean loss in both (`row_loss_*`, same order)."""

    sites: list[SiteHealth]
    loss_original: float
    loss_codebooks: float
    n_tokens: int
    accuracy_original: float = float("nan")
    accuracy_codebooks: float = float("nan")
    row_loss_original: list[float] = field(default_factory=list)
    row_loss_codebooks: list[float] = field(default_factory=list)

    @property
    def loss_increase(self) -> float:
        return self.loss_codebooks - self.loss_original

    def to_dict(self) -> dict[str, Any]:
        return {"sites": [s.to_dict() for s in self.sites], "loss_original": self.loss_original,
                "loss_codebooks": self.loss_codebooks, "loss_increase": self.loss_increase,
                "accuracy_original": self.accuracy_original,
                "accuracy_codebooks": self.accuracy_codebooks, "n_tokens": self.n_tokens,
                "row_loss_original": self.row_loss_original,
                "row_loss_codebooks": self.row_loss_codebooks}

    def table(self) -> str:
        """A plain-text table, one row per site, and the loss line."""
        head = f"{'site':<12} {'codes':>6} {'active':>6} {'dead':>6} {'H bits':>7} {'rel err':>8}"
        lines = [head, "-" * len(head)]
        for s in self.sites:
            lines.append(f"{s.site:<12} {s.codes:>6} {s.active:>6} {s.dead_fraction:>6.1%} "
                         f"{s.entropy_bits:>7.2f} {s.relative_error:>8.3f}")
        lines.append(f"LM loss: original {self.loss_original:.4f}, with codebooks "
                     f"{self.loss_codebooks:.4f} (increase {self.loss_increase:+.4f}) over "
                     f"{self.n_tokens} tokens; next-token accuracy {self.accuracy_original:.1%}"
                     f" -> {self.accuracy_codebooks:.1%}")
        return "\n".join(lines)


def _entropy_bits(counts: Tensor) -> float:
    p = counts.double() / counts.sum().clamp_min(1)
    p = p[p > 0]
    return float(-(p * p.log2()).sum())


def _row_scores(model: Model, batch: Tensor) -> tuple[Tensor, Tensor]:
    """Per row: mean next-token cross-entropy and the number of correct top-1 predictions."""
    logits = model.bridge(batch, return_type="logits")[:, :-1].float()
    target = batch[:, 1:]
    loss = torch.nn.functional.cross_entropy(logits.transpose(1, 2), target, reduction="none")
    return loss.mean(-1).double().cpu(), (logits.argmax(-1) == target).sum(-1).double().cpu()


@torch.no_grad()
def health(model: Model, codebooks: Codebooks, tokens: Int[Tensor, "rows seq"],
           batch_size: int = 8) -> Health:
    """Evaluate the codebooks on token rows (e.g. held-out rows from pack_tokens)."""
    codebooks.check_model(model)
    rows = tokens.to(model.device)
    err = {str(s): [0.0, 0.0] for s, _ in codebooks.items()}
    rows_base: list[Tensor] = []
    rows_cb: list[Tensor] = []
    right_base = right_cb = 0.0
    saved = {str(s): b.counts.clone() for s, b in codebooks.items()}
    try:
        codebooks.reset_counts()
        for i in range(0, len(rows), batch_size):
            batch = rows[i: i + batch_size]
            loss, right = _row_scores(model, batch)
            rows_base.append(loss)
            right_base += float(right.sum())
            with splice(model, codebooks):
                loss, right = _row_scores(model, batch)
            rows_cb.append(loss)
            right_cb += float(right.sum())
            for s, book in codebooks.items():
                x = book.last_input.float()
                out = book.lookup(book.last_ids).float()
                err[str(s)][0] += float(((out - x) ** 2).sum())
                err[str(s)][1] += float((x**2).sum())
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
    base, cb = torch.cat(rows_base), torch.cat(rows_cb)
    n = len(rows) * (rows.shape[1] - 1)  # every row has the same length
    return Health(sites, float(base.mean()), float(cb.mean()), n,
                  accuracy_original=right_base / max(n, 1),
                  accuracy_codebooks=right_cb / max(n, 1),
                  row_loss_original=base.tolist(), row_loss_codebooks=cb.tolist())
