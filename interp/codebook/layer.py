"""Codebook layer: snap each hidden state to the mean of its k most similar codes, with a
straight-through gradient (Tamkin et al. 2023, arXiv 2310.17230).

A `Codebook` holds `groups` independent codebooks of `n_codes` codes each (groups = 1 for a
residual-width site, groups = n_heads for per-head outputs). As in the authors' code
(taufeeque9/codebook-features, `CodebookLayer`), each input first goes through a LayerNorm
(one per group; `layer_norm=False` skips it) and the output is the mean of the chosen codes,
which live in that normalised space. Similarity is cosine or the inner product over the code
norm (x . c / |c|); both rank the codes of one input alike, so the top-k ids are the same.
"""

from __future__ import annotations

from typing import Any

import torch
from jaxtyping import Float, Int
from torch import Tensor, nn
from torch.nn import functional as F

from interp.errors import InterpError, choices_error
from interp.options import CodebookTrainOptions

SIMILARITIES = ("cosine", "inner")
LN_EPS = 1e-5
"""The LayerNorm's epsilon (torch.nn.LayerNorm's default, which the authors' layer uses)."""


class StraightThrough(torch.autograd.Function):
    """Forward: the snapped output. Backward: the output's gradient goes unchanged to the
    input (straight-through) and to the snapped output's own graph (which reaches the codes)."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, snapped: Tensor) -> Tensor:  # type: ignore[override]
        return snapped.clone()

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor]:  # type: ignore[override]
        return grad, grad


class IdHook(nn.Module):
    """Identity on code ids: a hook point. `hook_ids.register_forward_hook(fn)` sees (and
    may replace, by returning a tensor) the ids chosen per token, before the lookup."""

    def forward(self, ids: Tensor) -> Tensor:
        return ids


class Codebook(nn.Module):
    """`groups` codebooks of `n_codes` codes of width `dim`; `k` codes are active per token.

    forward(x [..., groups, dim]) -> (output [..., groups, dim], ids [..., groups, k]).
    With `layer_norm` (the default, as the authors' code) x is first normalised per group
    (`normalize`: LayerNorm over dim, eps 1e-5, affine `ln_weight` / `ln_bias` starting at 1 / 0;
    the affine is trained with the codes only for a group of codebooks, groups > 1, as the
    authors' optimiser does for their per-head codebooks), the codes are matched against the
    normalised input, and the output is the mean of the chosen codes (not mapped back to the
    input's scale). Ids are sorted most similar first and pass through the hook point
    `hook_ids`. Usage counts accumulate in `counts` while `track_usage` is on (dead-code
    replacement and health metrics read them).
    """

    def __init__(self, dim: int, n_codes: int, k: int = 1, *, groups: int = 1,
                 similarity: str = CodebookTrainOptions.similarity,
                 layer_norm: bool = CodebookTrainOptions.layer_norm, seed: int = 0) -> None:
        super().__init__()
        for name, value in (("dim", dim), ("n_codes", n_codes), ("groups", groups), ("k", k)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InterpError(f"codebook {name} must be a positive integer, got {value!r}")
        if k > n_codes:
            raise InterpError(f"k={k} is larger than the codebook ({n_codes} codes); "
                              f"valid: 1..{n_codes}")
        if similarity not in SIMILARITIES:
            raise choices_error("similarity", similarity, SIMILARITIES)
        gen = torch.Generator().manual_seed(seed)
        self.codes = nn.Parameter(torch.randn(groups, n_codes, dim, generator=gen) / dim**0.5)
        self.k = k
        self.similarity = similarity
        self.layer_norm = bool(layer_norm)
        if self.layer_norm:
            train = groups > 1
            self.ln_weight = nn.Parameter(torch.ones(groups, dim), requires_grad=train)
            self.ln_bias = nn.Parameter(torch.zeros(groups, dim), requires_grad=train)
        self.register_buffer("counts", torch.zeros(groups, n_codes, dtype=torch.long))
        self.hook_ids = IdHook()
        self.track_usage = True
        self.last_ids: Tensor | None = None
        self.last_input: Tensor | None = None

    @property
    def groups(self) -> int:
        return self.codes.shape[0]

    @property
    def n_codes(self) -> int:
        return self.codes.shape[1]

    @property
    def dim(self) -> int:
        return self.codes.shape[2]

    def extra_repr(self) -> str:
        return (f"groups={self.groups}, n_codes={self.n_codes}, dim={self.dim}, k={self.k}, "
                f"similarity={self.similarity!r}, layer_norm={self.layer_norm}")

    # ---- forward -----------------------------------------------------------------------
    def normalize(self, x: Float[Tensor, "... groups dim"]) -> Float[Tensor, "... groups dim"]:
        """The input as the codes see it: LayerNorm per group (identity without layer_norm)."""
        if not self.layer_norm:
            return x
        h = F.layer_norm(x, (self.dim,), eps=LN_EPS)
        return h * self.ln_weight.to(x.dtype) + self.ln_bias.to(x.dtype)

    def scores(self, x: Float[Tensor, "... groups dim"]) -> Float[Tensor, "... groups n_codes"]:
        """Similarity of every input (normalised first, with layer_norm) to every code of its
        group."""
        return self._similarity(self.normalize(x))

    def _similarity(self, x: Tensor) -> Tensor:
        codes = self.codes.to(x.dtype)
        s = torch.einsum("...gd,gcd->...gc", x, codes)
        s = s / codes.norm(dim=-1).clamp_min(1e-8)
        if self.similarity == "cosine":
            s = s / x.norm(dim=-1, keepdim=True).clamp_min(1e-8)
        return s

    def top_ids(self, x: Float[Tensor, "... groups dim"]) -> Int[Tensor, "... groups k"]:
        """The k most similar codes of each input (normalised first, with layer_norm)."""
        with torch.no_grad():
            return self.scores(x.detach()).topk(self.k, dim=-1).indices

    def lookup(self, ids: Int[Tensor, "... groups k"]) -> Float[Tensor, "... groups dim"]:
        """Mean of the codes `ids` (per group), differentiable in the codes. Id -1 is an
        empty slot: it adds nothing, but still counts in the mean's denominator."""
        g = torch.arange(self.groups, device=ids.device).view(-1, 1)
        vecs = self.codes[g, ids.clamp_min(0)]  # [..., groups, k, dim]
        vecs = vecs * (ids >= 0).unsqueeze(-1).to(vecs.dtype)
        return vecs.sum(-2) / ids.shape[-1]

    def forward(self, x: Float[Tensor, "... groups dim"]
                ) -> tuple[Float[Tensor, "... groups dim"], Int[Tensor, "... groups k"]]:
        if x.shape[-2:] != (self.groups, self.dim):
            raise InterpError(f"codebook input has shape {tuple(x.shape)}; expected "
                              f"[..., {self.groups}, {self.dim}]")
        h = self.normalize(x)
        with torch.no_grad():
            top = self._similarity(h.detach()).topk(self.k, dim=-1).indices
        ids = self.hook_ids(top)
        return self.snap(h, ids), ids

    def snap(self, x: Tensor, ids: Tensor) -> Tensor:
        """The straight-through output for given ids; `x` is the input as the codes see it
        (after `normalize`). Records usage and the last call (`last_input` is that x)."""
        self.last_ids, self.last_input = ids, x.detach()
        if self.track_usage:
            self.record(ids)
        out = self.lookup(ids).to(x.dtype)
        return StraightThrough.apply(x, out) if x.requires_grad else out

    def record(self, ids: Int[Tensor, "... groups k"]) -> None:
        with torch.no_grad():
            flat = ids.reshape(-1, self.groups, ids.shape[-1]).transpose(0, 1).reshape(
                self.groups, -1)
            for g in range(self.groups):
                hit = flat[g][flat[g] >= 0]
                self.counts[g] += torch.bincount(hit, minlength=self.n_codes).to(self.counts)

    def reconstruction_loss(self) -> Tensor:
        """Squared error |out - x|^2 between the last snapped output and its (detached,
        normalised) input, averaged over tokens and summed over the groups, differentiable in
        the codes only: the codebook term of the finetuning loss. Each group's codes get the
        gradient of their own token-mean error (no 1/groups), as each of the authors'
        per-head codebooks adds its own (`aeloss`)."""
        if self.last_ids is None or self.last_input is None:
            return self.codes.new_zeros(())
        out = self.lookup(self.last_ids)
        err = ((out - self.last_input.to(out.dtype)) ** 2).sum(-1)  # [..., groups]
        return err.reshape(-1, self.groups).mean(0).sum()

    # ---- maintenance ---------------------------------------------------------------------
    def reset_counts(self) -> None:
        self.counts.zero_()

    @torch.no_grad()
    def replace_dead(self, data: Float[Tensor, "n groups dim"], noise: float = 0.01,
                     seed: int = 0) -> int:
        """Re-seed codes never used since the last reset with random inputs from `data`
        (plus relative noise); returns how many were replaced, and resets the counts. `data`
        is in the codes' space: normalised inputs, e.g. `last_input`."""
        gen = torch.Generator().manual_seed(seed)
        replaced = 0
        for g in range(self.groups):
            dead = (self.counts[g] == 0).nonzero().reshape(-1)
            if len(dead) == 0 or len(data) == 0:
                continue
            pick = torch.randint(len(data), (len(dead),), generator=gen)
            new = data[pick, g].to(self.codes)
            jitter = torch.randn(new.shape, generator=gen).to(new)
            new = new + noise * new.norm(dim=-1, keepdim=True) * jitter / self.dim**0.5
            self.codes[g, dead.to(self.codes.device)] = new
            replaced += len(dead)
        self.reset_counts()
        return replaced

    @torch.no_grad()
    def kmeans_init(self, data: Float[Tensor, "n groups dim"], iters: int = 20,
                    seed: int = 0) -> None:
        """Set each group's codes to k-means centroids of `data`, the site's activations
        (normalised first, with layer_norm; see interp.codebook.kmeans)."""
        from interp.codebook.kmeans import kmeans

        if data.dim() != 3 or data.shape[1:] != (self.groups, self.dim):
            raise InterpError(f"k-means data has shape {tuple(data.shape)}; expected "
                              f"[n, {self.groups}, {self.dim}]")
        data = self.normalize(data.to(self.codes))
        for g in range(self.groups):
            centres = kmeans(data[:, g].float(), self.n_codes, iters=iters, seed=seed + g,
                             cosine=self.similarity == "cosine")
            self.codes[g] = centres.to(self.codes)
