"""The fine-tune study's training blocks (experiments/finetune_agreement.py `blocks`): the
corpus in order, documents joined by EOS, and each block opened by BOS exactly when the
tokenizer opens every text with it (Gemma's loss without BOS is 5.63 nats against 3.60)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest


class CharTokenizer:
    """One id per character (ord + 10); EOS 1, BOS 2, prepended by default when `adds_bos`."""

    eos_token_id, bos_token_id = 1, 2

    def __init__(self, adds_bos: bool) -> None:
        self.adds_bos = adds_bos

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        ids = [ord(c) + 10 for c in text]
        return [self.bos_token_id, *ids] if add_special_tokens and self.adds_bos else ids

    def __call__(self, text: str) -> SimpleNamespace:
        return SimpleNamespace(input_ids=self.encode(text))


@pytest.mark.parametrize("adds_bos", [False, True])
def test_blocks_follow_the_corpus_and_open_with_bos_only_where_the_tokenizer_does(
        experiment, adds_bos: bool):
    from interp.texts import default_documents

    study = experiment("finetune_agreement")
    tok = CharTokenizer(adds_bos)
    out = study.blocks("smollm2-135m-instruct", tok, "train", 3, 16)
    assert tuple(out.shape) == (3, 16)
    stream: list[int] = []
    for doc in default_documents("smollm2-135m-instruct", 200, split="train"):
        stream += tok.encode(doc, add_special_tokens=False) + [tok.eos_token_id]
    if adds_bos:
        assert out[:, 0].tolist() == [tok.bos_token_id] * 3
        assert out[:, 1:].flatten().tolist() == stream[:45]
    else:
        assert out.flatten().tolist() == stream[:48]
        assert tok.bos_token_id not in out.flatten().tolist()
