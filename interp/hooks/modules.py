"""Hooks on torch modules themselves, for what TransformerLens hook points cannot give: the
keyword arguments of a call (a block's masks and rotary tables, the KV-cache state of the HF
model's forward). Everything on a hook point goes through `interp.hooks.attach` instead.

    with ModuleHooks() as hooks:
        hooks.pre(block, record)      # record(module, args, kwargs), before each call
        model.bridge(tokens)
    # removed here, even when the body raised
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from typing_extensions import Self


class ModuleHooks:
    """Torch forward hooks registered together and removed together (`remove`, idempotent;
    or use as a context manager). `pre` hooks get the call's kwargs; `post` hooks run even
    when the forward raises."""

    def __init__(self) -> None:
        self._handles: list[Any] = []

    def pre(self, module: torch.nn.Module,
            fn: Callable[[torch.nn.Module, tuple[Any, ...], dict[str, Any]], Any]) -> Self:
        """Register `fn(module, args, kwargs)` to run before each call of `module`."""
        self._handles.append(module.register_forward_pre_hook(fn, with_kwargs=True))
        return self

    def post(self, module: torch.nn.Module,
             fn: Callable[[torch.nn.Module, tuple[Any, ...], Any], Any]) -> Self:
        """Register `fn(module, args, output)` to run after each call of `module`."""
        self._handles.append(module.register_forward_hook(fn, always_call=True))
        return self

    def remove(self) -> None:
        """Remove every hook registered here."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __bool__(self) -> bool:
        """True while hooks are registered."""
        return bool(self._handles)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.remove()
