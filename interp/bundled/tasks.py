"""The bundled models' behavioural tasks and their metrics (reported on the model cards).

The prompt sets come from interp.texts.prompts; the metrics:

- IOI: the fraction of prompts where the indirect object's logit beats the subject's.
- Year ranges (greater-than): P(later years) - P(earlier or equal years), averaged over prompts.
- Coin flip: accuracy of the larger of the " Yes"/" No" logits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from interp.texts.prompts import (
    IOI_TEMPLATES,
    ContrastPrompt,
    coin_flip_prompts,
    ioi_prompts,
    year_prompts,
)

if TYPE_CHECKING:
    from interp.models.model import Model

__all__ = ["IOI_TEMPLATES", "ContrastPrompt", "coin_flip_prompts", "contrast_accuracy",
           "ioi_prompts", "year_probability_difference", "year_prompts"]


def _single_token(model: Model, text: str) -> int:
    ids = model.tokenizer.encode(text, add_special_tokens=False)
    if len(ids) != 1:
        raise ValueError(f"{text!r} is not a single token ({ids})")
    return ids[0]


@torch.no_grad()
def _last_logits(model: Model, prompts: list[str]) -> torch.Tensor:
    """Next-token logits after each prompt; prompts of equal token length run as one batch."""
    tokens = [model.to_tokens(p)[0] for p in prompts]
    out = torch.empty(len(prompts), model.facts.d_vocab)
    by_length: dict[int, list[int]] = {}
    for i, row in enumerate(tokens):
        by_length.setdefault(len(row), []).append(i)
    for rows in by_length.values():
        batch = torch.stack([tokens[i] for i in rows])
        out[rows] = model.logits(batch)[:, -1].float().cpu()
    return out


def contrast_accuracy(model: Model, prompts: list[ContrastPrompt]) -> float:
    """Fraction of prompts whose correct continuation's logit beats the wrong one's."""
    logits = _last_logits(model, [p.prompt for p in prompts])
    good = torch.tensor([_single_token(model, p.correct) for p in prompts])
    bad = torch.tensor([_single_token(model, p.wrong) for p in prompts])
    idx = torch.arange(len(prompts))
    return float((logits[idx, good] > logits[idx, bad]).float().mean())


def year_probability_difference(model: Model, prompts: list[tuple[str, int]]) -> float:
    """Mean over prompts of P(end > start) - P(end <= start), over the 100 two-digit tokens."""
    year_ids = torch.tensor([_single_token(model, f"{y:02d}") for y in range(100)])
    probs = _last_logits(model, [p for p, _ in prompts]).softmax(-1)[:, year_ids]
    diffs = [float(row[start + 1:].sum() - row[:start + 1].sum())
             for row, (_, start) in zip(probs, prompts, strict=True)]
    return sum(diffs) / len(diffs)
