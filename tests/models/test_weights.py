"""Neuron weight vectors and the folded unembedding, checked against the HF modules and
against activations captured through the hooks."""

from __future__ import annotations

import pytest
import torch

from interp.errors import InterpError

TOKENS = torch.tensor([[0, 5, 17, 99, 250, 3, 44, 61]])


def hf_mlp(ref, arch: str, layer: int):
    """{side: (rows [d_mlp, d_model], bias or None)} read straight from the HF modules."""
    if arch == "gpt2":
        mlp = ref.transformer.h[layer].mlp  # Conv1D: y = x @ W + b, W is [in, out]
        return {"up": (mlp.c_fc.weight.T, mlp.c_fc.bias), "down": (mlp.c_proj.weight, None)}
    if arch == "neox":
        mlp = ref.gpt_neox.layers[layer].mlp
        return {
            "up": (mlp.dense_h_to_4h.weight, mlp.dense_h_to_4h.bias),
            "down": (mlp.dense_4h_to_h.weight.T, None),
        }
    mlp = ref.model.layers[layer].mlp
    return {
        "up": (mlp.up_proj.weight, None),
        "gate": (mlp.gate_proj.weight, None),
        "down": (mlp.down_proj.weight.T, None),
    }


def final_norm(ref, arch: str):
    return {"gpt2": lambda: ref.transformer.ln_f, "neox": lambda: ref.gpt_neox.final_layer_norm,
            "llama": lambda: ref.model.norm}[arch]()


def test_neuron_vectors_equal_hf_weights(arch, loaded, hf_reference):
    model, ref = loaded(arch), hf_reference(arch)
    d_mlp, d_model = model.facts.d_mlp, model.facts.d_model
    for layer in range(model.facts.n_layers):
        for side, (rows, bias) in hf_mlp(ref, arch, layer).items():
            got = model.neuron_vectors(layer, side)
            assert got.shape == (d_mlp, d_model)
            torch.testing.assert_close(got, rows.detach(), atol=0, rtol=0)
            got_bias = model.neuron_biases(layer, side)
            if side != "down":
                assert (got_bias is None) == (bias is None)
                if bias is not None:
                    torch.testing.assert_close(got_bias, bias.detach(), atol=0, rtol=0)
    if arch == "llama":
        up_proj = ref.model.layers[0].mlp.up_proj.weight
        assert torch.equal(model.neuron_vectors(0, "up")[7], up_proj[7])


def test_gate_needs_gated_mlp(loaded):
    for arch in ("gpt2", "neox"):
        with pytest.raises(InterpError, match="gate"):
            loaded(arch).neuron_vectors(0, "gate")
    with pytest.raises(InterpError, match="'sideways'"):
        loaded("llama").neuron_vectors(0, "sideways")
    with pytest.raises(InterpError, match="out of range"):
        loaded("llama").neuron_vectors(5, "up")


def test_neuron_vectors_explain_hook_activations(arch, loaded):
    """mlp_pre = ln2 @ up.T (+b) (gated: gate), and mlp_out = mlp_post @ down (+ b_out)."""
    model = loaded(arch)
    layer = 1
    ln2 = f"blocks.{layer}.ln2.hook_out"
    names = {ln2} | {model.hook_name(s, layer) for s in model.sites if s.startswith("mlp")}
    _, cache = model.bridge.run_with_cache(TOKENS, names_filter=lambda n: n in names)
    x = cache[ln2]

    def affine(side):
        b = model.neuron_biases(layer, side)
        return x @ model.neuron_vectors(layer, side).T + (0 if b is None else b)

    pre_side = "gate" if model.facts.gated_mlp else "up"
    torch.testing.assert_close(cache[model.hook_name("mlp_pre", layer)], affine(pre_side))
    if model.facts.gated_mlp:
        torch.testing.assert_close(cache[model.hook_name("mlp_pre_linear", layer)], affine("up"))
    b_out = model.neuron_biases(layer, "down")
    out = cache[model.hook_name("mlp_post", layer)] @ model.neuron_vectors(layer, "down")
    out = out + (0 if b_out is None else b_out)
    torch.testing.assert_close(cache[model.hook_name("mlp_out", layer)], out)


def test_folded_unembedding_identity(arch, loaded, hf_reference):
    model, ref = loaded(arch), hf_reference(arch)
    w_u, b_u = model.folded_unembedding()
    assert w_u.shape == (model.facts.d_model, model.facts.d_vocab)
    assert b_u.shape == (model.facts.d_vocab,)
    x = torch.randn(5, model.facts.d_model, generator=torch.Generator().manual_seed(1)) * 3
    with torch.no_grad():
        expected = ref.get_output_embeddings()(final_norm(ref, arch)(x))
    torch.testing.assert_close(model.normalize_final(x) @ w_u + b_u, expected, atol=1e-5, rtol=0)
    # the same through the model's own residual stream
    last = f"blocks.{model.facts.n_layers - 1}.hook_resid_post"
    logits, cache = model.bridge.run_with_cache(TOKENS, names_filter=lambda n: n == last)
    torch.testing.assert_close(model.folded_logits(cache[last]), logits, atol=1e-4, rtol=0)


def test_direction_decoding_is_linear(arch, loaded, hf_reference):
    """center_for_unembed(v) @ W_U is the logit change from adding v to a residual state x
    with the final norm's scale held fixed. Measured on copies of the HF final norm (its bias
    zeroed: a direction has none) and LM head: lm_head(norm(y)) * s(y) is linear in y, where
    s(y) = sqrt(var(y) + eps) (LayerNorm) or sqrt(mean(y^2) + eps) (RMSNorm) is the norm's
    divisor, so the change is exact (no finite differences)."""
    import copy

    model, ref = loaded(arch), hf_reference(arch)
    norm = copy.deepcopy(final_norm(ref, arch)).double()
    if getattr(norm, "bias", None) is not None:
        with torch.no_grad():
            norm.bias.zero_()
    eps = float(getattr(norm, "eps", getattr(norm, "variance_epsilon", None)))
    head = ref.get_output_embeddings().weight.detach().double()  # [d_vocab, d_model]
    layernorm = model.facts.norm == "layernorm"

    def scaled_logits(y: torch.Tensor) -> torch.Tensor:
        yc = y - y.mean() if layernorm else y
        with torch.no_grad():
            return torch.nn.functional.linear(norm(y), head) * (yc.pow(2).mean() + eps).sqrt()

    g = torch.Generator().manual_seed(2)
    x = torch.randn(model.facts.d_model, generator=g, dtype=torch.float64) * 3
    v = torch.randn(model.facts.d_model, generator=g, dtype=torch.float64) + 0.5  # has a mean
    measured = scaled_logits(x + v) - scaled_logits(x)
    w_u, _ = model.folded_unembedding(torch.float64)
    decoded = model.center_for_unembed(v) @ w_u
    torch.testing.assert_close(decoded, measured, atol=1e-5, rtol=1e-5)
    if layernorm:  # the centring matters: v's mean is not part of the change
        assert (v @ w_u - measured).abs().max() > 1e-2
        assert abs(float(model.center_for_unembed(v).mean())) < 1e-9
    else:
        assert torch.equal(model.center_for_unembed(v), v)


def test_processed_weights_are_refused(tiny_model_dirs):
    import interp

    model = interp.load_model(tiny_model_dirs["gpt2"], device="cpu")
    model.bridge.enable_compatibility_mode()
    with pytest.raises(InterpError, match="processed"):
        model.neuron_vectors(0, "up")
    with pytest.raises(InterpError, match="processed"):
        model.folded_unembedding()
