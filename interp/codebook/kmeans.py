"""k-means in torch (k-means++ seeding, Lloyd iterations) for codebook initialisation."""

from __future__ import annotations

import torch
from jaxtyping import Float
from torch import Tensor

from interp.errors import InterpError


def kmeans(data: Float[Tensor, "n dim"], k: int, iters: int = 20, seed: int = 0,
           cosine: bool = False) -> Float[Tensor, "k dim"]:
    """`k` centroids of `data`. With cosine, points are clustered by direction (spherical
    k-means) but each centroid keeps the mean norm of its members, so a code reconstructs
    them at the right scale. With fewer points than k, the spare centroids are jittered
    copies of random points."""
    if data.dim() != 2 or len(data) == 0:
        raise InterpError(f"k-means needs a non-empty [n, dim] tensor, got {tuple(data.shape)}")
    gen = torch.Generator().manual_seed(seed)
    x = data.float().cpu()
    unit = torch.nn.functional.normalize(x, dim=-1) if cosine else x
    n = len(x)
    if n <= k:
        extra = x[torch.randint(n, (k - n,), generator=gen)]
        extra = extra + 0.01 * extra.norm(dim=-1, keepdim=True) * torch.randn(
            extra.shape, generator=gen) / x.shape[1] ** 0.5
        return torch.cat([x, extra])
    # k-means++ seeding on a subsample (keeps the O(n k) seeding cheap)
    sample = unit[torch.randperm(n, generator=gen)[: min(n, 4 * k)]]
    centres = [sample[torch.randint(len(sample), (1,), generator=gen)].squeeze(0)]
    d2 = ((sample - centres[0]) ** 2).sum(-1)
    for _ in range(k - 1):
        p = d2 / d2.sum() if d2.sum() > 0 else torch.full_like(d2, 1 / len(d2))
        c = sample[torch.multinomial(p, 1, generator=gen)].squeeze(0)
        centres.append(c)
        d2 = torch.minimum(d2, ((sample - c) ** 2).sum(-1))
    cent = torch.stack(centres)
    for _ in range(iters):
        assign = _assign(unit, cent, cosine)
        sums = torch.zeros_like(cent).index_add_(0, assign, unit)
        size = torch.bincount(assign, minlength=k).unsqueeze(-1)
        empty = size.squeeze(-1) == 0
        cent = torch.where(empty.unsqueeze(-1), cent, sums / size.clamp_min(1))
        if empty.any():  # re-seed empty clusters with random points
            cent[empty] = unit[torch.randint(n, (int(empty.sum()),), generator=gen)]
        if cosine:
            cent = torch.nn.functional.normalize(cent, dim=-1)
    if cosine:  # give each direction the mean norm of its members
        assign = _assign(unit, cent, cosine)
        norms = torch.zeros(k).index_add_(0, assign, x.norm(dim=-1))
        size = torch.bincount(assign, minlength=k).clamp_min(1)
        mean_norm = norms / size
        mean_norm[mean_norm == 0] = x.norm(dim=-1).mean()
        cent = cent * mean_norm.unsqueeze(-1)
    return cent


def _assign(x: Tensor, cent: Tensor, cosine: bool, chunk: int = 8192) -> Tensor:
    """Nearest centroid of each row (by cosine, or Euclidean via |c|^2 - 2 x.c), in chunks."""
    half_sq = 0.5 * (cent**2).sum(-1)
    out = []
    for part in x.split(chunk):
        sim = part @ cent.T
        out.append(sim.argmax(-1) if cosine else (sim - half_sq).argmax(-1))
    return torch.cat(out)
