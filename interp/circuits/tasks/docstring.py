"""Docstring (Heimersheim & Janiak 2023), built as in ACDC's docstring prompts with
n_def_prefix_args=2, n_matching_args=3, n_def_suffix_args=1, met_desc_len=3, arg_desc_len=2.

Positive:
    def port(self, load, size, files, last, name, mode):
        \"\"\"oil column piece

        :param files: crime population
        :param last: unit dark
        :param
-> " name" (the next argument of the definition). Negative ("random_random" corruption):
the definition's and the docstring's argument names are all replaced by fresh random names,
so nothing says which comes next. Metric: logit(answer) - mean logit(other def arguments).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from interp.circuits.tasks.base import Task, require, single_token, single_tokens

if TYPE_CHECKING:
    from interp.models.model import Model

WORDS = [
    "load", "size", "files", "last", "name", "mode", "data", "path", "value", "text", "line",
    "count", "index", "key", "item", "node", "port", "user", "page", "file", "type", "code",
    "list", "time", "date", "host", "form", "field", "query", "table", "view", "state", "order",
    "image", "color", "level", "group", "score", "rate", "step", "limit", "range", "token",
    "label", "title", "shape", "width", "height", "length", "offset", "source", "target", "result",
    "config", "option", "context", "message", "parent", "child", "number", "string", "filter",
    "format", "buffer", "stream", "cache", "model", "layer", "block", "frame", "point",
]
DESC = [
    "oil", "column", "piece", "crime", "population", "unit", "dark", "world", "house", "water",
    "light", "paper", "money", "table", "story", "river", "field", "glass", "stone", "music",
    "party", "voice", "horse", "train", "cloud", "night", "green", "small",
]
N_PREFIX, N_MATCH, N_SUFFIX, FN_DESC, ARG_DESC = 2, 3, 1, 3, 2


def _prompt(fn: str, def_args: list[str], doc_args: list[str], descs: list[list[str]],
            fn_desc: list[str]) -> str:
    lines = [f"def {fn}(self, {', '.join(def_args)}):", f'    """{" ".join(fn_desc)}', ""]
    lines += [f"    :param {a}: {' '.join(d)}" for a, d in zip(doc_args, descs)]
    return "\n".join(lines) + "\n    :param"


def docstring_task(
    model: Model, n: int = 50, seed: int = 0, *, words: tuple[str, ...] | list[str] = tuple(WORDS),
) -> Task:
    """n positive/negative docstring pairs; argument names are words that are single tokens
    after a space for this model (15 distinct ones are needed)."""
    tok = model.tokenizer
    n_args = N_PREFIX + N_MATCH + N_SUFFIX
    need = 1 + 2 * n_args + N_MATCH - 1
    pool = require(single_tokens(tok, list(words)), need, "argument names", "docstring",
                   len(words))
    rng = random.Random(seed)
    pos, neg, good, bad, meta = [], [], [], [], []
    for _ in range(n):
        names = rng.sample(pool, need)
        fn, args = names[0], names[1:1 + n_args]
        fresh, fresh_doc = names[1 + n_args:1 + 2 * n_args], names[1 + 2 * n_args:]
        doc = args[N_PREFIX:N_PREFIX + N_MATCH - 1]
        descs = [rng.sample(DESC, ARG_DESC) for _ in doc]
        fn_desc = rng.sample(DESC, FN_DESC)
        answer = args[N_PREFIX + N_MATCH - 1]
        pos.append(_prompt(fn, args, doc, descs, fn_desc))
        neg.append(_prompt(fn, fresh, fresh_doc, descs, fn_desc))
        good.append([single_token(tok, " " + answer, "argument name")])
        bad.append([single_token(tok, " " + a, "argument name") for a in args if a != answer])
        meta.append({"answer": answer, "args": args, "corrupt_args": fresh})
    return Task("docstring", pos, neg, good, bad, "logit_diff", meta)
