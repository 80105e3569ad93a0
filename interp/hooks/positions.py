"""Position specs ("all", "last", int, list, slice, 1-D tensor): validation and resolution.

A position is a token's index within its own sequence, padding excluded (what the model's
position ids count), so it means the same thing in a full forward and in a KV-cached step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from jaxtyping import Bool, Int
from torch import Tensor

from interp.errors import InterpError

PositionSpec = str | int | Sequence[int] | slice | Tensor | None

_HELP = (
    "expected 'all', 'last', a non-negative int, a list of them, a slice with non-negative "
    "start/stop and positive step, or a 1-D integer tensor"
)


@dataclass(frozen=True)
class Positions:
    """A validated position spec. kind: "all" | "last" | "index" (values) | "slice"."""

    kind: str
    values: tuple[int, ...] = ()
    start: int = 0
    stop: int | None = None
    step: int = 1

    def __repr__(self) -> str:
        if self.kind == "index":
            return repr(list(self.values))
        if self.kind == "slice":
            return f"slice({self.start}, {self.stop}, {self.step})"
        return repr(self.kind)

    def select(self, pos: Int[Tensor, "batch p"]) -> Bool[Tensor, "batch p"]:
        """Which slots to act on, given each slot's token position (-1 marks padding)."""
        real = pos >= 0
        if self.kind == "all":
            return real
        if self.kind == "last":
            return real & (pos == pos.max(dim=-1, keepdim=True).values)
        if self.kind == "index":
            hit = torch.zeros_like(real)
            for value in self.values:  # scalar compares: no host-to-device copy, no sync
                hit |= pos == value
            return hit & real
        hit = real & (pos >= self.start) & ((pos - self.start) % self.step == 0)
        return hit if self.stop is None else hit & (pos < self.stop)

    def gather_index(
        self, lengths: Int[Tensor, " batch"], width: int
    ) -> Int[Tensor, "batch k"]:
        """Token positions to keep per sequence ([batch, k]; -1 where a sequence is too short).

        Used by capture on right-padded batches, where position == column for real tokens.
        """
        batch = lengths.shape[0]
        if self.kind == "all":
            idx = torch.arange(width).expand(batch, width)
        elif self.kind == "last":
            idx = (lengths - 1).unsqueeze(1)
        elif self.kind == "index":
            idx = torch.tensor(self.values, dtype=torch.long).expand(batch, len(self.values))
        else:
            idx = torch.arange(width)[self.start : self.stop : self.step].expand(batch, -1)
        idx = idx.clone()
        idx[idx >= lengths.unsqueeze(1)] = -1
        return idx


def _check_int(value: object, n_ctx: int | None, what: str = "position") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            as_int = int(value)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            raise InterpError(f"bad {what} {value!r}; {_HELP}") from None
        if as_int != value:
            raise InterpError(f"bad {what} {value!r}; {_HELP}")
        value = as_int
    if value < 0:
        raise InterpError(
            f"{what} {value} is negative; positions count from the start of each sequence "
            "(0..n_ctx-1); use 'last' for the newest token"
        )
    if n_ctx is not None and value >= n_ctx:
        raise InterpError(f"{what} {value} out of range; valid: 0..{n_ctx - 1} (n_ctx={n_ctx})")
    return value


def parse_positions(spec: PositionSpec, n_ctx: int | None = None) -> Positions:
    """Validate a position spec (None means "all"); raise InterpError naming a bad value."""
    if spec is None:
        return Positions("all")
    if isinstance(spec, Positions):
        return spec
    if isinstance(spec, str):
        if spec in ("all", "last"):
            return Positions(spec)
        raise InterpError(f"unknown positions {spec!r}; {_HELP}")
    if isinstance(spec, slice):
        start = 0 if spec.start is None else _check_int(spec.start, n_ctx, "slice start")
        stop = None if spec.stop is None else _check_int(spec.stop, None, "slice stop")
        step = 1 if spec.step is None else _check_int(spec.step, None, "slice step")
        if step == 0:
            raise InterpError(f"bad positions {spec!r}: slice step must be positive")
        return Positions("slice", start=start, stop=stop, step=step)
    if isinstance(spec, Tensor):
        if spec.dim() > 1 or spec.dtype.is_floating_point or spec.dtype == torch.bool:
            raise InterpError(
                f"bad positions tensor (dtype {spec.dtype}, shape {tuple(spec.shape)}); {_HELP}"
            )
        spec = spec.reshape(-1).tolist()
    if isinstance(spec, (list, tuple, range)):
        values = tuple(_check_int(v, n_ctx) for v in spec)
        if not values:
            raise InterpError(f"positions {spec!r} is empty; {_HELP}")
        return Positions("index", values=values)
    return Positions("index", values=(_check_int(spec, n_ctx),))
