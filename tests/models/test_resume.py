"""Resuming a forward at a layer: the logits equal the full forward's at every layer and with
several copies of the batch, hooks on the resumed blocks fire, bad input fails early."""

from __future__ import annotations

import pytest
import torch

from interp.errors import InterpError
from interp.models.resume import logits_at, record_block_inputs, run_from


@pytest.mark.parametrize("which", ["gpt2", "neox", "llama"])
def test_resumed_logits_equal_the_full_forward(tiny_model_dirs, which):
    from interp import load_model

    model = load_model(tiny_model_dirs[which], device="cpu")
    g = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, model.facts.d_vocab, (3, 7), generator=g)
    inputs, logits = record_block_inputs(model, tokens)
    last = torch.tensor([6, 4, 2])
    want = logits[torch.arange(3), last]
    for layer in range(model.facts.n_layers):
        resid = run_from(model, inputs, layer, inputs.hidden[layer].repeat(2, 1, 1))
        got = logits_at(model, resid, last.repeat(2))
        torch.testing.assert_close(got, want.repeat(2, 1), rtol=1e-5, atol=1e-5)
    # a changed residual changes the result: the resumed blocks really run
    noise = torch.randn(inputs.hidden[0].shape, generator=g)  # not a constant: LayerNorm
    resid = run_from(model, inputs, 0, inputs.hidden[0] + noise)
    assert not torch.allclose(logits_at(model, resid, last), want, atol=1e-3)


def test_hooks_fire_on_resumed_blocks_and_bad_input_fails(tiny_model_dirs):
    from interp import load_model
    from interp.hooks import attach

    model = load_model(tiny_model_dirs["llama"], device="cpu")
    tokens = torch.arange(12).view(2, 6)
    inputs, _ = record_block_inputs(model, tokens)
    seen = []
    last = model.facts.n_layers - 1
    with attach(model, {model.hook_name("attn_z", last): lambda z, hook: seen.append(z.shape)}):
        run_from(model, inputs, last, inputs.hidden[last].repeat(3, 1, 1))
    assert seen and seen[0][0] == 6
    with pytest.raises(InterpError, match="layer 99 out of range"):
        run_from(model, inputs, 99, inputs.hidden[0])
    with pytest.raises(InterpError, match="not a multiple"):
        run_from(model, inputs, 0, inputs.hidden[0][:1].repeat(3, 1, 1))
