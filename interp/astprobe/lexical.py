"""A lexical control for the AST probe that sees only the code's tokens: the adjacent-leaf
lookup table. No model and no context: from the training snippets it learns, for each pair of
adjacent leaf texts, the mean distance d and the most frequent ancestor label c of the gap
between them, and for each leaf text its most frequent unary label u. On a test snippet it
predicts every gap from its two leaves alone, decodes the tree as the probe's prediction is
decoded, and is scored the same way.

A pair never seen in training backs off to the pair of the two leaves' *lexical classes*
(`lexical_class`: the text itself for keywords, operators and punctuation; `<name>`,
`<number>` or `<string>` for identifiers, numbers and string literals), then to the training
mean (d) or most frequent label (c, u). Ties between labels go to the one first in sorted
order. If the probe does not beat this table, its F1 can come from which tokens are adjacent
rather than from syntax the model computed.
"""

from __future__ import annotations

import keyword
from collections import Counter, defaultdict
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from interp.astprobe.metrics import tree_scores
from interp.astprobe.tree import Encoding, Tree, decode

NAME, NUMBER, STRING = "<name>", "<number>", "<string>"


def lexical_class(text: str, language: str = "python") -> str:
    """The leaf's text for keywords, operators and punctuation, else `<name>`, `<number>` or
    `<string>` (keywords are known for Python; in other languages they count as names)."""
    if len(text) >= 2 and text[-1] in "\"'`" and any(q in text[:-1] for q in "\"'`"):
        return STRING
    if text[:1].isdigit() or (text[:1] == "." and text[1:2].isdigit()):
        return NUMBER
    if text.isidentifier() and not (language == "python" and keyword.iskeyword(text)):
        return NAME
    return text


def _mode(counts: Counter[str]) -> str:
    return min(counts, key=lambda k: (-counts[k], k))


class LookupTable:
    """The adjacent-leaf lookup table (see the module docstring); `fit`, then `predict`."""

    def __init__(self, language: str = "python") -> None:
        self.language = language
        self.d: dict[tuple, list[float]] = defaultdict(list)
        self.c: dict[tuple, Counter[str]] = defaultdict(Counter)
        self.u: dict[tuple, Counter[str]] = defaultdict(Counter)

    def _pair_keys(self, left: str, right: str) -> list[tuple]:
        lc, rc = lexical_class(left, self.language), lexical_class(right, self.language)
        return [("text", left, right), ("class", lc, rc), ("all",)]

    def _leaf_keys(self, text: str) -> list[tuple]:
        return [("text", text), ("class", lexical_class(text, self.language)), ("all",)]

    def fit(self, samples: Sequence[Any]) -> LookupTable:
        """Learn from samples with `leaf_texts` and `encoding` (d, c, u)."""
        for s in samples:
            texts, enc = s.leaf_texts, s.encoding
            for i, (dist, label) in enumerate(zip(enc.d, enc.c)):
                for key in self._pair_keys(texts[i], texts[i + 1]):
                    self.d[key].append(float(dist))
                    self.c[key][label] += 1
            for text, label in zip(texts, enc.u):
                for key in self._leaf_keys(text):
                    self.u[key][label] += 1
        return self

    def predict(self, leaf_texts: Sequence[str]) -> Encoding:
        """(d, c, u) predicted from the leaf texts alone (d: mean of the training distances)."""
        if not self.u:
            raise ValueError("the lookup table has not been fitted")
        d: list[float] = []
        c: list[str] = []
        for left, right in pairwise(leaf_texts):
            key = next(k for k in self._pair_keys(left, right) if k in self.c)
            d.append(sum(self.d[key]) / len(self.d[key]))
            c.append(_mode(self.c[key]))
        u = [_mode(self.u[next(k for k in self._leaf_keys(t) if k in self.u)])
             for t in leaf_texts]
        return Encoding(d, c, u)  # type: ignore[arg-type]

    def predict_tree(self, leaf_texts: Sequence[str]) -> Tree:
        e = self.predict(leaf_texts)
        return decode(e.d, e.c, e.u)


def lookup_table_scores(train: Sequence[Any], test: Sequence[Any], language: str = "python"
                        ) -> dict[str, Any]:
    """`tree_scores` of the lookup table fitted on `train` and applied to `test` (samples with
    `leaf_texts`, `encoding` and `gold`)."""
    table = LookupTable(language).fit(train)
    return tree_scores([s.gold for s in test], [table.predict_tree(s.leaf_texts) for s in test])
