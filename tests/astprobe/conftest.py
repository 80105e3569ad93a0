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


@pytest.fixture(autouse=True)
def _one_thread():
    """These tests use tiny tensors: one torch thread is faster than contending for several."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
