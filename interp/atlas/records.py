"""ActivationRecords: what the atlas shows about a neuron's activations (top-activating
windows, histogram, moments, weight-similar neighbours), saved as an interp.artifact (kind
RECORDS): cfg.json + one safetensors file per layer with the model fingerprint; the atlas
renders them without a model.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from torch import Tensor

from interp.artifact import (
    COUNT,
    INDEX,
    LAYER_FILE,
    Kind,
    TensorSpec,
    check_model,
    layer_files,
    load_tensors,
    tensor_bytes,
)
from interp.errors import InterpError

if TYPE_CHECKING:
    from interp.models.model import Model

RECORDS = Kind("activation-records", 1, "activation records", made="are of", a="an", fields={
    "model": str, "fingerprint": str, "site": str, "n_layers": COUNT, "d_mlp": COUNT,
    "top_k": COUNT, "window": [INDEX, INDEX], "hist_edges": [float], "n_tokens": COUNT,
    "n_docs": COUNT, "corpus": {"name": str}, "max_length": COUNT, "related_side": (str, None),
    "skip_bos": bool})
#: Tensors in every layer file (shapes and meaning: interp.atlas.collect.collect_records).
TENSORS = ("top_values", "top_doc", "top_pos", "window_ids", "window_acts", "hist",
           "act_mean", "act_std", "act_min", "act_max", "frac_pos", "related_ids",
           "related_cos")


def tensor_specs(header: dict[str, Any]) -> dict[str, TensorSpec]:
    """What each tensor of a layer file must be, from the (checked) header: shapes from d_mlp,
    top_k, window and hist_edges; floats finite (top_values may be -inf: a neuron seen in
    fewer than top_k documents); indices in range (-1: no entry)."""
    d, k = header["d_mlp"], header["top_k"]
    w = header["window"][0] + 1 + header["window"][1]
    ints = {"top_doc": TensorSpec((d, k), ("int64",), low=-1, high=header["n_docs"]),
            "top_pos": TensorSpec((d, k), ("int64",), low=-1, high=header["max_length"]),
            "window_ids": TensorSpec((d, k, w), ("int32",), low=-1),
            "hist": TensorSpec((d, len(header["hist_edges"]) + 1), ("int64",), low=0),
            "related_ids": TensorSpec((d, "related"), ("int32",), low=0, high=d)}
    floats = {"top_values": TensorSpec((d, k), inf=True), "window_acts": TensorSpec((d, k, w)),
              "related_cos": TensorSpec((d, "related"))}
    floats |= {name: TensorSpec((d,)) for name in ("act_mean", "act_std", "act_min", "act_max",
                                                   "frac_pos")}
    specs = ints | floats
    return {name: specs[name] for name in TENSORS}


@dataclass
class ActivationRecords:
    """Per layer (`layers[layer]` -> {tensor name: tensor}) records of one model.

    header: model, fingerprint, site, corpus description, top_k, window (before, after),
    hist_edges, n_tokens and the options used; see interp.atlas.collect for the meaning.
    """

    header: dict[str, Any]
    layers: dict[int, dict[str, Tensor]] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        return str(self.header["fingerprint"])

    @property
    def model(self) -> str:
        return str(self.header["model"])

    def __repr__(self) -> str:
        h = self.header
        return (f"ActivationRecords({self.model!r}, layers={sorted(self.layers)}, "
                f"top_k={h['top_k']}, corpus={h['corpus']['name']!r}, "
                f"{h['n_tokens']} tokens, fingerprint={self.fingerprint})")

    def check_model(self, model: Model | str) -> None:
        """Refuse (InterpError) a model, or a fingerprint, other than these records'."""
        check_model("activation records are of", self.model, self.fingerprint, model,
                    "collect them for that model")

    def save(self, path: str | os.PathLike) -> Path:
        """Write to directory `path` (new, empty, or holding records: replaced whole)."""
        files = ((LAYER_FILE.format(layer=layer),
                  tensor_bytes(tensors, self.fingerprint, layer=str(layer)))
                 for layer, tensors in sorted(self.layers.items()))
        return RECORDS.save(path, self.header, files)

    @classmethod
    def load(cls, path: str | os.PathLike) -> ActivationRecords:
        """Read and validate the records in directory `path` (InterpError if it is not)."""
        path = Path(path)
        cfg = RECORDS.read(path)
        header = {k: v for k, v in cfg.items() if k not in ("format", "format_version")}
        layers = {}
        expect = tensor_specs(header)
        for layer in layer_files(path):
            file = path / LAYER_FILE.format(layer=layer)
            try:
                if layer >= header["n_layers"]:
                    raise InterpError(f"{file.name}: the model has {header['n_layers']} layers")
                layers[layer], _ = load_tensors(file, cfg["fingerprint"], expect=expect,
                                                meta={"layer": str(layer)})
            except InterpError as err:
                raise RECORDS.invalid(path, str(err)) from None
        return cls(header, layers)
