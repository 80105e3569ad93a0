"""Task: positive prompts (the model can predict the next token) paired with negatives (it
cannot), the tokens the metric favours, and the checks every tokenizer must pass."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from interp.errors import InterpError

if TYPE_CHECKING:
    from interp.models.model import Model

METRICS = ("logit_diff", "prob_diff")


@dataclass(frozen=True)
class Task:
    """positives[i] and negatives[i] form a pair of equal token length (negatives[i] is the
    corrupted version used by patching). good[i] / bad[i]: token ids the metric contrasts at
    the end of positives[i]: "logit_diff" = mean logit(good) - mean logit(bad), "prob_diff" =
    P(good) - P(bad). meta holds per-prompt details (names, years, ...)."""

    name: str
    positives: list[str]
    negatives: list[str]
    good: list[list[int]]
    bad: list[list[int]]
    metric: str = "logit_diff"
    meta: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.positives)
        if n == 0:
            raise InterpError(f"task {self.name!r} has no prompts")
        for what in ("negatives", "good", "bad"):
            if len(getattr(self, what)) != n:
                raise InterpError(f"task {self.name!r} has {n} positives but "
                                  f"{len(getattr(self, what))} {what}")
        if self.metric not in METRICS:
            raise InterpError(f"unknown metric {self.metric!r}; expected one of "
                              f"{', '.join(METRICS)}")

    def __len__(self) -> int:
        return len(self.positives)


def single_token(tokenizer: Any, text: str, what: str) -> int:
    """The id of `text` if the tokenizer encodes it as one token, else InterpError."""
    ids = tokenizer.encode(text, add_special_tokens=False)
    if len(ids) != 1:
        raise InterpError(f"{what} {text!r} is {len(ids)} tokens in this model's tokenizer; the "
                          "task needs single tokens")
    return int(ids[0])


def single_tokens(tokenizer: Any, words: list[str], prefix: str = " ") -> list[str]:
    """The words whose `prefix + word` is one token."""
    return [w for w in words
            if len(tokenizer.encode(prefix + w, add_special_tokens=False)) == 1]


def require(words: list[str], n: int, what: str, task: str, total: int) -> list[str]:
    if len(words) < n:
        raise InterpError(f"model too small for task {task!r}: only {len(words)} of {total} "
                          f"{what} are single tokens in its tokenizer (need {n})")
    return words


def task_tokens(model: Model, task: Task) -> tuple[list[Tensor], list[Tensor]]:
    """Tokenized (positives, negatives), 1-D tensors each, checked pairwise equal in length
    and within the model's context; InterpError otherwise."""
    pos = [model.to_tokens(p)[0].cpu() for p in task.positives]
    neg = [model.to_tokens(p)[0].cpu() for p in task.negatives]
    n_ctx = model.facts.n_ctx
    for i, (a, b) in enumerate(zip(pos, neg)):
        if a.numel() != b.numel():
            raise InterpError(
                f"task {task.name!r}: positive {i} is {a.numel()} tokens but its negative is "
                f"{b.numel()}; positives and negatives must tokenize to the same length")
        if a.numel() > n_ctx:
            raise InterpError(f"task {task.name!r}: prompt {i} is {a.numel()} tokens, more "
                              f"than the model's context ({n_ctx})")
    vocab = model.facts.d_vocab
    for i, ids in enumerate(task.good + task.bad):
        if not ids or any(not 0 <= t < vocab for t in ids):
            raise InterpError(f"task {task.name!r}: answer token list {ids!r} is empty or "
                              f"outside the vocabulary 0..{vocab - 1}")
    return pos, neg


def answer_index(lists: list[list[int]]) -> tuple[Tensor, Tensor]:
    """Pad per-prompt token lists to ([n, k] ids, [n, k] mask)."""
    k = max(len(x) for x in lists)
    ids = torch.zeros(len(lists), k, dtype=torch.long)
    mask = torch.zeros(len(lists), k, dtype=torch.bool)
    for i, x in enumerate(lists):
        ids[i, : len(x)] = torch.tensor(x)
        mask[i, : len(x)] = True
    return ids, mask


def read_json_file(path: Path, what: str) -> Any:
    """Parsed JSON of `path`; a one-line InterpError naming `what` (e.g. "task file") if the
    file cannot be read or is not JSON."""
    from interp.texts.files import read_text

    text = read_text(path, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise InterpError(f"{what} '{path}' is not valid JSON: {err.msg}") from None
