"""Attach interventions: `intervene` (context manager, always restores), `apply` (persistent,
explicit `Handle.remove()`), `remove_all`. Specs on one hook run in the order given/nested.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from interp.errors import InterpError
from interp.hooks.attach import Attached, attach
from interp.hooks.interventions import Compiled, Intervention, compile_intervention
from interp.hooks.tracker import tracker_for

if TYPE_CHECKING:
    from interp.models.model import Model

_LIVE: weakref.WeakKeyDictionary[Any, list[Handle]] = weakref.WeakKeyDictionary()


def _compile_all(model: Model, specs: tuple[Any, ...]) -> list[Compiled]:
    flat: list[Intervention] = []
    for spec in specs:
        if isinstance(spec, (list, tuple)):
            flat.extend(spec)
        else:
            flat.append(spec)
    if not flat:
        raise InterpError("no interventions given; pass one or more Intervention specs")
    if not hasattr(model, "bridge") or not hasattr(model, "facts"):
        raise InterpError(f"expected an interp Model (from load_model), got {type(model).__name__}")
    return [compile_intervention(model, spec) for spec in flat]


class Handle:
    """Interventions attached to a model's hooks until `remove()` (idempotent)."""

    def __init__(self, model: Model, compiled: list[Compiled]) -> None:
        self.model = model
        self.specs = [c.spec for c in compiled]
        self._hooks: Attached | None = None
        bridge = model.bridge
        self._tracker = tracker_for(bridge)
        self._tracker.acquire()
        try:
            self._hooks = attach(model, [(c.hook_name, c.fn) for c in compiled])
        except BaseException:
            self.remove()
            raise
        _LIVE.setdefault(bridge, []).append(self)

    @property
    def active(self) -> bool:
        return self._tracker is not None

    def remove(self) -> None:
        """Detach these interventions (and nothing else); safe to call more than once."""
        if self._hooks is not None:
            self._hooks.remove()
            self._hooks = None
        if self._tracker is not None:
            self._tracker.release()
            self._tracker = None
        live = _LIVE.get(self.model.bridge)
        if live is not None and self in live:
            live.remove(self)

    def __repr__(self) -> str:
        state = "active" if self.active else "removed"
        return f"Handle({state}, {self.specs!r})"


def apply(model: Model, *interventions: Intervention | list[Intervention]) -> Handle:
    """Attach interventions persistently (e.g. in a notebook); undo with `handle.remove()`.

    All specs are validated before any hook is attached. Non-permanent TransformerLens hooks
    are used, so `model.bridge.reset_hooks()` also detaches them.
    """
    return Handle(model, _compile_all(model, interventions))


@contextmanager
def scoped(model: Model, compiled: list[Compiled]) -> Iterator[Handle]:
    """Context manager: compiled interventions attached for the block, always removed."""
    handle = Handle(model, compiled)
    try:
        yield handle
    finally:
        handle.remove()


def intervene(model: Model, *interventions: Intervention | list[Intervention]) -> Any:
    """Context manager: the interventions apply inside the `with` body (forward passes,
    `model.generate` with or without KV cache) and are removed on exit, even on an exception.

    Specs are validated here, before the body runs; several specs on the same hook run in
    the order given, and nested contexts run outer before inner.
    """
    return scoped(model, _compile_all(model, interventions))


def remove_all(model: Model) -> int:
    """Remove every intervention interp attached to `model` (contexts included); returns
    how many handles were removed. Hooks attached by other code are left alone."""
    live = list(_LIVE.get(model.bridge, []))
    for handle in live:
        handle.remove()
    return len(live)


def active_interventions(model: Model) -> list[Intervention]:
    """Specs currently attached to `model`, in application order per hook."""
    return [spec for handle in _LIVE.get(model.bridge, []) for spec in handle.specs]
