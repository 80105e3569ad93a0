"""Where interp keeps what it derives once and reuses: `INTERP_CACHE_DIR`, else
`$XDG_CACHE_HOME/interp`, else `~/.cache/interp`. Models converted from GGUF live in
`<root>/models/<name>-<sha256[:16]>/`, one Hugging Face directory per source file."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from interp.errors import InterpError

#: Environment variable that overrides the cache root.
CACHE_ENV = "INTERP_CACHE_DIR"


def cache_root() -> Path:
    """The cache root (not created here)."""
    env = os.environ.get(CACHE_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "interp"


def models_dir() -> Path:
    """Directory of converted models inside the cache root (not created here)."""
    return cache_root() / "models"


def writable_dir(path: Path) -> Path:
    """Create `path` if needed and prove it is writable; InterpError naming it otherwise."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test.", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise InterpError(
            f"cache directory '{path}' is not writable ({err.strerror or err}); set "
            f"{CACHE_ENV} to a writable directory"
        ) from None
    return path


def cached_json(path: Path, compute: Callable[[], Any]) -> Any:
    """The JSON value stored at `path`, or `compute()` stored there first (best effort: a
    cache that cannot be written only costs time)."""
    from interp.atomic import write_atomic

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    result = compute()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(result, sort_keys=True) + "\n")
    except OSError:
        pass
    return result
