"""interp: mechanistic-interpretability toolkit on torch + transformer-lens (TransformerBridge).

Importing `interp` is cheap; `load_model` and `Model` import torch/transformer-lens on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["InterpError", "Model", "__version__", "load_model"]

if TYPE_CHECKING:  # pragma: no cover
    from interp.errors import InterpError
    from interp.models import Model, load_model

# In a Jupyter kernel, before anything imports transformers (see the function's note).
from interp.progress import quiet_widgetless_notebook_bars

quiet_widgetless_notebook_bars()

_LAZY = {
    "load_model": ("interp.models.load", "load_model"),
    "Model": ("interp.models.model", "Model"),
    "InterpError": ("interp.errors", "InterpError"),
    "clamp": ("interp.steer.clamps", "clamp"),
    "decode_neurons": ("interp.neurons.mapper", "decode_neurons"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module_name, attr = _LAZY[name]
        value = getattr(importlib.import_module(module_name), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'interp' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
