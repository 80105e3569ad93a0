"""Text corpora for every analysis: the committed real text, the bundled models' stories, files.

- "python-docs" (`REAL_TEXT`): 257 documents (425k characters) of real English prose from the
  Python 3.11 tutorial, FAQ and HOWTOs, plus Python code from 10 standard-library modules (PSF
  licence; package data `interp.data/corpora`, built by tools/build_real_text.py).
- "bundled" (`STORIES`): generated simple English, the bundled toy models' own training text
  (interp.bundled.stories; fixed seed, no files needed).
- a file: `.jsonl` (one JSON object per line with a "text" field) or anything else as plain
  text where documents are separated by one or more blank lines, read lazily.

An analysis given no corpus reads `default_corpus_name(model)`: the stories for a bundled toy
model (the text it was trained on), the real text for any other model.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from interp.errors import InterpError, choices_error

if TYPE_CHECKING:
    from interp.models.model import Model

REAL_TEXT = "python-docs"
STORIES = "bundled"
CORPORA = (REAL_TEXT,)
"""The committed corpora (files under package data `interp.data/corpora`)."""

#: Characters of generated text in a stories Corpus (fixed seed: the same text every run).
BUNDLED_CHARS = 200_000
BUNDLED_SEED = 0


def corpus_path(name: str = REAL_TEXT) -> Path:
    """Path of a committed corpus (.jsonl with a "text" field per line)."""
    if name not in CORPORA:
        raise InterpError(f"unknown corpus {name!r}; committed corpora: {', '.join(CORPORA)}")
    from interp.models.load import bundled_dir

    return bundled_dir("corpora") / f"{name}.jsonl"


def documents(name: str = REAL_TEXT) -> list[str]:
    """The texts of a committed corpus, in file order."""
    path = corpus_path(name)
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line in handle if line.strip()]


def story_documents(n_chars: int, seed: int = BUNDLED_SEED) -> Iterator[str]:
    """The bundled models' generated simple English, until about `n_chars` characters."""
    from interp.bundled.stories import generate_documents

    return generate_documents(n_chars, seed)


def is_bundled_model(model: Model | str | os.PathLike) -> bool:
    """Whether `model` (a Model, a model name or a directory) is a bundled toy model."""
    from interp.models.load import BUNDLED_MODELS, bundled_dir

    name, path = ((model.name, model.path) if not isinstance(model, (str, os.PathLike))
                  else (str(model), Path(model)))
    if name in BUNDLED_MODELS:
        return True
    if path is None or not Path(path).is_dir():
        return False
    where = Path(path).resolve()
    return any(where == bundled_dir(n).resolve() for n in BUNDLED_MODELS)


def default_corpus_name(model: Model | str | os.PathLike) -> str:
    """The corpus an analysis of `model` reads when given none: STORIES for a bundled toy
    model, REAL_TEXT for any other."""
    return STORIES if is_bundled_model(model) else REAL_TEXT


SPLITS = ("all", "train", "held_out")


def default_documents(model: Model | str | os.PathLike | None, n_chars: int,
                      seed: int = BUNDLED_SEED, split: str = "all") -> list[str]:
    """About `n_chars` characters of `model`'s default corpus (None: the stories), whole
    documents in order. Stories: `seed` picks the text (a held-out set is another seed).
    Real text (no seed; ends after 425k characters): `split` "held_out" is every tenth
    document, "train" the other nine tenths, "all" every document."""
    if split not in SPLITS:
        raise choices_error("split", split, SPLITS)
    if model is None or default_corpus_name(model) == STORIES:
        return list(story_documents(n_chars, seed))
    out: list[str] = []
    produced = 0
    for i, doc in enumerate(documents(REAL_TEXT)):
        if produced >= n_chars:
            break
        if split != "all" and (i % 10 == 9) != (split == "held_out"):
            continue
        out.append(doc)
        produced += len(doc)
    return out


@dataclass(frozen=True)
class Corpus:
    """A named, re-iterable source of documents (`iter(corpus)` starts from the beginning)."""

    name: str
    path: Path | None = None
    n_chars: int = BUNDLED_CHARS
    seed: int = BUNDLED_SEED
    max_docs: int | None = None

    def __iter__(self) -> Iterator[str]:
        docs = story_documents(self.n_chars, self.seed) if self.path is None else _read(
            self.path)
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


def open_corpus(spec: str | os.PathLike = STORIES, *, n_chars: int = BUNDLED_CHARS,
                max_docs: int | None = None) -> Corpus:
    """"bundled" (the toy models' generated stories), the name of a committed corpus
    ("python-docs") or a path to a .jsonl / plain-text file; InterpError when the file is
    missing, unreadable or holds no document."""
    if max_docs is not None and (isinstance(max_docs, bool) or int(max_docs) < 1):
        raise InterpError(f"max_docs must be a positive integer, got {max_docs!r}")
    if str(spec) == STORIES:
        if isinstance(n_chars, bool) or int(n_chars) < 1:
            raise InterpError(f"n_chars must be a positive integer, got {n_chars!r}")
        corpus = Corpus(STORIES, None, int(n_chars), BUNDLED_SEED, max_docs)
    elif str(spec) in CORPORA:  # a committed real-text corpus, by name
        corpus = Corpus(str(spec), corpus_path(str(spec)), max_docs=max_docs)
    else:
        path = Path(spec)
        if not path.is_file():
            raise InterpError(f"corpus file '{path}' does not exist; give a .jsonl or text "
                              f"file, {STORIES!r} or {REAL_TEXT!r}")
        corpus = Corpus(path.name, path, max_docs=max_docs)
    if next(iter(corpus), None) is None:
        raise InterpError(f"corpus '{spec}' is empty: it holds no document with text (plain "
                          "text: documents separated by blank lines; .jsonl: {\"text\": ...})")
    return corpus


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


def read_lines(path: str | os.PathLike) -> list[str]:
    """The non-empty lines of a text file (one document or prompt per line), or InterpError."""
    from interp.texts.files import reading

    with reading(path), open(path, encoding="utf-8") as handle:
        return [line.rstrip("\n") for line in handle if line.strip()]
