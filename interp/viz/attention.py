"""Attention patterns of one prompt, every layer and head, from one forward pass (the
`attn_pattern` hooks through `Model.run_with_cache`), with per-head summaries (entropy,
attention to the first token, to the previous token, induction), written as one offline
HTML page (interp.viz.attention_page)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from jaxtyping import Float
from torch import Tensor

from interp.errors import InterpError
from interp.options import AttentionOptions, ModelOptions, as_model

if TYPE_CHECKING:
    from interp.models.model import Model

#: Decimals kept of every number written to the page (the same bytes on every run).
DIGITS = 4
#: Per-head summaries, in the order the page and the report show them.
SUMMARIES = {
    "entropy": "mean entropy of a query's attention, in bits (queries 1..n-1)",
    "first": "mean attention to the first token (a BOS / sink head when high)",
    "previous": "mean attention to the previous token (a previous-token head when high)",
    "induction": "mean attention to the token after an earlier copy of the query's token "
                 "(an induction head when high; needs a repeated token)",
}


@dataclass(frozen=True)
class AttentionPatterns:
    """One prompt's attention: `patterns` [layer, head, query, key] (rows sum to 1, zero
    above the diagonal) for the model layers `layers`, and the prompt's `tokens`/`token_ids`."""

    model: str
    fingerprint: str
    prompt: str
    tokens: list[str]
    token_ids: list[int]
    layers: list[int]
    patterns: Float[Tensor, "layer head query key"]

    def summary(self) -> dict[str, Float[Tensor, "layer head"]]:
        """`head_summary` of these patterns."""
        return head_summary(self.patterns, self.token_ids)

    def report(self, top: int = 3) -> str:
        """A few lines: the shape, and the heads scoring highest on each summary but entropy."""
        n_heads = self.patterns.shape[1]
        lines = [(f"attention of {self.prompt!r}: {len(self.tokens)} tokens, "
                  f"{len(self.layers)} layers x {n_heads} heads ({self.model})")]
        for name, score in self.summary().items():
            if name == "entropy":
                continue
            flat = torch.nan_to_num(score, nan=-1.0).flatten()
            best = [int(i) for i in flat.argsort(descending=True, stable=True)[:top]
                    if flat[i] >= 0]
            shown = ", ".join(f"L{self.layers[i // n_heads]}H{i % n_heads} {float(flat[i]):.2f}"
                              for i in best)
            lines.append(f"{name:<9} {shown or 'n/a (no repeated token)'}")
        return "\n".join(lines)


def attention_patterns(model: Model, prompt: str, layers: list[int] | None = None, *,
                       prepend_bos: bool | None = None, max_tokens: int | None = None
                       ) -> AttentionPatterns:
    """Every head's attention pattern over `prompt` in `layers` (None: all), one forward pass
    that caches only the pattern hooks (blocks.{L}.attn.hook_pattern). A prompt longer than
    the context (or `max_tokens`) is refused, never truncated."""
    if not isinstance(prompt, str) or not prompt:
        raise InterpError(f"prompt must be a non-empty string, got {prompt!r}")
    layers = check_layers(model, layers)
    names = [model.hook_name("attn_pattern", layer) for layer in layers]
    tokens = model.to_tokens(prompt, prepend_bos=prepend_bos, truncate=False)
    check_prompt_length(model, tokens.shape[-1], max_tokens)
    _, cache = model.run_with_cache(tokens, names, return_type=None, remove_batch_dim=True)
    patterns = torch.stack([cache[name].float().cpu() for name in names])
    ids = tokens[0].tolist()
    return AttentionPatterns(
        model=model.name, fingerprint=model.fingerprint, prompt=prompt,
        tokens=[model.tokenizer.decode([i]) for i in ids], token_ids=ids, layers=layers,
        patterns=patterns)


def head_summary(patterns: Float[Tensor, "layer head query key"], token_ids: list[int]
                 ) -> dict[str, Float[Tensor, "layer head"]]:
    """Per head, the SUMMARIES: each a mean over the queries where it is defined (NaN where
    none is: a one-token prompt, or induction without a repeated token)."""
    n = patterns.shape[-1]
    p = patterns.double()
    nan = torch.full(p.shape[:2], float("nan"), dtype=torch.float64)
    if n < 2:
        return {name: nan.clone() for name in SUMMARIES}
    later = p[..., 1:, :]  # queries 1..n-1: query 0 can only attend to itself
    plogp = torch.where(later > 0, later * later.clamp_min(1e-30).log2(), 0.0)
    entropy = -plogp.sum(-1).mean(-1)
    first = later[..., 0].mean(-1)
    previous = p.diagonal(offset=-1, dim1=-2, dim2=-1).mean(-1)
    # induction: query q, keys k <= q whose previous token is the query's token
    ids = torch.tensor(token_ids)
    mask = torch.zeros(n, n, dtype=torch.float64)
    mask[:, 1:] = (ids[:, None] == ids[None, :-1]).double()
    mask = mask.tril()
    has = mask.sum(-1) > 0
    induction = ((p * mask).sum(-1)[..., has].mean(-1) if bool(has.any()) else nan.clone())
    return {"entropy": entropy, "first": first, "previous": previous, "induction": induction}


def check_layers(model: Model, layers: Any) -> list[int]:
    """`layers` (None: all) as a sorted list of this model's layers, else InterpError."""
    n = model.facts.n_layers
    if layers is None:
        return list(range(n))
    chosen = AttentionOptions(layers=tuple(layers)).layers or ()
    bad = [layer for layer in chosen if layer >= n]
    if bad:
        raise InterpError(f"layers must be in 0..{n - 1} (the model has {n} layers), "
                          f"got {bad[0]}")
    return list(chosen)


def check_prompt_length(model: Model, n_tokens: int, max_tokens: int | None = None) -> None:
    """InterpError unless the prompt's `n_tokens` fit the model's context (and `max_tokens`)."""
    n_ctx = model.facts.n_ctx
    if n_tokens > n_ctx:
        raise InterpError(f"prompt must fit the model's context of {n_ctx} tokens, got "
                          f"{n_tokens} tokens")
    if max_tokens is not None and n_tokens > max_tokens:
        raise InterpError(f"prompt must be at most {max_tokens} tokens for the page "
                          f"(max_tokens), got {n_tokens} tokens")


def attention_view(model: Model | ModelOptions | str, prompt: str,
                   options: AttentionOptions | None = None) -> tuple[AttentionPatterns, Path]:
    """Run `model` once on `prompt` and write the attention page to `options.out`; returns the
    patterns and the path. The prompt, layers and output are checked before the model loads
    (layer range and length once it has), and the page is written atomically."""
    from interp.atomic import write_atomic
    from interp.outputs import output_file
    from interp.viz.attention_page import attention_page

    o = options or AttentionOptions()
    if not isinstance(prompt, str) or not prompt:
        raise InterpError(f"prompt must be a non-empty string, got {prompt!r}")
    out = output_file(o.out, "out")
    model = as_model(model)
    patterns = attention_patterns(model, prompt, o.layers, max_tokens=o.max_tokens)
    page = attention_page(patterns)
    out.parent.mkdir(parents=True, exist_ok=True)
    return patterns, write_atomic(out, page)
