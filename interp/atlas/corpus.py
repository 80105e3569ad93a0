"""Corpora for activation records: "bundled" (generated simple English, no files needed) or a
text file, read lazily one document at a time.

File formats: `.jsonl` (one JSON object per line with a "text" field) or anything else as
plain text where documents are separated by one or more blank lines.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from interp.corpora import CORPORA, corpus_path
from interp.errors import InterpError

#: Characters of generated text in the bundled corpus (fixed seed: the same text every run).
BUNDLED_CHARS = 200_000
BUNDLED_SEED = 0


@dataclass(frozen=True)
class Corpus:
    """A named, re-iterable source of documents (`iter(corpus)` starts from the beginning)."""

    name: str
    path: Path | None = None
    n_chars: int = BUNDLED_CHARS
    seed: int = BUNDLED_SEED
    max_docs: int | None = None

    def __iter__(self) -> Iterator[str]:
        docs = _bundled(self.n_chars, self.seed) if self.path is None else _read(self.path)
        return itertools.islice(docs, self.max_docs)

    def describe(self) -> dict:
        """What the records store about the corpus (name, sizes, content digest)."""
        digest = hashlib.sha256()
        n_docs = n_chars = 0
        for doc in self:
            digest.update(doc.encode("utf-8", "surrogatepass") + b"\x00")
            n_docs += 1
            n_chars += len(doc)
        out = {"name": self.name, "n_docs": n_docs, "n_chars": n_chars,
               "sha256": digest.hexdigest()[:16]}
        if self.path is None:
            out |= {"generator": "interp.bundled.stories.generate_documents",
                    "seed": self.seed, "target_chars": self.n_chars}
        return out


def open_corpus(spec: str | os.PathLike = "bundled", *, n_chars: int = BUNDLED_CHARS,
                max_docs: int | None = None) -> Corpus:
    """"bundled" (generated simple English), the name of a committed real-text corpus
    ("python-docs", interp.corpora) or a path to a .jsonl / plain-text file; InterpError when
    the file is missing, unreadable or holds no document."""
    if max_docs is not None and (isinstance(max_docs, bool) or int(max_docs) < 1):
        raise InterpError(f"max_docs must be a positive integer, got {max_docs!r}")
    if str(spec) == "bundled":
        if isinstance(n_chars, bool) or int(n_chars) < 1:
            raise InterpError(f"n_chars must be a positive integer, got {n_chars!r}")
        corpus = Corpus("bundled", None, int(n_chars), BUNDLED_SEED, max_docs)
    elif str(spec) in CORPORA:  # a committed real-text corpus, by name
        corpus = Corpus(str(spec), corpus_path(str(spec)), max_docs=max_docs)
    else:
        path = Path(spec)
        if not path.is_file():
            raise InterpError(f"corpus file '{path}' does not exist; give a .jsonl or text "
                              "file, or 'bundled'")
        corpus = Corpus(path.name, path, max_docs=max_docs)
    if next(iter(corpus), None) is None:
        raise InterpError(f"corpus '{spec}' is empty: it holds no document with text (plain "
                          "text: documents separated by blank lines; .jsonl: {\"text\": ...})")
    return corpus


def _bundled(n_chars: int, seed: int) -> Iterator[str]:
    from interp.bundled.stories import generate_documents

    return generate_documents(n_chars, seed)


def _read(path: Path) -> Iterator[str]:
    try:
        handle = path.open(encoding="utf-8", errors="replace", newline="")
    except OSError as err:
        raise InterpError(f"cannot read corpus file '{path}' ({err.strerror})") from None
    with handle:
        if path.suffix.lower() == ".jsonl":
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    text = json.loads(line)["text"]
                except (ValueError, KeyError, TypeError):
                    raise InterpError(f"corpus '{path}' line {number} is not a JSON object "
                                      "with a \"text\" string") from None
                if not isinstance(text, str):
                    raise InterpError(f"corpus '{path}' line {number}: \"text\" is not a string")
                if text.strip():
                    yield text
            return
        lines: list[str] = []
        for line in handle:
            if line.strip():
                lines.append(line.rstrip("\r\n"))
            elif lines:
                yield "\n".join(lines)
                lines = []
        if lines:
            yield "\n".join(lines)
