"""Committed text corpora that studies of real models read (package data `interp.data/corpora`).

`python-docs`: 257 documents (425k characters) of real English prose from the Python 3.11
tutorial, FAQ and HOWTOs, plus Python code from 10 standard-library modules (PSF licence;
built by tools/build_real_text.py). Used for calibration, held-out loss and atlas examples.
"""

from __future__ import annotations

import json
from pathlib import Path

from interp.errors import InterpError

REAL_TEXT = "python-docs"
CORPORA = (REAL_TEXT,)


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
