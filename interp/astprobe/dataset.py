"""Snippets -> probe samples: parse, encode as (d, c, u), tokenize with offsets and align each
leaf to the model tokens that overlap its characters (a leaf's vector is later the mean of
those tokens' vectors; a token that spans two leaves, such as '):', serves both).

Snippets that cannot be used are skipped and counted by reason: `parse_error` (does not
parse, before or after preprocessing), `too_few_leaves` (< min_leaves tokens), `too_long`
(more model tokens than the context), `duplicate` (same tokens and
syntax tree as a snippet seen earlier, e.g. differing only in comments or spacing).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from interp.astprobe.parse import Parsed, ParseError, parse
from interp.astprobe.tree import Encoding, Tree, encode, from_node
from interp.errors import InterpError

SKIP_REASONS = ("parse_error", "too_few_leaves", "too_long", "duplicate")


@dataclass
class Sample:
    """One snippet ready for probing."""

    code: str
    leaf_texts: list[str]
    leaf_spans: list[tuple[int, int]]
    encoding: Encoding
    gold: Tree
    token_ids: list[int]
    leaf_tokens: list[list[int]]  # per leaf: indices into token_ids (BOS included)

    @property
    def n_leaves(self) -> int:
        return len(self.leaf_texts)


def align_leaves(
    code: str, spans: Sequence[tuple[int, int]], tokenizer: Any, bos_id: int | None = None,
) -> tuple[list[int], list[list[int]]]:
    """(token ids, per-leaf token indices) for `code`; `bos_id` is prepended unless the
    tokenizer already put it first. Needs a fast tokenizer (offset mapping)."""
    try:
        enc = tokenizer(code, return_offsets_mapping=True)
    except (NotImplementedError, TypeError, ValueError) as err:
        raise InterpError(f"the tokenizer cannot return offsets ({err}); the AST probe needs "
                          "a fast (Rust) tokenizer") from None
    ids, offsets = list(enc["input_ids"]), [tuple(o) for o in enc["offset_mapping"]]
    if bos_id is not None and (not ids or ids[0] != bos_id):
        ids, offsets = [bos_id, *ids], [(0, 0), *offsets]
    out: list[list[int]] = []
    j = 0
    for start, end in spans:
        while j < len(offsets) and (offsets[j][1] <= start or offsets[j][0] == offsets[j][1]):
            j += 1
        k, mine = j, []
        while k < len(offsets) and offsets[k][0] < end:
            if offsets[k][1] > offsets[k][0] and offsets[k][1] > start:
                mine.append(k)
            k += 1
        if not mine:
            raise InterpError(f"no token covers characters {start}..{end} of the code; the "
                              "tokenizer's offsets do not match the text")
        out.append(mine)
    return ids, out


def build_sample(parsed: Parsed, tokenizer: Any, bos_id: int | None = None) -> Sample:
    leaves = parsed.leaves
    spans = [(leaf.start, leaf.end) for leaf in leaves]
    ids, leaf_tokens = align_leaves(parsed.code, spans, tokenizer, bos_id)
    return Sample(parsed.code, parsed.leaf_texts(), spans, encode(parsed.tree),
                  from_node(parsed.tree), ids, leaf_tokens)


def build_samples(
    codes: Sequence[str], tokenizer: Any, *, language: str = "python", n_ctx: int | None = None,
    bos_id: int | None = None, min_leaves: int = 3, seen: set[str] | None = None,
) -> tuple[list[Sample], Counter[str]]:
    """Samples for the usable codes, and a Counter of skipped ones by reason (SKIP_REASONS).

    `seen` (hashes of leaf texts + tree) can be shared across splits to deduplicate them."""
    seen = set() if seen is None else seen
    samples: list[Sample] = []
    skipped: Counter[str] = Counter({r: 0 for r in SKIP_REASONS})
    for code in codes:
        try:
            parsed = parse(code, language)
        except ParseError:
            skipped["parse_error"] += 1
            continue
        texts = parsed.leaf_texts()
        key = hashlib.sha256("\x00".join([parsed.tree_signature(), *texts]).encode()).hexdigest()
        if key in seen:
            skipped["duplicate"] += 1
            continue
        seen.add(key)
        if len(parsed.leaves) < min_leaves:
            skipped["too_few_leaves"] += 1
            continue
        sample = build_sample(parsed, tokenizer, bos_id)
        if n_ctx is not None and len(sample.token_ids) > n_ctx:
            skipped["too_long"] += 1
            continue
        samples.append(sample)
    return samples, skipped
