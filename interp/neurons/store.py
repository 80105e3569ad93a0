"""NeuronMap artifact files: cfg.json + vocab.json + one safetensors file per layer.

Every write goes to a temporary file in the same directory and is renamed into place, so an
interrupted run leaves whole files only. Every read is validated; problems raise InterpError.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from interp.atomic import write_atomic
from interp.errors import InterpError
from interp.neurons.decode import LayerDecode
from interp.neurons.options import DEFINITIONS, DecodeOptions

FORMAT = "interp.neuron_map"
FORMAT_VERSION = 1
CFG_FILE = "cfg.json"
VOCAB_FILE = "vocab.json"
LAYER_FILE = "layer_{layer:05d}.safetensors"
_LAYER_RE = re.compile(r"^layer_(\d{5})\.safetensors$")
EXTRAS = ("calibration", "token_flags")
_TMP_PATTERNS = (".tmp-*", ".*.tmp")  # older writers, then interp.atomic's


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
    #: derived records: "calibration" (scale="calibrated"), "token_flags" (flagged_tokens)
    extras: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, Any]:
        o = self.options
        shapes = {f"top_{x}": [self.d_mlp, o.top_k] for x in ("ids", "logits", "probs")}
        shapes |= {f"bottom_{x}": [self.d_mlp, o.bottom_k] for x in ("ids", "logits", "probs")}
        shapes |= {"margin": [self.d_mlp], "entropy": [self.d_mlp]}
        return {
            "format": FORMAT, "format_version": FORMAT_VERSION, "model": self.model,
            "fingerprint": self.fingerprint, "architecture": self.architecture,
            "n_layers": self.n_layers, "d_mlp": self.d_mlp, "d_model": self.d_model,
            "d_vocab": self.d_vocab, "options": o.to_dict(), "options_digest": o.digest(),
            "vocab_sha256": self.vocab_sha256, "layer_file": LAYER_FILE,
            "shapes_per_layer": shapes, "definitions": DEFINITIONS, **self.extras,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MapHeader:
        if data.get("format") != FORMAT:
            raise ValueError(f"format is {data.get('format')!r}, expected {FORMAT!r}")
        if data.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"format_version {data.get('format_version')!r} is not supported "
                             f"(this interp reads {FORMAT_VERSION})")
        ints = {k: int(data[k]) for k in ("n_layers", "d_mlp", "d_model", "d_vocab")}
        return cls(model=str(data["model"]), fingerprint=str(data["fingerprint"]),
                   architecture=str(data["architecture"]), **ints,
                   options=DecodeOptions.from_dict(data["options"]),
                   vocab_sha256=str(data["vocab_sha256"]),
                   extras={k: data[k] for k in EXTRAS if k in data})

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
    path.mkdir(parents=True, exist_ok=True)
    write_atomic(path / VOCAB_FILE, json.dumps(vocab, ensure_ascii=False).encode())
    write_atomic(path / CFG_FILE, (json.dumps(header.to_json(), indent=1) + "\n").encode())


def write_layer(path: Path, header: MapHeader, layer: int, data: LayerDecode) -> None:
    from safetensors.torch import save

    meta = {"layer": str(layer), "fingerprint": header.fingerprint,
            "options_digest": header.options.digest()}
    tensors = {k: t.detach().contiguous().cpu() for k, t in data.tensors().items()}
    write_atomic(path / LAYER_FILE.format(layer=layer), save(tensors, metadata=meta))


def is_map_dir(path: Path) -> bool:
    return (path / CFG_FILE).is_file()


def layer_files(path: Path) -> list[int]:
    """Layers that have a file in `path`, sorted."""
    found = (_LAYER_RE.match(p.name) for p in path.iterdir()) if path.is_dir() else ()
    return sorted(int(m.group(1)) for m in found if m)


def remove_stale_temporaries(path: Path) -> None:
    """Delete temporary files left behind by an interrupted write."""
    if path.is_dir():
        for pattern in _TMP_PATTERNS:
            for p in path.glob(pattern):
                p.unlink(missing_ok=True)


def _corrupt(path: Path, why: str) -> InterpError:
    return InterpError(f"'{path}' is not a valid neuron map: {why}")


def read_header(path: Path) -> tuple[MapHeader, list[str]]:
    """cfg.json and vocab.json of the map in `path`, validated."""
    if not path.is_dir():
        raise InterpError(f"neuron map directory '{path}' does not exist")
    if not (path / CFG_FILE).is_file():
        raise _corrupt(path, f"it has no {CFG_FILE}")
    try:
        header = MapHeader.from_json(json.loads((path / CFG_FILE).read_text(encoding="utf-8")))
    except InterpError as err:
        raise _corrupt(path, f"{CFG_FILE}: {err}") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise _corrupt(path, f"{CFG_FILE} is unreadable ({type(err).__name__}: {err})") from None
    try:
        vocab = json.loads((path / VOCAB_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise _corrupt(path, f"{VOCAB_FILE} is unreadable ({type(err).__name__})") from None
    if not (isinstance(vocab, list) and all(isinstance(s, str) for s in vocab)):
        raise _corrupt(path, f"{VOCAB_FILE} is not a list of strings")
    if len(vocab) != header.d_vocab or vocab_digest(vocab) != header.vocab_sha256:
        raise _corrupt(path, f"{VOCAB_FILE} does not match {CFG_FILE} (length or hash)")
    return header, vocab


def read_layer(path: Path, header: MapHeader, layer: int) -> LayerDecode:
    """One layer's tensors, checked against the header (shapes, dtypes, fingerprint, options)."""
    from safetensors import safe_open

    file = path / LAYER_FILE.format(layer=layer)
    try:
        with safe_open(str(file), framework="pt") as handle:
            meta = handle.metadata() or {}
            tensors = {k: handle.get_tensor(k) for k in handle.keys()}  # noqa: SIM118
    except Exception as err:  # noqa: BLE001 - truncated / garbage files raise various errors
        raise _corrupt(path, f"{file.name} is unreadable ({str(err).splitlines()[0][:120]})"
                       ) from None
    if meta.get("fingerprint") != header.fingerprint:
        raise _corrupt(path, f"{file.name} belongs to another model")
    if meta.get("options_digest") != header.options.digest() or meta.get("layer") != str(layer):
        raise _corrupt(path, f"{file.name} was made with other options or for another layer")
    shapes = header.to_json()["shapes_per_layer"]
    for name, shape in shapes.items():
        t = tensors.get(name)
        if t is None or list(t.shape) != shape:
            raise _corrupt(path, f"{file.name}: {name} is missing or has the wrong shape")
        if name.endswith("_ids"):
            if t.dtype != torch.int32 or (t.numel() and (t.min() < 0 or t.max() >= header.d_vocab)):
                raise _corrupt(path, f"{file.name}: {name} holds invalid token ids")
        elif t.dtype != torch.float32:
            raise _corrupt(path, f"{file.name}: {name} is not float32")
    return LayerDecode.from_tensors(tensors)
