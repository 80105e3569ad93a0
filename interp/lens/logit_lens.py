"""Logit lens (nostalgebraist 2020): the residual stream after each block, decoded through the
model's own final norm and LM head (interp's folded unembedding), as if the model stopped there.

Row r is the residual stream after r blocks: row 0 the embeddings (resid_pre of block 0),
row n_layers the last block's output, whose decode is the model's own logits. Per row and
position: the top-k tokens and their probabilities, and for each target token its probability
and rank, so "where does ' Paris' appear" is one lookup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from jaxtyping import Float, Int
from torch import Tensor

from interp.errors import InterpError

if TYPE_CHECKING:
    from interp.lens.tuned_lens import TunedLens
    from interp.models.model import Model

DIGITS = 6


@dataclass(frozen=True)
class LensTarget:
    """One target token: its id, probability and rank (0 = top-1) per row and position."""

    token: str
    token_id: int
    probs: Float[Tensor, "row pos"]
    ranks: Int[Tensor, "row pos"]

    def first_top_row(self, position: int = -1, rank: int = 0) -> int | None:
        """The first row from which the target stays within the top `rank`+1 at `position`
        to the last row (None if it is not there at the last row)."""
        inside = (self.ranks[:, position] <= rank).tolist()
        if not inside[-1]:
            return None
        row = len(inside) - 1
        while row > 0 and inside[row - 1]:
            row -= 1
        return row


@dataclass(frozen=True)
class LogitLens:
    """The lens of one prompt: `rows` labels ("embed", "block 0" ... "block n-1"), `tokens`
    the prompt's tokens, `top_ids`/`top_probs` [row, pos, k], `targets` by token text."""

    model: str
    fingerprint: str
    prompt: str
    tokens: list[str]
    rows: list[str]
    top_ids: Int[Tensor, "row pos k"]
    top_probs: Float[Tensor, "row pos k"]
    top_tokens: list[list[list[str]]]
    targets: dict[str, LensTarget] = field(default_factory=dict)
    kind: str = "logit lens"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (probabilities rounded to DIGITS places)."""
        return {
            "model": self.model, "fingerprint": self.fingerprint, "prompt": self.prompt,
            "kind": self.kind,
            "tokens": self.tokens, "rows": self.rows,
            "top_ids": self.top_ids.tolist(),
            "top_probs": _rounded(self.top_probs), "top_tokens": self.top_tokens,
            "targets": {text: {"token_id": t.token_id, "probs": _rounded(t.probs),
                               "ranks": t.ranks.tolist(), "first_top1_row": t.first_top_row()}
                        for text, t in self.targets.items()},
        }

    def report(self, position: int = -1) -> str:
        """A table: per row, the top tokens at `position` and each target's rank/probability."""
        pos = position % len(self.tokens)
        head = f"{self.kind} of {self.prompt!r} at position {pos} ({self.tokens[pos]!r})"
        names = list(self.targets)
        lines = [head, "row       top tokens (probability)" + "".join(
            f" | {name!r} rank, p" for name in names)]
        for r, label in enumerate(self.rows):
            tops = ", ".join(f"{tok!r} {p:.2f}" for tok, p in
                             zip(self.top_tokens[r][pos][:3], self.top_probs[r, pos, :3].tolist()))
            cells = "".join(f" | {int(self.targets[n].ranks[r, pos])}, "
                            f"{float(self.targets[n].probs[r, pos]):.3f}" for n in names)
            lines.append(f"{label:<9} {tops}{cells}")
        for name in names:
            row = self.targets[name].first_top_row(pos)
            lines.append(f"{name!r} is the top token from row {self.rows[row]} on" if row is not
                         None else f"{name!r} is not the top token at the last row")
        return "\n".join(lines)


def logit_lens(
    model: Model, prompt: str, *, top_k: int = 5, targets: Sequence[str] = (),
    prepend_bos: bool | None = None, tuned: TunedLens | None = None,
) -> LogitLens:
    """The logit lens of `prompt` on `model`: every row's top `top_k` tokens per position, and
    the probability and rank of each of `targets` (each must be one token of the vocabulary,
    e.g. " Paris"). The last row's distribution is the model's own. With `tuned` (a tuned lens,
    interp.lens.tuned_lens.load_tuned_lens), each row but the last is first moved by its
    translator: the tuned lens."""
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise InterpError(f"top_k must be an integer >= 1, got {top_k!r}")
    if not isinstance(prompt, str) or not prompt:
        raise InterpError(f"prompt must be a non-empty string, got {prompt!r}")
    target_ids = {text: _single_token(model, text) for text in targets}
    n = model.facts.n_layers
    names = [model.hook_name("resid_pre", layer) for layer in range(n)]
    names.append(model.hook_name("resid_post", n - 1))
    tokens = model.to_tokens(prompt, prepend_bos=prepend_bos, truncate=False)
    model.check_length(tokens.shape[-1], "prompt")
    _, cache = model.run_with_cache(tokens, names, return_type=None, remove_batch_dim=True)
    resid = torch.stack([cache[name] for name in names])  # [row, pos, d_model]
    if tuned is not None:
        if tuned.weight.shape[0] != n or tuned.weight.shape[-1] != model.facts.d_model:
            raise InterpError(f"tuned lens '{tuned.path}' has {tuned.weight.shape[0]} "
                              f"translators of width {tuned.weight.shape[-1]}; this model needs "
                              f"{n} of width {model.facts.d_model}")
        resid = tuned.translate(resid.float())
    log_probs = residual_log_probs(model, resid)
    k = min(top_k, log_probs.shape[-1])
    top = log_probs.topk(k, dim=-1)
    top_probs = top.values.exp()
    vocab = model.tokenizer
    top_tokens = [[[vocab.decode([i]) for i in pos] for pos in row] for row in top.indices.tolist()]
    found = {}
    for text, token_id in target_ids.items():
        own = log_probs[..., token_id]
        ranks = (log_probs > own.unsqueeze(-1)).sum(-1)
        found[text] = LensTarget(text, token_id, own.exp(), ranks)
    str_tokens = [vocab.decode([i]) for i in tokens[0].tolist()]
    return LogitLens(
        model=model.name, fingerprint=model.fingerprint, prompt=prompt, tokens=str_tokens,
        kind="logit lens" if tuned is None else "tuned lens",
        rows=["embed", *(f"block {layer}" for layer in range(n))], top_ids=top.indices,
        top_probs=top_probs, top_tokens=top_tokens, targets=found)


def residual_log_probs(model: Model, resid: Float[Tensor, "... d_model"]
                       ) -> Float[Tensor, "... d_vocab"]:
    """log softmax of residual states decoded through the final norm and LM head (float32),
    with the architecture's final logit soft-capping where it has one."""
    return model.cap_logits(model.folded_logits(resid)).log_softmax(-1)


def _single_token(model: Model, text: str) -> int:
    if not isinstance(text, str) or not text:
        raise InterpError(f"targets: each must be a non-empty string, got {text!r}")
    ids = model.tokenizer(text, add_special_tokens=False).input_ids
    if len(ids) != 1:
        shown = [model.tokenizer.decode([i]) for i in ids]
        raise InterpError(f"target {text!r} is {len(ids)} tokens {shown} in this model's "
                          "vocabulary; give one token (mind the leading space, e.g. ' Paris')")
    return int(ids[0])


def _rounded(t: Tensor) -> list:
    return torch.round(t.float(), decimals=DIGITS).tolist()
