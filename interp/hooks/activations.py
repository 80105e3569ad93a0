"""Activations: captured hook tensors plus the tokens, mask and positions they line up with.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import torch
from jaxtyping import Bool, Float, Int
from torch import Tensor

from interp.errors import InterpError, choices_error


@dataclass
class Activations:
    """`acts[hook_name]` -> Float[Tensor, "batch pos ..."] on the CPU.

    `tokens`, `mask` and `positions` share the first two dims with every activation: slot
    (b, i) holds token `tokens[b, i]` at position `positions[b, i]` of sequence b, and
    `mask[b, i]` is False where the slot is padding (positions -1, activations zero). With
    the default positions=None, slot i is position i and `mask` is the attention mask.
    """

    acts: dict[str, Tensor]
    tokens: Int[Tensor, "batch pos"]
    mask: Bool[Tensor, "batch pos"]
    positions: Int[Tensor, "batch pos"]
    fingerprint: str | None = None
    meta: dict = field(default_factory=dict)

    def __getitem__(self, name: str) -> Float[Tensor, "batch pos ..."]:
        try:
            return self.acts[name]
        except KeyError:
            raise choices_error("hook name", name, self.acts) from None

    def __contains__(self, name: object) -> bool:
        return name in self.acts

    def __iter__(self) -> Iterator[str]:
        return iter(self.acts)

    def __len__(self) -> int:
        return self.tokens.shape[0]

    def keys(self) -> list[str]:
        return list(self.acts)

    @property
    def names(self) -> list[str]:
        return list(self.acts)

    @property
    def n_tokens(self) -> int:
        """Number of real (unmasked) slots."""
        return int(self.mask.sum())

    def flat(self, name: str) -> Float[Tensor, "n_tokens ..."]:
        """The activations at real slots only, flattened over batch and position."""
        return self[name][self.mask]

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}: {list(v.shape)}" for k, v in self.acts.items())
        return f"Activations({len(self)} sequences, {self.n_tokens} tokens; {shapes})"

    @classmethod
    def cat(cls, parts: Sequence[Activations]) -> Activations:
        """Concatenate along the batch, right-padding every other dim to the largest part."""
        if not parts:
            raise InterpError("nothing to concatenate: no activations were captured")
        names = parts[0].names
        for p in parts[1:]:
            if p.names != names:
                raise InterpError(f"cannot concatenate activations of {p.names} with {names}")
        return cls(
            acts={n: cat_padded([p.acts[n] for p in parts], 0) for n in names},
            tokens=cat_padded([p.tokens for p in parts], int(parts[0].meta.get("pad_id", 0))),
            mask=cat_padded([p.mask for p in parts], False),
            positions=cat_padded([p.positions for p in parts], -1),
            fingerprint=parts[0].fingerprint,
            meta=dict(parts[0].meta),
        )


def cat_padded(tensors: Sequence[Tensor], value: float) -> Tensor:
    """Concatenate on dim 0 after right-padding every other dim to the largest size."""
    if len(tensors) == 1:
        return tensors[0]
    shape = [max(t.shape[d] for t in tensors) for d in range(1, tensors[0].dim())]
    out = []
    for t in tensors:
        if list(t.shape[1:]) != shape:
            padded = torch.full((t.shape[0], *shape), value, dtype=t.dtype)
            padded[tuple(slice(0, n) for n in t.shape)] = t
            t = padded
        out.append(t)
    return torch.cat(out)
