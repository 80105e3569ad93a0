"""Clamps: exact logit effect through the norm-linearised unembedding, composition, restore on
exceptions, persistent form, cached == uncached generation, units, parsing and bad input."""

from __future__ import annotations

import pytest
import torch

from interp.errors import InterpError
from interp.hooks import active_interventions, intervene, remove_all
from interp.steer import Clamp, activation_scale, apply_clamps, clamp, to_interventions

PROMPT = "The cat sat on the mat"


def assert_no_hooks(model) -> None:
    assert sum(len(hp.fwd_hooks) for hp in model.bridge.hook_points()) == 0
    assert active_interventions(model) == []


@pytest.mark.filterwarnings("ignore:A forward hook edited hook_scale")
def test_add_to_last_layer_neuron_moves_logits_by_its_decoded_down_vector(arch, loaded):
    """delta added to a last-layer neuron changes the logits by exactly
    delta * center(W_out[n]) / scale @ W_U when the final norm's scale is held at its clean
    value (the norm linearised), on GPT-2 (LayerNorm), NeoX (parallel) and Llama (RMSNorm)."""
    model = loaded(arch)
    last, neuron, delta = model.facts.n_layers - 1, 5, 3.0
    tokens = model.to_tokens(PROMPT)
    seen = {}

    def keep_scale(x, hook):
        seen["scale"] = x.detach().clone()

    with model.bridge.hooks(fwd_hooks=[("ln_final.hook_scale", keep_scale)]):
        clean = model.logits(tokens)

    def freeze_scale(x, hook):
        return seen["scale"]

    with clamp(model, Clamp(last, neuron, delta, mode="add")), \
            model.bridge.hooks(fwd_hooks=[("ln_final.hook_scale", freeze_scale)]):
        clamped = model.logits(tokens)
    w_u, _ = model.folded_unembedding(torch.float32)
    down = model.center_for_unembed(model.neuron_vectors(last, "down")[neuron].float())
    expected = delta * (down / seen["scale"].float()) @ w_u  # [1, pos, vocab]
    measured = (clamped - clean).float()
    torch.testing.assert_close(measured, expected, rtol=1e-4, atol=1e-4 * expected.abs().max())
    assert expected.abs().max() > 0.1  # a real effect, not two zeros
    assert_no_hooks(model)


def test_composing_two_clamps_equals_applying_both(loaded):
    model = loaded("neox")
    tokens = model.to_tokens(PROMPT)
    a, b = Clamp(1, [3, 4], 2.0), Clamp(0, 9, 5.0, mode="add")
    with clamp(model, a, b):
        both = model.logits(tokens)
    with clamp(model, a), clamp(model, b):
        nested = model.logits(tokens)
    with clamp(model, "1:3,4=2", "0:9+=5"):
        parsed = model.logits(tokens)
    with intervene(model, *to_interventions(model, a)), clamp(model, b):
        mixed = model.logits(tokens)
    assert torch.equal(both, nested) and torch.equal(both, parsed) and torch.equal(both, mixed)
    with clamp(model, "0:9+=2"), clamp(model, "0:9+=3"):
        two_adds = model.logits(tokens)
    with clamp(model, "0:9+=5"):
        one_add = model.logits(tokens)
    torch.testing.assert_close(two_adds, one_add, rtol=1e-5, atol=1e-5)
    assert_no_hooks(model)


def test_restored_after_exit_and_exception(arch, loaded):
    model = loaded(arch)
    tokens = model.to_tokens(PROMPT)
    clean = model.logits(tokens)
    with pytest.raises(RuntimeError, match="inside"), clamp(model, "1:0,1,2=50"):
        assert not torch.equal(model.logits(tokens), clean)
        raise RuntimeError("inside the block")
    assert torch.equal(model.logits(tokens), clean)
    assert_no_hooks(model)


def test_persistent_form_with_explicit_undo(loaded):
    model = loaded("gpt2")
    tokens = model.to_tokens(PROMPT)
    clean = model.logits(tokens)
    handle = apply_clamps(model, "1:2=8", Clamp(0, 1, 0.0, mode="scale"))
    assert handle.active and len(active_interventions(model)) == 2
    assert not torch.equal(model.logits(tokens), clean)
    handle.remove()
    assert torch.equal(model.logits(tokens), clean)
    apply_clamps(model, "1:2=8")
    assert remove_all(model) == 1
    assert_no_hooks(model)


@pytest.mark.parametrize("where", ["all", "slice", "generated"])
def test_cached_generation_equals_uncached(arch, loaded, where):
    model = loaded(arch)
    tokens = model.to_tokens(PROMPT)
    p_len = tokens.shape[1]
    positions = {"all": "all", "slice": slice(3, None), "generated": p_len + 1}[where]
    spec = Clamp(1, list(range(0, 30, 3)), 40.0, positions=positions)
    out = {}
    for use_cache in (True, False):
        with clamp(model, spec):
            out[use_cache] = model.generate(tokens, 8, use_cache=use_cache, stop_at_eos=False)
    assert torch.equal(out[True], out[False])
    assert not torch.equal(out[True], model.generate(tokens, 8, stop_at_eos=False))
    assert_no_hooks(model)


def test_gated_sites(loaded):
    model = loaded("llama")
    tokens = model.to_tokens(PROMPT)
    clean = model.logits(tokens)
    for site in ("mlp_pre", "mlp_pre_linear"):
        with clamp(model, Clamp(0, 3, 4.0, site=site)):
            assert not torch.equal(model.logits(tokens), clean)
    with pytest.raises(InterpError, match="mlp_pre_linear"):
        clamp(loaded("gpt2"), Clamp(0, 3, 4.0, site="mlp_pre_linear"))


def test_max_units_are_multiples_of_the_neurons_max_activation(loaded):
    model = loaded("gpt2")
    scales = activation_scale(model, layers=[1], corpus=["The cat sat on the mat.",
                                                         "A dog ran in the park."])
    specs = to_interventions(model, Clamp(1, [2, 6], 10.0, unit="max"), scales=scales)
    value = specs[0]._parsed_op.value
    torch.testing.assert_close(value, 10 * scales.unit(1, [2, 6]))
    assert str(Clamp.parse("1:2,6=10x")) == "1:2,6=10x"
    with pytest.raises(InterpError, match="layers"):
        to_interventions(model, "0:1=2x", scales=scales)


@pytest.mark.parametrize(("text", "expected"), [
    ("3:17=10x", Clamp(3, 17, 10.0, "set", "max")),
    (" 3 : 17,40 = -2.5 ", Clamp(3, (17, 40), -2.5)),
    ("0:1+=5", Clamp(0, 1, 5.0, "add")),
    ("0:1*=0", Clamp(0, 1, 0.0, "scale")),
    ("2:4=1e2X", Clamp(2, 4, 100.0, "set", "max")),
])
def test_parse(text, expected):
    assert Clamp.parse(text) == expected


@pytest.mark.parametrize(("make", "message"), [
    (lambda m: clamp(m, "5:1=2"), r"layer 5 out of range; valid: 0\.\.1"),
    (lambda m: clamp(m, "0:128=2"), r"neuron 128 out of range; valid: 0\.\.127"),
    (lambda m: clamp(m, "0:-1=2"), r"neuron -1 out of range"),
    (lambda m: clamp(m, "0:1"), "malformed clamp '0:1'"),
    (lambda m: clamp(m, "a:1=2"), "malformed clamp"),
    (lambda m: clamp(m, "0:1=big"), "bad clamp value 'big'"),
    (lambda m: clamp(m, "0:1=nan"), "not finite"),
    (lambda m: clamp(m, "0:1=infx"), "not finite"),
    (lambda m: clamp(m, "0:1*=2x"), "takes no 'x' unit"),
    (lambda m: Clamp(0, 1, 1.0, mode="double"), "unknown clamp mode 'double'"),
    (lambda m: Clamp(0, 1, 1.0, site="resid_post"), "unknown clamp site"),
    (lambda m: Clamp(0, [], 1.0), "at least one neuron"),
    (lambda m: Clamp(0, 1, 1.0, positions="first"), "unknown positions 'first'"),
    (lambda m: clamp(m), "no clamps given"),
])
def test_bad_input_is_one_line_interp_error(loaded, make, message):
    model = loaded("gpt2")
    with pytest.raises(InterpError, match=message) as err:
        make(model)
    assert "\n" not in str(err.value)
    assert_no_hooks(model)


@pytest.mark.parametrize(("text", "expected"), [
    ("all", "all"), ("last", "last"), ("5", 5), ("2,4", [2, 4]), ("3:", slice(3, None)),
    ("0:10:2", slice(0, 10, 2)),
])
def test_positions_from_text(text, expected):
    from interp.steer.clamps import parse_positions_text

    assert parse_positions_text(text) == expected


@pytest.mark.parametrize("text", ["first", "1:2:3:4", "-1", "a,b"])
def test_bad_positions_text(text):
    from interp.steer.clamps import parse_positions_text

    with pytest.raises(InterpError):
        parse_positions_text(text)


def test_interp_clamp_is_the_steer_clamp():
    import interp

    assert interp.clamp is clamp
