"""interp.texts: the default corpus per model, committed and generated corpora, prompt sets."""

from __future__ import annotations

from types import SimpleNamespace

from interp.bundled import tasks
from interp.bundled.stories import generate_documents
from interp.models.load import bundled_dir
from interp.texts import (
    REAL_TEXT,
    STORIES,
    default_corpus_name,
    default_documents,
    documents,
    is_bundled_model,
    open_corpus,
    prompts,
    story_documents,
)


def test_bundled_models_default_to_their_stories_and_others_to_real_text(tmp_path):
    for name in ("interp-tiny", "interp-circuits"):
        assert default_corpus_name(name) == STORIES
        assert default_corpus_name(bundled_dir(name)) == STORIES
        assert default_corpus_name(SimpleNamespace(name="copy", path=bundled_dir(name))) == STORIES
    for other in ("smollm2-135m-instruct", "gemma-3-270m", "gpt2", str(tmp_path)):
        assert default_corpus_name(other) == REAL_TEXT
    assert not is_bundled_model(SimpleNamespace(name="gpt2", path=None))


def test_default_documents_keep_the_stories_and_read_real_text_from_the_start():
    stories = default_documents("interp-tiny", 5_000, seed=1)
    assert stories == list(generate_documents(5_000, 1)) == list(story_documents(5_000, 1))
    assert default_documents(None, 5_000, seed=1) == stories
    real = default_documents("smollm2-135m-instruct", 5_000)
    assert real == documents(REAL_TEXT)[:len(real)]
    assert sum(map(len, real)) >= 5_000 > sum(map(len, real[:-1]))


def test_named_corpora_open_by_name():
    assert next(iter(open_corpus(REAL_TEXT))) == documents()[0]
    assert open_corpus(STORIES, n_chars=2_000).describe()["seed"] == 0


def test_prompt_sets_are_seeded_and_are_the_card_tasks():
    assert prompts.ioi_prompts(5, 0) == prompts.ioi_prompts(5, 0) != prompts.ioi_prompts(5, 1)
    assert prompts.year_prompts(5, 0) == tasks.year_prompts(5, 0)
    assert tasks.coin_flip_prompts is prompts.coin_flip_prompts
