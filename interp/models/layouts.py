"""Decoder layouts interp refuses, each named in one InterpError line: checked on the HF config
before any weight is read (`check_config`) and on the booted bridge (`check_bridge`).

interp decodes a direction through the final norm and the LM head (interp.models.weights); a
layout without that path, or one that transformer-lens bridges wrongly, is refused rather than
decoded wrongly.
"""

from __future__ import annotations

from typing import Any

from interp.errors import InterpError


def check_config(config: Any) -> None:
    """Raise InterpError when the transformers `config` describes a layout interp refuses."""
    check = {"opt": _opt, "falcon": _falcon}.get(str(getattr(config, "model_type", "")))
    why = check(config) if check else None
    if why:
        raise InterpError(why)


def _opt(config: Any) -> str | None:
    hidden = config.hidden_size
    proj = getattr(config, "word_embed_proj_dim", None) or hidden
    features = []
    if not getattr(config, "do_layer_norm_before", True):
        features.append("post-norm layers (do_layer_norm_before=false)")
    if getattr(config, "_remove_final_layer_norm", False):
        features.append("no final layer norm (_remove_final_layer_norm=true)")
    if proj != hidden:
        features.append(f"an output projection project_out (word_embed_proj_dim {proj} != "
                        f"hidden_size {hidden})")
    if not features:
        return None
    return (f"OPT with {' and '.join(features)}, as in facebook/opt-350m, is not supported: "
            "transformer-lens' OPT bridge then maps the final norm wrongly, so neither its "
            "forward pass nor a neuron's decode would match the model; supported: pre-norm OPT "
            "with a final norm and no projection (opt-125m, opt-1.3b and larger)")


def _falcon(config: Any) -> str | None:
    if not getattr(config, "new_decoder_architecture", False):
        return None
    return ("Falcon with new_decoder_architecture=true (the Falcon-40B/180B layout) is not "
            "supported: transformer-lens' Falcon bridge cannot split its grouped query_key_value "
            "weights; supported: Falcon with new_decoder_architecture=false (Falcon-7B, "
            "Falcon-RW)")


def check_bridge(bridge: Any, name: str) -> None:
    """Raise InterpError unless the bridge decodes as lm_head(ln_final(x)) with x in d_model:
    a final norm is bridged and the LM head reads the residual stream directly."""
    arch = bridge.cfg.architecture or type(bridge.original_model).__name__
    d_model = int(bridge.cfg.d_model)
    if getattr(bridge, "ln_final", None) is None:
        raise InterpError(
            f"{name!r} ({arch}) is not supported: transformer-lens bridges no final norm for "
            "it, so directions cannot be decoded through the LM head the way the model does")
    head = bridge.original_model.get_output_embeddings()
    width = getattr(head, "in_features", None)
    if width is not None and width != d_model:
        raise InterpError(
            f"{name!r} ({arch}) is not supported: its LM head reads {width} features, not the "
            f"residual stream's {d_model} (an output projection sits between them)")
