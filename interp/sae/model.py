"""SparseAutoencoder: ReLU or top-k latents, unit-norm decoder rows, tied pre-bias.

x_hat = f((x - b_dec) @ W_enc + b_enc) @ W_dec + b_dec, with every row of W_dec of unit norm
(kept so by `normalize_decoder_` after each step and `remove_parallel_grads_` before it).
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


@dataclass(frozen=True)
class SAEConfig:
    """Shape and objective of an SAE.

    d_in: width of the input vectors; n_latents: dictionary size; activation "relu" (sparsity
    from the L1 penalty `l1`) or "topk" (keep the k largest ReLU pre-activations; l1 may be 0).
    The loss is mean over the batch of (sum of squared errors / d_in) + l1 * sum |latents|.
    """

    d_in: int
    n_latents: int = 200
    activation: str = "relu"
    k: int | None = None
    l1: float = 0.02

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
        w_dec = torch.randn(cfg.n_latents, cfg.d_in, generator=gen)
        w_dec = w_dec / w_dec.norm(dim=-1, keepdim=True)
        self.W_dec = nn.Parameter(w_dec)
        self.W_enc = nn.Parameter(w_dec.T.clone())
        self.b_enc = nn.Parameter(torch.zeros(cfg.n_latents))
        self.b_dec = nn.Parameter(torch.zeros(cfg.d_in))

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

    @torch.no_grad()
    def normalize_decoder_(self) -> None:
        """Rescale every decoder row to unit norm (in place)."""
        self.W_dec.div_(self.W_dec.norm(dim=-1, keepdim=True).clamp_min(1e-12))

    @torch.no_grad()
    def remove_parallel_grads_(self) -> None:
        """Project out the part of W_dec's gradient parallel to each (unit) row, so a step
        moves rows along the sphere rather than changing their length."""
        if self.W_dec.grad is None:
            return
        w = self.W_dec / self.W_dec.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        self.W_dec.grad.sub_((self.W_dec.grad * w).sum(-1, keepdim=True) * w)
