"""Artifacts: a directory of cfg.json plus safetensors files, made for one model.

Every cfg.json holds "format" ("interp-<kind>") and "format_version", and, for an artifact
of one model, "model" (its name) and "fingerprint". A `Kind` names one sort of artifact: it
stamps, reads and checks cfg.json (an unknown format or a newer version is refused with one
line), writes a whole artifact atomically (a temporary directory renamed into place: nothing
half-written is left) and refuses one made for another model (`check_model`, the one
fingerprint check, naming both fingerprints). Per-layer tensors go in LAYER_FILE files
(`tensor_bytes` / `load_tensors`, the fingerprint in their metadata).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interp.atomic import atomic_dir
from interp.errors import InterpError, first_line

if TYPE_CHECKING:
    from torch import Tensor

    from interp.models.model import Model

CFG_FILE = "cfg.json"
FORMAT_PREFIX = "interp-"
LAYER_FILE = "layer_{layer:05d}.safetensors"
_LAYER_RE = re.compile(r"^layer_(\d{5})\.safetensors$")
#: Format tags of earlier interp versions, read as the tag of the same kind now.
_RENAMED = {"interp.neuron_map": "interp-neuron-map", "interp.codebooks": "interp-codebooks",
            "interp.activation_records": "interp-activation-records"}

Files = Mapping[str, bytes] | Iterable[tuple[str, bytes]]


def cfg_bytes(cfg: Mapping[str, Any]) -> bytes:
    """The text of a cfg.json: sorted keys, indent 1, a final newline (same cfg, same bytes)."""
    return (json.dumps(cfg, indent=1, sort_keys=True) + "\n").encode()


def check_model(lead: str, name: object, fingerprint: object, model: Model | str,
                fix: str = "") -> None:
    """InterpError unless `fingerprint` is that of `model` (a Model or a fingerprint), worded
    "<lead> model 'name' (fingerprint a), not model 'other' (fingerprint b)[; fix]"."""
    theirs = model if isinstance(model, str) else model.fingerprint
    if fingerprint == theirs:
        return
    ours = f"model {name!r}" if name else "a model"
    other = "this one" if isinstance(model, str) else f"model {model.name!r}"
    raise InterpError(f"{lead} {ours} (fingerprint {fingerprint}), not {other} "
                      f"(fingerprint {theirs})" + (f"; {fix}" if fix else ""))


def save_dir(path: str | os.PathLike, files: Files) -> Path:
    """Write `files` (name -> bytes) as directory `path`, atomically: filled under a
    temporary name, then put in place of `path` (a previous directory is replaced whole)."""
    with atomic_dir(path) as tmp:
        for name, data in files.items() if isinstance(files, Mapping) else files:
            (tmp / name).write_bytes(data)
    return Path(path)


@dataclass(frozen=True)
class Kind:
    """One sort of artifact: cfg["format"] is "interp-<name>", cfg["format_version"]
    `version`. Errors call it `noun` (article `a`); its cfg "<made> model ...", e.g.
    "codebooks in 'dir' were made for model 'gpt2' (fingerprint ...)"."""

    name: str
    version: int
    noun: str
    made: str = "belong to"
    a: str = "a"

    @property
    def format(self) -> str:
        return FORMAT_PREFIX + self.name

    def stamp(self, cfg: Mapping[str, Any]) -> dict[str, Any]:
        """`cfg` with this kind's format tag and version first."""
        return {"format": self.format, "format_version": self.version, **cfg}

    def problem(self, cfg: Any) -> str | None:
        """Why `cfg` is not a cfg of this kind and version (None when it is)."""
        if not isinstance(cfg, dict):
            return "its config is not a JSON object"
        tag, version = cfg.get("format"), cfg.get("format_version")
        if _current(tag) != self.format:
            return f"its format is {tag!r}, not {self.format!r}"
        if version == self.version:
            return None
        if isinstance(version, int) and version > self.version:
            return (f"its format_version {version} is newer than this interp reads "
                    f"({self.version}); update interp")
        return f"its format_version {version!r} is not {self.version}; make it again"

    def invalid(self, path: str | os.PathLike, why: str) -> InterpError:
        return InterpError(f"'{path}' is not a valid {self.noun}: {why}")

    def read(self, path: str | os.PathLike, model: Model | str | None = None) -> dict[str, Any]:
        """The checked cfg.json of the artifact in directory `path`; with `model` (a Model or
        a fingerprint), refuse one made for another model. InterpError when it is not one."""
        path = Path(path)
        if not (path / CFG_FILE).is_file():
            why = "it does not exist" if not path.exists() else f"it has no {CFG_FILE}"
            raise InterpError(f"'{path}' is not {self.a} {self.noun} directory ({why})")
        try:
            cfg = json.loads((path / CFG_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise self.invalid(path, f"{CFG_FILE} is unreadable ({first_line(err)})") from None
        why = self.problem(cfg)
        if why:
            raise self.invalid(path, why)
        if model is not None:
            self.check_model(cfg, model, path)
        return cfg

    def cached(self, file: str | os.PathLike) -> dict[str, Any] | None:
        """The config in JSON `file` when it is one of this kind and version, else None (a
        cache entry to make again)."""
        try:
            cfg = json.loads(Path(file).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return None if self.problem(cfg) else cfg

    def check_model(self, cfg: Mapping[str, Any], model: Model | str,
                    path: str | os.PathLike, fix: str = "") -> None:
        """Refuse (InterpError) the artifact at `path` unless `cfg` is of `model`."""
        check_model(f"{self.noun} in '{path}' {self.made}", cfg.get("model"),
                    cfg.get("fingerprint"), model, fix)

    def check_output(self, path: str | os.PathLike) -> bool:
        """Whether `path` already holds an artifact of this kind (True) or is new or empty
        (False); InterpError when it is a file or holds anything else."""
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise InterpError(f"output '{path}' exists and is not a directory")
        if not path.is_dir() or not any(path.iterdir()):
            return False
        if not (path / CFG_FILE).is_file():
            raise InterpError(f"output directory '{path}' is not empty and holds no "
                              f"{self.noun}; choose an empty or new directory")
        try:
            tag = json.loads((path / CFG_FILE).read_text(encoding="utf-8")).get("format")
        except (OSError, ValueError, AttributeError):
            return True  # damaged: reading it names the problem
        if _current(tag) != self.format:
            raise InterpError(f"output directory '{path}' holds another artifact (format "
                              f"{tag!r}), not {self.a} {self.noun}; choose an empty or new "
                              "directory")
        return True

    def save(self, path: str | os.PathLike, cfg: Mapping[str, Any], files: Files) -> Path:
        """Write `files` (name -> bytes) and cfg.json (`cfg`, stamped) as directory `path`
        (new, empty, or an artifact of this kind, replaced whole), atomically."""
        self.check_output(path)
        pairs = files.items() if isinstance(files, Mapping) else files
        return save_dir(path, chain(pairs, [(CFG_FILE, cfg_bytes(self.stamp(cfg)))]))


def _current(tag: object) -> object:
    """A format tag as this interp spells it (earlier spellings renamed)."""
    return _RENAMED.get(tag, tag) if isinstance(tag, str) else tag


def layer_files(path: str | os.PathLike) -> list[int]:
    """Layers that have a LAYER_FILE in directory `path`, sorted."""
    path = Path(path)
    found = (_LAYER_RE.match(p.name) for p in path.iterdir()) if path.is_dir() else ()
    return sorted(int(m.group(1)) for m in found if m)


def tensor_bytes(tensors: Mapping[str, Tensor], fingerprint: str | None = None,
                 **meta: str) -> bytes:
    """A safetensors file (CPU, contiguous tensors) with `fingerprint` and `meta` in its
    metadata."""
    from safetensors.torch import save

    data = {k: t.detach().cpu().contiguous() for k, t in tensors.items()}
    tags = meta if fingerprint is None else {"fingerprint": fingerprint, **meta}
    return save(data, metadata=tags)


def load_tensors(file: str | os.PathLike, fingerprint: str | None = None
                 ) -> tuple[dict[str, Tensor], dict[str, str]]:
    """(tensors, metadata) of a safetensors file; InterpError when it is unreadable or, with
    `fingerprint`, written for another model."""
    from safetensors import safe_open

    file = Path(file)
    try:
        with safe_open(str(file), framework="pt") as handle:
            meta = handle.metadata() or {}
            tensors = {k: handle.get_tensor(k) for k in handle.keys()}  # noqa: SIM118
    except Exception as err:  # noqa: BLE001 - missing, truncated or garbage files raise various
        raise InterpError(f"{file.name} is unreadable ({first_line(err)[:120]})") from None
    if fingerprint is not None and meta.get("fingerprint") != fingerprint:
        raise InterpError(f"{file.name} belongs to another model")
    return tensors, meta
