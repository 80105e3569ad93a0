"""Discrete codes from an SAE: the index of the largest latent (argmax) or the k largest."""

from __future__ import annotations

import torch
from jaxtyping import Float, Int
from torch import Tensor

from interp.errors import InterpError
from interp.sae.model import SparseAutoencoder

#: Code given to an input whose latents are all zero (no latent fires).
NO_CODE = -1


@torch.no_grad()
def sae_codes(
    sae: SparseAutoencoder, x: Float[Tensor, "... d_in"], k: int = 1
) -> Int[Tensor, ...] | Int[Tensor, "... k"]:
    """Integer code(s) of each input vector.

    k=1: the argmax latent ([...]); k>1: the k largest latents, in descending order
    ([..., k]). A slot whose latent is zero gets NO_CODE (-1), so an input on which nothing
    fires has its own code rather than latent 0's.
    """
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= sae.cfg.n_latents:
        raise InterpError(f"k must be an integer in 1..{sae.cfg.n_latents}, got {k!r}")
    z = sae.encode(x.to(sae.W_enc.device))
    top = z.topk(k, dim=-1)
    idx = top.indices.masked_fill(top.values <= 0, NO_CODE)
    return idx[..., 0] if k == 1 else idx
