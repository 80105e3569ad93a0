"""Fixtures: hand-wired planted-circuit models (one torch thread: see tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def planted_dirs(tmp_path_factory):
    """{"a": circuit L0H1, L0H3, L1H2; "b": circuit L0H0, L0H2, L1H1} model directories."""
    from interp.circuits.planted import build_planted_model

    root = tmp_path_factory.mktemp("planted")
    wiring = {"a": {}, "b": {"layer0": (0, 2), "mover": 1, "seed": 1}}
    built = {}

    def get(which: str):
        if which not in built:
            built[which] = build_planted_model(root / which, **wiring[which])
        return built[which]

    return get


@pytest.fixture(scope="session")
def planted(planted_dirs):
    """Loaded planted models: planted("a") -> Model."""
    from interp import load_model

    cache = {}

    def get(which: str):
        if which not in cache:
            cache[which] = load_model(planted_dirs(which), device="cpu")
        return cache[which]

    return get


#: Pairs of equal token length in the tiny models' tokenizer, of four different lengths.
PAIRS = [("The cat sat on the mat.", "The cat ran on the mat."),
         ("A dog ran in the park with a red ball.", "A dog sat in the park with a red ball."),
         ("One two three four five six seven eight nine ten.",
          "One two three four nine six seven eight five ten."),
         ("for i in range(10): print(i * i)", "for i in range(10): print(i + i)")]


@pytest.fixture(scope="session")
def tiny_task():
    """Four positive/negative pairs for the tiny models' tokenizer (tests/conftest.py), of
    four token lengths (so padding is exercised); answer ids are arbitrary tokens."""
    from interp.circuits.tasks.base import Task

    return Task("tiny", [p for p, _ in PAIRS], [n for _, n in PAIRS],
                [[5], [6], [5, 8], [9]], [[7], [7, 11], [12], [13]])
