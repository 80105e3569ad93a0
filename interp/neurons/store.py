"""NeuronMap artifact files (an interp.artifact of kind NEURON_MAP): cfg.json + vocab.json +
one safetensors file per layer.

A map grows layer by layer (resumable), so each file, not the directory, is written to a
temporary name and renamed into place: an interrupted run leaves whole files only (a new map
directory appears with its cfg.json and vocab.json together). cfg.json's "planned_layers"
are the layers the run that wrote it set out to map, so a map missing some of them is known
to be unfinished (NeuronMap.missing). Every read is validated; problems raise InterpError.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interp.artifact import (
    CFG_FILE,
    COUNT,
    LAYER_FILE,
    Kind,
    TensorSpec,
    cfg_bytes,
    load_tensors,
    tensor_bytes,
)
from interp.atomic import atomic_dir, remove_stale, write_atomic
from interp.errors import InterpError
from interp.neurons.decode import LayerDecode
from interp.neurons.options import DEFINITIONS, DecodeOptions

NEURON_MAP = Kind("neuron-map", 1, "neuron map", made="is of", fields={
    "model": str, "fingerprint": str, "architecture": str, "n_layers": COUNT, "d_mlp": COUNT,
    "d_model": COUNT, "d_vocab": COUNT, "options": dict, "vocab_sha256": str})
VOCAB_FILE = "vocab.json"
EXTRAS = ("calibration", "token_flags", "norm_bias")
_OLDER_TMP = ".tmp-*"  # temporaries of writers older than interp.atomic


@dataclass(frozen=True)
class MapHeader:
    """What cfg.json records: the model (name, fingerprint, shape), the options, the vocab."""

    model: str
    fingerprint: str
    architecture: str
    n_layers: int
    d_mlp: int
    d_model: int
    d_vocab: int
    options: DecodeOptions
    vocab_sha256: str
    #: derived records: "calibration" (scale="calibrated"), "token_flags" (flagged_tokens),
    #: "norm_bias" (the largest-norm tokens of the folded unembedding; every new map has it)
    extras: dict[str, Any] = field(default_factory=dict, compare=False)
    #: the layers the writing run set out to map (None: not recorded, as in older maps)
    planned: tuple[int, ...] | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        o = self.options
        shapes = {f"top_{x}": [self.d_mlp, o.top_k] for x in ("ids", "logits", "probs")}
        shapes |= {f"bottom_{x}": [self.d_mlp, o.bottom_k] for x in ("ids", "logits", "probs")}
        shapes |= {"margin": [self.d_mlp], "entropy": [self.d_mlp]}
        return NEURON_MAP.stamp({
            "model": self.model, "fingerprint": self.fingerprint, "architecture": self.architecture,
            "n_layers": self.n_layers, "d_mlp": self.d_mlp, "d_model": self.d_model,
            "d_vocab": self.d_vocab, "options": o.to_dict(), "options_digest": o.digest(),
            "vocab_sha256": self.vocab_sha256, "layer_file": LAYER_FILE,
            "shapes_per_layer": shapes, "definitions": DEFINITIONS, **self.extras,
            **({} if self.planned is None else {"planned_layers": list(self.planned)}),
        })

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MapHeader:
        """The header of a checked cfg.json (see read_header)."""
        ints = {k: int(data[k]) for k in ("n_layers", "d_mlp", "d_model", "d_vocab")}
        planned = data.get("planned_layers")
        if planned is not None and not (isinstance(planned, list) and all(
                type(x) is int and 0 <= x < ints["n_layers"] for x in planned)):
            raise ValueError(f"planned_layers is {str(planned)[:40]}, not a list of layers")
        bias = data.get("norm_bias")
        if bias is not None and not (isinstance(bias, dict) and isinstance(bias.get("ids"), list)
                                     and all(type(t) is int and 0 <= t < ints["d_vocab"]
                                             for t in bias["ids"])):
            raise ValueError(f"norm_bias is {str(bias)[:40]}, not {{'share', 'ids': token ids}}")
        return cls(model=str(data["model"]), fingerprint=str(data["fingerprint"]),
                   architecture=str(data["architecture"]), **ints,
                   options=DecodeOptions.from_dict(data["options"]),
                   vocab_sha256=str(data["vocab_sha256"]),
                   extras={k: data[k] for k in EXTRAS if k in data},
                   planned=None if planned is None else tuple(sorted(set(planned))))

    def mismatch(self, other: MapHeader) -> str | None:
        """Why a layer of `other` cannot join a map with this header (None when it can)."""
        if other.fingerprint != self.fingerprint:
            return (f"it holds a map of another model ({other.model}, fingerprint "
                    f"{other.fingerprint}; this one is {self.model}, {self.fingerprint})")
        diffs = self.options.differences(other.options)
        if diffs:
            return "it was made with other options (" + "; ".join(diffs) + ")"
        if other.vocab_sha256 != self.vocab_sha256:
            return "its vocabulary strings differ"
        return None


def vocab_digest(vocab: list[str]) -> str:
    return hashlib.sha256(json.dumps(vocab).encode()).hexdigest()[:16]


def write_header(path: Path, header: MapHeader, vocab: list[str]) -> None:
    """Write vocab.json, then cfg.json (which makes the directory a map). A new directory is
    made whole (both files, or nothing), so a killed run cannot leave one half-begun."""
    files = {VOCAB_FILE: json.dumps(vocab, ensure_ascii=False).encode(),
             CFG_FILE: cfg_bytes(header.to_json())}
    if not path.exists():
        with atomic_dir(path) as tmp:
            for name, data in files.items():
                (tmp / name).write_bytes(data)
        return
    for name, data in files.items():
        write_atomic(path / name, data)


def plan_layers(path: Path, layers: Iterable[int]) -> None:
    """Record in cfg.json of the map in `path` that its run plans `layers` (those there and
    those to come), so that an interrupted run's map is known to be unfinished."""
    header, _ = read_header(path)
    planned = tuple(sorted(set(layers)))
    if header.planned != planned:
        write_atomic(path / CFG_FILE,
                     cfg_bytes(dataclasses.replace(header, planned=planned).to_json()))


def write_layer(path: Path, header: MapHeader, layer: int, data: LayerDecode) -> None:
    write_atomic(path / LAYER_FILE.format(layer=layer),
                 tensor_bytes(data.tensors(), header.fingerprint, layer=str(layer),
                              options_digest=header.options.digest()))


def remove_stale_temporaries(path: Path) -> None:
    """Delete temporary files in the map `path` left behind by killed writes (interp.atomic's
    of processes that are gone, and those of older writers)."""
    if path.is_dir():
        remove_stale(path)
        for p in path.glob(_OLDER_TMP):
            p.unlink(missing_ok=True)


def _corrupt(path: Path, why: str) -> InterpError:
    return NEURON_MAP.invalid(path, why)


def read_header(path: Path) -> tuple[MapHeader, list[str]]:
    """cfg.json and vocab.json of the map in `path`, validated."""
    cfg = NEURON_MAP.read(path)
    try:
        header = MapHeader.from_json(cfg)
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise _corrupt(path, f"{CFG_FILE} is malformed ({type(err).__name__}: {err})") from None
    try:
        vocab = json.loads((path / VOCAB_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise _corrupt(path, f"{VOCAB_FILE} is unreadable ({type(err).__name__})") from None
    if not (isinstance(vocab, list) and all(isinstance(s, str) for s in vocab)):
        raise _corrupt(path, f"{VOCAB_FILE} is not a list of strings")
    if len(vocab) != header.d_vocab or vocab_digest(vocab) != header.vocab_sha256:
        raise _corrupt(path, f"{VOCAB_FILE} does not match {CFG_FILE} (length or hash)")
    return header, vocab


def layer_specs(header: MapHeader) -> dict[str, TensorSpec]:
    """What each tensor of a layer file must be: ids int32 token ids, the rest finite float32,
    shaped as cfg.json's "shapes_per_layer"."""
    ids = {"dtypes": ("int32",), "low": 0, "high": header.d_vocab}
    return {name: TensorSpec(tuple(shape), **(ids if name.endswith("_ids") else {}))
            for name, shape in header.to_json()["shapes_per_layer"].items()}


def read_layer(path: Path, header: MapHeader, layer: int) -> LayerDecode:
    """One layer's tensors, checked against the header (shapes, dtypes, values, fingerprint,
    options, layer)."""
    file = path / LAYER_FILE.format(layer=layer)
    meta = {"layer": str(layer), "options_digest": header.options.digest()}
    try:
        tensors, _ = load_tensors(file, header.fingerprint, expect=layer_specs(header), meta=meta)
    except InterpError as err:
        raise _corrupt(path, str(err)) from None
    return LayerDecode.from_tensors(tensors)
