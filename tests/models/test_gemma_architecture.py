"""Gemma-3's architecture on a tiny random Gemma3ForCausalLM, so CI covers it without the real
model (an opt-in extra): logits equal transformers', the (1+w) final RMSNorm is folded into
the unembedding, and what an MLP neuron writes passes through post_feedforward_layernorm."""

from __future__ import annotations

import pytest
import torch

from tests.conftest import VOCAB, build_tokenizer


@pytest.fixture(scope="module")
def gemma(tmp_path_factory):
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    from interp import load_model

    config = Gemma3TextConfig(
        vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=8, max_position_embeddings=64,
        sliding_window=16, bos_token_id=0, eos_token_id=0, pad_token_id=0,
        initializer_range=0.2)
    torch.manual_seed(0)
    hf = Gemma3ForCausalLM(config).eval()
    with torch.no_grad():  # Gemma's norms scale by (1 + w) with w = 0 at init: make w matter
        for name, param in hf.named_parameters():
            if "norm" in name:
                param.copy_(0.5 * torch.randn_like(param))
    path = tmp_path_factory.mktemp("gemma3")
    hf.save_pretrained(path)
    build_tokenizer(str(path)).save_pretrained(path)
    return load_model(path, device="cpu"), hf


def test_logits_equal_transformers(gemma):
    model, hf = gemma
    tokens = model.to_tokens("The cat sat on the mat.")
    with torch.no_grad():
        ours = model.logits(tokens)
        theirs = hf(tokens).logits
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-5)


def test_final_norm_gain_one_plus_w_is_folded_into_the_unembedding(gemma):
    model, hf = gemma
    assert model.facts.architecture == "Gemma3ForCausalLM"
    x = torch.randn(5, model.facts.d_model) * 10
    with torch.no_grad():
        expected = hf.lm_head(hf.model.norm(x))  # (1 + w) RMSNorm, then the head
    torch.testing.assert_close(model.folded_logits(x), expected, rtol=1e-4, atol=1e-5)
    # the plain gain w (without the 1) would be a different map: the test can tell them apart
    w = hf.model.norm.weight.detach()
    wrong = (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * w) @ hf.lm_head.weight.T
    assert (model.folded_logits(x) - wrong).abs().max() > 1e-2


@pytest.mark.parametrize("layer", [0, 1])
def test_a_neuron_writes_through_post_feedforward_layernorm(gemma, layer):
    model, hf = gemma
    block = hf.model.layers[layer]
    rows = block.mlp.down_proj.weight.detach().T  # [d_mlp, d_model]: what each neuron adds
    with torch.no_grad():  # a lone active neuron: the norm of its row, as transformers runs it
        written = block.post_feedforward_layernorm(rows)
    ours = model.write_vectors(layer).float()
    cos = torch.nn.functional.cosine_similarity(ours, written, dim=-1)
    assert cos.min() > 1 - 1e-5  # same direction for every neuron
    plain = torch.nn.functional.cosine_similarity(rows, written, dim=-1)
    assert plain.min() < 0.99  # without the norm's gain the direction differs
