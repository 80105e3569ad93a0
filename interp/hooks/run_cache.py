"""run_with_cache in the TransformerLens style: one forward pass that returns the logits and a
transformer_lens `ActivationCache` of every hook that fired (or those `names_filter` keeps),
keyed by the TransformerLens hook names, so `cache["blocks.3.hook_resid_post"]`,
`cache["resid_post", 3]`, `cache.accumulated_resid()` work as TransformerLens users expect.

Backed by interp's one hook mechanism (interp.hooks.attach): active interventions apply, and
the caching hooks are gone afterwards even when the forward pass raises.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import torch
from jaxtyping import Float
from torch import Tensor

from interp.errors import InterpError
from interp.hooks.attach import attach

if TYPE_CHECKING:
    from transformer_lens import ActivationCache

    from interp.models.model import Model

NamesFilter = str | Sequence[str] | Callable[[str], bool] | None
RETURN_TYPES = ("logits", "loss", "both", None)


def hook_names(model: Model, names_filter: NamesFilter = None) -> list[str]:
    """The bridge's hook names that `names_filter` keeps (TransformerLens semantics: None keeps
    all, a str one name, a list those names, a callable those it returns True for); a name
    that is not a hook of this model raises InterpError."""
    every = list(model.bridge.hook_dict)
    if names_filter is None:
        return every
    if callable(names_filter):
        return [name for name in every if names_filter(name)]
    wanted = [names_filter] if isinstance(names_filter, str) else list(names_filter)
    known = set(every)
    for name in wanted:
        if name not in known:
            near = [n for n in every if n.endswith(str(name).rsplit(".", 1)[-1])][:3]
            raise InterpError(
                f"names_filter: {name!r} is not a hook of this {model.facts.architecture} "
                f"model; valid names look like {', '.join(near or every[:3])} "
                "(see model.bridge.hook_dict)")
    return list(dict.fromkeys(wanted))


def run_with_cache(
    model: Model, input: str | list[str] | Tensor, names_filter: NamesFilter = None, *,
    return_type: str | None = "logits", remove_batch_dim: bool = False,
    prepend_bos: bool | None = None, device: str | torch.device | None = None,
    **kwargs: Any,
) -> tuple[Float[Tensor, "batch pos d_vocab"] | Any, ActivationCache]:
    """(output, cache) of one forward pass over `input` (text, texts or [batch, pos] token
    ids); output as `return_type` ("logits", "loss", "both" or None), as the bridge's forward.

    names_filter: which hooks to cache (see `hook_names`); remove_batch_dim: drop the batch axis
    (one sequence only); device: where the cached tensors go (default: the model's). Extra
    kwargs go to the bridge's forward (e.g. attention_mask). No gradients are kept.
    """
    from transformer_lens import ActivationCache

    if return_type not in RETURN_TYPES:
        raise InterpError(f"return_type must be one of logits, loss, both or None, got "
                          f"{return_type!r}")
    names = hook_names(model, names_filter)
    tokens = (input.to(model.device) if isinstance(input, Tensor)
              else model.to_tokens(input, prepend_bos=prepend_bos))
    if tokens.dim() == 1:
        tokens = tokens.unsqueeze(0)
    if remove_batch_dim and tokens.shape[0] != 1:
        raise InterpError(f"remove_batch_dim needs one sequence, got a batch of "
                          f"{tokens.shape[0]}")
    target = torch.device(device) if device is not None else None
    grabbed: dict[str, Tensor] = {}

    def keep(name: str) -> Callable[..., None]:
        def grab(x: Tensor, hook: Any = None) -> None:
            x = x.detach()
            grabbed[name] = x.to(target) if target is not None else x

        return grab

    with attach(model, [(name, keep(name)) for name in names]), torch.no_grad():
        output = model.bridge(tokens, return_type=return_type, **kwargs)
    if remove_batch_dim:
        grabbed = {name: x[0] for name, x in grabbed.items()}
    return output, ActivationCache(grabbed, model.bridge, has_batch_dim=not remove_batch_dim)
