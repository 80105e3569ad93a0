"""Discrete codes from an SAE: the index of the largest latent (argmax) or the k largest."""

from __future__ import annotations

import torch
from jaxtyping import Float, Int
from torch import Tensor

from interp.errors import InterpError, choices_error
from interp.sae.model import SparseAutoencoder

#: Code given to an input whose latents are all zero (no latent fires), with silent="own".
NO_CODE = -1
#: What an input on which no latent fires is coded: "own" (NO_CODE) or "argmax" (plain argmax
#: of the all-zero latents: 0, latent 0's code, as O'Neill & Bui's np.argmax).
SILENT = ("own", "argmax")


@torch.no_grad()
def sae_codes(
    sae: SparseAutoencoder, x: Float[Tensor, "... d_in"], k: int = 1, *, silent: str = "own"
) -> Int[Tensor, ...] | Int[Tensor, "... k"]:
    """Integer code(s) of each input vector.

    k=1: the argmax latent ([...]); k>1: the k largest latents, in descending order
    ([..., k]). silent="own": a slot whose latent is zero gets NO_CODE (-1), so an input on
    which nothing fires has its own code rather than latent 0's; silent="argmax" (k=1 only):
    the plain argmax, 0 for an input on which nothing fires (O'Neill & Bui's code).
    """
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= sae.cfg.n_latents:
        raise InterpError(f"k must be an integer in 1..{sae.cfg.n_latents}, got {k!r}")
    if silent not in SILENT:
        raise choices_error("silent-input code", silent, SILENT)
    z = sae.encode(x.to(sae.W_enc.device))
    if silent == "argmax":
        if k != 1:
            raise InterpError("silent='argmax' gives one code per input (k=1); use "
                              "silent='own' for top-k codes")
        return z.argmax(-1)  # first index of the maximum: 0 when every latent is 0
    top = z.topk(k, dim=-1)
    idx = top.indices.masked_fill(top.values <= 0, NO_CODE)
    return idx[..., 0] if k == 1 else idx
