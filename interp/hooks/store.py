"""On-disk activations (an interp.artifact of kind ACTIVATIONS): a directory of safetensors
shards plus cfg.json, written last.

Shards stream out as they fill, so each file, not the directory, is written under a temporary
name then renamed: a directory without cfg.json is an interrupted capture and is never read
as complete. Shards are read back checked against cfg.json (names, shapes, dtypes).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jaxtyping import Float
from torch import Tensor

from interp.artifact import (
    CFG_FILE,
    INDEX,
    Kind,
    TensorSpec,
    cfg_bytes,
    field_problem,
    load_tensors,
    tensor_bytes,
)
from interp.atomic import write_atomic
from interp.errors import InterpError
from interp.hooks.activations import Activations

if TYPE_CHECKING:
    from interp.models.model import Model

ACTIVATIONS = Kind("activations", 1, "activations", made="were captured from", fields={
    "fingerprint": str, "sites": [str], "shapes": dict, "dtype": str, "shards": [str],
    "n_shards": INDEX, "n_sequences": INDEX, "n_tokens": INDEX})
SHARD_FILE = "shard_{:05d}.safetensors"
SHARD_GLOB = "shard_*.safetensors"
TMP_SUFFIX = ".tmp"  # interp.atomic's temporaries end so
#: Reserved tensor keys in each shard (hook names never take these forms).
TOKENS, MASK, POSITIONS = "tokens", "mask", "positions"


def _ours(directory: Path) -> list[Path]:
    """Files in `directory` that a capture writes (cfg, shards, temporaries)."""
    found = [directory / CFG_FILE] if (directory / CFG_FILE).exists() else []
    found += sorted(directory.glob(SHARD_GLOB))
    found += sorted(directory.glob(f".*{TMP_SUFFIX}"))
    return found


class ShardWriter:
    """Accumulates Activations parts and writes a shard each time `shard_tokens` slots
    (batch x position, padding included) have gathered; `finish` writes cfg.json."""

    def __init__(self, directory: str | os.PathLike, shard_tokens: int, overwrite: bool) -> None:
        self.directory = Path(directory).expanduser()
        if self.directory.exists() and not self.directory.is_dir():
            raise InterpError(f"'{self.directory}' exists and is not a directory")
        self.directory.mkdir(parents=True, exist_ok=True)
        existing = _ours(self.directory)
        if existing and not overwrite:
            raise InterpError(
                f"'{self.directory}' already holds activation files ({existing[0].name}, ...); "
                "pass overwrite=True or choose an empty directory"
            )
        for path in existing:  # cfg.json first: the directory stops looking complete at once
            path.unlink()
        self.shard_tokens = max(1, int(shard_tokens))
        self.files: list[str] = []
        self._pending: list[Activations] = []
        self._slots = 0

    def add(self, part: Activations) -> None:
        self._pending.append(part)
        self._slots += part.tokens.numel()
        if self._slots >= self.shard_tokens:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        part = Activations.cat(self._pending)
        tensors = {name: t.contiguous() for name, t in part.acts.items()}
        tensors[TOKENS] = part.tokens.contiguous()
        tensors[MASK] = part.mask.contiguous()
        tensors[POSITIONS] = part.positions.contiguous()
        name = SHARD_FILE.format(len(self.files))
        write_atomic(self.directory / name, tensor_bytes(tensors, format=ACTIVATIONS.format))
        self.files.append(name)
        self._pending, self._slots = [], 0

    def finish(self, cfg: dict[str, Any]) -> Path:
        """Flush the last shard, then write cfg.json (`cfg` stamped, with the shard list)."""
        self.flush()
        cfg = {**cfg, "n_shards": len(self.files), "shards": list(self.files)}
        write_atomic(self.directory / CFG_FILE, cfg_bytes(ACTIVATIONS.stamp(cfg)))
        return self.directory

    def abort(self) -> None:
        """Drop pending data and any temporary file; finished shards stay (no cfg.json)."""
        self._pending, self._slots = [], 0
        for tmp in self.directory.glob(f".*{TMP_SUFFIX}"):
            tmp.unlink(missing_ok=True)


class ActivationStore:
    """Read-only view of a capture directory; shards are loaded lazily, one at a time.

    `for part in store` yields one Activations per shard; `store.load()` concatenates all;
    `store.iter_flat(name)` yields [n_tokens, ...] blocks of real slots (for trainers).
    """

    def __init__(self, directory: str | os.PathLike, model: Model | None = None) -> None:
        self.directory = Path(directory).expanduser()
        cfg_path = self.directory / CFG_FILE
        if not self.directory.is_dir():
            raise InterpError(f"activation directory '{self.directory}' does not exist")
        if not cfg_path.is_file():
            partial = any(self.directory.glob(SHARD_GLOB))
            why = "an interrupted capture (shards but no cfg.json)" if partial else "empty"
            raise InterpError(
                f"'{self.directory}' is not a complete activation directory: {why}; "
                "capture again with overwrite=True"
            )
        self.cfg: dict[str, Any] = ACTIVATIONS.read(self.directory)
        why = field_problem(self.cfg["shapes"], {n: [INDEX] for n in self.cfg["sites"]},
                            "'shapes'")
        if not why and len(self.cfg["shards"]) != self.cfg["n_shards"]:
            why = "'n_shards' is not the length of 'shards'"
        if why:
            raise ACTIVATIONS.invalid(self.directory, f"{CFG_FILE}: {why}")
        missing = [f for f in self.cfg["shards"] if not (self.directory / f).is_file()]
        if missing:
            raise InterpError(f"'{self.directory}' is missing shard {missing[0]}")
        if model is not None:
            ACTIVATIONS.check_model(self.cfg, model, self.directory)

    @property
    def names(self) -> list[str]:
        return list(self.cfg["sites"])

    @property
    def shapes(self) -> dict[str, list[int]]:
        """Per hook name, the shape of one slot's activation (after batch and position)."""
        return dict(self.cfg["shapes"])

    @property
    def fingerprint(self) -> str:
        return str(self.cfg["fingerprint"])

    @property
    def n_sequences(self) -> int:
        return int(self.cfg["n_sequences"])

    @property
    def n_tokens(self) -> int:
        return int(self.cfg["n_tokens"])

    def __len__(self) -> int:
        return int(self.cfg["n_shards"])

    def __repr__(self) -> str:
        return (
            f"ActivationStore('{self.directory}', {self.n_sequences} sequences, "
            f"{self.n_tokens} tokens, {len(self)} shards, sites={self.names})"
        )

    def shard(self, i: int, names: Sequence[str] | None = None) -> Activations:
        """Shard `i` as Activations, reading only the tensors of `names` (default: all)."""
        if not 0 <= i < len(self):
            raise InterpError(f"shard {i} out of range; valid: 0..{len(self) - 1}")
        wanted = self._check_names(names)
        slots = TensorSpec(("batch", "pos"), ("int64",))  # checked first: they set the sizes
        expect = {TOKENS: slots, MASK: TensorSpec(("batch", "pos"), ("bool",)), POSITIONS: slots}
        expect |= {n: TensorSpec(("batch", "pos", *self.shapes[n]), (self.cfg["dtype"],),
                                 values=False) for n in wanted}
        try:
            acts, _ = load_tensors(self.directory / self.cfg["shards"][i], expect=expect)
        except InterpError as err:
            raise ACTIVATIONS.invalid(self.directory, str(err)) from None
        tokens, mask, pos = (acts.pop(k) for k in (TOKENS, MASK, POSITIONS))
        meta = {"pad_id": self.cfg.get("pad_id", 0), "model": self.cfg.get("model")}
        return Activations(acts, tokens, mask, pos, self.fingerprint, meta)

    def iter_shards(self, names: Sequence[str] | None = None) -> Iterator[Activations]:
        for i in range(len(self)):
            yield self.shard(i, names)

    def __iter__(self) -> Iterator[Activations]:
        return self.iter_shards()

    def load(self, names: Sequence[str] | None = None) -> Activations:
        """Everything in memory at once (only for corpora that fit)."""
        return Activations.cat(list(self.iter_shards(names)))

    def iter_flat(self, name: str) -> Iterator[Float[Tensor, "n_tokens ..."]]:
        """Per shard, the activations of `name` at real slots, flattened to [n, ...]."""
        for part in self.iter_shards([name]):
            yield part.flat(name)

    def _check_names(self, names: Sequence[str] | None) -> list[str]:
        if names is None:
            return self.names
        bad = [n for n in names if n not in self.names]
        if bad:
            raise InterpError(f"hook {bad[0]!r} was not captured here; available: {self.names}")
        return list(names)


def open_activations(directory: str | os.PathLike, model: Model | None = None) -> ActivationStore:
    """Open a capture directory; with `model`, refuse one captured from a different model."""
    return ActivationStore(directory, model)

