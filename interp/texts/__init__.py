"""Texts every analysis reads: word lists, prompt sets and corpora, for any model.

- `interp.texts.wordlists`: concept word lists (ANIMALS, ..., CONCEPTS).
- `interp.texts.prompts`: seeded prompt sets (IOI, year ranges, coin flips).
- `interp.texts.corpora`: the committed real text ("python-docs"), the bundled toy models'
  stories ("bundled") and text files; `default_corpus_name(model)` picks the stories for a
  bundled model and the real text for any other.
"""

from interp.texts.corpora import (
    CORPORA,
    REAL_TEXT,
    STORIES,
    Corpus,
    corpus_path,
    default_corpus_name,
    default_documents,
    documents,
    is_bundled_model,
    open_corpus,
    read_lines,
    story_documents,
)

__all__ = [
    "CORPORA", "REAL_TEXT", "STORIES", "Corpus", "corpus_path", "default_corpus_name",
    "default_documents", "documents", "is_bundled_model", "open_corpus", "read_lines",
    "story_documents",
]
