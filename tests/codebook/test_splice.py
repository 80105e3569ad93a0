"""Codebooks spliced into tiny random models through hooks: identity when the codes are the
activations, restore (also on exceptions), code steering by slot and by addition, errors."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import torch

from interp.codebook import Codebooks, attach, run_with_codes, splice
from interp.codebook.steer import CodeSteer, activate
from interp.errors import InterpError
from interp.hooks import active_interventions, capture

PROMPT = "The cat sat on the mat."


def no_hooks(model) -> bool:
    bridge = model.bridge
    return (sum(len(hp.fwd_hooks) for hp in bridge.hook_points()) == 0
            and active_interventions(model) == [])


@pytest.fixture(scope="module")
def llama(loaded):
    return loaded("llama")


def test_codes_equal_to_the_activations_make_the_splice_an_identity(llama):
    tokens = llama.to_tokens(PROMPT)[:, 1:]  # the tiny model's BOS embeds to zero: no direction
    acts = capture(llama, ["blocks.1.hook_mlp_out", "blocks.0.attn.hook_z"], tokens)
    books = Codebooks.create(llama, ["1:mlp_out", "0:attn_z"], n_codes=tokens.shape[1], k=1,
                             layer_norm=False)
    with torch.no_grad():
        books["1:mlp_out"].codes[0] = acts["blocks.1.hook_mlp_out"][0]
        books["0:attn_z"].codes.copy_(acts["blocks.0.attn.hook_z"][0].transpose(0, 1))
    ref = llama.logits(tokens)
    logits, ids = run_with_codes(llama, books, tokens)
    assert torch.allclose(logits, ref, atol=1e-4)
    assert ids["1:mlp_out"].shape == (1, tokens.shape[1], 1, 1)
    assert ids["0:attn_z"].shape == (1, tokens.shape[1], llama.facts.n_heads, 1)
    assert ids["1:mlp_out"][0, :, 0, 0].tolist() == list(range(tokens.shape[1]))
    assert no_hooks(llama)


@pytest.mark.parametrize("site, hook", [("1:mlp_out", "blocks.1.hook_mlp_out"),
                                        ("0:attn_z", "blocks.0.attn.hook_z")])
def test_with_the_default_layer_norm_the_site_becomes_its_normalised_codes(llama, site, hook):
    """Codes equal to the layer-normed activations: every token snaps to its own code, and the
    site's activation is replaced by F.layer_norm of it (the output stays normalised, as in
    the authors' code), checked against a hand-made hook that writes that in."""
    import torch.nn.functional as F

    from interp.hooks import attach as attach_hooks

    tokens = llama.to_tokens(PROMPT)[:, 1:]
    acts = capture(llama, [hook], tokens)[hook][0].float()  # [pos, (heads,) dim]
    normed = F.layer_norm(acts, (acts.shape[-1],), eps=1e-5)
    books = Codebooks.create(llama, [site], n_codes=tokens.shape[1], k=1)
    with torch.no_grad():
        books[site].codes.copy_(normed.transpose(0, 1) if normed.dim() == 3 else normed[None])
    logits, ids = run_with_codes(llama, books, tokens)
    seen = books[site].last_input[0].reshape(normed.shape)  # the input as the codes saw it
    torch.testing.assert_close(seen, normed, atol=1e-5, rtol=1e-5)
    groups = 1 if normed.dim() == 2 else normed.shape[1]
    want = torch.arange(tokens.shape[1]).view(-1, 1).expand(-1, groups)
    assert torch.equal(ids[site][0, :, :, 0], want)
    with attach_hooks(llama, {hook: lambda x, hook=None: normed[None].to(x.dtype)}):
        ref = llama.logits(tokens)
    assert torch.allclose(logits, ref, atol=1e-4)
    assert not torch.allclose(logits, llama.logits(tokens), atol=1e-3)
    assert no_hooks(llama)


def test_random_codebooks_change_the_output_and_are_removed(llama):
    tokens = llama.to_tokens(PROMPT)
    ref = llama.logits(tokens)
    books = Codebooks.create(llama, ["0:attn_out", "1:mlp_out"], n_codes=16, k=2)
    with splice(llama, books):
        assert len(active_interventions(llama)) == 2
        assert not torch.allclose(llama.logits(tokens), ref, atol=1e-3)
    assert no_hooks(llama) and torch.equal(llama.logits(tokens), ref)
    handle = attach(llama, books)
    handle.remove()
    assert no_hooks(llama)


def test_codes_and_hooks_are_restored_after_a_steering_block_raises(llama):
    tokens = llama.to_tokens(PROMPT)
    books = Codebooks.create(llama, ["1:mlp_out"], n_codes=16, k=4)
    before = books["1:mlp_out"].codes.detach().clone()
    with splice(llama, books):
        ref = llama.logits(tokens)
    steering = CodeSteer("1:mlp_out", 3, "slot", 4)
    with pytest.raises(RuntimeError, match="boom"), splice(llama, books), activate(
            llama, books, steering):
        llama.logits(tokens)
        raise RuntimeError("boom")
    assert torch.equal(books["1:mlp_out"].codes, before)
    assert not books["1:mlp_out"]._forward_hooks and not books["1:mlp_out"].hook_ids._forward_hooks
    assert no_hooks(llama)
    with splice(llama, books):
        assert torch.equal(llama.logits(tokens), ref)


def test_slot_steering_replaces_the_least_similar_codes_at_chosen_positions(llama):
    tokens = llama.to_tokens(PROMPT)
    books = Codebooks.create(llama, ["0:mlp_out", "1:attn_z"], n_codes=16, k=4)
    _, plain = run_with_codes(llama, books, tokens)
    with splice(llama, books), activate(
            llama, books, CodeSteer("0:mlp_out", 5, "slot", 2, positions=[2, 3]),
            CodeSteer("1:attn_z", 7, "slot", 4, group=1, positions=slice(2, None))):
        logits = llama.logits(tokens)
    ids = books["0:mlp_out"].last_ids
    assert (ids[0, [2, 3], 0, 2:] == 5).all()
    assert torch.equal(ids[0, [2, 3], 0, :2], plain["0:mlp_out"][0, [2, 3], 0, :2])
    other = [i for i in range(tokens.shape[1]) if i not in (2, 3)]
    assert torch.equal(ids[0, other], plain["0:mlp_out"][0, other])
    heads = books["1:attn_z"].last_ids
    assert (heads[0, 2:, 1] == 7).all() and not (heads[0, 2:, 0] == 7).all()
    assert torch.equal(heads[0, :2], plain["1:attn_z"][0, :2])
    ref, _ = run_with_codes(llama, books, tokens)
    assert torch.allclose(logits[0, :2], ref[0, :2], atol=1e-5)  # causal: before position 2
    assert not torch.allclose(logits[0, 2:], ref[0, 2:], atol=1e-4)


@contextmanager
def peek(model, name: str, store: dict, key: str):
    """Record the activation at hook `name` under store[key] (hook removed on exit)."""
    point = model.bridge.hook_dict[name]
    lens = point.add_hook(lambda x, hook=None: store.update({key: x.clone()}), dir="fwd")
    try:
        yield
    finally:
        lens.hook.remove()
        point.fwd_hooks[:] = [h for h in point.fwd_hooks if h is not lens]


def test_add_steering_adds_alpha_times_the_code_and_works_under_generation(llama):
    tokens = llama.to_tokens(PROMPT)
    books = Codebooks.create(llama, ["1:mlp_out"], n_codes=16, k=2)
    seen: dict = {}
    name = "blocks.1.hook_resid_post"
    with splice(llama, books):
        with peek(llama, name, seen, "plain"):
            llama.logits(tokens)
        with activate(llama, books, CodeSteer("1:mlp_out", 3, "add", 2.5, positions=[4])), \
                peek(llama, name, seen, "steered"):
            llama.logits(tokens)
        with activate(llama, books, CodeSteer("1:mlp_out", 3, "slot", 2)):
            assert isinstance(llama.generate(PROMPT, 5), str)
    diff = seen["steered"] - seen["plain"]
    code = books["1:mlp_out"].codes[0, 3].detach()
    assert torch.allclose(diff[0, 4], 2.5 * code, atol=1e-4)
    assert diff[0, :4].abs().max() < 1e-5
    assert no_hooks(llama)


def test_row_steering_acts_on_its_rows_alone_as_a_batch_of_its_own_would(llama):
    tokens = llama.to_tokens(PROMPT).expand(3, -1)
    books = Codebooks.create(llama, ["0:mlp_out", "1:attn_z"], n_codes=16, k=4)
    target = CodeSteer("0:mlp_out", 5, "slot", 4, rows=(1,))
    control = CodeSteer("1:attn_z", 7, "add", 3.0, group=1, rows=(2,))
    with splice(llama, books):
        plain = llama.logits(tokens[:1])
        with activate(llama, books, CodeSteer("0:mlp_out", 5, "slot", 4)):
            alone_target = llama.logits(tokens[:1])
        with activate(llama, books, CodeSteer("1:attn_z", 7, "add", 3.0, group=1)):
            alone_control = llama.logits(tokens[:1])
        with activate(llama, books, target, control):
            mixed = llama.logits(tokens)
            out = llama.generate(tokens, max_new_tokens=3, do_sample=False)
    assert torch.allclose(mixed[0], plain[0], atol=1e-5)
    assert torch.allclose(mixed[1], alone_target[0], atol=1e-5)
    assert torch.allclose(mixed[2], alone_control[0], atol=1e-5)
    assert not torch.allclose(alone_target, plain, atol=1e-4)
    assert out.shape == (3, tokens.shape[1] + 3)
    assert "rows=1" in str(target)
    with pytest.raises(InterpError, match="rows"), activate(
            llama, books, CodeSteer("0:mlp_out", 5, rows=())):
        pass
    with pytest.raises(InterpError, match="do not exist in a batch of 3"), splice(
            llama, books), activate(llama, books, CodeSteer("0:mlp_out", 5, rows=(3,))):
        llama.logits(tokens)
    assert no_hooks(llama)


def test_bad_input(llama, loaded):
    with pytest.raises(InterpError, match="unknown codebook site 'resid_post'"):
        Codebooks.create(llama, ["1:resid_post"])
    with pytest.raises(InterpError, match="layer"):
        Codebooks.create(llama, ["9:mlp_out"])
    with pytest.raises(InterpError, match="larger than the codebook"):
        Codebooks.create(llama, ["1:mlp_out"], n_codes=4, k=5)
    books = Codebooks.create(llama, ["1:mlp_out"], n_codes=8, k=2)
    with pytest.raises(InterpError, match="made for model"), splice(loaded("gpt2"), books):
        pass
    with pytest.raises(InterpError, match="code 8 out of range"), activate(
            llama, books, CodeSteer("1:mlp_out", 8)):
        pass
    with pytest.raises(InterpError, match="slot strength 3"), activate(
            llama, books, CodeSteer("1:mlp_out", 1, "slot", 3)):
        pass
    with pytest.raises(InterpError, match="unknown codebook site '0:mlp_out'"):
        books["0:mlp_out"]
    assert no_hooks(llama)
