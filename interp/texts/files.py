"""Reading a user's text file (prompts, documents, datasets, task and circuit files, code
JSONL): one place that turns every way the read can fail (missing, unreadable, not UTF-8, a
damaged .gz) into one `InterpError` line naming the file."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from interp.errors import InterpError


@contextmanager
def reading(path: str | os.PathLike, what: str = "file") -> Iterator[None]:
    """Inside the block, a failure to read `path` (described as `what`, e.g. "task file")
    becomes InterpError "<what> '<path>' is not UTF-8 text ..." / "cannot read <what> ..."."""
    try:
        yield
    except UnicodeDecodeError as err:
        bad = err.object[err.start:err.start + 1].hex() if err.object else "?"
        raise InterpError(f"{what} '{path}' is not UTF-8 text (byte 0x{bad} cannot be "
                          "decoded); save it as UTF-8") from None
    except (OSError, EOFError) as err:
        why = getattr(err, "strerror", None) or str(err) or type(err).__name__
        raise InterpError(f"cannot read {what} '{path}': {why}") from None


def read_text(path: str | os.PathLike, what: str = "file") -> str:
    """The whole of a UTF-8 text file, or InterpError (see `reading`)."""
    with reading(path, what), open(path, encoding="utf-8") as handle:
        return handle.read()
