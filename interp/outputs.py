"""Where a workflow will write, checked before it does any work: one place that turns an
unusable output location into one `InterpError` line naming the parameter and the path.

A location is usable when its name is not empty, it is (or will be) the right sort of thing (a
directory for `--out DIR`, a file for `--table FILE`) and its nearest existing ancestor is a
directory this process can create entries in. Writability is tried, not inferred from mode
bits (which a root user ignores and a read-only mount does not show): a temporary file is made
and removed at once, so the check leaves nothing behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from interp.errors import InterpError


def _nearest_existing(path: Path) -> Path:
    """`path` or its closest ancestor that exists (the current directory for a bare name)."""
    probe = path.absolute()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe


def _can_write_in(directory: Path) -> bool:
    try:
        with tempfile.TemporaryFile(dir=directory):
            return True
    except OSError:
        return False


def _check(path: str | os.PathLike | None, param: str, want_dir: bool) -> Path:
    what = "directory" if want_dir else "file"
    if path is None or not str(path).strip():
        raise InterpError(f"{param} must name a {what}, got {str(path or '')!r}")
    target = Path(path)
    if target.exists() and target.is_dir() != want_dir:
        other = "a directory" if target.is_dir() else "a file"
        raise InterpError(f"{param} must name a {what}, but '{target}' is {other}")
    base = _nearest_existing(target if want_dir else target.parent)
    if not base.is_dir():
        raise InterpError(f"{param} must name a {what} that can be made, but '{base}' "
                          f"(on the way to '{target}') is a file")
    if not _can_write_in(base):
        raise InterpError(f"{param} must name a {what} that can be written, but '{base}' "
                          f"is read-only (for '{target}')")
    return target


def output_dir(path: str | os.PathLike | None, param: str = "out") -> Path:
    """`path` as a Path once it is usable as an output directory (new or existing), else
    InterpError "<param> must name a directory ...". Creates nothing."""
    return _check(path, param, want_dir=True)


def output_file(path: str | os.PathLike | None, param: str) -> Path:
    """`path` as a Path once a file can be written there (new or replaced), else InterpError
    "<param> must name a file ...". Creates nothing."""
    return _check(path, param, want_dir=False)
