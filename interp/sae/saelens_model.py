"""An SAE in SAELens' terms (config + inference math), for SAEs read from SAELens' layout.

Architectures "standard" (ReLU), "topk" (k largest pre-activations, ReLU'd; optionally ranked
by pre-activation times decoder-row norm), "jumprelu" (ReLU where pre > threshold) and
"gated" (gate W_enc + b_gate > 0 times ReLU of the magnitude path W_enc * exp(r_mag) + b_mag).
The encoder subtracts b_dec first when apply_b_dec_to_input; inputs are normalised per
normalize_activations ("constant_norm_rescale", "layer_norm") and `forward` undoes it on the
reconstruction, as SAELens does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from jaxtyping import Float
from torch import Tensor, nn

from interp.errors import InterpError, choices_error

#: architecture -> its parameters (SAELens' state-dict names), besides W_enc, W_dec, b_dec.
ARCHITECTURES: dict[str, tuple[str, ...]] = {
    "standard": ("b_enc",), "topk": ("b_enc",), "jumprelu": ("b_enc", "threshold"),
    "gated": ("b_gate", "b_mag", "r_mag"),
}
#: normalize_activations values this reads. "expected_average_only_in" runs as "none", as in
#: SAELens' disk loader (its scaling factor is folded only for SAELens' hub releases).
NORMALIZATIONS = ("none", "expected_average_only_in", "constant_norm_rescale", "layer_norm")
RESHAPES = ("none", "hook_z")
DTYPES = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16,
          "bfloat16": torch.bfloat16}
_LN_EPS = 1e-5  # SAELens' layer_norm epsilon


@dataclass(frozen=True)
class SAELensConfig:
    """The fields of a SAELens 6.x cfg.json that change what the SAE computes, plus its
    `metadata` (model_name, hook_name, hook_head_index, ...: where it was trained)."""

    architecture: str
    d_in: int
    d_sae: int
    dtype: str = "float32"
    apply_b_dec_to_input: bool = True
    normalize_activations: str = "none"
    reshape_activations: str = "none"
    k: int | None = None
    rescale_acts_by_decoder_norm: bool = False
    metadata: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise choices_error("SAELens architecture", self.architecture, ARCHITECTURES)
        for name in ("d_in", "d_sae"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InterpError(f"SAELens {name} must be a positive integer, got {value!r}")
        if self.dtype not in DTYPES:
            raise choices_error("SAELens dtype", self.dtype, DTYPES)
        if self.normalize_activations not in NORMALIZATIONS:
            raise choices_error("SAELens normalize_activations", self.normalize_activations,
                                NORMALIZATIONS)
        if self.reshape_activations not in RESHAPES:
            raise choices_error("SAELens reshape_activations", self.reshape_activations, RESHAPES)
        if self.architecture == "topk" and (isinstance(self.k, bool) or not isinstance(self.k, int)
                                            or not 1 <= self.k <= self.d_sae):
            raise InterpError(f"SAELens topk SAE needs k in 1..{self.d_sae}, got {self.k!r}")
        for name in ("apply_b_dec_to_input", "rescale_acts_by_decoder_norm"):
            if not isinstance(getattr(self, name), bool):
                raise InterpError(f"SAELens {name} must be true or false, got "
                                  f"{getattr(self, name)!r}")

    @property
    def n_latents(self) -> int:
        """d_sae under interp's name (so interp.sae.sae_codes takes a SAELensSAE too)."""
        return self.d_sae

    @property
    def hook_name(self) -> str | None:
        return self.metadata.get("hook_name")

    @property
    def hook_head_index(self) -> int | None:
        return self.metadata.get("hook_head_index")

    @property
    def model_name(self) -> str | None:
        return self.metadata.get("model_name")

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Each parameter's shape: W_enc [d_in, d_sae], W_dec [d_sae, d_in], biases."""
        out = {"W_enc": (self.d_in, self.d_sae), "W_dec": (self.d_sae, self.d_in),
               "b_dec": (self.d_in,)}
        return out | {name: (self.d_sae,) for name in ARCHITECTURES[self.architecture]}


class SAELensSAE(nn.Module):
    """A SAELens SAE's weights and its inference math (encode, decode, forward)."""

    def __init__(self, cfg: SAELensConfig, tensors: dict[str, Tensor]) -> None:
        super().__init__()
        self.cfg = cfg
        dtype = DTYPES[cfg.dtype]
        for name, shape in cfg.shapes().items():
            t = tensors[name]
            if tuple(t.shape) != shape:
                raise InterpError(f"SAELens tensor {name!r} has shape {list(t.shape)}, not "
                                  f"{list(shape)}")
            self.register_parameter(name, nn.Parameter(t.detach().to(dtype), requires_grad=False))

    def __repr__(self) -> str:
        c = self.cfg
        return (f"SAELensSAE({c.architecture}, d_in={c.d_in}, d_sae={c.d_sae}, "
                f"hook={c.hook_name!r}, dtype={c.dtype})")

    @property
    def dtype(self) -> torch.dtype:
        return self.W_enc.dtype

    def _norm_in(self, x: Tensor) -> tuple[Tensor, tuple[Tensor, Tensor] | None]:
        """(normalised x, what undoes it) per normalize_activations."""
        how = self.cfg.normalize_activations
        if how == "constant_norm_rescale":
            coeff = (self.cfg.d_in ** 0.5) / x.norm(dim=-1, keepdim=True)
            return x * coeff, (coeff, coeff)
        if how == "layer_norm":
            mu = x.mean(dim=-1, keepdim=True)
            x = x - mu
            std = x.std(dim=-1, keepdim=True)
            return x / (std + _LN_EPS), (mu, std)
        return x, None

    def _norm_out(self, y: Tensor, undo: tuple[Tensor, Tensor] | None) -> Tensor:
        if undo is None:
            return y
        if self.cfg.normalize_activations == "constant_norm_rescale":
            return y / undo[0]
        mu, std = undo
        return y * std + mu

    def _encode(self, x: Tensor) -> tuple[Tensor, tuple[Tensor, Tensor] | None]:
        x, undo = self._norm_in(x.to(self.dtype))
        if self.cfg.apply_b_dec_to_input:
            x = x - self.b_dec
        arch = self.cfg.architecture
        if arch == "gated":
            active = (x @ self.W_enc + self.b_gate > 0).to(self.dtype)
            return active * torch.relu(x @ (self.W_enc * self.r_mag.exp()) + self.b_mag), undo
        pre = x @ self.W_enc + self.b_enc
        if arch == "jumprelu":
            return torch.relu(pre) * (pre > self.threshold).to(self.dtype), undo
        if arch == "topk":
            if self.cfg.rescale_acts_by_decoder_norm:
                pre = pre * self.W_dec.norm(dim=-1)
            top = pre.topk(self.cfg.k, dim=-1, sorted=False)
            return torch.zeros_like(pre).scatter(-1, top.indices, top.values.relu()), undo
        return torch.relu(pre), undo

    def encode(self, x: Float[Tensor, "... d_in"]) -> Float[Tensor, "... d_sae"]:
        """Feature activations (SAELens' `encode`)."""
        return self._encode(x)[0]

    def decode(self, z: Float[Tensor, "... d_sae"]) -> Float[Tensor, "... d_in"]:
        """z @ W_dec + b_dec: the reconstruction in the SAE's (normalised) input space; the
        same as SAELens' `decode` when normalize_activations is "none"."""
        z = z.to(self.dtype)
        if self.cfg.architecture == "topk" and self.cfg.rescale_acts_by_decoder_norm:
            z = z * (1 / self.W_dec.norm(dim=-1))
        return z @ self.W_dec + self.b_dec

    def forward(
        self, x: Float[Tensor, "... d_in"]
    ) -> tuple[Float[Tensor, "... d_in"], Float[Tensor, "... d_sae"]]:
        """(reconstruction of x in x's own scale, feature activations): SAELens' forward."""
        z, undo = self._encode(x)
        return self._norm_out(self.decode(z), undo), z

    def to_interp(self) -> Any:
        """This SAE as an interp.sae.SparseAutoencoder (float32), when interp's model can
        compute it: architecture standard or topk, b_dec subtracted from the input, no input
        normalisation, no decoder-norm ranking. Training settings written by interp's
        save_saelens (l1, unit_norm, init) come back from metadata["interp"]."""
        from interp.sae.model import SAEConfig, SparseAutoencoder

        c = self.cfg
        why = ("its architecture is " + repr(c.architecture)
               if c.architecture not in ("standard", "topk")
               else "it does not subtract b_dec from its input" if not c.apply_b_dec_to_input
               else f"it normalises its input ({c.normalize_activations!r})"
               if c.normalize_activations not in ("none", "expected_average_only_in")
               else "it ranks top-k by decoder norm" if c.rescale_acts_by_decoder_norm else "")
        if why:
            raise InterpError(f"this SAELens SAE cannot be an interp SparseAutoencoder: {why}; "
                              "interp's takes 'standard' or 'topk' with apply_b_dec_to_input, "
                              "no normalisation; use the SAELensSAE itself")
        saved = (c.metadata.get("interp") or {}).get("sae") or {}
        train = {k: saved[k] for k in ("l1", "unit_norm", "init") if k in saved}
        activation = "relu" if c.architecture == "standard" else "topk"
        cfg = SAEConfig(d_in=c.d_in, n_latents=c.d_sae, activation=activation, k=c.k, **train)
        sae = SparseAutoencoder(cfg)
        sae.load_state_dict({k: getattr(self, k).detach().float().clone()
                             for k in ("W_enc", "W_dec", "b_enc", "b_dec")})
        return sae
