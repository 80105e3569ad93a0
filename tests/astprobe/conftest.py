"""Shared fixtures for the AST-probe tests: the bundled tokenizer and stdlib snippets."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_tokenizer():
    from transformers import AutoTokenizer

    from interp.models.load import bundled_dir

    return AutoTokenizer.from_pretrained(str(bundled_dir("interp-tiny")))


@pytest.fixture(scope="session")
def stdlib_codes() -> dict[str, list[str]]:
    """Short stdlib functions: 150 / 15 / 60 by split."""
    from interp.astprobe.data import stdlib_snippets

    return stdlib_snippets(150, 15, 60, per_file=3, max_chars=400)
