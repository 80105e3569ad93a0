"""Code snippets for the AST probe: Python functions from the standard library on this
machine (split into train / val / test by file, deduplicated), or a CodeSearchNet jsonl file.

The split of a file is fixed by the sha256 of its path relative to the stdlib root (80 / 10 /
10 by the first byte's value), so it does not depend on which other files exist. Files are
visited in hash order and at most `per_file` functions are taken from each, so that a split
draws on many modules. Test and vendored packages are skipped.
"""

from __future__ import annotations

import ast
import gzip
import hashlib
import json
import os
import sysconfig
import textwrap
from collections.abc import Iterator
from pathlib import Path

from interp.errors import InterpError
from interp.texts.files import reading

SPLITS = ("train", "val", "test")
_SKIP_DIRS = {"test", "tests", "idle_test", "site-packages", "dist-packages", "__pycache__"}


def stdlib_root() -> Path:
    """The running interpreter's standard-library directory."""
    return Path(sysconfig.get_paths()["stdlib"])


def _file_hash(rel: str) -> bytes:
    return hashlib.sha256(rel.encode()).digest()


def split_of(rel: str) -> str:
    """'train', 'val' or 'test' for a path relative to the stdlib root (80/10/10 by hash)."""
    b = _file_hash(rel)[0]
    return "train" if b < 205 else "val" if b < 230 else "test"


def _functions(path: Path, max_chars: int) -> Iterator[str]:
    try:
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return
    lines = source.splitlines(keepends=True)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
            text = textwrap.dedent("".join(lines[start:node.end_lineno]))
            if len(text) <= max_chars:
                yield text


def stdlib_snippets(
    n_train: int = 2000, n_val: int = 300, n_test: int = 300, *, per_file: int = 8,
    max_chars: int = 2000, root: str | os.PathLike | None = None,
) -> dict[str, list[str]]:
    """{"train"|"val"|"test": function sources}, deduplicated (by whitespace-normalised text)."""
    base = Path(root) if root is not None else stdlib_root()
    if not base.is_dir():
        raise InterpError(f"standard-library directory {str(base)!r} does not exist")
    want = {"train": n_train, "val": n_val, "test": n_test}
    files = [p for p in base.rglob("*.py") if not _SKIP_DIRS & set(p.relative_to(base).parts)]
    rels = sorted((p.relative_to(base).as_posix() for p in files), key=_file_hash)
    out: dict[str, list[str]] = {s: [] for s in SPLITS}
    seen: set[str] = set()
    for rel in rels:
        split = split_of(rel)
        if len(out[split]) >= want[split]:
            if all(len(out[s]) >= want[s] for s in SPLITS):
                break
            continue
        taken = 0
        for text in _functions(base / rel, max_chars):
            key = hashlib.sha256(" ".join(text.split()).encode()).hexdigest()
            if key in seen:
                continue
            seen.add(key)
            out[split].append(text)
            taken += 1
            if taken >= per_file or len(out[split]) >= want[split]:
                break
    return out


def read_jsonl(path: str | os.PathLike, field: str | None = None,
               language: str | None = None, limit: int | None = None) -> list[str]:
    """Code strings from a CodeSearchNet-style jsonl (or .jsonl.gz) file.

    field: the key holding the code (default: 'original_string', else 'code'); language:
    keep only rows whose 'language' equals it (rows without the key are kept)."""
    p = Path(path)
    if not p.is_file():
        raise InterpError(f"jsonl file {str(p)!r} does not exist")
    opener = gzip.open if p.suffix == ".gz" else open
    out: list[str] = []
    with reading(p, "jsonl file"), opener(p, "rt", encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                raise InterpError(f"{p}:{i + 1} is not valid JSON") from None
            key = field or next((k for k in ("original_string", "code") if k in row), None)
            if key is None or key not in row:
                raise InterpError(f"{p}:{i + 1} has no {field or 'original_string/code'!r} field; "
                                  f"keys: {', '.join(sorted(row))}")
            if language is not None and row.get("language", language) != language:
                continue
            out.append(row[key])
            if limit is not None and len(out) >= limit:
                break
    return out


def codesearchnet_snippets(directory: str | os.PathLike, language: str = "python", *,
                           limits: dict[str, int] | None = None) -> dict[str, list[str]]:
    """{"train"|"val"|"test": codes} from a CodeSearchNet directory holding train / valid /
    test .jsonl or .jsonl.gz files (the release's per-language 'final/jsonl' layout also
    works: every *.jsonl(.gz) under <split>/ is read)."""
    base = Path(directory)
    out: dict[str, list[str]] = {}
    for split, name in (("train", "train"), ("val", "valid"), ("test", "test")):
        limit = (limits or {}).get(split)
        files = sorted(base.glob(f"{name}.jsonl*")) or sorted((base / name).glob("*.jsonl*"))
        if not files:
            raise InterpError(f"no {name}.jsonl(.gz) or {name}/*.jsonl(.gz) in {str(base)!r}")
        codes: list[str] = []
        for f in files:
            codes += read_jsonl(f, language=language,
                                limit=None if limit is None else limit - len(codes))
            if limit is not None and len(codes) >= limit:
                break
        out[split] = codes
    return out
