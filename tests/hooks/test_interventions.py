"""Interventions on tiny GPT-2 / NeoX / Llama: exact effects, restore (also on exceptions),
KV-cached generation == uncached, positions under the cache, composition, errors."""

from __future__ import annotations

import pytest
import torch

from interp.errors import InterpError
from interp.hooks import (
    Intervention,
    ablate_heads,
    ablate_neurons,
    active_interventions,
    add,
    apply,
    capture,
    heads,
    intervene,
    neurons,
    remove_all,
    scale,
    set_neurons,
    set_to,
    steer,
    zero_ablate,
)

PROMPT = "The cat sat on the mat"
TEXTS = ["The cat sat on the mat.", "A dog", "for i in range(10): print(i * i)"]


def assert_no_hooks(model) -> None:
    bridge = model.bridge
    assert sum(len(hp.fwd_hooks) for hp in bridge.hook_points()) == 0
    assert all(not hp._forward_hooks for hp in bridge.hook_points())
    assert not bridge.original_model._forward_pre_hooks
    assert not bridge.original_model._forward_hooks
    assert active_interventions(model) == []


def grab(model, sites, texts=TEXTS):
    return capture(model, sites, texts, batch_size=len(texts))


def test_zero_ablate_neuron_is_exact(arch, loaded):
    model = loaded(arch)
    last = model.facts.n_layers - 1
    post, resid = model.hook_name("mlp_post", last), model.hook_name("resid_post", last)
    clean = grab(model, [("mlp_post", last), ("resid_post", last)])
    n = 5
    with intervene(model, ablate_neurons(last, n)):
        ablated = grab(model, [("mlp_post", last), ("resid_post", last)])
    w_out = model.neuron_vectors(last, "down")[n].detach()
    expected = clean[resid] - clean[post][..., n : n + 1] * w_out
    m = clean.mask
    torch.testing.assert_close(ablated[resid][m], expected[m], atol=1e-5, rtol=0)
    assert (ablated[post][..., n][m] == 0).all()
    assert_no_hooks(model)


def test_set_neurons_only_at_chosen_positions(arch, loaded):
    model = loaded(arch)
    name = model.hook_name("mlp_post", 1)
    clean = grab(model, [("mlp_post", 1)])
    chosen, units = [1, 4], [3, 7]
    with intervene(model, set_neurons(1, units, 4.5, positions=chosen)):
        got = grab(model, [("mlp_post", 1)])
    hit = torch.zeros_like(clean.mask)
    hit[:, chosen] = True
    hit &= clean.mask
    block = got[name][:, :, units]
    assert (block[hit] == 4.5).all()
    assert torch.equal(block[~hit & clean.mask], clean[name][:, :, units][~hit & clean.mask])
    others = [i for i in range(model.facts.d_mlp) if i not in units]
    assert torch.equal(got[name][:, :, others], clean[name][:, :, others])


def test_last_uses_each_rows_last_real_token(loaded):
    model = loaded("llama")
    name = model.hook_name("mlp_pre", 0)
    with intervene(model, set_neurons(0, 2, -9.0, positions="last", site="mlp_pre")):
        got = grab(model, [("mlp_pre", 0)])
    lengths = got.mask.sum(1)
    hit = (got[name][..., 2] == -9.0) & got.mask
    assert hit.sum(1).tolist() == [1] * len(TEXTS)
    assert hit.float().argmax(1).tolist() == (lengths - 1).tolist()


def test_head_ablation_zeroes_only_that_head(arch, loaded):
    model = loaded(arch)
    z, out = model.hook_name("attn_z", 0), model.hook_name("attn_out", 0)
    clean = grab(model, [("attn_z", 0), ("attn_out", 0)])
    with intervene(model, ablate_heads(0, 2)):
        got = grab(model, [("attn_z", 0), ("attn_out", 0)])
    assert not got[z][:, :, 2].any()
    keep = [0, 1, 3]
    assert torch.equal(got[z][:, :, keep], clean[z][:, :, keep])
    assert not torch.allclose(got[out][got.mask], clean[out][got.mask])
    with intervene(model, heads(0, None, zero_ablate())):  # all heads: attn_out == b_O
        silent = grab(model, [("attn_out", 0)])[out][got.mask]
    torch.testing.assert_close(silent, silent[:1].expand_as(silent), atol=1e-6, rtol=0)


def test_mean_ablate_and_steer(loaded):
    model = loaded("gpt2")
    post, resid = model.hook_name("mlp_post", 0), model.hook_name("resid_post", 1)
    clean = grab(model, [("mlp_post", 0), ("resid_post", 1)])
    means = clean.flat(post).mean(0)
    with intervene(model, ablate_neurons(0, [2, 9], means=means)):
        got = grab(model, [("mlp_post", 0)])
    torch.testing.assert_close(got.flat(post)[:, [2, 9]], means[[2, 9]].expand(clean.n_tokens, 2))
    vector = torch.linspace(-1, 1, model.facts.d_model)
    with intervene(model, steer(1, vector, coeff=2.0)):
        steered = grab(model, [("resid_post", 1)])
    torch.testing.assert_close(steered.flat(resid), clean.flat(resid) + 2 * vector)


def test_restores_after_exit_and_exception(arch, loaded):
    model = loaded(arch)
    tokens = model.to_tokens(PROMPT)
    clean = model.logits(tokens)
    spec = neurons(1, slice(0, 8), add(5.0))
    with intervene(model, spec, ablate_heads(0, [0, 1])):
        assert not torch.equal(model.logits(tokens), clean)
        assert len(active_interventions(model)) == 2
    assert torch.equal(model.logits(tokens), clean)
    assert_no_hooks(model)
    with pytest.raises(RuntimeError, match="inside"), intervene(model, spec):
        raise RuntimeError("inside the body")
    assert torch.equal(model.logits(tokens), clean)
    assert_no_hooks(model)


def test_composition_in_order_and_nesting(loaded):
    model = loaded("neox")
    name = model.hook_name("mlp_post", 1)

    def value() -> torch.Tensor:
        return grab(model, [("mlp_post", 1)], TEXTS[:1])[name][0, :, 5]

    clean = value()
    with intervene(model, neurons(1, 5, set_to(2.0)), neurons(1, 5, add(3.0))):
        assert (value() == 5.0).all()
    with intervene(model, [neurons(1, 5, add(3.0)), set_neurons(1, 5, 2.0)]):
        assert (value() == 2.0).all()
    with intervene(model, set_neurons(1, 5, 2.0)):
        with intervene(model, neurons(1, 5, scale(10.0))):
            assert (value() == 20.0).all()
        assert (value() == 2.0).all()
    assert torch.equal(value(), clean)


def test_persistent_apply_and_remove_all(loaded):
    model = loaded("gpt2")
    tokens = model.to_tokens(PROMPT)
    clean = model.logits(tokens)
    handle = apply(model, set_neurons(0, [1, 2], 3.0))
    assert handle.active and not torch.equal(model.logits(tokens), clean)
    handle.remove()
    handle.remove()  # idempotent
    assert not handle.active and torch.equal(model.logits(tokens), clean)
    apply(model, set_neurons(0, 1, 3.0))
    apply(model, ablate_heads(1, 0))
    with intervene(model, steer(0, torch.ones(model.facts.d_model))):
        assert remove_all(model) == 3
        assert torch.equal(model.logits(tokens), clean)
    assert_no_hooks(model)


def test_absolute_position_applies_once_under_kv_cache(loaded):
    model = loaded("llama")
    tokens = model.to_tokens(PROMPT)
    p_len = tokens.shape[1]
    name = model.hook_name("mlp_post", 0)
    for target in (2, p_len + 2):
        for use_cache in (True, False):
            seen: list[torch.Tensor] = []

            def record(x, hook, seen=seen):
                seen.append(x[0, :, 0].clone())

            with intervene(model, set_neurons(0, 0, 123.0, positions=target)), \
                    model.bridge.hooks(fwd_hooks=[(name, record)]):
                model.generate(tokens, max_new_tokens=5, use_cache=use_cache, stop_at_eos=False)
            values = torch.cat(seen) if use_cache else seen[-1]
            if use_cache:
                assert [len(s) for s in seen] == [p_len] + [1] * 4
            assert (values == 123.0).nonzero().reshape(-1).tolist() == [target]
    assert_no_hooks(model)


GEN_SPECS = {
    "all": lambda p: [set_neurons(0, [1, 2, 3], 4.0)],
    "absolute": lambda p: [
        set_neurons(1, slice(0, 8), 9.0, positions=p + 1), ablate_heads(0, 1, positions=1)
    ],
    "slice": lambda p: [Intervention("resid_mid", 0, add(1.5), [0, 1], slice(2, None, 2))],
    "last": lambda p: [neurons(0, slice(0, 6), scale(-3.0), positions="last")],
}


@pytest.mark.parametrize("kind", list(GEN_SPECS))
def test_cached_generation_equals_uncached(arch, loaded, kind):
    model = loaded(arch)
    tokens = model.to_tokens(PROMPT)
    p_len = tokens.shape[1]
    specs = GEN_SPECS[kind](p_len)
    if kind == "slice" and model.facts.parallel_attn_mlp:
        specs = [Intervention("resid_pre", 1, add(1.5), [0, 1], slice(2, None, 2))]
    with intervene(model, *specs):
        cached = model.generate(tokens, 8, use_cache=True, stop_at_eos=False)
    assert not torch.equal(cached, model.generate(tokens, 8, stop_at_eos=False))
    if kind == "last":  # cached "last" == every position from the prompt's last token on
        specs = [neurons(0, slice(0, 6), scale(-3.0), positions=slice(p_len - 1, None))]
    with intervene(model, *specs):
        uncached = model.generate(tokens, 8, use_cache=False, stop_at_eos=False)
    assert torch.equal(cached, uncached)
    assert_no_hooks(model)


def test_batched_cached_generation_equals_uncached(loaded):
    model = loaded("llama")
    prompts = ["The cat sat on the mat", "A dog ran"]  # left-padded by generate
    spec = set_neurons(1, [0, 4], 6.0, positions=[2, 8])
    out = {}
    for use_cache in (True, False):
        with intervene(model, spec):
            out[use_cache] = model.generate(prompts, 6, use_cache=use_cache, stop_at_eos=False)
    assert out[True] == out[False]


def test_intervention_changes_generation_then_restores(arch, loaded):
    model = loaded(arch)
    tokens = model.to_tokens(PROMPT)
    clean = model.generate(tokens, 8, stop_at_eos=False)
    with intervene(model, neurons(1, slice(0, 16), add(25.0))):
        steered = model.generate(tokens, 8, stop_at_eos=False)
    assert not torch.equal(steered, clean)
    assert torch.equal(model.generate(tokens, 8, stop_at_eos=False), clean)
    assert_no_hooks(model)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (lambda: neurons(0, 200, zero_ablate()), r"neuron 200 out of range; valid: 0\.\.127"),
        (lambda: neurons(0, [1, -1], zero_ablate()), r"neuron -1 out of range"),
        (lambda: heads(1, 4, zero_ablate()), r"head 4 out of range; valid: 0\.\.3"),
        (lambda: neurons(0, 1, zero_ablate(), site="mlp_pre_linear"), "mlp_pre_linear"),
        (lambda: Intervention("attn_pattern", 0, "zero"),
         "cannot intervene on site 'attn_pattern'"),
        (lambda: neurons(2, 1, zero_ablate()), r"layer 2 out of range; valid: 0\.\.1"),
        (lambda: set_neurons(0, 1, 1.0, positions=-1), "negative"),
        (lambda: set_neurons(0, 1, 1.0, positions="first"), "unknown positions 'first'"),
        (lambda: set_neurons(0, 1, 1.0, positions=64), r"position 64 out of range; valid: 0\.\.63"),
        (lambda: neurons(0, 1, "double"), "unknown op 'double'"),
        (lambda: neurons(0, 1, "set"), "needs a value"),
        (lambda: set_neurons(0, [1, 2], torch.ones(3)), r"shape \[3\] does not fit"),
        (lambda: ablate_heads(0, 1, means=torch.ones(5)), r"shape \[5\] does not fit"),
    ],
)
def test_bad_input_is_one_line_interp_error(loaded, spec, message):
    model = loaded("gpt2")
    with pytest.raises(InterpError, match=message) as err, intervene(model, spec()):
        pass
    assert "\n" not in str(err.value)
    assert_no_hooks(model)


def test_nothing_attached_when_one_spec_is_bad(loaded):
    model = loaded("gpt2")
    with pytest.raises(InterpError):
        apply(model, set_neurons(0, 1, 1.0), heads(0, 9, zero_ablate()))
    assert_no_hooks(model)
