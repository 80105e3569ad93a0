"""A context manager that attaches forward hooks to a bridge and always removes them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from interp.models.model import Model


@contextmanager
def attached(model: Model, fns: dict[str, Callable[..., Any]]) -> Iterator[None]:
    """Attach `fns` ({hook name: fn(tensor, hook)}) for the duration of the block."""
    added = []
    try:
        for name, fn in fns.items():
            point = model.bridge.hook_dict[name]
            added.append((point, point.add_hook(fn, dir="fwd")))
        yield
    finally:
        for point, lens in added:
            lens.hook.remove()
            point.fwd_hooks[:] = [h for h in point.fwd_hooks if h is not lens]
