"""ActivationRecords: what the atlas shows about a neuron's activations (top-activating
windows, histogram, moments, weight-similar neighbours), saved as cfg.json + one safetensors
file per layer with the model fingerprint; the atlas renders them without a model.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import Tensor

from interp.atomic import write_atomic
from interp.errors import InterpError
from interp.neurons.store import layer_files, remove_stale_temporaries

FORMAT = "interp.activation_records"
FORMAT_VERSION = 1
CFG_FILE = "cfg.json"
LAYER_FILE = "layer_{layer:05d}.safetensors"
#: Tensors in every layer file (shapes and meaning: interp.atlas.collect.collect_records).
TENSORS = ("top_values", "top_doc", "top_pos", "window_ids", "window_acts", "hist",
           "act_mean", "act_std", "act_min", "act_max", "frac_pos", "related_ids",
           "related_cos")


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

    def check_model(self, fingerprint: str, what: str = "the neuron map") -> None:
        if fingerprint != self.fingerprint:
            raise InterpError(
                f"activation records are of model {self.model} (fingerprint {self.fingerprint}),"
                f" not of {what} (fingerprint {fingerprint}); collect them for that model")

    def save(self, path: str | os.PathLike) -> Path:
        """Write to directory `path` (new, empty, or holding records of the same model)."""
        from safetensors.torch import save

        path = Path(path)
        if path.exists() and not path.is_dir():
            raise InterpError(f"records output '{path}' exists and is not a directory")
        if path.is_dir() and any(path.iterdir()):
            if not (path / CFG_FILE).is_file():
                raise InterpError(f"records directory '{path}' is not empty and holds no "
                                  "records; choose an empty or new directory")
            ActivationRecords.load(path).check_model(self.fingerprint, "these records")
        path.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(path)
        meta = {"fingerprint": self.fingerprint}
        for layer, tensors in sorted(self.layers.items()):
            data = {k: v.contiguous() for k, v in tensors.items()}
            write_atomic(path / LAYER_FILE.format(layer=layer),
                         save(data, metadata=meta | {"layer": str(layer)}))
        text = json.dumps({"format": FORMAT, "format_version": FORMAT_VERSION, **self.header},
                          indent=1, sort_keys=True)
        write_atomic(path / CFG_FILE, (text + "\n").encode())
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> ActivationRecords:
        """Read and validate the records in directory `path` (InterpError if it is not)."""
        from safetensors import safe_open

        path = Path(path)
        if not (path / CFG_FILE).is_file():
            raise InterpError(f"'{path}' holds no activation records (no {CFG_FILE}); collect "
                              "them with interp.atlas.collect_records or `interp atlas --model`")
        try:
            header = json.loads((path / CFG_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise InterpError(f"'{path}/{CFG_FILE}' is unreadable ({type(err).__name__})"
                              ) from None
        if header.get("format") != FORMAT or header.get("format_version") != FORMAT_VERSION:
            raise InterpError(f"'{path}' is not activation records of format {FORMAT} "
                              f"v{FORMAT_VERSION}")
        header = {k: v for k, v in header.items() if k not in ("format", "format_version")}
        layers = {}
        for layer in layer_files(path):
            file = path / LAYER_FILE.format(layer=layer)
            try:
                with safe_open(str(file), framework="pt") as handle:
                    meta = handle.metadata() or {}
                    tensors = {k: handle.get_tensor(k) for k in handle.keys()}  # noqa: SIM118
            except Exception as err:  # noqa: BLE001 - truncated files raise various errors
                raise InterpError(f"'{file}' is unreadable ({str(err).splitlines()[0][:100]})"
                                  ) from None
            if meta.get("fingerprint") != header.get("fingerprint"):
                raise InterpError(f"'{file}' belongs to another model than '{path}/{CFG_FILE}'")
            missing = [t for t in TENSORS if t not in tensors]
            if missing:
                raise InterpError(f"'{file}' lacks tensor {missing[0]!r}")
            layers[layer] = tensors
        return cls(header, layers)
