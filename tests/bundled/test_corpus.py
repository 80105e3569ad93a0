"""The bundled model's generated corpus, tokenizer and task prompts say what they claim."""

from __future__ import annotations

import random
import re

import pytest

from interp.bundled import stories, tasks
from interp.texts.wordlists import NAMES


def test_ioi_sentences_give_to_the_other_name():
    rng = random.Random(0)
    for _ in range(200):
        text = stories.ioi(rng)
        names = [w for w in re.findall(r"[A-Z][a-z]+", text) if w in NAMES]
        receiver = re.search(r"to (\w+)\.", text).group(1)
        giver = re.search(r"(\w+) (?:gave|handed|decided)", text).group(1)
        assert receiver != giver and {receiver, giver} <= set(names)


def test_year_ranges_end_later():
    rng = random.Random(1)
    for _ in range(200):
        start, end = map(int, re.findall(r"year (\d{4})", stories.year_range(rng)))
        assert end > start and start // 100 == end // 100


def test_coin_flip_answer_is_parity_of_flips():
    rng = random.Random(2)
    for _ in range(200):
        text = stories.coin_flip(rng)
        flips = text.count(" flips the coin")
        assert text.endswith("Yes.") == (flips % 2 == 0)
    for prompt in tasks.coin_flip_prompts(100, seed=3):
        flips = prompt.prompt.count(" flips the coin")
        assert (prompt.correct == " Yes") == (flips % 2 == 0)


def test_generated_share_and_determinism():
    first = list(stories.generate_documents(20_000, seed=5))
    again = list(stories.generate_documents(20_000, seed=5))
    assert first == again and sum(map(len, first)) >= 20_000
    assert list(stories.generate_documents(20_000, seed=6)) != first  # the seed picks the text


def test_pretokenizer_splits_years_into_two_digit_chunks(tmp_path):
    pytest.importorskip("tokenizers")
    from tools.bundled.tokenizer import train_tokenizer

    texts = [stories.year_range(random.Random(i)) for i in range(300)]
    tok = train_tokenizer(texts, vocab_size=400, out_dir=tmp_path)
    words = [w for w, _ in tok.backend_tokenizer.pre_tokenizer.pre_tokenize_str("year 1732, 5")]
    assert words == ["year", "Ġ17", "32", ",", "Ġ5"]
