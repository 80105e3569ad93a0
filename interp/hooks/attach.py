"""The one way interp attaches forward hooks to a bridge's TransformerLens hook points:
`attach(model, fns)` adds them (in the order given) and `remove()` / leaving a `with` block
detaches exactly those, even when the body raises.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import Self

    from interp.models.model import Model

HookFn = Callable[..., Any]
#: {hook name: fn(tensor, hook)}, or (hook name, fn) pairs when one hook takes several fns.
HookFns = Mapping[str, HookFn] | Iterable[tuple[str, HookFn]]


class Attached:
    """Forward hooks attached to `model.bridge.hook_dict`; `remove()` is idempotent."""

    def __init__(self, model: Model, fns: HookFns) -> None:
        pairs = fns.items() if isinstance(fns, Mapping) else fns
        hook_dict = model.bridge.hook_dict
        self._added: list[tuple[Any, Any]] = []  # (HookPoint, LensHandle)
        try:
            for name, fn in pairs:
                point = hook_dict[name]
                self._added.append((point, point.add_hook(fn, dir="fwd")))
        except BaseException:
            self.remove()
            raise

    def remove(self) -> None:
        """Detach these hooks (last attached first) and nothing else."""
        while self._added:
            point, lens = self._added.pop()
            lens.hook.remove()
            point.fwd_hooks[:] = [h for h in point.fwd_hooks if h is not lens]

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.remove()


def attach(model: Model, fns: HookFns) -> Attached:
    """Attach `fns` as forward hooks; use as `with attach(model, fns):` or keep the result and
    call `.remove()`. Non-permanent hooks: `model.bridge.reset_hooks()` also detaches them."""
    return Attached(model, fns)
