"""NeuronMap: the decoded neurons of a model (per layer: top/bottom tokens, probabilities,
specialisation scores), its options and model fingerprint; saved as an artifact directory.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from interp.artifact import layer_files
from interp.errors import InterpError, range_error
from interp.neurons import store
from interp.neurons.decode import LayerDecode
from interp.neurons.options import DecodeOptions
from interp.neurons.store import MapHeader

if TYPE_CHECKING:
    from interp.neurons.compare import Agreement
    from interp.neurons.find import NeuronHit


class NeuronMap:
    """Decoded MLP neurons of one model, for some or all of its layers.

    Build one with `interp.neurons.decode_neurons`; `NeuronMap.load(dir)` reads a saved one.
    `header` holds the model name, fingerprint, shapes and the DecodeOptions; `vocab[i]` is the
    decoded string of token i; `data[layer]` the LayerDecode of that layer.
    """

    def __init__(self, header: MapHeader, vocab: list[str], data: dict[int, LayerDecode]):
        self.header = header
        self.vocab = vocab
        self.data = dict(sorted(data.items()))

    def __repr__(self) -> str:
        o = self.options
        return (f"NeuronMap({self.model!r}, side={o.side!r}, layers={self.layers}, "
                f"d_mlp={self.header.d_mlp}, top_k={o.top_k}, center={o.center!r}, "
                f"fingerprint={self.fingerprint})")

    # ---- identity ---------------------------------------------------------------------
    @property
    def model(self) -> str:
        return self.header.model

    @property
    def fingerprint(self) -> str:
        return self.header.fingerprint

    @property
    def options(self) -> DecodeOptions:
        return self.header.options

    @property
    def layers(self) -> list[int]:
        return list(self.data)

    @property
    def complete(self) -> bool:
        """True when every layer of the model is present."""
        return self.layers == list(range(self.header.n_layers))

    @property
    def missing(self) -> list[int]:
        """Layers the run that wrote this map planned but did not finish (interrupted)."""
        return sorted(set(self.header.planned or ()) - set(self.data))

    # ---- files ------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | os.PathLike, *, partial: bool = False) -> NeuronMap:
        """Read and validate the map in directory `path` (InterpError if it is not one).

        A map whose run was interrupted (layers it planned are missing) is refused, so it is
        never taken for a finished one; `partial=True` reads the layers it has."""
        path = Path(path)
        header, vocab = store.read_header(path)
        data = {layer: store.read_layer(path, header, layer) for layer in layer_files(path)}
        bad = [layer for layer in data if layer >= header.n_layers]
        if bad:
            raise InterpError(f"'{path}' is not a valid neuron map: layer {bad[0]} is out of "
                              f"range for a model of {header.n_layers} layers")
        nmap = cls(header, vocab, data)
        if nmap.missing and not partial:
            raise InterpError(
                f"neuron map '{path}' is unfinished: layers {_spans(nmap.missing)} of the "
                f"{_spans(header.planned or ())} its run planned are missing (interrupted?); "
                "rerun the same interp map-neurons command to finish it "
                "(NeuronMap.load(path, partial=True) reads the layers there)")
        return nmap

    def save(self, path: str | os.PathLike) -> Path:
        """Write this map to directory `path` (created if needed). Refuses a directory that
        holds a map of another model or other options, or any other non-empty directory."""
        path = Path(path)
        prepare_output(path, self.header)
        planned = tuple(sorted(set(self.header.planned or ()) | set(self.data)))
        store.write_header(path, dataclasses.replace(self.header, planned=planned), self.vocab)
        for layer, data in self.data.items():
            store.write_layer(path, self.header, layer, data)
        return path

    # ---- queries ------------------------------------------------------------------------
    def layer(self, layer: int) -> LayerDecode:
        """The LayerDecode of `layer` (InterpError if it is not in this map)."""
        if layer not in self.data:
            if not 0 <= layer < self.header.n_layers:
                raise range_error("layer", layer, self.header.n_layers)
            raise InterpError(f"layer {layer} is not in this map (it has layers {self.layers})")
        return self.data[layer]

    def _check_neuron(self, neuron: int) -> None:
        if not 0 <= neuron < self.header.d_mlp:
            raise range_error("neuron", neuron, self.header.d_mlp)

    def top_tokens(
        self, layer: int, neuron: int, k: int | None = None, *, bottom: bool = False,
        value: str = "logit",
    ) -> list[tuple[str, float]]:
        """[(token string, score)] for the neuron's k highest (bottom=True: lowest) tokens;
        score is the decoded logit (value="logit") or its probability (value="prob")."""
        data = self.layer(layer)
        self._check_neuron(neuron)
        if value not in ("logit", "prob"):
            raise InterpError(f"value must be 'logit' or 'prob', got {value!r}")
        prefix = "bottom" if bottom else "top"
        ids = getattr(data, f"{prefix}_ids")[neuron]
        scores = getattr(data, f"{prefix}_{value}s")[neuron]
        k = len(ids) if k is None else k
        if not 1 <= k <= len(ids):
            raise InterpError(f"k must be in 1..{len(ids)} (the map keeps {len(ids)}), got {k}")
        return [(self.vocab[int(i)], float(s)) for i, s in zip(ids[:k], scores[:k], strict=True)]

    def find(self, tokens: str | Iterable[str], *, variants: bool = True,
             limit: int | None = 20, by: str = "mass") -> list[NeuronHit]:
        """Neurons whose top tokens include `tokens` (words; by default also with a leading
        space and in lower/Capitalised/UPPER case), ranked by the probability they give them
        (by="mass") or by how many of them are in the top-k (by="hits"). See
        interp.neurons.find.find_neurons."""
        from interp.neurons.find import find_neurons

        return find_neurons(self, tokens, variants=variants, limit=limit, by=by)

    def agreement(self, other: NeuronMap) -> Agreement:
        """Top-1 agreement (overall, per layer) and top-k overlap with another map of the
        same shape and vocabulary. See interp.neurons.compare.agreement."""
        from interp.neurons.compare import agreement

        return agreement(self, other)


def prepare_output(path: Path, header: MapHeader) -> bool:
    """Check that `path` can receive layers of a map with `header`; True if it already holds
    one (to resume or extend). Raises InterpError, writing nothing, when it cannot."""
    if not store.NEURON_MAP.check_output(path):
        return False
    existing, _ = store.read_header(path)
    why = header.mismatch(existing)
    if why:
        raise InterpError(f"output directory '{path}' cannot be used: {why}; "
                          "choose another output directory or delete it")
    for layer in layer_files(path):  # validates every finished layer
        store.read_layer(path, existing, layer)
    store.remove_stale_temporaries(path)
    return True


def _spans(layers: Iterable[int]) -> str:
    """Layers as text: "0-2,5"."""
    out: list[list[int]] = []
    for layer in sorted(layers):
        if out and layer == out[-1][1] + 1:
            out[-1][1] = layer
        else:
            out.append([layer, layer])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in out)
