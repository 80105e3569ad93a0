"""GGUF files -> a cached Hugging Face directory (float32 safetensors + tokenizer), made once.

transformers reads GGUF (with pip `gguf`) by dequantising every tensor, which takes from
seconds to minutes; interp does it once per file, keyed by the file's sha256, in
`<cache>/models/<label>-<sha[:16]>/`, written to a temporary sibling and renamed, with
`interp-source.json` (what it came from) written last. Later loads read that directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from interp.atomic import atomic_dir
from interp.errors import InterpError
from interp.errors import first_line as _first_line
from interp.models.cache import models_dir, writable_dir
from interp.progress import say

GGUF_MAGIC = b"GGUF"
#: Written last inside a converted directory: its presence means the conversion finished.
SOURCE_FILE = "interp-source.json"
#: Temporary directories of conversions older than this (seconds) are crashed runs: removed.
STALE_AFTER_S = 6 * 3600


def sha256_file(path: Path, block: int = 1 << 22) -> str:
    """Hex sha256 of a file, read in blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(block):
            h.update(chunk)
    return h.hexdigest()


def converted_path(label: str, sha256: str) -> Path:
    """Where the conversion of the file with this sha256 lives (whether or not it exists)."""
    return models_dir() / f"{label}-{sha256[:16]}"


def is_converted(path: Path) -> bool:
    return (path / SOURCE_FILE).is_file() and (path / "config.json").is_file()


def check_gguf(path: Path) -> str:
    """Validate a GGUF file before converting it; return its `general.architecture`.

    Raises InterpError for a file that is missing, not a GGUF, truncated, or of an
    architecture transformers cannot read from GGUF.
    """
    if not path.is_file():
        raise InterpError(f"GGUF file '{path}' does not exist")
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic != GGUF_MAGIC:
        raise InterpError(f"'{path}' is not a GGUF file (it does not start with b'GGUF')")
    try:
        from gguf import GGUFReader
    except ImportError:
        raise InterpError(
            "reading GGUF files needs the package 'gguf': pip install gguf==0.19.0"
        ) from None
    try:
        reader = GGUFReader(path)
        arch_field = reader.fields["general.architecture"]
        architecture = bytes(arch_field.parts[arch_field.data[0]]).decode("utf-8")
        end = max((t.data_offset + int(t.n_bytes) for t in reader.tensors), default=0)
    except Exception as err:  # noqa: BLE001 - any parse failure means a damaged file
        raise InterpError(
            f"'{path}' is truncated or not a valid GGUF file ({_first_line(err)})"
        ) from None
    if end > path.stat().st_size:
        raise InterpError(f"'{path}' is truncated: its tensors need {end} bytes, the file has "
                          f"{path.stat().st_size}")
    from transformers.modeling_gguf_pytorch_utils import GGUF_SUPPORTED_ARCHITECTURES

    supported = [a for a in GGUF_SUPPORTED_ARCHITECTURES if a not in ("general", "tokenizer")]
    if architecture not in supported:
        raise InterpError(
            f"'{path}' holds a {architecture!r} model, which transformers cannot read from GGUF; "
            f"readable architectures: {', '.join(sorted(supported))}"
        )
    return architecture


def convert(gguf: Path, label: str, sha256: str, *, progress: bool = True,
            extra: dict[str, Any] | None = None) -> Path:
    """The converted directory of `gguf` (whose sha256 the caller has checked), converting it
    now if it is not cached. Nothing half-written is ever left under the final name."""
    target = converted_path(label, sha256)
    if is_converted(target):
        return target
    root = writable_dir(models_dir())
    architecture = check_gguf(gguf)
    _remove_stale(root, label)
    t0 = time.perf_counter()
    say("interp", f"first load of {label}: converting '{gguf.name}' ({architecture}) to "
        f"a float32 Hugging Face directory in '{target}' (done once)", enabled=progress)
    # filled under a temporary name, then put in place (an unfinished directory under the
    # final name, from older versions, is replaced whole)
    with atomic_dir(target) as tmp:
        versions = _convert_into(gguf, tmp, progress)
        source = {"label": label, "gguf_file": gguf.name, "sha256": sha256,
                  "bytes": gguf.stat().st_size, "architecture": architecture,
                  "dtype": "float32", **versions, **(extra or {})}
        (tmp / SOURCE_FILE).write_text(json.dumps(source, indent=1, sort_keys=True) + "\n",
                                       encoding="utf-8")
    say("interp", f"converted {label} in {time.perf_counter() - t0:.1f} s", enabled=progress)
    return target


def _convert_into(gguf: Path, out: Path, progress: bool) -> dict[str, str]:
    import importlib.metadata as md

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from interp.models.load import _progress_bars

    try:
        with _progress_bars(progress):
            say("interp", "  reading the tokenizer", enabled=progress)
            tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
            say("interp", "  dequantising the weights", enabled=progress)
            with _quiet_logs():
                model = AutoModelForCausalLM.from_pretrained(
                    gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
        # a plain float32 model from here on: no quantizer, no quantization config
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        say("interp", "  saving", enabled=progress)
        model.save_pretrained(out)
        tokenizer.save_pretrained(out)
    except Exception as err:  # noqa: BLE001 - transformers' errors vary by architecture
        raise InterpError(f"could not convert '{gguf}': {_first_line(err)}") from None
    return {"transformers": md.version("transformers"), "gguf": md.version("gguf")}


@contextlib.contextmanager
def _quiet_logs():
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)


def _remove_stale(root: Path, name: str) -> None:
    """Remove temporary files and folders of `name` left by a killed conversion (or hash)."""
    now = time.time()
    for old in (*root.glob(f".{name}.*.tmp"), *root.glob(f".{name}-*.tmp"),
                *root.glob(f".{name}-*.tmp-*"), *root.glob(f".{name}-*.old-*")):
        with contextlib.suppress(OSError):
            if now - old.stat().st_mtime > STALE_AFTER_S:
                shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink()


def from_file(path: str | os.PathLike, *, progress: bool = True) -> Path:
    """The converted directory of any local `.gguf` file (converting it the first time).

    The file's sha256 keys the cache; it is remembered per (path, size, mtime) in
    `<cache>/models/gguf-index.json`, so a later load does not reread a large file.
    """
    gguf = Path(path).expanduser()
    if not gguf.is_file():
        raise InterpError(f"GGUF file '{gguf}' does not exist")
    label = "".join(c if c.isalnum() or c in "-_." else "_" for c in gguf.stem)[:64] or "gguf"
    sha = _indexed_sha(gguf)
    return convert(gguf, label, sha, progress=progress)


def _indexed_sha(path: Path) -> str:
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    index_path = models_dir() / "gguf-index.json"
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        index = {}
    sha = index.get(key)
    if isinstance(sha, str) and len(sha) == 64:
        return sha
    sha = sha256_file(path)
    index[key] = sha
    with contextlib.suppress(OSError):  # the index only saves time; never fail a load on it
        from interp.atomic import write_atomic

        models_dir().mkdir(parents=True, exist_ok=True)
        write_atomic(index_path, json.dumps(index, indent=1, sort_keys=True) + "\n")
    return sha
