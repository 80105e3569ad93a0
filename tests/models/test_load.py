"""load_model on tiny random GPT-2 / GPT-NeoX / Llama (GQA): parity with HF, facts, hooks,
generation, fingerprints and one-line errors."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time

import pytest
import torch

import interp
from interp.errors import InterpError
from interp.models import SITES
from interp.models import load as load_mod

EXPECTED_FACTS = {
    "gpt2": {
        "architecture": "GPT2LMHeadModel", "n_layers": 2, "d_model": 32, "d_mlp": 128,
        "n_heads": 4, "n_kv_heads": 4, "d_head": 8, "d_vocab": 300, "n_ctx": 64,
        "gated_mlp": False, "norm": "layernorm", "positional": "absolute",
        "tied_embeddings": True, "parallel_attn_mlp": False, "act_fn": "gelu_new",
    },
    "neox": {
        "architecture": "GPTNeoXForCausalLM", "n_layers": 2, "d_model": 32, "d_mlp": 96,
        "n_heads": 4, "n_kv_heads": 4, "d_head": 8, "d_vocab": 300, "n_ctx": 64,
        "gated_mlp": False, "norm": "layernorm", "positional": "rotary",
        "tied_embeddings": False, "parallel_attn_mlp": True,
    },
    "llama": {
        "architecture": "LlamaForCausalLM", "n_layers": 2, "d_model": 32, "d_mlp": 80,
        "n_heads": 4, "n_kv_heads": 2, "d_head": 8, "d_vocab": 300, "n_ctx": 64,
        "gated_mlp": True, "norm": "rmsnorm", "positional": "rotary",
        "tied_embeddings": True, "parallel_attn_mlp": False, "act_fn": "silu",
    },
}
TOKENS = torch.tensor([[0, 5, 17, 99, 250, 3, 44, 61], [0, 7, 7, 120, 33, 280, 2, 9]])


def test_logits_match_hf(arch, loaded, hf_reference):
    model, ref = loaded(arch), hf_reference(arch)
    with torch.no_grad():
        expected = ref(TOKENS).logits
    got = model.logits(TOKENS)
    assert got.shape == (2, 8, 300)
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=0)


def test_facts(arch, loaded):
    facts = loaded(arch).facts
    for key, value in EXPECTED_FACTS[arch].items():
        assert getattr(facts, key) == value, key
    assert type(facts).from_dict(facts.to_dict()) == facts


def test_hook_names_exist_in_bridge(arch, loaded):
    model = loaded(arch)
    hooks = set(model.bridge.hook_dict)
    for site in model.sites:
        for layer in range(model.facts.n_layers):
            assert model.hook_name(site, layer) in hooks
    assert model.hook_name("mlp_post", 1) == "blocks.1.mlp.hook_post"
    assert model.hook_name("attn_z", 0) == "blocks.0.attn.hook_z"
    expected_missing = {"mlp_pre_linear"} if arch != "llama" else set()
    if arch == "neox":
        expected_missing.add("resid_mid")
    assert set(SITES) - set(model.sites) == expected_missing
    for site in expected_missing:
        with pytest.raises(InterpError, match=site):
            model.hook_name(site, 0)


def test_hooks_fire(loaded):
    model = loaded("llama")
    names = [model.hook_name(site, 1) for site in model.sites]
    _, cache = model.bridge.run_with_cache(TOKENS[:1], names_filter=lambda n: n in names)
    assert set(names) <= set(cache.keys())
    assert cache[model.hook_name("mlp_post", 1)].shape == (1, 8, 80)
    assert cache[model.hook_name("attn_pattern", 1)].shape == (1, 4, 8, 8)


@pytest.mark.parametrize(
    ("site", "layer", "match"),
    [("mlp_pos", 0, "mlp_pos"), ("resid_pre", 2, "0..1"), ("resid_pre", -1, "-1"),
     ("resid_pre", "1", "integer")],
)
def test_bad_site_or_layer(loaded, site, layer, match):
    with pytest.raises(InterpError, match=match):
        loaded("gpt2").hook_name(site, layer)


def test_cached_and_uncached_generation_agree(arch, loaded):
    model = loaded(arch)
    prompt = TOKENS[:1]
    cached = model.generate(prompt, 12, use_cache=True, stop_at_eos=False)
    uncached = model.generate(prompt, 12, use_cache=False, stop_at_eos=False)
    assert cached.shape == (1, 20)
    assert torch.equal(cached, uncached)
    assert torch.equal(cached[:, :8], prompt)


def test_generation_computes_last_position_logits_only_and_same_tokens(arch, loaded,
                                                                      monkeypatch):
    from contextlib import nullcontext

    from interp.models import model as model_mod

    model = loaded(arch)
    hf = model.hf_model
    prompt = TOKENS[:2]
    seen: list[int] = []
    handle = hf.lm_head.register_forward_hook(lambda mod, args, out: seen.append(out.shape[1]))
    try:
        torch.manual_seed(5)
        last = model.generate(prompt, 6, do_sample=True, stop_at_eos=False)
        assert seen and set(seen) == {1}, seen  # the prefill too unembeds one position
        assert "forward" not in vars(hf)  # the model's own forward again
        monkeypatch.setattr(model_mod, "_last_position_logits",
                            lambda hf_model, enabled=True: nullcontext())
        seen.clear()
        torch.manual_seed(5)
        full = model.generate(prompt, 6, do_sample=True, stop_at_eos=False)
        assert seen[0] == prompt.shape[1]
    finally:
        handle.remove()
    assert torch.equal(last, full)


def test_generation_with_return_cache_keeps_every_position(loaded):
    model = loaded("gpt2")
    out, cache = model.generate(TOKENS[:1], 3, stop_at_eos=False, return_cache=True)
    assert out.shape == (1, TOKENS.shape[1] + 3)
    assert cache["unembed.hook_out"].shape[1] == out.shape[1]  # the logits of every position
    assert "forward" not in vars(model.hf_model)


def test_last_position_logits_undone_when_the_body_raises(loaded):
    from interp.models.model import _last_position_logits

    hf = loaded("llama").hf_model
    with pytest.raises(RuntimeError, match="boom"), _last_position_logits(hf):
        assert "forward" in vars(hf)
        raise RuntimeError("boom")
    assert "forward" not in vars(hf)
    assert hf(TOKENS[:1]).logits.shape[1] == TOKENS.shape[1]


def test_generate_text_and_tokens(loaded):
    model = loaded("gpt2")
    out = model.generate("The cat sat", 4, stop_at_eos=False)
    assert isinstance(out, str) and out.startswith("The cat sat")
    tokens = model.to_tokens("The cat sat")
    assert tokens[0, 0].item() == model.tokenizer.bos_token_id
    str_tokens = model.to_str_tokens("The cat sat")
    assert str_tokens[0] == model.tokenizer.bos_token and "".join(str_tokens[1:]) == "The cat sat"
    assert model.to_tokens("The cat sat", prepend_bos=False).shape[1] == tokens.shape[1] - 1


def test_fingerprint_stable_and_sensitive(tiny_model_dirs, loaded, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    src = tiny_model_dirs["gpt2"]
    first = loaded("gpt2").fingerprint
    assert re.fullmatch(r"[0-9a-f]{16}", first), first
    assert interp.load_model(src, device="cpu").fingerprint == first
    assert interp.load_model(src, device="cpu", dtype="bfloat16").fingerprint == first
    assert len({loaded(a).fingerprint for a in ("gpt2", "neox", "llama")}) == 3

    hf = AutoModelForCausalLM.from_pretrained(src)
    with torch.no_grad():
        hf.transformer.h[1].mlp.c_fc.weight[0, 0] += 0.5
    hf.save_pretrained(tmp_path / "edited")
    AutoTokenizer.from_pretrained(src).save_pretrained(tmp_path / "edited")
    assert interp.load_model(tmp_path / "edited", device="cpu").fingerprint != first


def test_dtype_and_device(tiny_model_dirs):
    model = interp.load_model(str(tiny_model_dirs["llama"]), device="auto", dtype=torch.bfloat16)
    assert model.dtype == torch.bfloat16
    assert model.neuron_vectors(0, "up").dtype == torch.bfloat16
    assert model.logits(TOKENS[:1]).dtype == torch.bfloat16
    with pytest.raises(InterpError, match="int8"):
        interp.load_model(tiny_model_dirs["llama"], dtype="int8")
    with pytest.raises(InterpError, match="tpu"):
        interp.load_model(tiny_model_dirs["llama"], device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(InterpError, match="cuda"):
            interp.load_model(tiny_model_dirs["llama"], device="cuda")


# ---- errors --------------------------------------------------------------------------------


def _one_line(err: pytest.ExceptionInfo) -> str:
    msg = str(err.value)
    assert "\n" not in msg
    return msg


def test_unknown_hub_name_fails_fast():
    start = time.monotonic()
    with pytest.raises(InterpError) as err:
        interp.load_model("no-such-org/no-such-model-xyz")
    assert time.monotonic() - start < 5
    msg = _one_line(err)
    assert "no-such-org/no-such-model-xyz" in msg and "local directory" in msg


def test_missing_directory(tmp_path):
    for missing in (tmp_path / "nope", str(tmp_path / "nope"), "./not/here"):
        with pytest.raises(InterpError, match="does not exist") as err:
            interp.load_model(missing)
        assert "nope" in _one_line(err) or "not/here" in _one_line(err)


def test_directory_without_config(tiny_model_dirs, tmp_path):
    shutil.copy(tiny_model_dirs["gpt2"] / "model.safetensors", tmp_path)
    with pytest.raises(InterpError, match="config.json") as err:
        interp.load_model(tmp_path)
    assert str(tmp_path) in _one_line(err)


def test_truncated_safetensors(tiny_model_dirs, tmp_path):
    bad = tmp_path / "truncated"
    shutil.copytree(tiny_model_dirs["llama"], bad)
    weights = bad / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(InterpError) as err:
        interp.load_model(bad)
    assert str(bad) in _one_line(err)


def test_missing_tokenizer(tiny_model_dirs, tmp_path):
    bad = tmp_path / "no-tokenizer"
    bad.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(tiny_model_dirs["gpt2"] / name, bad)
    with pytest.raises(InterpError, match="tokenizer") as err:
        interp.load_model(bad)
    assert str(bad) in _one_line(err)


def test_bundled_model_missing(monkeypatch, tmp_path):
    monkeypatch.setattr(load_mod, "bundled_dir", lambda name: tmp_path / name)
    with pytest.raises(InterpError, match="bundled model 'interp-tiny' is missing"):
        interp.load_model("interp-tiny")


def test_bundled_model_loads():
    model = interp.load_model("interp-tiny", device="cpu")
    assert model.name == "interp-tiny"
    assert model.logits(model.to_tokens("Hello")).shape[-1] == model.facts.d_vocab


def test_import_interp_is_light():
    code = (
        "import sys, interp, interp.errors; "
        "heavy = [m for m in ('torch', 'transformers', 'transformer_lens') if m in sys.modules]; "
        "assert not heavy, heavy; print(interp.__version__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == interp.__version__
