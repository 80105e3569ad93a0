"""ModelFacts: the architecture numbers every other module needs (layers, widths, norm kind...).

Built once from a TransformerBridge's config plus the HF config, then frozen.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

_NORMS = {"LN": "layernorm", "LNPre": "layernorm", "RMS": "rmsnorm", "RMSPre": "rmsnorm"}
_POSITIONAL = {"standard": "absolute", "rotary": "rotary"}
#: Where HF configs name the MLP activation, in transformer-lens' order, plus Falcon's
#: `activation` (transformer-lens does not read it and reports its default, relu).
_ACTIVATION_FIELDS = ("activation_function", "hidden_activation", "hidden_act", "activation")


@dataclass(frozen=True)
class ModelFacts:
    """Shape and kind of a decoder-only transformer.

    `norm` is "layernorm" or "rmsnorm"; `positional` is "absolute" or "rotary" (other
    TransformerLens kinds, e.g. "alibi", pass through verbatim). `n_kv_heads` equals
    `n_heads` unless the model uses grouped-query attention. `parallel_attn_mlp` is True
    when attention and MLP both read `resid_pre` (GPT-NeoX/Pythia, GPT-J): such blocks
    have no `resid_mid`.
    """

    architecture: str
    n_layers: int
    d_model: int
    d_mlp: int
    n_heads: int
    n_kv_heads: int
    d_head: int
    d_vocab: int
    n_ctx: int
    gated_mlp: bool
    norm: str
    positional: str
    act_fn: str
    tied_embeddings: bool
    parallel_attn_mlp: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict of every field."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelFacts:
        """Inverse of `to_dict`; unknown keys are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def _first(obj: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        value = getattr(obj, name, None)
        if value is not None:
            return value
    return default


def facts_from_bridge(bridge: Any) -> ModelFacts:
    """Read ModelFacts from a booted TransformerBridge (its `cfg` and the wrapped HF model)."""
    cfg = bridge.cfg
    hf_model = bridge.original_model
    hf_cfg = hf_model.config
    if hasattr(hf_cfg, "get_text_config"):
        hf_cfg = hf_cfg.get_text_config()
    n_heads = int(cfg.n_heads)
    n_kv = _first(cfg, "n_key_value_heads") or _first(hf_cfg, "num_key_value_heads") or n_heads
    norm_type = str(cfg.normalization_type)
    norm = _NORMS.get(norm_type, norm_type.lower())
    if getattr(cfg, "uses_rms_norm", False) or getattr(cfg, "final_rms", False):
        norm = "rmsnorm"
    positional = _POSITIONAL.get(cfg.positional_embedding_type, cfg.positional_embedding_type)
    parallel = bool(getattr(cfg, "parallel_attn_mlp", False)) or bool(
        getattr(hf_cfg, "use_parallel_residual", False)
    )
    return ModelFacts(
        architecture=str(cfg.architecture or type(hf_model).__name__),
        n_layers=int(cfg.n_layers),
        d_model=int(cfg.d_model),
        d_mlp=_mlp_width(bridge),
        n_heads=n_heads,
        n_kv_heads=int(n_kv),
        d_head=int(cfg.d_head),
        d_vocab=int(_first(cfg, "d_vocab_out", "d_vocab")),
        n_ctx=int(cfg.n_ctx),
        gated_mlp=bool(cfg.gated_mlp),
        norm=norm,
        positional=str(positional),
        act_fn=str(_first(hf_cfg, *_ACTIVATION_FIELDS, default=cfg.act_fn)),
        tied_embeddings=_tied(hf_model),
        parallel_attn_mlp=parallel,
    )


def _mlp_width(bridge: Any) -> int:
    """Neurons per MLP as layer 0's input projection has them (transformer-lens' cfg.d_mlp
    assumes 4 * d_model when a config names the width otherwise, e.g. OPT's ffn_dim); cfg.d_mlp
    for an MLP without a separate input projection (fused, mixture of experts)."""
    component = getattr(bridge.blocks[0].mlp, "in", None)
    module = getattr(component, "original_component", None) or component
    width = _first(module, "out_features", "nf")  # nn.Linear, GPT-2's Conv1D
    return int(width if width is not None else bridge.cfg.d_mlp)


def _tied(hf_model: Any) -> bool:
    """True when the LM head shares its storage with the input embedding."""
    try:
        emb = hf_model.get_input_embeddings().weight
        head = hf_model.get_output_embeddings().weight
    except (AttributeError, NotImplementedError):
        return bool(getattr(hf_model.config, "tie_word_embeddings", False))
    return emb.data_ptr() == head.data_ptr()
