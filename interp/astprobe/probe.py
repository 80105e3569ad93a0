"""The AST-Probe: a projection B (d_model x rank) onto a syntactic subspace plus label vectors.

For the leaf vectors h_1..h_n of a snippet, with z_i = h_i B:
- predicted distance of leaves i, i+1: ||z_{i+1} - z_i||^2;
- scores of the ancestor label c_i: (z_{i+1} - z_i) V_c; of the unary label u_i: z_i V_u.

Loss (Hernandez Lopez et al. 2022): a pairwise ranking hinge on distances,
mean over pairs (i, j) of one snippet with d_i > d_j of relu(1 - (pred_i - pred_j)), plus
cross-entropy for c and u (labels unseen in training are ignored), plus the orthogonality
penalty lambda * ||B^T B - I||_F^2 (lambda = 5) that keeps B near an isometry.
"""

from __future__ import annotations

import torch
from jaxtyping import Float, Int
from torch import Tensor, nn


class ASTProbe(nn.Module):
    """Projection `proj` [d_model, rank], label vectors `vectors_c` [rank, n_c] and
    `vectors_u` [rank, n_u], initialised uniformly in [-0.05, 0.05] as the reference."""

    def __init__(self, d_model: int, rank: int, n_c: int, n_u: int) -> None:
        super().__init__()
        self.d_model, self.rank = d_model, rank
        self.proj = nn.Parameter(torch.empty(d_model, rank).uniform_(-0.05, 0.05))
        self.vectors_c = nn.Parameter(torch.empty(rank, n_c).uniform_(-0.05, 0.05))
        self.vectors_u = nn.Parameter(torch.empty(rank, n_u).uniform_(-0.05, 0.05))

    def forward(self, x: Float[Tensor, "b n d"]) -> tuple[
            Float[Tensor, "b n_minus_1"], Float[Tensor, "b n_minus_1 n_c"],
            Float[Tensor, "b n n_u"]]:
        """(distances, c scores, u scores) for padded leaf vectors."""
        z = x @ self.proj
        diff = z[:, 1:] - z[:, :-1]
        return (diff**2).sum(-1), diff @ self.vectors_c, z @ self.vectors_u

    def orthogonality(self) -> Tensor:
        """||B^T B - I||_F^2."""
        eye = torch.eye(self.rank, device=self.proj.device, dtype=self.proj.dtype)
        return ((self.proj.T @ self.proj - eye) ** 2).sum()


def rank_loss(pred: Float[Tensor, "b m"], gold: Float[Tensor, "b m"],
              mask: Float[Tensor, "b m"] | Tensor) -> Tensor:
    """Pairwise ranking hinge: mean over valid pairs with gold_i > gold_j of
    relu(1 - (pred_i - pred_j))."""
    m = mask.float()
    above = (gold[:, :, None] > gold[:, None, :]).float() * m[:, :, None] * m[:, None, :]
    hinge = torch.relu(1.0 - (pred[:, :, None] - pred[:, None, :]))
    return (hinge * above).sum() / above.sum().clamp(min=1.0)


def probe_loss(
    probe: ASTProbe, x: Float[Tensor, "b n d"], d: Float[Tensor, "b n_minus_1"],
    c: Int[Tensor, "b n_minus_1"], u: Int[Tensor, "b n"], lengths: Int[Tensor, " b"],
    orth: float = 5.0,
) -> tuple[Tensor, dict[str, float]]:
    """Total loss (rank + CE(c) + CE(u) + orth * penalty) and its parts as floats.

    d, c, u are padded (c, u with -1, which also marks labels unseen in training)."""
    pred_d, s_c, s_u = probe(x)
    mask = torch.arange(d.shape[1], device=d.device)[None, :] < (lengths[:, None] - 1)
    l_d = rank_loss(pred_d, d, mask)
    ce = nn.functional.cross_entropy
    l_c = ce(s_c.reshape(-1, s_c.shape[-1]), c.reshape(-1), ignore_index=-1) if (c >= 0).any() \
        else s_c.sum() * 0
    l_u = ce(s_u.reshape(-1, s_u.shape[-1]), u.reshape(-1), ignore_index=-1) if (u >= 0).any() \
        else s_u.sum() * 0
    pen = probe.orthogonality()
    total = l_d + l_c + l_u + orth * pen
    named = (("rank", l_d), ("c", l_c), ("u", l_u), ("orth", pen))
    parts = {k: float(v.detach()) for k, v in named}
    return total, parts
