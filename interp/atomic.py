"""Atomic writes: a temporary sibling in the same directory, then `os.replace`, so a reader
never sees half a file (or half a directory) and an error leaves nothing behind.

Temporary names carry the writing process's id: `.NAME.<pid>-XXXXXXXX.tmp` (files),
`.NAME.tmp-<pid>-XXXXXXXX` and `.NAME.old-<pid>-XXXXXXXX` (directories). A killed process
cannot clean up, so every atomic write first removes the stale temporaries of its target
(`remove_stale`): those of processes that are gone. Those of a live process are kept (two
writers never break each other; writers are assumed to share this machine's process ids). A
stale `.old-` directory whose target is missing (killed between the two renames) is moved
back into place. Temporaries named before ids were recorded are removed once older than
LEGACY_STALE_AFTER_S.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

#: Age after which a temporary without a process id (older interp versions) is stale.
LEGACY_STALE_AFTER_S = 24 * 3600
_RAND = r"[a-z0-9_]{8}"  # tempfile's random part
_OURS = re.compile(rf"^\.(?P<name>.+)\.(?:(?P<fpid>\d+)-{_RAND}\.tmp"
                   rf"|(?P<kind>tmp|old)-(?P<dpid>\d+)-{_RAND})$")
_LEGACY = re.compile(rf"^\.(?P<name>.+)\.(?:{_RAND}\.tmp|(?P<kind>tmp|old)-{_RAND})$")
_PREVIOUS = "previous"  # the replaced directory, inside an `.old-` directory


def write_with(path: str | os.PathLike, write: Callable[[Path], object]) -> Path:
    """Call `write(tmp)` to fill a temporary sibling of `path`, then rename it onto `path`.

    For writers that take a file name (e.g. `safetensors.torch.save_file`). The temporary file
    is removed if `write` raises. Returns `path`.
    """
    target = Path(path)
    remove_stale(target.parent, target.name)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}-", suffix=".tmp",
                                dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def write_atomic(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write text (UTF-8) or bytes to `path` atomically. Returns `path`."""
    if isinstance(data, bytes):
        return write_with(path, lambda tmp: tmp.write_bytes(data))
    return write_with(path, lambda tmp: tmp.write_text(data, encoding="utf-8"))


@contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a new temporary sibling directory of `path` to fill; when the block ends, put it
    in place of `path`, replacing a previous directory whole. On error it is removed and
    `path` is left as it was."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(target.parent, target.name)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-",
                                dir=target.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700
        if target.is_dir():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-{os.getpid()}-",
                                        dir=target.parent))
            os.replace(target, old / _PREVIOUS)
            try:
                os.replace(tmp, target)
            except BaseException:
                os.replace(old / _PREVIOUS, target)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def remove_stale(directory: str | os.PathLike, name: str | None = None) -> list[Path]:
    """Remove the temporaries in `directory` left by killed writers of `name` (None: of any
    name): those whose process is gone, and those without a process id older than
    LEGACY_STALE_AFTER_S. A stale `.old-` directory whose target is missing is moved back
    into place first. Returns what was removed or restored; errors are ignored (a
    temporary that cannot be removed now is tried again next time)."""
    directory = Path(directory)
    try:
        entries = sorted(directory.iterdir())
    except OSError:
        return []
    done = []
    for entry in entries:
        m = _OURS.match(entry.name) or _LEGACY.match(entry.name)
        if not m or (name is not None and m["name"] != name):
            continue
        found = m.groupdict()
        pid = found.get("fpid") or found.get("dpid")
        with contextlib.suppress(OSError):
            if pid is not None and _alive(int(pid)):
                continue
            if pid is None and time.time() - entry.lstat().st_mtime < LEGACY_STALE_AFTER_S:
                continue
            target = directory / m["name"]
            previous = entry / _PREVIOUS
            if found["kind"] == "old" and previous.is_dir() and not os.path.lexists(target):
                os.replace(previous, target)  # killed between the renames: put it back
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            done.append(entry)
    return done


def _alive(pid: int) -> bool:
    """Whether process `pid` exists (one we may not signal counts as alive)."""
    if pid <= 0:
        return True  # not a process id we wrote; never remove on its account
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask
