"""Device and dtype resolution: the one place that turns "auto", "cuda:1", "bf16" or a
torch.dtype into what torch needs, and the one table of dtype names."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from interp.errors import InterpError, choices_error

if TYPE_CHECKING:
    import torch

# Accepted spellings of each floating-point dtype -> its canonical name.
DTYPE_ALIASES = {
    "float32": "float32", "fp32": "float32", "float": "float32",
    "float64": "float64", "fp64": "float64", "double": "float64",
    "bfloat16": "bfloat16", "bf16": "bfloat16",
    "float16": "float16", "fp16": "float16", "half": "float16",
}


def dtype_from_name(name: str, allowed: tuple[str, ...] | None = None) -> torch.dtype:
    """A dtype from its name or alias ("bf16", "torch.float32"); `allowed` limits the
    canonical names accepted."""
    import torch

    canonical = DTYPE_ALIASES.get(str(name).lower().removeprefix("torch."))
    valid = allowed or tuple(sorted(set(DTYPE_ALIASES.values())))
    if canonical is None or canonical not in valid:
        raise choices_error("dtype", name, list(valid))
    return getattr(torch, canonical)


def dtype_name(dtype: torch.dtype) -> str:
    """The canonical name of a torch dtype ("float32"), as artifacts record it."""
    return str(dtype).removeprefix("torch.")


def resolve_device(device: str | torch.device | None) -> torch.device:
    """"auto"/None -> cuda if available, else mps, else cpu; else validate the given device."""
    import torch

    if device is None or device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise InterpError(
            f"unknown device {device!r}; expected 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"
        ) from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InterpError(f"device {device!r} is not available here (no CUDA); use 'auto' or 'cpu'")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise InterpError(f"device {device!r} is not available here (no MPS); use 'auto' or 'cpu'")
    return dev


def resolve_dtype(dtype: str | torch.dtype | None) -> torch.dtype | str:
    """None/"auto" -> "auto" (checkpoint dtype, float32 if unspecified); names -> torch dtypes
    (float32, bfloat16, float16: the dtypes a model can be loaded in)."""
    import torch

    if dtype is None or dtype == "auto":
        return "auto"
    if isinstance(dtype, torch.dtype):
        if not dtype.is_floating_point:
            raise InterpError(f"dtype {dtype} is not a floating-point type")
        return dtype
    return dtype_from_name(dtype, ("float32", "bfloat16", "float16"))


@contextmanager
def deterministic_algorithms() -> Iterator[None]:
    """Inside the block torch picks deterministic kernels (a CPU run with several threads
    otherwise sums some gradients in a varying order: trained values then differ by ~1e-8
    between runs, and so would the bytes saved); ops without one only warn. The previous
    setting is restored on exit, even on an error."""
    import torch

    before = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before, warn_only=warn_only)
