"""Merge neuron-map shards (same model and options, disjoint or identical layers) into one."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch

from interp.errors import InterpError
from interp.neurons import store
from interp.neurons.neuron_map import NeuronMap


def merge_maps(sources: Sequence[str | os.PathLike], out: str | os.PathLike) -> NeuronMap:
    """Join the maps in `sources` into directory `out` (which may be one of them, or already
    hold a compatible map). Everything is read and checked before anything is written: maps
    of another model or other options, or a layer present twice with different values, raise
    InterpError and leave `out` untouched."""
    if not sources:
        raise InterpError("merge needs at least one map directory")
    store.NEURON_MAP.check_output(out)  # before reading the sources
    maps = [NeuronMap.load(s) for s in sources]
    first = maps[0]
    for path, m in zip(sources[1:], maps[1:], strict=True):
        why = first.header.mismatch(m.header)
        if why:
            raise InterpError(f"cannot merge '{path}' with '{sources[0]}': {why}")
    data = {}
    for path, m in zip(sources, maps, strict=True):
        for layer, decoded in m.data.items():
            if layer in data and not all(
                torch.equal(x, y) for x, y in zip(data[layer].tensors().values(),
                                                  decoded.tensors().values(), strict=True)):
                raise InterpError(f"layer {layer} is in several shards with different values "
                                  f"(again in '{path}'); were they made the same way?")
            data[layer] = decoded
    merged = NeuronMap(first.header, first.vocab, data)
    out_path = Path(out)
    if store.NEURON_MAP.check_output(out_path):
        NeuronMap.load(out_path)  # validate before writing; a compatible map may gain layers
    merged.save(out_path)  # refuses a map of another model or other options
    return NeuronMap.load(out_path)
