"""Artifacts: a directory of cfg.json plus safetensors files, made for one model.

Every cfg.json holds "format" ("interp-<kind>") and "format_version", and, for an artifact
of one model, "model" (its name) and "fingerprint". A `Kind` names one sort of artifact: it
stamps, reads and checks cfg.json (an unknown format or a newer version is refused with one
line), writes a whole artifact atomically (a temporary directory renamed into place: nothing
half-written is left) and refuses one made for another model (`check_model`, the one
fingerprint check, naming both fingerprints). A kind may declare the `fields` its cfg.json
must hold (`field_problem`: types, positive counts, nested objects and lists).

Tensors go in safetensors files (per-layer ones named LAYER_FILE): `tensor_bytes` writes them
with a canonical header (sorted metadata, tensors in a fixed order), so the same tensors give
the same bytes in every process; `load_tensors` reads one back and, given each tensor's
`TensorSpec` (shape, dtype, finite values, integer range), refuses a damaged file with one
line naming the file and the tensor.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
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

#: Named cfg.json field checks (besides a type, a tuple of types, a {key: check} object, a
#: [check] list of any length or a [check, check, ...] list of exactly that many).
COUNT = "a positive integer"
INDEX = "a non-negative integer"
_NOUNS = {int: "an integer", float: "a number", str: "a string", bool: "true or false",
          dict: "a JSON object", list: "a list", type(None): "null"}


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
    #: what cfg.json must hold besides the format: {key: check} (see `field_problem`)
    fields: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

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
        if isinstance(version, int) and version > self.version:
            return (f"its format_version {version} is newer than this interp reads "
                    f"({self.version}); update interp")
        if version != self.version:
            return f"its format_version {version!r} is not {self.version}; make it again"
        why = field_problem(cfg, self.fields)
        return f"{CFG_FILE}: {why}" if why else None

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

    def check_output(self, path: str | os.PathLike, param: str = "out") -> bool:
        """Whether `path` already holds an artifact of this kind (True) or is new or empty
        (False); InterpError (naming `param`) when it cannot be written (interp.outputs), or
        holds anything else."""
        from interp.outputs import output_dir

        path = output_dir(path, param)
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


def field_problem(value: Any, check: Any, where: str = "") -> str | None:
    """Why `value` (parsed JSON) fails `check` (None when it passes). `check` is a type (int
    and float refuse booleans, float refuses NaN and infinity, None means null), a tuple of
    such, COUNT or INDEX, a {key: check} object (each key present), a [check] list or a
    [check, check, ...] list of exactly that length. Worded "'sites'[0]['dim'] is 'x', not
    a positive integer"."""
    at = where or "it"
    if isinstance(check, Mapping):
        if not isinstance(value, dict):
            return f"{at} is {_shown(value)}, not a JSON object"
        for key, sub in check.items():
            inner = f"{where}[{key!r}]" if where else repr(key)
            why = f"{inner} is missing" if key not in value else field_problem(value[key], sub,
                                                                                inner)
            if why:
                return why
        return None
    if isinstance(check, list):
        fixed = len(check) > 1
        if not isinstance(value, list) or (fixed and len(value) != len(check)):
            size = f" of {len(check)}" if fixed else ""
            return f"{at} is {_shown(value)}, not a list{size}"
        for i, item in enumerate(value):
            why = field_problem(item, check[i] if fixed else check[0], f"{at}[{i}]")
            if why:
                return why
        return None
    alternatives = check if isinstance(check, tuple) else (check,)
    if any(_passes(value, c) for c in alternatives):
        return None
    return f"{at} is {_shown(value)}, not " + " or ".join(_noun(c) for c in alternatives)


def _passes(value: Any, check: Any) -> bool:
    if check in (COUNT, INDEX):
        return _passes(value, int) and value >= (1 if check == COUNT else 0)
    if check is None:
        return value is None
    if check in (int, float) and isinstance(value, bool):
        return False
    if check is float:
        return isinstance(value, (int, float)) and math.isfinite(value)
    return isinstance(value, check)


def _noun(check: Any) -> str:
    return check if isinstance(check, str) else _NOUNS.get(check or type(None), str(check))


def _shown(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


# ---- tensor files ------------------------------------------------------------------------

#: torch dtype name -> safetensors dtype tag (the tags interp writes and reads).
_TAGS = {"float64": "F64", "float32": "F32", "float16": "F16", "bfloat16": "BF16",
         "int64": "I64", "int32": "I32", "int16": "I16", "int8": "I8", "uint8": "U8",
         "bool": "BOOL"}


@dataclass(frozen=True)
class TensorSpec:
    """What one tensor of an artifact must be. `shape`: per axis an int, a str (a size that
    must be the same wherever that name appears in the file) or None (any size); `dtypes`:
    torch dtype names; floats hold no NaN, and no infinity unless `inf`, or anything with
    `values=False`; integers lie in [low, high) where given."""

    shape: tuple[int | str | None, ...]
    dtypes: tuple[str, ...] = ("float32",)
    inf: bool = False
    low: int | None = None
    high: int | None = None
    values: bool = True

    def problem(self, t: Tensor, sizes: dict[str, int]) -> str | None:
        """Why tensor `t` does not meet this spec (None when it does); `sizes` binds the
        named axes seen so far in the file."""
        dtype = str(t.dtype).removeprefix("torch.")
        if dtype not in self.dtypes:
            return f"is {dtype}, not {' or '.join(self.dtypes)}"
        fits = t.dim() == len(self.shape)
        for n, size in zip(self.shape, t.shape, strict=False):
            want = sizes.setdefault(n, size) if isinstance(n, str) else n
            fits = fits and want in (None, size)
        if not fits:
            shown = ["*" if n is None else sizes.get(n, n) if isinstance(n, str) else n
                     for n in self.shape]
            return f"has shape {list(t.shape)}, not {shown}"
        if not self.values or t.numel() == 0:
            return None
        if t.is_floating_point():
            if t.isnan().any():
                return "holds NaN"
            return "holds infinity" if not self.inf and t.isinf().any() else None
        low, high = int(t.min()), int(t.max())
        if (self.low is not None and low < self.low) or (self.high is not None
                                                          and high >= self.high):
            top = "" if self.high is None else self.high - 1
            return (f"holds values {low}..{high}, outside "
                    f"{'' if self.low is None else self.low}..{top}")
        return None


def tensor_bytes(tensors: Mapping[str, Tensor], fingerprint: str | None = None,
                 **meta: str) -> bytes:
    """A safetensors file of `tensors` (any device; written contiguous, little-endian) with
    `fingerprint` and `meta` in its metadata. Canonical: metadata keys sorted, tensors laid
    out by element size (largest first, so each is aligned) then name, the JSON header
    compact and padded with spaces to 8 bytes; same tensors and metadata, same bytes."""
    import torch

    tags = dict(meta) if fingerprint is None else {"fingerprint": fingerprint, **meta}
    header: dict[str, Any] = {"__metadata__": {k: str(tags[k]) for k in sorted(tags)}} if tags \
        else {}
    data = {k: t.detach().cpu().contiguous() for k, t in tensors.items()}
    blobs: list[memoryview] = []
    offset = 0
    for name in sorted(data, key=lambda k: (-data[k].element_size(), k)):
        t = data[name]
        blob = memoryview(t.reshape(-1).view(torch.uint8).numpy())  # no copy until the join
        header[name] = {"dtype": _TAGS[str(t.dtype).removeprefix("torch.")],
                        "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    text += b" " * (-len(text) % 8)
    return b"".join([len(text).to_bytes(8, "little"), text, *blobs])


def load_tensors(file: str | os.PathLike, fingerprint: str | None = None, *,
                 expect: Mapping[str, TensorSpec] | None = None,
                 meta: Mapping[str, str] | None = None
                 ) -> tuple[dict[str, Tensor], dict[str, str]]:
    """(tensors, metadata) of a safetensors file. With `expect`, only the tensors it names,
    each present and meeting its TensorSpec; with `fingerprint` and `meta`, the metadata must
    hold them. InterpError, "<file name>: <what is wrong>", when it is unreadable or not so."""
    from safetensors import safe_open

    file = Path(file)
    try:
        with safe_open(str(file), framework="pt") as handle:
            found = dict(sorted((handle.metadata() or {}).items()))
            names = list(handle.keys())
            wanted = names if expect is None else [k for k in expect if k in names]
            tensors = {k: handle.get_tensor(k) for k in wanted}
    except Exception as err:  # noqa: BLE001 - missing, truncated or garbage files raise various
        raise InterpError(f"{file.name} is unreadable ({first_line(err)[:120]})") from None
    if fingerprint is not None and found.get("fingerprint") != fingerprint:
        raise InterpError(f"{file.name} belongs to another model")
    for key, value in (meta or {}).items():
        if found.get(key) != value:
            raise InterpError(f"{file.name}: its metadata {key!r} is {found.get(key)!r}, "
                              f"not {value!r}")
    sizes: dict[str, int] = {}
    for name, spec in (expect or {}).items():
        why = "is missing" if name not in tensors else spec.problem(tensors[name], sizes)
        if why:
            raise InterpError(f"{file.name}: tensor {name!r} {why}")
    return tensors, found
