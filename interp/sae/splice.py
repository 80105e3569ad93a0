"""Run an SAE (interp's SparseAutoencoder or a SAELensSAE) on a model at its hook: feature
activations on a prompt, and splicing (the SAE's reconstruction replaces the activation;
restored on exit, even on an exception) through interp.hooks' one hook mechanism.

Hook names are TransformerLens names, as SAELens writes them ("blocks.3.hook_resid_pre",
"blocks.3.attn.hook_z", "blocks.3.hook_mlp_out"), or (site, layer) pairs. At attn_z an SAE
reads one head ([d_head], `head`, SAELens' hook_head_index) or all heads flattened
([n_heads * d_head], SAELens' reshape_activations "hook_z").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from jaxtyping import Float, Int
from torch import Tensor

from interp.errors import InterpError
from interp.models.sites import SITES
from interp.sae.model import SparseAutoencoder
from interp.sae.saelens_model import SAELensSAE

if TYPE_CHECKING:
    from interp.hooks.apply import Handle
    from interp.models.model import Model

AnySAE = SparseAutoencoder | SAELensSAE
Hook = str | tuple[str, int]
_TEMPLATES = {site: re.compile("^" + re.escape(t).replace(r"\{layer\}", r"(\d+)") + "$")
              for site, t in SITES.items()}


def resolve_hook(model: Model, hook: Hook) -> str:
    """The bridge's hook name for a TransformerLens / SAELens hook name or a (site, layer)
    pair; InterpError naming the value and the valid names when the model has no such hook."""
    if isinstance(hook, tuple):
        return model.hook_name(*hook)
    if not isinstance(hook, str):
        raise InterpError(f"hook must be a hook name or a (site, layer) pair, got {hook!r}")
    for site, pattern in _TEMPLATES.items():
        match = pattern.match(hook)
        if match:
            try:
                return model.hook_name(site, int(match.group(1)))
            except InterpError as err:
                raise InterpError(f"hook {hook!r} does not exist in {model.name!r}: {err}; "
                                  f"valid: {valid_hooks(model)}") from None
    if hook in model.bridge.hook_dict:
        return hook
    raise InterpError(f"hook {hook!r} does not exist in {model.name!r}; valid: "
                      f"{valid_hooks(model)}")


def valid_hooks(model: Model) -> str:
    """The hook names an SAE may name on `model`, as patterns ("blocks.{0..5}.hook_resid_pre",
    ...), for error messages."""
    last = model.facts.n_layers - 1
    names = [SITES[s].replace("{layer}", f"{{0..{last}}}") for s in model.sites]
    return ", ".join(names) + " (or any other name in model.bridge.hook_dict)"


@dataclass(frozen=True)
class SAESplice:
    """The spec recorded for a spliced SAE (it shows in interp.hooks.active_interventions)."""

    hook: str
    d_in: int
    n_latents: int
    head: int | None = None


def _target(sae: AnySAE, hook: Hook | None, head: int | None) -> tuple[Hook, int | None]:
    if isinstance(sae, SAELensSAE):
        hook = hook if hook is not None else sae.cfg.hook_name
        head = head if head is not None else sae.cfg.hook_head_index
    elif not isinstance(sae, SparseAutoencoder):
        raise InterpError(f"expected an interp SparseAutoencoder or a SAELensSAE, got "
                          f"{type(sae).__name__}")
    if hook is None:
        raise InterpError("this SAE names no hook; pass hook=, e.g. 'blocks.0.hook_resid_post' "
                          "or ('resid_post', 0)")
    return hook, head


def _reader(model: Model, sae: AnySAE, name: str, head: int | None) -> Any:
    """fn(activation) -> (the SAE's input [..., d_in], fn(reconstruction) -> activation)."""
    d_in = sae.cfg.d_in
    f = model.facts
    if head is not None:
        if not name.endswith("attn.hook_z"):
            raise InterpError(f"head {head!r} given for hook {name!r}; a head index applies "
                              "to attn.hook_z only")
        if isinstance(head, bool) or not isinstance(head, int) or not 0 <= head < f.n_heads:
            raise InterpError(f"head {head!r} out of range; valid: 0..{f.n_heads - 1}")

    def read(x: Tensor) -> tuple[Tensor, Any]:
        if head is not None:
            block = x[..., head, :]

            def write(y: Tensor) -> Tensor:
                out = x.clone()
                out[..., head, :] = y.to(x.dtype)
                return out
        elif x.dim() == 4 and name.endswith("hook_z"):  # [batch, pos, head, d_head]
            block = x.flatten(-2)

            def write(y: Tensor) -> Tensor:
                return y.to(x.dtype).reshape(x.shape)
        else:
            block = x

            def write(y: Tensor) -> Tensor:
                return y.to(x.dtype)
        if block.shape[-1] != d_in:
            raise InterpError(f"the SAE reads vectors of {d_in}, but hook {name!r} gives "
                              f"{block.shape[-1]} per token" + (f" (head {head})" if head
                                                                is not None else ""))
        return block, write

    return read


def _tokens(model: Model, prompt: str | list[str] | Tensor) -> Tensor:
    if isinstance(prompt, Tensor):
        if prompt.dtype.is_floating_point or prompt.dim() not in (1, 2):
            raise InterpError(f"token tensor must be [batch, pos] integers, got "
                              f"{prompt.dtype} {tuple(prompt.shape)}")
        return prompt.reshape(-1, prompt.shape[-1]).to(model.device)
    return model.to_tokens(prompt)


@torch.no_grad()
def feature_acts(
    model: Model, sae: AnySAE, prompt: str | list[str] | Int[Tensor, "batch pos"], *,
    hook: Hook | None = None, head: int | None = None,
) -> Float[Tensor, "batch pos n_latents"]:
    """The SAE's feature activations on each token of `prompt` (text, tokenized with the
    model's BOS rule, or token ids), read at its hook (a SAELensSAE's own by default). The
    model runs only up to that hook's block."""
    from interp.hooks.attach import attach
    from interp.hooks.names import stop_layer

    hook, head = _target(sae, hook, head)
    name = resolve_hook(model, hook)
    read = _reader(model, sae, name, head)
    tokens = _tokens(model, prompt)
    got: dict[str, Tensor] = {}

    def grab(x: Tensor, hook: Any = None) -> None:
        got["x"] = read(x)[0]

    with attach(model, {name: grab}):
        model.bridge(tokens, return_type=None,
                     stop_at_layer=stop_layer([name], model.facts.n_layers))
    if "x" not in got:
        raise InterpError(f"hook {name!r} did not fire during the forward pass")
    return sae.encode(got["x"].to(sae.W_enc.device))


def compiled_splice(model: Model, sae: AnySAE, hook: Hook | None = None,
                    head: int | None = None) -> Any:
    """The validated (spec, hook name, fn) record for interp.hooks.apply.Handle."""
    from interp.hooks.interventions import Compiled

    hook, head = _target(sae, hook, head)
    name = resolve_hook(model, hook)
    read = _reader(model, sae, name, head)
    spec = SAESplice(name, sae.cfg.d_in, sae.cfg.n_latents, head)

    def fn(x: Float[Tensor, "batch pos ..."], hook: Any = None) -> Tensor:
        block, write = read(x)
        return write(sae(block.to(sae.W_enc.device))[0].to(x.device))

    return Compiled(spec, name, fn)  # type: ignore[arg-type]


@contextmanager
def splice_sae(model: Model, sae: AnySAE, *, hook: Hook | None = None,
               head: int | None = None) -> Iterator[Handle]:
    """Context manager: inside, the activation at the SAE's hook (a SAELensSAE's own by
    default) is the SAE's reconstruction of it, in every forward pass and generation step;
    restored on exit, even on an exception. Validated before the body runs."""
    from interp.hooks.apply import scoped

    with scoped(model, [compiled_splice(model, sae, hook, head)]) as handle:
        yield handle


def attach_sae(model: Model, sae: AnySAE, *, hook: Hook | None = None,
               head: int | None = None) -> Handle:
    """Splice the SAE in persistently; undo with `handle.remove()`."""
    from interp.hooks.apply import Handle

    return Handle(model, [compiled_splice(model, sae, hook, head)])
