"""Neurons: decode MLP neuron vectors through the LM head (decode_neurons -> NeuronMap), save
and load the map, find neurons for words, compare and merge maps.

The names below load on first use, so `interp.neurons.options` (DecodeOptions) imports no
torch: the CLI reads its defaults while building its parser."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from interp.neurons.compare import Agreement, agreement
    from interp.neurons.decode import LayerDecode
    from interp.neurons.find import NeuronHit, count_coherent, find_neurons, token_variants
    from interp.neurons.mapper import decode_neurons, map_neurons
    from interp.neurons.merge import merge_maps
    from interp.neurons.neuron_map import NeuronMap
    from interp.neurons.options import DecodeOptions

_MODULES = {
    "Agreement": "compare", "agreement": "compare", "LayerDecode": "decode",
    "NeuronHit": "find", "count_coherent": "find", "find_neurons": "find",
    "token_variants": "find", "decode_neurons": "mapper", "map_neurons": "mapper",
    "merge_maps": "merge", "NeuronMap": "neuron_map", "DecodeOptions": "options",
}

__all__ = [
    "Agreement", "DecodeOptions", "LayerDecode", "NeuronHit", "NeuronMap", "agreement",
    "count_coherent", "decode_neurons", "find_neurons", "map_neurons", "merge_maps",
    "token_variants",
]


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
