"""Ground-truth circuits as data: the literature's head lists (data/circuits/*.json) or any
JSON file of the same shape; as a [n_layers, n_heads] boolean mask for a given model."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import torch
from jaxtyping import Bool
from torch import Tensor

from interp.circuits.tasks.base import read_json_file
from interp.errors import InterpError, choices_error


@dataclass(frozen=True)
class Circuit:
    """Heads of a circuit, grouped by role, with where the list comes from."""

    task: str
    model: str
    groups: dict[str, list[tuple[int, int]]]
    source: str = ""
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def heads(self) -> list[tuple[int, int]]:
        return sorted({tuple(h) for hs in self.groups.values() for h in hs})

    def mask(self, n_layers: int, n_heads: int) -> Bool[Tensor, "n_layers n_heads"]:
        """Boolean [n_layers, n_heads]; InterpError if a head is outside the model."""
        out = torch.zeros(n_layers, n_heads, dtype=torch.bool)
        for layer, head in self.heads:
            if not 0 <= layer < n_layers or not 0 <= head < n_heads:
                raise InterpError(
                    f"ground-truth head ({layer}, {head}) of {self.task!r} is out of range for "
                    f"a model with {n_layers} layers x {n_heads} heads")
            out[layer, head] = True
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "model": self.model,
                "groups": {k: [list(h) for h in v] for k, v in self.groups.items()},
                "source": self.source, "notes": self.notes, **self.extra}


def _files() -> dict[str, Any]:
    root = resources.files("interp.data") / "circuits"
    return {p.name[:-5]: p for p in root.iterdir() if p.name.endswith(".json")}


def bundled_circuits() -> list[str]:
    """Names of the bundled ground truths, e.g. "ioi-gpt2-small"."""
    return sorted(_files())


def _parse(data: Any, where: str) -> Circuit:
    try:
        groups = {str(k): [(int(h[0]), int(h[1])) for h in v] for k, v in data["groups"].items()}
        known = {"task", "model", "groups", "source", "notes"}
        return Circuit(str(data["task"]), str(data.get("model", "")), groups,
                       str(data.get("source", "")), str(data.get("notes", "")),
                       {k: v for k, v in data.items() if k not in known})
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):
        raise InterpError(f"{where} is not a circuit file: expected {{'task': ..., 'groups': "
                          "{role: [[layer, head], ...]}}") from None


def load_circuit(name_or_path: str | Path) -> Circuit:
    """A bundled ground truth by name ("ioi-gpt2-small", ...) or a JSON file path."""
    files = _files()
    if str(name_or_path) in files:
        return _parse(json.loads(files[str(name_or_path)].read_text()), str(name_or_path))
    path = Path(name_or_path)
    if path.suffix == ".json" or path.exists():
        return _parse(read_json_file(path, "circuit file"), f"'{path}'")
    raise choices_error("ground-truth circuit", str(name_or_path), sorted(files))


def circuit_from_mask(mask: Tensor, task: str, model: str, source: str) -> Circuit:
    heads = [(int(layer), int(h)) for layer, h in mask.nonzero().tolist()]
    return Circuit(task, model, {"circuit": heads}, source)
