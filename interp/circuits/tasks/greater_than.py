"""Greater-than (Hanna et al. 2023), built as in O'Neill & Bui's data/gt.py.

Positive: "The war lasted from the year 1732 to the year 17" -> a two-digit year > 32.
Negative: "The war lasted from the year 1701 to the year 17" (the "01" baseline: nothing to
compare against). Metric: P(YY > start) - P(YY <= start) over the 100 two-digit tokens.

Tokenizers that split numbers into single digits (SmolLM2, Gemma 3, Llama 3) have no two-digit
year token, so there the task is read at the tens digit, the next token (read="tens"):
P(digit > T) - P(digit < T) where T is the start year's tens digit (1732: T = 3; a tens digit
equal to T can go either way and counts on neither side), start years 10..89 so that both
sides are non-empty. read="auto" picks "year" where the tokenizer has the year tokens.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from interp.circuits.tasks.base import Task, require, single_token

if TYPE_CHECKING:
    from interp.models.model import Model

NOUNS = [
    "abduction", "accord", "affair", "agreement", "appraisal", "assaults", "assessment", "attack",
    "attempts", "campaign", "captivity", "case", "challenge", "chaos", "clash", "collaboration",
    "coma", "competition", "confrontation", "consequence", "conspiracy", "construction",
    "consultation", "contact", "contract", "convention", "cooperation", "custody", "deal",
    "decline", "decrease", "demonstrations", "development", "disagreement", "disorder", "dispute",
    "domination", "dynasty", "effect", "effort", "employment", "endeavor", "engagement",
    "epidemic", "evaluation", "exchange", "existence", "expansion", "expedition", "experiments",
    "fall", "fame", "flights", "friendship", "growth", "hardship", "hostility", "illness",
    "impact", "imprisonment", "improvement", "incarceration", "increase", "insurgency", "invasion",
    "investigation", "journey", "war",
]
TEMPLATE = "The {noun} lasted from the year {century}{yy} to the year {century}"


def _year_splits(tok: Any, century: int, yy: str) -> bool:
    """True when ' {century}{yy}' tokenizes as [' {century}', '{yy}']."""
    ids = tok.encode(f" {century}{yy}", add_special_tokens=False)
    return ids == (tok.encode(f" {century}", add_special_tokens=False)
                   + tok.encode(yy, add_special_tokens=False)) and len(ids) == 2


READS = ("auto", "year", "tens")


def _digits_split(tok: Any, century: int, yy: str) -> bool:
    """True when ' {century}{yy}' tokenizes as ' {century}' followed by one token per digit."""
    prefix = tok.encode(f" {century}", add_special_tokens=False)
    digits = [tok.encode(d, add_special_tokens=False) for d in yy]
    return all(len(d) == 1 for d in digits) and \
        tok.encode(f" {century}{yy}", add_special_tokens=False) == prefix + [d[0] for d in digits]


def _has_year_tokens(tok: Any) -> bool:
    return all(len(tok.encode(f"{y:02d}", add_special_tokens=False)) == 1 for y in range(100))


def greater_than_task(
    model: Model, n: int = 50, seed: int = 0, *, centuries: range = range(12, 20),
    nouns: tuple[str, ...] | list[str] = tuple(NOUNS), read: str = "auto",
) -> Task:
    """n positive/negative pairs. read "year" (the paper: two-digit year tokens, start years
    02..98) or "tens" (digit tokenizers: the tens digit, start years 10..89), see the module
    docstring; "auto" picks by the tokenizer. Start years are balanced (each once per cycle)."""
    from interp.errors import choices_error

    if read not in READS:
        raise choices_error("greater-than read", read, READS)
    tok = model.tokenizer
    if read == "auto":
        read = "year" if _has_year_tokens(tok) else "tens"
    if read == "year":
        answer_ids = [single_token(tok, f"{y:02d}", "two-digit year") for y in range(100)]
        splits, starts = _year_splits, range(2, 99)
    else:
        answer_ids = [single_token(tok, str(d), "digit") for d in range(10)]
        splits, starts = _digits_split, range(10, 90)
    valid = {c: [y for y in starts if splits(tok, c, f"{y:02d}")]
             for c in centuries if splits(tok, c, "01")}
    valid = {c: ys for c, ys in valid.items() if ys}
    require([str(c) for c in valid], 1, "centuries whose years split as the task needs",
            "greater-than", len(centuries))
    rng = random.Random(seed)
    pos, neg, good, bad, meta = [], [], [], [], []
    for i in range(n):
        century = rng.choice(sorted(valid))
        years = valid[century]
        yy = years[(i * 37) % len(years)]  # each start year once per cycle (balanced)
        noun = rng.choice(list(nouns))
        pos.append(TEMPLATE.format(noun=noun, century=century, yy=f"{yy:02d}"))
        neg.append(TEMPLATE.format(noun=noun, century=century, yy="01"))
        if read == "year":
            good.append(answer_ids[yy + 1:])
            bad.append(answer_ids[: yy + 1])
        else:
            good.append(answer_ids[yy // 10 + 1:])
            bad.append(answer_ids[: yy // 10])
        meta.append({"century": century, "start": yy, "noun": noun, "read": read})
    return Task("greater-than", pos, neg, good, bad, "prob_diff", meta)
