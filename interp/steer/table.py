"""Write result tables (CSV or JSON) and other artifacts atomically: a temporary file in the
same directory, then an atomic rename, so a reader never sees half a file."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from interp.atomic import write_atomic as write_atomic_file
from interp.errors import InterpError

FORMATS = ("csv", "json")


def write_atomic(path: str | os.PathLike, data: str | bytes) -> str:
    """Write `data` to `path` via a temporary sibling and os.replace; returns the path."""
    target = Path(path)
    if target.is_dir():
        raise InterpError(f"'{target}' is a directory; give a file name")
    if not target.parent.exists():
        raise InterpError(f"directory '{target.parent}' does not exist")
    write_atomic_file(target, data)
    return str(target)


def table_format(path: str | os.PathLike, fmt: str | None = None) -> str:
    """"csv" or "json": `fmt` if given, else from the file extension (.csv or .json)."""
    if fmt is None:
        fmt = Path(path).suffix.lower().lstrip(".")
        if fmt not in FORMATS:
            raise InterpError(
                f"unknown table format for '{path}'; name it .csv or .json"
            )
    if fmt not in FORMATS:
        raise InterpError(f"unknown table format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return fmt


def write_table(rows: Sequence[dict[str, Any]], path: str | os.PathLike, fmt: str | None = None,
                meta: dict[str, Any] | None = None) -> str:
    """Rows (dicts with the same keys) as CSV, or as JSON {"meta": ..., "rows": [...]}."""
    if table_format(path, fmt) == "json":
        text = json.dumps({"meta": meta or {}, "rows": list(rows)}, indent=1) + "\n"
    else:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text = buf.getvalue()
    return write_atomic(path, text)
