"""Head and edge scores from discrete codes (O'Neill & Bui 2024).

codes: [n_prompts, n_heads_total] integer codes, one per prompt and head (argmax of the SAE);
is_positive: [n_prompts] bool. A head scores by the codes it produces on positives that never
appear on negatives; an edge (pair of heads) by the code pairs seen together only on positives.
"""

from __future__ import annotations

import torch
from jaxtyping import Bool, Float, Int
from torch import Tensor

from interp.errors import InterpError, choices_error

HEAD_SCORES = ("count", "fraction", "frequency")
#: What a normalised edge score divides by: "sum" (O'Neill & Bui's code: distinct pairs on
#: positives + distinct pairs on negatives) or "union" (distinct pairs on either side).
EDGE_DENOMINATORS = ("sum", "union")


def _split(codes: Tensor, is_positive: Tensor) -> tuple[Tensor, Tensor]:
    if codes.dim() != 2 or is_positive.shape != codes.shape[:1]:
        raise InterpError(f"codes must be [n_prompts, n_heads] with one label per prompt; got "
                          f"{tuple(codes.shape)} and {tuple(is_positive.shape)} labels")
    pos, neg = codes[is_positive.bool()], codes[~is_positive.bool()]
    if len(pos) == 0 or len(neg) == 0:
        raise InterpError("head scores need both positive and negative prompts")
    return pos.long(), neg.long()


def head_scores(
    codes: Int[Tensor, "n n_heads"], is_positive: Bool[Tensor, " n"], kind: str = "count"
) -> Float[Tensor, " n_heads"]:
    """Per-head score.

    "count" (the paper): number of distinct codes seen on positives and never on negatives.
    "fraction" (the paper's `normalise`): that count / number of distinct codes on either.
    "frequency": fraction of positive prompts whose code never appears on a negative.
    """
    if kind not in HEAD_SCORES:
        raise choices_error("head score", kind, HEAD_SCORES)
    pos, neg = _split(codes, is_positive)
    out = torch.zeros(codes.shape[1])
    for h in range(codes.shape[1]):
        p, n = pos[:, h], neg[:, h]
        only = ~torch.isin(p, n)
        if kind == "frequency":
            out[h] = only.float().mean()
            continue
        unique_only = torch.unique(p[only]).numel()
        if kind == "count":
            out[h] = unique_only
        else:
            out[h] = unique_only / torch.unique(torch.cat([p, n])).numel()
    return out


def edge_scores(
    codes: Int[Tensor, "n n_heads"], is_positive: Bool[Tensor, " n"], normalise: bool = False,
    denominator: str = "sum",
) -> Float[Tensor, "n_heads n_heads"]:
    """[h1, h2]: number of distinct (code of h1, code of h2) pairs that co-occur on some
    positive prompt and on no negative one (the diagonal is 0). normalise (the paper's
    `normalise`): divide by `denominator`, "sum" (the paper's code: the number of distinct
    pairs on positives plus the number on negatives, so a pair seen on both sides counts
    twice) or "union" (the number of distinct pairs seen on either side); 0 where it is 0."""
    if denominator not in EDGE_DENOMINATORS:
        raise choices_error("edge denominator", denominator, EDGE_DENOMINATORS)
    pos, neg = _split(codes, is_positive)
    n_heads = codes.shape[1]
    shift = int(codes.min().item())
    width = int(codes.max().item()) - shift + 1
    pair_id = torch.arange(n_heads * n_heads).view(n_heads, n_heads)

    def keys(c: Tensor) -> Tensor:
        c = c - shift
        value = c[:, :, None] * width + c[:, None, :]  # [n, H, H]
        return (pair_id[None] * width * width + value).flatten().unique()

    kp, kn = keys(pos), keys(neg)
    only = kp[~torch.isin(kp, kn)]
    size = n_heads * n_heads

    def per_pair(k: Tensor) -> Tensor:
        return torch.bincount(k // (width * width), minlength=size).float()

    counts = per_pair(only)
    if normalise:
        total = (per_pair(kp) + per_pair(kn) if denominator == "sum"
                 else per_pair(torch.cat([kp, kn]).unique()))
        counts = counts / total.clamp_min(1)
    out = counts.view(n_heads, n_heads)
    out.fill_diagonal_(0)
    return out


def edges_to_heads(edges: Float[Tensor, "n_heads n_heads"]) -> Float[Tensor, " n_heads"]:
    """A head's score from its edges: the maximum over the edges it takes part in."""
    return torch.maximum(edges.max(0).values, edges.max(1).values)


def top_pair_heads(
    edges: Float[Tensor, "n_heads n_heads"], slots: int
) -> Float[Tensor, " n_heads"]:
    """O'Neill & Bui's node scores from edges: rank the ordered head pairs (h1, h2) by edge
    score, descending, write out each pair's heads in that order (h1, h2, h1', h2', ...) and
    count how often each head appears among the first `slots` entries. Their code uses
    slots = n_heads_per_layer ** 2 // 2 (72 on GPT-2 small) and ranks with
    np.argsort(...)[::-1]; ties here go to the later pair in row-major order, which is that
    reversal of a stable sort. (They softmax the counts, which leaves ROC-AUC unchanged.)"""
    if edges.dim() != 2 or edges.shape[0] != edges.shape[1]:
        raise InterpError(f"edges must be a square [n_heads, n_heads] matrix; got "
                          f"{tuple(edges.shape)}")
    n = edges.shape[0]
    if isinstance(slots, bool) or not isinstance(slots, int) or not 0 <= slots <= 2 * n * n:
        raise InterpError(f"slots must be an integer in 0..{2 * n * n}, got {slots!r}")
    flat = edges.flatten().double()
    order = flat.flip(0).argsort(descending=True, stable=True)
    order = flat.numel() - 1 - order  # ties: the later pair first
    heads = torch.stack([order // n, order % n], dim=1).flatten()[:slots]
    return torch.bincount(heads, minlength=n).float()


def edge_truth(truth: Bool[Tensor, " n_heads"]) -> Bool[Tensor, "n_heads n_heads"]:
    """True edges: both heads in the circuit (and not the same head)."""
    t = truth.bool()
    out = t[:, None] & t[None, :]
    out.fill_diagonal_(False)
    return out
