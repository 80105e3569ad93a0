"""Operations an intervention applies to the selected units: set, add, scale, zero, mean.

Build them with set_to / add / scale / zero_ablate / mean_ablate; values broadcast over units.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from jaxtyping import Float
from torch import Tensor

from interp.errors import InterpError, choices_error

Value = float | Tensor

#: op kind -> whether it takes a value.
KINDS = {"set": True, "add": True, "scale": True, "zero": False, "mean": True}
_ALIASES = {"set_to": "set", "zero_ablate": "zero", "mean_ablate": "mean", "multiply": "scale"}


@dataclass(frozen=True, eq=False)
class Op:
    """kind: "set" | "add" | "scale" | "zero" | "mean"; value: scalar or tensor (None for zero).

    For "mean", value holds the means over the site's full unit axis (e.g. [d_mlp], or
    [n_heads, d_head] for attn_z); the selected units are picked out of it.
    """

    kind: str
    value: Value | None = None

    def __repr__(self) -> str:
        if self.value is None:
            return f"{self.kind}()"
        value = self.value
        shown = f"tensor{list(value.shape)}" if isinstance(value, Tensor) else value
        return f"{self.kind}({shown})"

    def apply(
        self, block: Float[Tensor, "batch pos ..."], value: Tensor | None
    ) -> Float[Tensor, "batch pos ..."]:
        """New values for `block` (the selected units); `value` already on block's device."""
        if self.kind == "zero":
            return torch.zeros_like(block)
        assert value is not None
        if self.kind in ("set", "mean"):
            return value.expand_as(block)
        if self.kind == "add":
            return block + value
        return block * value


def as_op(op: Op | str) -> Op:
    """An Op, or the name of a valueless op ("zero" / "zero_ablate"); else InterpError."""
    if isinstance(op, Op):
        kind = _ALIASES.get(op.kind, op.kind)
        if kind not in KINDS:
            raise choices_error("op", op.kind, KINDS)
        if KINDS[kind] and op.value is None:
            raise InterpError(f"op {kind!r} needs a value, got None")
        if kind != op.kind:
            return Op(kind, op.value)
        return op
    if isinstance(op, str):
        kind = _ALIASES.get(op, op)
        if kind not in KINDS:
            raise choices_error("op", op, KINDS)
        if KINDS[kind]:
            raise InterpError(f"op {op!r} needs a value; use {op if op in _ALIASES else kind}(...)")
        return Op(kind)
    raise InterpError(
        f"unknown op {op!r}; expected set_to(v), add(d), scale(f), zero_ablate() or "
        "mean_ablate(means)"
    )


def _value(value: Value, what: str) -> Value:
    if isinstance(value, bool) or not isinstance(value, (int, float, Tensor)):
        try:
            import numpy as np

            if isinstance(value, np.ndarray):
                return torch.from_numpy(value)
        except ImportError:  # pragma: no cover
            pass
        raise InterpError(f"{what} value must be a number or a tensor, got {value!r}")
    if isinstance(value, Tensor) and not value.dtype.is_floating_point:
        return value.float()
    return value


def set_to(value: Value) -> Op:
    """Overwrite the selected units with `value` (scalar or tensor broadcast over them)."""
    return Op("set", _value(value, "set_to"))


def add(delta: Value) -> Op:
    """Add `delta` to the selected units (e.g. a steering vector on a residual site)."""
    return Op("add", _value(delta, "add"))


def scale(factor: Value) -> Op:
    """Multiply the selected units by `factor`."""
    return Op("scale", _value(factor, "scale"))


def zero_ablate() -> Op:
    """Set the selected units to zero."""
    return Op("zero")


def mean_ablate(means: Value) -> Op:
    """Replace the selected units by their means (a tensor over the site's full unit axis,
    e.g. captured activations averaged over tokens: [d_mlp], or [n_heads, d_head])."""
    return Op("mean", _value(means, "mean_ablate"))
