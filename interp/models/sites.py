"""Activation sites: build verbatim TransformerLens hook names, validated against ModelFacts."""

from __future__ import annotations

from interp.errors import InterpError, choices_error, range_error
from interp.models.facts import ModelFacts

#: site -> hook-name template (TransformerLens names, which TransformerBridge also accepts).
SITES: dict[str, str] = {
    "resid_pre": "blocks.{layer}.hook_resid_pre",
    "resid_mid": "blocks.{layer}.hook_resid_mid",
    "resid_post": "blocks.{layer}.hook_resid_post",
    "attn_out": "blocks.{layer}.hook_attn_out",
    "mlp_out": "blocks.{layer}.hook_mlp_out",
    "mlp_pre": "blocks.{layer}.mlp.hook_pre",
    "mlp_pre_linear": "blocks.{layer}.mlp.hook_pre_linear",
    "mlp_post": "blocks.{layer}.mlp.hook_post",
    "attn_z": "blocks.{layer}.attn.hook_z",
    "attn_pattern": "blocks.{layer}.attn.hook_pattern",
}

#: What each site holds (shapes per token; z and pattern are per head).
SITE_DOCS: dict[str, str] = {
    "resid_pre": "residual stream entering the block [d_model]",
    "resid_mid": "residual stream after attention, before the MLP [d_model]",
    "resid_post": "residual stream leaving the block [d_model]",
    "attn_out": "attention output added to the residual [d_model]",
    "mlp_out": "MLP output added to the residual [d_model]",
    "mlp_pre": "MLP pre-activation: x.W_in (+b_in); gated models: x.W_gate [d_mlp]",
    "mlp_pre_linear": "gated models only: x.W_in (the up projection) [d_mlp]",
    "mlp_post": "MLP neuron activations, act(pre) (* pre_linear when gated) [d_mlp]",
    "attn_z": "per-head attention-weighted values [n_heads d_head]",
    "attn_pattern": "attention pattern [n_heads query key]",
}


def check_layer(facts: ModelFacts, layer: int) -> int:
    """Return `layer` as an int, or raise InterpError naming the valid range."""
    if isinstance(layer, bool) or not isinstance(layer, int):
        try:
            as_int = int(layer)  # numpy / torch integer scalars
        except (TypeError, ValueError):
            raise InterpError(
                f"layer must be an integer in 0..{facts.n_layers - 1}, got {layer!r}"
            ) from None
        if as_int != layer:
            raise InterpError(f"layer must be an integer in 0..{facts.n_layers - 1}, got {layer!r}")
        layer = as_int
    if not 0 <= layer < facts.n_layers:
        raise range_error("layer", layer, facts.n_layers)
    return layer


def available_sites(facts: ModelFacts) -> list[str]:
    """Sites that exist for this architecture (no resid_mid on parallel blocks, etc.)."""
    out = list(SITES)
    if not facts.gated_mlp:
        out.remove("mlp_pre_linear")
    if facts.parallel_attn_mlp:
        out.remove("resid_mid")
    return out


def hook_name(facts: ModelFacts, site: str, layer: int) -> str:
    """Verbatim TransformerLens hook name for `site` at `layer`, e.g. "blocks.3.mlp.hook_post"."""
    if site not in SITES:
        raise choices_error("site", site, SITES)
    if site not in available_sites(facts):
        why = (
            "the MLP is not gated" if site == "mlp_pre_linear"
            else "attention and MLP run in parallel, so there is no resid_mid"
        )
        raise InterpError(
            f"site {site!r} does not exist in {facts.architecture}: {why}; "
            f"available: {', '.join(available_sites(facts))}"
        )
    return SITES[site].format(layer=check_layer(facts, layer))
