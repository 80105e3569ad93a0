"""Model: a TransformerBridge plus tokenizer, facts and fingerprint, with the few helpers that
every analysis needs (hook names, raw weight vectors, folded unembedding, tokens, generation).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from jaxtyping import Float, Int
from torch import Tensor

from interp.errors import InterpError
from interp.models import sites, weights
from interp.models.facts import ModelFacts


class Model:
    """A loaded model. Build it with `interp.load_model`.

    Attributes: `bridge` (transformer_lens TransformerBridge; raw HF weights, hooks use
    TransformerLens names), `tokenizer`, `name` (source as given), `path` (local directory or
    None for a cached hub name), `device`, `dtype`, `facts` (ModelFacts), `fingerprint` (hex
    str of the checkpoint as loaded; see interp.models.fingerprint), `source_info` (for a model
    converted from GGUF: its file, sha256 and converter versions; None otherwise).
    """

    def __init__(
        self, *, bridge: Any, tokenizer: Any, name: str, path: Path | None,
        device: torch.device, dtype: torch.dtype, facts: ModelFacts, fingerprint: str,
        source_info: dict | None = None,
    ) -> None:
        self.bridge = bridge
        self.tokenizer = tokenizer
        self.name = name
        self.path = path
        self.device = device
        self.dtype = dtype
        self.facts = facts
        self.fingerprint = fingerprint
        self.source_info = source_info
        self._hook_names: frozenset[str] | None = None

    @classmethod
    def from_hf(cls, hf_model: Any, tokenizer: Any, *, name: str | None = None,
                device: str | torch.device | None = None) -> Model:
        """Wrap a transformers causal LM already in memory, with its tokenizer, without
        reading any weight again: same facts and fingerprint as `load_model` of its checkpoint.
        name: what artifacts record (default: the config's name_or_path); device: where to put
        it (default: where it is). See interp.models.wrap.wrap_hf."""
        from interp.models.wrap import wrap_hf

        return wrap_hf(hf_model, tokenizer, name=name, device=device)

    @classmethod
    def from_bridge(cls, bridge: Any, *, name: str | None = None) -> Model:
        """Wrap an existing transformer-lens TransformerBridge (raw weights, as
        `TransformerBridge.boot_transformers` gives it): same facts and fingerprint as
        `load_model` of its checkpoint. See interp.models.wrap.wrap_bridge."""
        from interp.models.wrap import wrap_bridge

        return wrap_bridge(bridge, name=name)

    def __repr__(self) -> str:
        f = self.facts
        return (
            f"Model({self.name!r}, {f.architecture}, layers={f.n_layers}, d_model={f.d_model}, "
            f"d_mlp={f.d_mlp}, device={self.device}, dtype={self.dtype}, "
            f"fingerprint={self.fingerprint})"
        )

    @property
    def hf_model(self) -> torch.nn.Module:
        """The wrapped HF model (its submodules are now bridge components; run via `bridge`)."""
        return self.bridge.original_model

    # ---- hook names -------------------------------------------------------------------
    @property
    def sites(self) -> list[str]:
        """Site names valid for this architecture (see interp.models.sites.SITE_DOCS)."""
        return sites.available_sites(self.facts)

    def hook_name(self, site: str, layer: int) -> str:
        """Verbatim TransformerLens hook name, e.g. hook_name("mlp_post", 3) ->
        "blocks.3.mlp.hook_post"; raises InterpError for a bad site or layer."""
        name = sites.hook_name(self.facts, site, layer)
        if self._hook_names is None:
            self._hook_names = frozenset(self.bridge.hook_dict)
        if name not in self._hook_names:
            raise InterpError(
                f"hook {name!r} (site {site!r}) does not exist in this {self.facts.architecture}"
                " bridge"
            )
        return name

    # ---- weights ------------------------------------------------------------------------
    def neuron_vectors(self, layer: int, side: str = "up") -> Float[Tensor, "d_mlp d_model"]:
        """Raw MLP weight vectors, one row per neuron, in residual coordinates (read-only view).

        side "up" (TL W_in.T, what the neuron reads), "gate" (TL W_gate.T, gated only) or
        "down" (TL W_out, what it writes). Norm gains are not folded in; see
        interp.models.weights.neuron_vectors.
        """
        weights.check_unprocessed(self.bridge)
        return weights.neuron_vectors(self.bridge, self.facts, layer, side)

    def write_vectors(self, layer: int) -> Float[Tensor, "d_mlp d_model"]:
        """What each neuron writes to the residual stream: the down rows, times the post-MLP
        norm's gain where the architecture has one (Gemma-2/3); see
        interp.models.weights.write_vectors."""
        weights.check_unprocessed(self.bridge)
        return weights.write_vectors(self.bridge, self.facts, layer)

    def neuron_biases(self, layer: int, side: str = "up") -> Tensor | None:
        """b_in / b_gate ([d_mlp]) for "up"/"gate", b_out ([d_model]) for "down"; None if absent."""
        weights.check_unprocessed(self.bridge)
        return weights.neuron_biases(self.bridge, self.facts, layer, side)

    def folded_unembedding(
        self, dtype: torch.dtype | None = None
    ) -> tuple[Float[Tensor, "d_model d_vocab"], Float[Tensor, " d_vocab"]]:
        """(W_U, b_U): lm_head(final_norm(x)) == normalize_final(x) @ W_U + b_U.

        To decode a direction v: center_for_unembed(v) @ W_U (LayerNorm centres; RMSNorm not).
        """
        return weights.folded_unembedding(self.bridge, self.facts, dtype)

    def normalize_final(self, x: Float[Tensor, "... d_model"]) -> Float[Tensor, "... d_model"]:
        """Scale-free part of the final norm: LayerNorm centres then divides by std; RMSNorm
        divides by rms. No gain or bias (those live in folded_unembedding)."""
        return weights.normalize_final(self.bridge, self.facts, x)

    def center_for_unembed(self, v: Float[Tensor, "... d_model"]) -> Float[Tensor, "... d_model"]:
        """The linear part of the final norm's normalisation: v - mean(v) for LayerNorm, v for
        RMSNorm. Use before `@ W_U` when decoding a direction rather than a residual state."""
        return v - v.mean(-1, keepdim=True) if self.facts.norm == "layernorm" else v

    def cap_logits(self, logits: Float[Tensor, "... d_vocab"]) -> Float[Tensor, "... d_vocab"]:
        """The architecture's final logit soft-capping (cap * tanh(logits / cap), Gemma-2's
        final_logit_softcapping), or `logits` unchanged where it has none."""
        cap = getattr(self.hf_model.config, "final_logit_softcapping", None)
        return cap * torch.tanh(logits / cap) if cap else logits

    def folded_logits(self, x: Float[Tensor, "... d_model"]) -> Float[Tensor, "... d_vocab"]:
        """Logits of final residual states through the folded unembedding (== the model's)."""
        w_u, b_u = self.folded_unembedding(torch.float32)
        return self.normalize_final(x).float() @ w_u + b_u

    # ---- tokens & running ----------------------------------------------------------------
    def to_tokens(
        self, text: str | list[str], prepend_bos: bool | None = None,
        padding_side: str | None = None, truncate: bool = True,
    ) -> Int[Tensor, "batch pos"]:
        """Token ids on the model's device; BOS prepended per the bridge's default unless told.
        truncate: cut to the model's context (the bridge's default); False keeps every token,
        so that a caller can refuse a prompt that is too long (`check_length`)."""
        return self.bridge.to_tokens(text, prepend_bos=prepend_bos, padding_side=padding_side,
                                     truncate=truncate)

    def to_str_tokens(
        self, text_or_tokens: str | list[str] | Tensor, prepend_bos: bool | None = None
    ) -> list[str] | list[list[str]]:
        return self.bridge.to_str_tokens(text_or_tokens, prepend_bos=prepend_bos)

    def to_string(self, tokens: Tensor | list[int]) -> str | list[str]:
        return self.bridge.to_string(tokens)

    def logits(
        self, tokens: Int[Tensor, "batch pos"] | str | list[str], *, grad: bool = False,
        **kwargs: Any,
    ) -> Float[Tensor, "batch pos d_vocab"]:
        """Forward through the bridge (active hooks apply). No autograd unless grad=True."""
        if isinstance(tokens, Tensor):
            tokens = tokens.to(self.device)
        with torch.set_grad_enabled(grad):
            return self.bridge(tokens, return_type="logits", **kwargs)

    def run_with_cache(
        self, input: str | list[str] | Tensor, names_filter: Any = None, **kwargs: Any,
    ) -> tuple[Any, Any]:
        """(logits, transformer_lens ActivationCache) of one forward pass, as TransformerLens'
        `run_with_cache`: `cache["blocks.3.hook_resid_post"]`, `cache["resid_post", 3]`.
        names_filter: None (every hook), a name, a list of names or a predicate; kwargs:
        return_type, remove_batch_dim, prepend_bos, device (see interp.hooks.run_cache)."""
        from interp.hooks.run_cache import run_with_cache

        return run_with_cache(self, input, names_filter, **kwargs)

    def check_length(self, n_tokens: int, what: str) -> None:
        """InterpError unless `n_tokens` (described by `what`, e.g. "max_new_tokens 500 after
        a prompt of 7 tokens") fit the model's context (facts.n_ctx): the one context check."""
        n_ctx = self.facts.n_ctx
        if n_tokens > n_ctx:
            raise InterpError(f"{what}: {n_tokens} tokens, more than the model's context of "
                              f"{n_ctx}; use at most {n_ctx} in all")

    def generate(
        self, prompt: str | list[str] | Int[Tensor, "batch pos"], max_new_tokens: int = 20, *,
        do_sample: bool = False, use_cache: bool = True, temperature: float = 1.0,
        top_k: int | None = None, top_p: float | None = None, stop_at_eos: bool = True,
        prepend_bos: bool | None = None, **kwargs: Any,
    ) -> str | list[str] | Int[Tensor, "batch pos"]:
        """Greedy (default) or sampled generation through the bridge, so active hooks apply
        at every step. Returns the prompt plus continuation, as text for text input and as
        token ids for token input (pass return_type="tokens"/"str" to choose). Extra kwargs go
        to TransformerBridge.generate (e.g. eos_token_id, freq_penalty, stop_strings).
        Each forward pass computes the logits of the last position only (generation reads no
        other; the same numbers, bit for bit, without a [batch, prompt, vocab] tensor), except
        with return_cache, whose replay of the output keeps every position."""
        kwargs.setdefault("verbose", False)
        if isinstance(prompt, Tensor):
            prompt = prompt.to(self.device)
        n_prompt = (prompt.shape[-1] if isinstance(prompt, Tensor) else
                    self.to_tokens(prompt, prepend_bos=prepend_bos).shape[-1])
        self.check_length(n_prompt + max_new_tokens,
                          f"max_new_tokens {max_new_tokens} after a prompt of {n_prompt} tokens")
        last_only = not kwargs.get("return_cache")  # that replays the output: every position
        with torch.no_grad(), _last_position_logits(self.hf_model, enabled=last_only):
            return self.bridge.generate(
                prompt, max_new_tokens=max_new_tokens, do_sample=do_sample,
                use_past_kv_cache=use_cache, temperature=temperature, top_k=top_k, top_p=top_p,
                stop_at_eos=stop_at_eos, prepend_bos=prepend_bos, **kwargs,
            )


@contextmanager
def _last_position_logits(hf_model: torch.nn.Module, enabled: bool = True) -> Iterator[None]:
    """While active, the Hugging Face model's forward computes only the last position's logits
    (its `logits_to_keep=1`), unless a caller passes another value; a model whose forward has
    no such parameter (or `enabled=False`) is left as it is. Restored on exit, even when the
    body raises."""
    original = hf_model.forward
    if not enabled or "logits_to_keep" not in inspect.signature(original).parameters:
        yield
        return
    own = "forward" in vars(hf_model)

    @functools.wraps(original)
    def forward(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("logits_to_keep", 1)
        return original(*args, **kwargs)

    hf_model.forward = forward  # type: ignore[method-assign]
    try:
        yield
    finally:
        if own:
            hf_model.forward = original  # type: ignore[method-assign]
        else:
            del hf_model.forward
