"""Concepts as word sets: named lists, their next-token ids (spelling variants) and mentions.

A concept is a set of words ("dog", "cat", ...). Its probability at the next position is the
summed probability of every single-token spelling variant of its words: as written, with a
leading space, capitalised and upper-case, each with and without the leading space (the same
variants as interp.neurons.find.token_variants).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from interp.errors import InterpError

#: Named concepts, from the word lists of interp.texts.wordlists.
NAMED = ("animals", "colours", "foods", "months", "weekdays", "numbers", "jobs", "places")
_ALIASES = {"animal": "animals", "colour": "colours", "colors": "colours", "color": "colours",
            "food": "foods", "month": "months", "weekday": "weekdays", "days": "weekdays",
            "number": "numbers", "job": "jobs", "place": "places"}


def named_concept(name: str) -> list[str] | None:
    """The word list of a named concept ("animals", "months", ...), or None."""
    from interp.texts import wordlists as w

    lists = {"animals": w.ANIMALS, "colours": w.COLOURS, "foods": w.FOODS, "months": w.MONTHS,
             "weekdays": w.WEEKDAYS, "numbers": w.NUMBER_WORDS, "jobs": w.JOBS,
             "places": w.PLACES}
    key = _ALIASES.get(name.lower(), name.lower())
    return list(lists[key]) if key in lists else None


def resolve_concept(concept: str | Sequence[str]) -> list[str]:
    """Words of a concept: a named concept ("animals"), "dog,cat" or a list of words."""
    if isinstance(concept, str):
        named = named_concept(concept.strip())
        if named is not None:
            return named
        concept = concept.split(",")
    words = [str(word).strip() for word in concept]
    words = list(dict.fromkeys(word for word in words if word))
    if not words:
        raise InterpError(
            f"concept {concept!r} has no words; give a named concept ({', '.join(NAMED)}) or "
            "words such as 'dog,cat'"
        )
    return words


def variants(word: str) -> list[str]:
    """Spellings that count as the word at the next position: word, Word, WORD, each with
    and without a leading space."""
    cap = word[:1].upper() + word[1:]
    forms = [word, cap, word.upper()]
    return list(dict.fromkeys(s for form in forms for s in (form, " " + form)))


def concept_token_ids(tokenizer: Any, concept: str | Sequence[str] | Sequence[int]) -> list[int]:
    """Token ids whose probabilities sum to P(concept) at the next position.

    `concept` is a named concept, comma-separated words, a list of words (each contributes
    its single-token spelling variants; multi-token spellings are left out) or a list of
    token ids (used as given). Raises InterpError when nothing is a single token.
    """
    if not isinstance(concept, str) and len(concept) and all(
        isinstance(t, int) and not isinstance(t, bool) for t in concept
    ):
        n = len(tokenizer)
        bad = [t for t in concept if not 0 <= t < n]  # type: ignore[operator]
        if bad:
            raise InterpError(f"concept token id {bad[0]} out of range; valid: 0..{n - 1}")
        return sorted(set(concept))  # type: ignore[arg-type]
    words = resolve_concept(concept)  # type: ignore[arg-type]
    ids: set[int] = set()
    for word in words:
        for spelling in variants(word):
            encoded = tokenizer.encode(spelling, add_special_tokens=False)
            if len(encoded) == 1:
                ids.add(int(encoded[0]))
    if not ids:
        raise InterpError(
            f"no spelling of the concept words ({', '.join(words[:5])}...) is a single token "
            "of this tokenizer; pass token ids instead"
        )
    return sorted(ids)


def mention_pattern(concept: str | Sequence[str]) -> re.Pattern[str]:
    """Case-insensitive whole-word regex for the concept's words and their plurals."""
    words = sorted(resolve_concept(concept), key=len, reverse=True)
    body = "|".join(re.escape(word) for word in words)
    return re.compile(rf"\b(?:{body})(?:s|es)?\b", re.IGNORECASE)


def mentions(text: str, concept: str | Sequence[str] | re.Pattern[str]) -> int:
    """How many times `text` mentions a concept word (whole words, any case, plurals too)."""
    pattern = concept if isinstance(concept, re.Pattern) else mention_pattern(concept)
    return len(pattern.findall(text))


def word_count(text: str) -> int:
    """Words in `text` (runs of letters), the denominator of a concept's share of words."""
    return len(re.findall(r"[A-Za-z]+", text))
