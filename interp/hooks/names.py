"""Resolve capture sites — (site, layer) pairs, bare sites, verbatim hook names — to hook names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from interp.errors import InterpError
from interp.models.sites import SITES

if TYPE_CHECKING:
    from interp.models.model import Model

SiteSpec = str | tuple[str, int | None]
_BLOCK = re.compile(r"^blocks\.(\d+)\.")


def all_layers(model: Model, site: str) -> list[str]:
    """Hook names of `site` at every layer, e.g. all_layers(m, "mlp_post")."""
    return [model.hook_name(site, layer) for layer in range(model.facts.n_layers)]


def resolve_sites(model: Model, sites: SiteSpec | Sequence[SiteSpec]) -> list[str]:
    """Verbatim hook names, in order, without duplicates.

    Each item is a (site, layer) pair, (site, None) for every layer, a bare site name (every
    layer), or a verbatim TransformerLens hook name such as "blocks.0.attn.hook_z".
    """
    pair = isinstance(sites, tuple) and len(sites) == 2 and not isinstance(sites[1], str)
    if isinstance(sites, str) or pair:
        sites = [sites]  # type: ignore[list-item]
    if not sites:
        raise InterpError(
            "no sites given; pass e.g. [('mlp_post', 0)] or ['blocks.0.hook_resid_post']"
        )
    names: list[str] = []
    for item in sites:
        if isinstance(item, tuple):
            if len(item) != 2:
                raise InterpError(f"site {item!r} must be a (site, layer) pair")
            site, layer = item
            names += all_layers(model, site) if layer is None else [model.hook_name(site, layer)]
        elif isinstance(item, str) and item in model.bridge.hook_dict:
            names.append(item)
        elif isinstance(item, str) and item in SITES:
            names += all_layers(model, item)
        else:
            raise InterpError(
                f"unknown site or hook name {item!r}; use a (site, layer) pair with site in "
                f"{', '.join(model.sites)}, or a hook name from model.bridge.hook_dict "
                "(e.g. 'blocks.0.hook_resid_post')"
            )
    return list(dict.fromkeys(names))


def hook_layer(name: str) -> int | None:
    """Block index of a hook name ("blocks.3.mlp.hook_post" -> 3), None outside the blocks."""
    match = _BLOCK.match(name)
    return int(match.group(1)) if match else None


def stop_layer(names: Sequence[str], n_layers: int) -> int | None:
    """The `stop_at_layer` that still runs every hook in `names`, or None (run to the end)."""
    layers = [hook_layer(n) for n in names]
    if any(layer is None for layer in layers):
        return None
    last = max(layer for layer in layers if layer is not None)
    return last + 1 if last + 1 < n_layers else None
