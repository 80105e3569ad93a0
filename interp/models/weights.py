"""Raw weight views: MLP neuron vectors (up / gate / down) and the unembedding with the final
norm's gain and bias folded in. Everything is read from the wrapped HF modules, unprocessed.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from jaxtyping import Float
from torch import Tensor

from interp.errors import InterpError, choices_error
from interp.models.facts import ModelFacts
from interp.models.sites import check_layer

SIDES = ("up", "gate", "down")
_BRIDGE_NAME = {"up": "in", "gate": "gate", "down": "out"}


def _original(component: Any) -> Any:
    """The HF module a bridge component wraps (or the module itself)."""
    return getattr(component, "original_component", None) or component


def check_unprocessed(bridge: Any) -> None:
    """Raise if TransformerLens has folded norms / centred weights in place."""
    if getattr(bridge, "_weights_processed", False):
        raise InterpError(
            "this model's weights were processed in place (enable_compatibility_mode / "
            "process_weights folded the norms); raw weight vectors are no longer available: "
            "reload it with interp.load_model"
        )


def _check_side(facts: ModelFacts, side: str) -> None:
    if side not in SIDES:
        raise choices_error("side", side, SIDES)
    if side == "gate" and not facts.gated_mlp:
        raise InterpError(
            f"side 'gate' needs a gated MLP, but {facts.architecture} is not gated; "
            "valid sides: 'up', 'down'"
        )


def mlp_module(bridge: Any, facts: ModelFacts, layer: int, side: str) -> torch.nn.Module:
    """The HF projection module (nn.Linear or GPT-2 Conv1D) for `side` of layer `layer`'s MLP."""
    layer = check_layer(facts, layer)
    _check_side(facts, side)
    mlp = bridge.blocks[layer].mlp
    component = getattr(mlp, _BRIDGE_NAME[side], None)
    if component is None:
        raise InterpError(
            f"{facts.architecture} layer {layer}: its MLP has no separate {side!r} projection "
            "(fused or mixture-of-experts MLPs are not supported)"
        )
    return _original(component)


def _as_x_at_m(module: torch.nn.Module) -> Float[Tensor, "d_in d_out"]:
    """The matrix M with y = x @ M (+ b): Conv1D stores M, nn.Linear stores M.T."""
    weight = module.weight.detach()
    if type(module).__name__ == "Conv1D":
        return weight
    return weight.T


def neuron_vectors(
    bridge: Any, facts: ModelFacts, layer: int, side: str
) -> Float[Tensor, "d_mlp d_model"]:
    """One row per neuron, in residual-stream coordinates (a read-only view, no copy).

    - "up": what neuron n reads, TL `W_in[:, n]` (HF up_proj / c_fc / dense_h_to_4h).
      Non-gated: pre-activation = ln2(x) @ row + b_in. Gated: pre_linear = ln2(x) @ row.
    - "gate": gated MLPs only, TL `W_gate[:, n]` (HF gate_proj); pre = ln2(x) @ row.
    - "down": what neuron n writes, TL `W_out[n]` (HF down_proj / c_proj / dense_4h_to_h);
      the MLP output is sum_n post[n] * row_n (+ b_out).
    Weights are the checkpoint's own: the preceding norm's gain is NOT folded into "up"/"gate".
    """
    module = mlp_module(bridge, facts, layer, side)
    m = _as_x_at_m(module)
    rows = m.T if side in ("up", "gate") else m
    if tuple(rows.shape) != (facts.d_mlp, facts.d_model):
        raise InterpError(
            f"{facts.architecture} layer {layer} {side!r} weights have shape {tuple(rows.shape)}, "
            f"expected (d_mlp, d_model) = ({facts.d_mlp}, {facts.d_model}); unsupported MLP layout"
        )
    return rows


def post_mlp_norm_gain(bridge: Any, facts: ModelFacts, layer: int
                       ) -> Float[Tensor, " d_model"] | None:
    """Elementwise gain of the norm applied to the MLP's output before the residual add
    (Gemma-2/3 `post_feedforward_layernorm`, TL `ln2_post`), in float32; None when the block
    has no such norm. Read by probing the module with a ones vector (rms 1), so that offset
    RMSNorms ((1+w), Gemma) and plain ones (w) are both right: gain = norm(1) * sqrt(1 + eps).
    """
    layer = check_layer(facts, layer)
    component = getattr(bridge.blocks[layer], "ln2_post", None)
    if component is None:
        return None
    norm = _original(component)
    weight = getattr(norm, "weight", None)
    if getattr(norm, "bias", None) is not None or weight is None:
        raise InterpError(
            f"{facts.architecture} layer {layer}: the post-MLP norm {type(norm).__name__} is not "
            "an RMSNorm with a gain; its write direction cannot be folded"
        )
    ones = torch.ones(1, weight.shape[-1], device=weight.device, dtype=weight.dtype)
    with torch.no_grad():
        gain = norm(ones)[0].float()
    return gain * math.sqrt(1.0 + final_norm_eps(norm))


def write_vectors(bridge: Any, facts: ModelFacts, layer: int) -> Float[Tensor, "d_mlp d_model"]:
    """What each neuron writes to the residual stream, one row per neuron (float32).

    The down-projection rows (TL W_out), times the post-MLP norm's gain where the block has
    one (Gemma-2/3): that norm divides the whole MLP output by its rms, a factor shared by all
    neurons at a position, then multiplies by the gain, so the direction neuron n adds is
    gain * W_out[n]. Without a post-MLP norm this equals neuron_vectors(..., "down").
    """
    rows = neuron_vectors(bridge, facts, layer, "down")
    gain = post_mlp_norm_gain(bridge, facts, layer)
    if gain is None:
        return rows
    return rows.float() * gain.to(rows.device)[None, :]


def neuron_biases(bridge: Any, facts: ModelFacts, layer: int, side: str) -> Tensor | None:
    """Bias of the projection, or None when it has none.

    "up"/"gate": Float[Tensor, "d_mlp"], one per neuron (TL b_in / b_gate).
    "down": Float[Tensor, " d_model"], the MLP's output bias (TL b_out), not per neuron.
    """
    bias = getattr(mlp_module(bridge, facts, layer, side), "bias", None)
    return None if bias is None else bias.detach()


def final_norm_module(bridge: Any) -> torch.nn.Module:
    return _original(bridge.ln_final)


def final_norm_eps(norm: torch.nn.Module) -> float:
    for name in ("eps", "variance_epsilon", "epsilon"):
        value = getattr(norm, name, None)
        if isinstance(value, (int, float)):
            return float(value)
    return 1e-5


def final_norm_gain_bias(
    bridge: Any, facts: ModelFacts
) -> tuple[Float[Tensor, " d_model"], Float[Tensor, " d_model"] | None]:
    """The final norm's elementwise gain (1+w for offset RMSNorms, e.g. Gemma) and bias, fp32."""
    norm = final_norm_module(bridge)
    weight = getattr(norm, "weight", None)
    if weight is None:
        gain = torch.ones(facts.d_model)
    else:
        gain = weight.detach().float()
        if getattr(bridge.cfg, "rmsnorm_uses_offset", False):
            gain = gain + 1.0
    bias = getattr(norm, "bias", None)
    return gain, (None if bias is None else bias.detach().float())


def normalize_final(bridge: Any, facts: ModelFacts, x: Float[Tensor, "... d_model"]
                    ) -> Float[Tensor, "... d_model"]:
    """The scale-free part of the final norm (no gain, no bias), computed in float32.

    LayerNorm: (x - mean(x)) / sqrt(var(x) + eps).  RMSNorm: x / sqrt(mean(x^2) + eps).
    """
    eps = final_norm_eps(final_norm_module(bridge))
    x32 = x.float()
    if facts.norm == "layernorm":
        x32 = x32 - x32.mean(-1, keepdim=True)
    return (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype)


def folded_unembedding(
    bridge: Any, facts: ModelFacts, dtype: torch.dtype | None = None
) -> tuple[Float[Tensor, "d_model d_vocab"], Float[Tensor, " d_vocab"]]:
    """(W_U, b_U) with the final norm folded in, so that

        lm_head(final_norm(x)) == normalize_final(x) @ W_U + b_U

    W_U = diag(gain) @ lm_head.weight.T;  b_U = norm.bias @ lm_head.weight.T + lm_head.bias
    (zeros where absent). Decoding a *direction* v (a neuron vector): the final LayerNorm
    centres its input, so use (v - v.mean()) @ W_U; for RMSNorm use v @ W_U directly. Logit
    soft-capping (Gemma 2) is not linear and is not included. Computed in float32, returned in
    `dtype` (default: the model's dtype). A fresh tensor: safe to keep or edit.
    """
    check_unprocessed(bridge)
    head = _original(bridge.unembed)
    w = _as_x_at_m(head).float()  # [d_model, d_vocab]
    gain, norm_bias = final_norm_gain_bias(bridge, facts)
    gain = gain.to(w.device)
    w_u = gain[:, None] * w
    b_u = torch.zeros(w.shape[1], device=w.device)
    if norm_bias is not None:
        b_u = b_u + norm_bias.to(w.device) @ w
    head_bias = getattr(head, "bias", None)
    if head_bias is not None:
        b_u = b_u + head_bias.detach().float()
    out_dtype = dtype or head.weight.dtype
    return w_u.to(out_dtype), b_u.to(out_dtype)
