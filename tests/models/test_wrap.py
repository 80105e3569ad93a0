"""Model.from_hf / Model.from_bridge wrap a model already in memory (no weights read again) with
the facts and fingerprint load_model gives; run_with_cache matches TransformerLens' own."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from interp import Model
from interp.errors import InterpError

TEXT = "the cat sat on the mat"


def _hf(path, **kwargs):
    return AutoModelForCausalLM.from_pretrained(path, **kwargs).eval()


def test_from_hf_matches_load_model(arch, tiny_model_dir, loaded):
    ref = loaded(arch)
    hf = _hf(tiny_model_dir)
    model = Model.from_hf(hf, AutoTokenizer.from_pretrained(tiny_model_dir))
    assert model.fingerprint == ref.fingerprint
    assert model.facts == ref.facts
    assert model.hf_model is hf  # the weights were not copied or reloaded
    tokens = ref.to_tokens(TEXT)
    torch.testing.assert_close(model.logits(tokens), ref.logits(tokens), rtol=0, atol=0)


def test_from_hf_takes_the_models_dtype_and_a_name(tiny_model_dirs):
    hf = _hf(tiny_model_dirs["llama"], dtype=torch.bfloat16)
    model = Model.from_hf(hf, AutoTokenizer.from_pretrained(tiny_model_dirs["llama"]),
                           name="mine")
    assert model.name == "mine" and model.dtype == torch.bfloat16


def test_from_hf_fingerprint_is_dtype_independent(tiny_model_dirs, loaded):
    hf = _hf(tiny_model_dirs["llama"], dtype=torch.bfloat16)
    model = Model.from_hf(hf, AutoTokenizer.from_pretrained(tiny_model_dirs["llama"]))
    assert model.fingerprint == loaded("llama").fingerprint


def test_from_bridge_matches_load_model(arch, loaded):
    ref = loaded(arch)
    model = Model.from_bridge(ref.bridge)
    assert model.bridge is ref.bridge
    assert (model.fingerprint, model.facts, model.name) == (ref.fingerprint, ref.facts,
                                                            str(ref.path))


def test_from_bridge_of_a_transformer_lens_boot(tiny_model_dirs, loaded):
    from transformer_lens.model_bridge import TransformerBridge

    path = tiny_model_dirs["gpt2"]
    bridge = TransformerBridge.boot_transformers(
        str(path), hf_model=_hf(path, attn_implementation="eager"),
        tokenizer=AutoTokenizer.from_pretrained(path), device="cpu")
    assert Model.from_bridge(bridge).fingerprint == loaded("gpt2").fingerprint


def test_wrapping_refuses_what_is_not_a_model(loaded):
    with pytest.raises(InterpError, match="hf_model must be a transformers model.*dict"):
        Model.from_hf({}, loaded("llama").tokenizer)
    with pytest.raises(InterpError, match="bridge must be a transformer_lens.*str"):
        Model.from_bridge("gpt2")


def test_run_with_cache_equals_transformer_lens(arch, loaded):
    model = loaded(arch)
    ref_logits, ref = model.bridge.run_with_cache(TEXT)
    logits, cache = model.run_with_cache(TEXT)
    names = list(ref.keys())
    assert list(cache.keys()) == names
    for name in names:
        torch.testing.assert_close(cache[name], ref[name], rtol=0, atol=0)
    torch.testing.assert_close(logits, ref_logits, rtol=0, atol=0)
    assert cache["resid_post", 1].shape == (1, len(model.to_str_tokens(TEXT)), 32)
    assert not any(point.fwd_hooks for point in model.bridge.hook_dict.values())


def test_run_with_cache_filters_and_drops_the_batch(loaded):
    model = loaded("llama")
    name = "blocks.1.hook_resid_post"
    _, one = model.run_with_cache(TEXT, name, remove_batch_dim=True)
    assert list(one.keys()) == [name] and one[name].dim() == 2
    _, some = model.run_with_cache(TEXT, lambda n: n.endswith("hook_resid_pre"))
    assert list(some.keys()) == ["blocks.0.hook_resid_pre", "blocks.1.hook_resid_pre"]
    loss, _ = model.run_with_cache(TEXT, [name], return_type="loss")
    assert loss.dim() == 0


def test_run_with_cache_sees_interventions_and_cleans_up_on_error(loaded):
    from interp.hooks import intervene, steer

    model = loaded("llama")
    name = "blocks.0.hook_resid_post"
    _, plain = model.run_with_cache(TEXT, name)
    direction = torch.ones(32)
    with intervene(model, steer(0, direction, coeff=2.0, site="resid_post")):
        _, steered = model.run_with_cache(TEXT, name)
    torch.testing.assert_close(steered[name], plain[name] + 2.0 * direction)
    with pytest.raises(InterpError, match="not a hook of this"):
        model.run_with_cache(TEXT, ["blocks.0.hook_resid_pre", "blocks.9.hook_nothing"])
    with pytest.raises(InterpError, match="remove_batch_dim needs one sequence"):
        model.run_with_cache([TEXT, TEXT], name, remove_batch_dim=True)
    assert not any(point.fwd_hooks for point in model.bridge.hook_dict.values())
