"""Finetuning codebooks in a tiny Llama: the loss falls, a frozen model stays unchanged,
health metrics, artifact round trip and refusal of another model's codebooks."""

from __future__ import annotations

import json

import pytest
import torch

from interp.codebook import (
    Codebooks,
    finetune,
    health,
    load_codebooks,
    pack_tokens,
    save_codebooks,
    splice,
)
from interp.errors import InterpError

TEXTS = [
    "The cat sat on the mat. A dog ran in the park with a red ball.",
    "Paris is the capital of France, and Rome is the capital of Italy.",
    "def add(a, b):\n    return a + b\n",
    "for i in range(10): print(i * i)",
    "One two three four five six seven eight nine ten.",
] * 6


@pytest.fixture(scope="module")
def llama(loaded):
    return loaded("llama")


def test_finetune_lowers_the_loss_and_leaves_a_frozen_model_alone(llama, tmp_path):
    tokens = pack_tokens(llama, TEXTS, 16)[:24]
    weights = {n: p.detach().clone() for n, p in llama.bridge.named_parameters()}
    books = Codebooks.create(llama, ["0:attn_z", "1:mlp_out"], n_codes=32, k=2)
    before = health(llama, books, tokens[:8])
    log = finetune(llama, books, tokens, steps=12, batch_size=4, lr=3e-2, kmeans_init=True,
                   replace_dead_every=5, progress=False)
    after = health(llama, books, tokens[:8])
    assert len(log.lm_loss) == 12 and len(log.replaced) == 2
    assert after.loss_codebooks < before.loss_codebooks
    for b, a in zip(before.sites, after.sites):  # k-means + training beat random codes
        assert a.relative_error < b.relative_error, (b, a)
    for name, p in llama.bridge.named_parameters():
        assert torch.equal(p, weights[name]), name
        assert p.requires_grad == (name in weights)  # flags restored (all True here)
    s = after.sites[0]
    assert s.site == "0:attn_z" and s.codes == 32 * llama.facts.n_heads
    assert 0 < s.active <= s.codes and 0 <= s.dead_fraction < 1
    assert 0 < s.entropy_bits <= s.max_entropy_bits
    assert after.loss_original == pytest.approx(before.loss_original)
    assert "increase" in after.table()

    path = save_codebooks(books, tmp_path / "cb", meta={"health": after.to_dict()})
    cfg = json.loads((path / "cfg.json").read_text())
    assert cfg["fingerprint"] == llama.fingerprint and len(cfg["sites"]) == 2
    again = load_codebooks(path, llama)
    for (s, a), (_, b) in zip(books.items(), again.items()):
        assert torch.equal(a.codes, b.codes) and a.k == b.k and a.similarity == b.similarity
    with torch.no_grad(), splice(llama, books):
        ref = llama.logits(tokens[:2])
    with torch.no_grad(), splice(llama, again):
        assert torch.equal(llama.logits(tokens[:2]), ref)


def test_training_the_model_too_changes_it_and_every_codebook_parameter_gets_a_gradient(
        tiny_model_dirs):
    from interp import load_model

    model = load_model(tiny_model_dirs["gpt2"], device="cpu")
    tokens = pack_tokens(model, TEXTS, 16)
    books = Codebooks.create(model, ["0:mlp_out", "1:attn_z"], n_codes=8, k=2)
    grads = {}
    hooks = [p.register_hook(lambda g, n=n: grads.__setitem__(n, float(g.abs().sum())))
             for n, p in books.named_parameters()]
    before = {n: p.detach().clone() for n, p in model.bridge.named_parameters()}
    try:
        finetune(model, books, tokens, steps=1, batch_size=4, train_model=True,
                 kmeans_init=False, progress=False)
    finally:
        for h in hooks:
            h.remove()
    assert sorted(grads) == sorted(n for n, _ in books.named_parameters())
    assert all(g > 0 for g in grads.values()), grads
    changed = [n for n, p in model.bridge.named_parameters() if not torch.equal(p, before[n])]
    assert len(changed) > len(before) // 2


def test_bad_input(llama, loaded, tmp_path):
    books = Codebooks.create(llama, ["1:mlp_out"], n_codes=8, k=2)
    path = save_codebooks(books, tmp_path / "cb")
    gpt2 = loaded("gpt2")
    with pytest.raises(InterpError, match="made for model"):
        load_codebooks(path, gpt2)
    with pytest.raises(InterpError, match="not a codebooks directory"):
        load_codebooks(tmp_path, llama)
    with pytest.raises(InterpError, match="unknown training option 'stpes'"):
        finetune(llama, books, TEXTS, stpes=3)
    with pytest.raises(InterpError, match="fewer than one row"):
        pack_tokens(llama, ["hi"], 128)
