"""Prompt sets for behavioural tasks, built from the word lists with a seed (same seed, same
prompts).

- IOI: "Then, Mary and John went to the park. John gave a book to" -> " Mary" (not " John").
- Year ranges (greater-than): "The war lasted from the year 1732 to the year 17" -> a later
  two-digit year token.
- Coin flip: "A coin is heads up. Ann flips the coin. ... Is the coin still heads up?" ->
  " Yes"/" No" (the parity of the flips).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from interp.texts import wordlists as W

IOI_TEMPLATES = {
    "trained": "Then, {A} and {B} went to the {P}. {B} gave {O} to",
    "trained_2": "After {A} and {B} went to the {P}, {B} gave {O} to",
    "unseen": "Yesterday {A} and {B} walked to the {P}. {B} passed {O} to",
    "baba": "Then, {B} and {A} went to the {P}. {B} gave {O} to",
}
"""IOI prompt templates by name: "trained" and "trained_2" are sentences of the bundled toy
models' corpus, "unseen" is not, "baba" names the subject first."""


@dataclass(frozen=True)
class ContrastPrompt:
    """A prompt with the continuation the model should prefer and the one it should not."""

    prompt: str
    correct: str
    wrong: str


def ioi_prompts(n: int, seed: int, template: str = "trained") -> list[ContrastPrompt]:
    """n IOI prompts of IOI_TEMPLATES[template]: correct " A" (indirect object), wrong " B"."""
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
    """n coin-flip prompts (1-4 people flip or not); correct " Yes" when the coin is heads up."""
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
