"""The bundled model's behavioural tasks and their metrics (reported on the model card).

- IOI: "Then, Mary and John went to the park. John gave a book to" -> " Mary"; the metric is
  the fraction of prompts where the indirect object's logit beats the subject's.
- Year ranges (greater-than): "The war lasted from the year 1732 to the year 17" -> a two-digit
  token; the metric is P(later years) - P(earlier or equal years), averaged over prompts.
- Coin flip: "A coin is heads up. Ann flips the coin. ... Is the coin still heads up?" ->
  " Yes"/" No"; the metric is accuracy of the larger of the two logits.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch

from interp.bundled import wordlists as W

IOI_TEMPLATES = {
    "trained": "Then, {A} and {B} went to the {P}. {B} gave {O} to",
    "trained_2": "After {A} and {B} went to the {P}, {B} gave {O} to",
    "unseen": "Yesterday {A} and {B} walked to the {P}. {B} passed {O} to",
    "baba": "Then, {B} and {A} went to the {P}. {B} gave {O} to",
}


@dataclass(frozen=True)
class ContrastPrompt:
    """A prompt with the continuation the model should prefer and the one it should not."""

    prompt: str
    correct: str
    wrong: str


def ioi_prompts(n: int, seed: int, template: str = "trained") -> list[ContrastPrompt]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        a, b = rng.sample(W.NAMES, 2)
        obj = rng.choice(W.OBJECTS)
        article = "an" if obj[0] in "aeiou" else "a"
        text = IOI_TEMPLATES[template].format(A=a, B=b, P=rng.choice(W.PLACES),
                                              O=f"{article} {obj}")
        out.append(ContrastPrompt(text, " " + a, " " + b))
    return out


def coin_flip_prompts(n: int, seed: int) -> list[ContrastPrompt]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        heads = True
        parts = ["A coin is heads up."]
        for person in rng.sample(W.NAMES, rng.randint(1, 4)):
            flips = rng.random() < 0.5
            heads ^= flips
            parts.append(f"{person} {'flips' if flips else 'does not flip'} the coin.")
        parts.append("Is the coin still heads up?")
        yes, no = " Yes", " No"
        out.append(ContrastPrompt(" ".join(parts), yes if heads else no, no if heads else yes))
    return out


def year_prompts(n: int, seed: int) -> list[tuple[str, int]]:
    """(prompt ending in the century, start year's last two digits) pairs."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        century, start = rng.randint(11, 19), rng.randint(2, 97)
        event = rng.choice(W.EVENTS)
        out.append(((f"The {event} lasted from the year {century}{start:02d} to the year "
                    f"{century}"), start))
    return out


def _single_token(model, text: str) -> int:
    ids = model.tokenizer.encode(text, add_special_tokens=False)
    if len(ids) != 1:
        raise ValueError(f"{text!r} is not a single token ({ids})")
    return ids[0]


@torch.no_grad()
def _last_logits(model, prompts: list[str]) -> torch.Tensor:
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


def contrast_accuracy(model, prompts: list[ContrastPrompt]) -> float:
    """Fraction of prompts whose correct continuation's logit beats the wrong one's."""
    logits = _last_logits(model, [p.prompt for p in prompts])
    good = torch.tensor([_single_token(model, p.correct) for p in prompts])
    bad = torch.tensor([_single_token(model, p.wrong) for p in prompts])
    idx = torch.arange(len(prompts))
    return float((logits[idx, good] > logits[idx, bad]).float().mean())


def year_probability_difference(model, prompts: list[tuple[str, int]]) -> float:
    """Mean over prompts of P(end > start) - P(end <= start), over the 100 two-digit tokens."""
    year_ids = torch.tensor([_single_token(model, f"{y:02d}") for y in range(100)])
    probs = _last_logits(model, [p for p, _ in prompts]).softmax(-1)[:, year_ids]
    diffs = [float(row[start + 1:].sum() - row[:start + 1].sum())
             for row, (_, start) in zip(probs, prompts, strict=True)]
    return sum(diffs) / len(diffs)
