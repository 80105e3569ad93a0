"""Forward-call tracker: the KV-cache offset and attention mask of the forward now running.

Hooks see only the new tokens of a cached step; this maps them back to token positions.
"""

from __future__ import annotations

import weakref
from typing import Any

import torch
from jaxtyping import Int
from torch import Tensor

from interp.hooks.modules import ModuleHooks


class Tracker:
    """Records `offset` (tokens already in the KV cache) and `mask` (attention mask over
    cache + new tokens) from the wrapped HF model's forward kwargs, for the call's duration.

    Reference-counted per bridge: installed by the first active intervention, removed with
    the last. Outside a tracked call, offset is 0 and mask None.
    """

    def __init__(self, hf_model: torch.nn.Module) -> None:
        self.offset = 0
        self.mask: Tensor | None = None
        self.users = 0
        self._hf_model = hf_model
        self._hooks = ModuleHooks()

    # -- installation ---------------------------------------------------------------------
    def acquire(self) -> None:
        if self.users == 0:
            self._hooks.pre(self._hf_model, self._before).post(self._hf_model, self._after)
        self.users += 1

    def release(self) -> None:
        self.users = max(0, self.users - 1)
        if self.users == 0:
            self._hooks.remove()
            self._reset()

    @property
    def installed(self) -> bool:
        return bool(self._hooks)

    # -- torch hooks ----------------------------------------------------------------------
    def _before(self, module: Any, args: tuple, kwargs: dict) -> None:
        self.offset = cache_offset(kwargs)
        mask = kwargs.get("attention_mask")
        self.mask = mask if isinstance(mask, Tensor) and mask.dim() == 2 else None

    def _after(self, module: Any, args: tuple, output: Any) -> None:
        self._reset()

    def _reset(self) -> None:
        self.offset = 0
        self.mask = None

    # -- positions ------------------------------------------------------------------------
    def positions(self, batch: int, length: int, device: torch.device) -> Int[Tensor, "b p"]:
        """Token position of each of the `length` new slots per row; -1 marks padding.

        With an attention mask covering cache + new tokens, a position counts the real
        (mask 1) tokens before it in its row, as HF derives position ids; otherwise it is
        `offset + column`.
        """
        mask = self.mask
        if mask is not None and mask.shape == (batch, self.offset + length):
            real = mask.to(device=device) != 0
            pos = real.long().cumsum(-1) - 1
            pos = pos.masked_fill(~real, -1)
            return pos[:, -length:]
        cols = torch.arange(self.offset, self.offset + length, device=device)
        return cols.expand(batch, length)


def cache_offset(kwargs: dict) -> int:
    """Number of tokens already in the KV cache for an HF forward called with `kwargs`.

    Read from the cache's shapes first (a host-side int: no device synchronisation on a GPU);
    `cache_position` (a device tensor) only when no cache object is passed.
    """
    cache = kwargs.get("past_key_values")
    if cache is not None and hasattr(cache, "get_seq_length"):
        return int(cache.get_seq_length())
    if cache is not None:
        try:  # legacy tuple format: ((k, v), ...) with k [batch, heads, pos, d_head]
            return int(cache[0][0].shape[-2])
        except (IndexError, TypeError, AttributeError):
            pass
    cache_position = kwargs.get("cache_position")
    if isinstance(cache_position, Tensor) and cache_position.numel():
        return int(cache_position.reshape(-1)[0])
    return 0


_TRACKERS: weakref.WeakKeyDictionary[Any, Tracker] = weakref.WeakKeyDictionary()


def tracker_for(bridge: Any) -> Tracker:
    """The (single) Tracker of a TransformerBridge, created on first use."""
    tracker = _TRACKERS.get(bridge)
    if tracker is None:
        tracker = _TRACKERS[bridge] = Tracker(bridge.original_model)
    return tracker
