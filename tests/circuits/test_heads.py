"""Per-head outputs: they add up to the attention output (GPT-2, NeoX, Llama with GQA), and
the poolings agree with each other."""

from __future__ import annotations

import pytest
import torch

from interp.circuits import head_labels, head_outputs
from interp.circuits.heads import check_head, output_weights
from interp.errors import InterpError
from interp.hooks import attach as attached

TEXTS = ["The cat sat on the mat.", "A dog ran", "Paris is the capital of France, and"]


@pytest.mark.parametrize("arch", ["gpt2", "neox", "llama"])
def test_heads_sum_to_attention_output(loaded, arch):
    model = loaded(arch)
    f = model.facts
    out = head_outputs(model, TEXTS, pooling="none")
    n_tok = [model.to_tokens(t).shape[1] for t in TEXTS]
    assert out.shape == (3, max(n_tok), f.n_layers * f.n_heads, f.d_model)
    seen = {}

    def grab(layer):
        def fn(x, hook=None):
            seen[layer] = x.detach()
        return fn

    for i, text in enumerate(TEXTS):
        names = {model.hook_name("attn_out", layer): grab(layer) for layer in range(f.n_layers)}
        with attached(model, names), torch.no_grad():
            model.bridge(model.to_tokens(text))
        for layer in range(f.n_layers):
            heads = out[i, : n_tok[i], layer * f.n_heads:(layer + 1) * f.n_heads].sum(1)
            b_o = model.bridge.blocks[layer].attn.b_O
            b_o = 0 if b_o is None else b_o.detach()
            torch.testing.assert_close(heads + b_o, seen[layer][0], atol=1e-4, rtol=1e-4)
        assert out[i, n_tok[i]:].abs().sum() == 0  # zero past the prompt's end


def test_poolings_and_labels(loaded):
    model = loaded("llama")  # GQA: 4 query heads over 2 KV heads, hook_z per query head
    assert output_weights(model)[0].shape == (4, 8, 32)
    full = head_outputs(model, TEXTS, pooling="none")
    mean = head_outputs(model, TEXTS, pooling="mean", batch_size=2)
    last = head_outputs(model, TEXTS, pooling="last")
    for i, text in enumerate(TEXTS):
        n = model.to_tokens(text).shape[1]
        torch.testing.assert_close(mean[i], full[i, :n].mean(0), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(last[i], full[i, n - 1], atol=1e-5, rtol=1e-5)
    assert head_labels(model)[:2] == ["L0H0", "L0H1"] and len(head_labels(model)) == 8
    assert check_head(model, 1, 3) == 7
    with pytest.raises(InterpError, match="head 4 out of range"):
        check_head(model, 0, 4)
    with pytest.raises(InterpError, match="pooling"):
        head_outputs(model, TEXTS, pooling="max")
