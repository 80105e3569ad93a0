"""Greater-than (Hanna et al. 2023), built as in O'Neill & Bui's data/gt.py.

Positive: "The war lasted from the year 1732 to the year 17" -> a two-digit year > 32.
Negative: "The war lasted from the year 1701 to the year 17" (the "01" baseline: nothing to
compare against). Metric: P(YY > start) - P(YY <= start) over the 100 two-digit tokens.
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


def greater_than_task(
    model: Model, n: int = 50, seed: int = 0, *, centuries: range = range(12, 20),
    nouns: tuple[str, ...] | list[str] = tuple(NOUNS),
) -> Task:
    """n positive/negative pairs over years whose century and two final digits are single
    tokens; start years YY run over 02..98 (balanced, as in the paper)."""
    tok = model.tokenizer
    year_ids = [single_token(tok, f"{y:02d}", "two-digit year") for y in range(100)]
    valid = {c: [y for y in range(2, 99) if _year_splits(tok, c, f"{y:02d}")]
             for c in centuries if _year_splits(tok, c, "01")}
    valid = {c: ys for c, ys in valid.items() if ys}
    require([str(c) for c in valid], 1, "centuries (' 17' + '32' splits)", "greater-than",
            len(centuries))
    rng = random.Random(seed)
    pos, neg, good, bad, meta = [], [], [], [], []
    for i in range(n):
        century = rng.choice(sorted(valid))
        years = valid[century]
        yy = years[(i * 37) % len(years)]  # each start year once per cycle (balanced)
        noun = rng.choice(list(nouns))
        pos.append(TEMPLATE.format(noun=noun, century=century, yy=f"{yy:02d}"))
        neg.append(TEMPLATE.format(noun=noun, century=century, yy="01"))
        good.append(year_ids[yy + 1:])
        bad.append(year_ids[: yy + 1])
        meta.append({"century": century, "start": yy, "noun": noun})
    return Task("greater-than", pos, neg, good, bad, "prob_diff", meta)
