"""Concept words: variants, token ids, mentions."""

from __future__ import annotations

import pytest

from interp.errors import InterpError
from interp.steer import concept_token_ids, mentions, resolve_concept
from interp.steer.concepts import variants, word_count


def test_variants_and_named_concepts():
    assert variants("dog") == ["dog", " dog", "Dog", " Dog", "DOG", " DOG"]
    assert "dog" in resolve_concept("animals") and "March" in resolve_concept("month")
    assert resolve_concept(" dog, cat ,dog") == ["dog", "cat"]
    with pytest.raises(InterpError, match="no words"):
        resolve_concept(" , ")


def test_mentions_whole_words_any_case_and_plurals():
    text = "Dogs and a CAT; the catalogue, a hotdog, two foxes."
    assert mentions(text, "dog,cat,fox") == 3
    assert mentions("nothing here", "animals") == 0
    assert word_count(text) == 10


def test_concept_token_ids(loaded):
    tok = loaded("llama").tokenizer
    the = tok.encode(" the", add_special_tokens=False)
    assert the[0] in concept_token_ids(tok, ["the"])
    assert concept_token_ids(tok, [5, 3, 5]) == [3, 5]
    with pytest.raises(InterpError, match="out of range"):
        concept_token_ids(tok, [10_000])
    with pytest.raises(InterpError, match="single token"):
        concept_token_ids(tok, ["hippopotamus"])
