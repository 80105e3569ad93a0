"""SparseAutoencoder: ReLU or top-k latents, unit-norm weights, tied pre-bias.

x_hat = f((x - b_dec) @ W_enc + b_enc) @ W_dec + b_dec (W_enc [d_in, n_latents], W_dec
[n_latents, d_in]). The unit-norm constraint (`unit_norm`) is kept by `normalize_decoder_`
after each step and `remove_parallel_grads_` before it:

- "atoms": every row of W_dec (one latent's direction in input space) has unit norm; the
  encoder is free (the dictionary-learning convention).
- "oneill-bui": O'Neill & Bui's code (`ConstrainedUnitNormLinear` on both layers): every column
  of W_enc (one latent's encoder vector) and every column of W_dec (one input dimension's
  weights over the latents) has unit norm.

Initialisation (`init`): "tied" draws W_dec, normalises it and sets W_enc = W_dec.T, b_enc = 0;
"oneill-bui" draws W_enc and W_dec independently from N(0, 1) and normalises them along their
unit-norm axes, b_enc ~ U(-1/sqrt(d_in), 1/sqrt(d_in)) (torch.nn.Linear's bias rule, as the
paper's code). b_dec starts at 0 either way (train_sae can set it to the data mean).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch
from jaxtyping import Float
from torch import Tensor, nn

from interp.errors import InterpError, choices_error

ACTIVATIONS = ("relu", "topk")
UNIT_NORMS = ("atoms", "oneill-bui")
INITS = ("tied", "oneill-bui")


@dataclass(frozen=True)
class SAEConfig:
    """Shape and objective of an SAE.

    d_in: width of the input vectors; n_latents: dictionary size; activation "relu" (sparsity
    from the L1 penalty `l1`) or "topk" (keep the k largest ReLU pre-activations; l1 may be 0).
    The loss is mean over the batch of (sum of squared errors / d_in) + l1 * sum |latents|.
    unit_norm: which weights are kept unit norm, "atoms" or "oneill-bui"; init: "tied" or
    "oneill-bui" (see the module docstring).
    """

    d_in: int
    n_latents: int = 200
    activation: str = "relu"
    k: int | None = None
    l1: float = 0.02
    unit_norm: str = "atoms"
    init: str = "tied"

    def __post_init__(self) -> None:
        for name in ("d_in", "n_latents"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InterpError(f"{name} must be a positive integer, got {value!r}")
        if self.activation not in ACTIVATIONS:
            raise choices_error("SAE activation", self.activation, ACTIVATIONS)
        if self.activation == "topk" and (
            not isinstance(self.k, int) or not 1 <= self.k <= self.n_latents
        ):
            raise InterpError(f"top-k SAE needs k in 1..{self.n_latents}, got {self.k!r}")
        if self.l1 < 0:
            raise InterpError(f"l1 must be >= 0, got {self.l1!r}")
        if self.unit_norm not in UNIT_NORMS:
            raise choices_error("SAE unit norm", self.unit_norm, UNIT_NORMS)
        if self.init not in INITS:
            raise choices_error("SAE init", self.init, INITS)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SAEConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


class SparseAutoencoder(nn.Module):
    """One dictionary of `n_latents` unit-norm directions over `d_in`-dimensional inputs."""

    def __init__(self, cfg: SAEConfig, *, seed: int = 0) -> None:
        super().__init__()
        self.cfg = cfg
        gen = torch.Generator().manual_seed(seed)
        if cfg.init == "tied":
            w_dec = torch.randn(cfg.n_latents, cfg.d_in, generator=gen)
            w_dec = w_dec / w_dec.norm(dim=-1, keepdim=True)
            w_enc = w_dec.T.clone()
            b_enc = torch.zeros(cfg.n_latents)
        else:  # O'Neill & Bui: independent N(0, 1) layers, a Linear-style encoder bias
            w_enc = torch.randn(cfg.d_in, cfg.n_latents, generator=gen)
            w_dec = torch.randn(cfg.n_latents, cfg.d_in, generator=gen)
            bound = 1 / cfg.d_in ** 0.5
            b_enc = (torch.rand(cfg.n_latents, generator=gen) * 2 - 1) * bound
        self.W_dec = nn.Parameter(w_dec)
        self.W_enc = nn.Parameter(w_enc)
        self.b_enc = nn.Parameter(b_enc)
        self.b_dec = nn.Parameter(torch.zeros(cfg.d_in))
        if cfg.init != "tied" or cfg.unit_norm != "atoms":
            self.normalize_decoder_()

    def encode(self, x: Float[Tensor, "... d_in"]) -> Float[Tensor, "... n_latents"]:
        """Latent activations (non-negative; at most k non-zero for top-k)."""
        pre = (x.to(self.W_enc.dtype) - self.b_dec) @ self.W_enc + self.b_enc
        acts = torch.relu(pre)
        if self.cfg.activation == "topk":
            top = acts.topk(self.cfg.k, dim=-1)
            acts = torch.zeros_like(acts).scatter(-1, top.indices, top.values)
        return acts

    def decode(self, z: Float[Tensor, "... n_latents"]) -> Float[Tensor, "... d_in"]:
        return z @ self.W_dec + self.b_dec

    def forward(
        self, x: Float[Tensor, "... d_in"]
    ) -> tuple[Float[Tensor, "... d_in"], Float[Tensor, "... n_latents"]]:
        z = self.encode(x)
        return self.decode(z), z

    def loss(self, x: Float[Tensor, "batch d_in"]) -> dict[str, Tensor]:
        """{"loss", "mse", "l1"}: mse is the mean squared error per input dimension."""
        x = x.to(self.W_enc.dtype)
        x_hat, z = self(x)
        mse = (x_hat - x).pow(2).mean()
        l1 = z.abs().sum(-1).mean()
        return {"loss": mse + self.cfg.l1 * l1, "mse": mse, "l1": l1}

    def unit_norm_axes(self) -> list[tuple[nn.Parameter, int]]:
        """(weight, axis) pairs whose slices along `axis` are kept at unit norm."""
        if self.cfg.unit_norm == "atoms":
            return [(self.W_dec, -1)]
        return [(self.W_enc, 0), (self.W_dec, 0)]

    @torch.no_grad()
    def normalize_decoder_(self) -> None:
        """Rescale the constrained weights to unit norm along their axes (in place): W_dec's
        rows ("atoms"), or W_enc's and W_dec's columns ("oneill-bui")."""
        for w, axis in self.unit_norm_axes():
            w.div_(w.norm(dim=axis, keepdim=True).clamp_min(1e-12))

    @torch.no_grad()
    def remove_parallel_grads_(self) -> None:
        """Project out the part of each constrained weight's gradient parallel to its (unit)
        slices, so a step moves them along the sphere rather than changing their length."""
        for w, axis in self.unit_norm_axes():
            if w.grad is None:
                continue
            unit = w / w.norm(dim=axis, keepdim=True).clamp_min(1e-12)
            w.grad.sub_((w.grad * unit).sum(axis, keepdim=True) * unit)
