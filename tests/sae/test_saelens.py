"""SAELens interop: SAEs that SAELens 6.54.12 wrote (tests/sae/saelens_fixtures, made by
tools/saelens_fixtures.py) load and compute exactly SAELens' numbers; interp SAEs saved in
SAELens' layout come back identical; SAEs run on a model at their hook (feature activations,
splicing that always restores); bad hooks and damaged directories are one-line errors. The
last test runs only where sae_lens imports (a separate environment: it needs
transformer-lens < 4) and loads what interp writes with SAELens itself."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from interp.errors import InterpError
from interp.hooks import active_interventions, capture
from interp.sae import (
    SAEConfig,
    SAELensSAE,
    SparseAutoencoder,
    attach_sae,
    feature_acts,
    load_saelens,
    resolve_hook,
    sae_codes,
    save_saelens,
    splice_sae,
)

FIXTURES = Path(__file__).parent / "saelens_fixtures"
CASES = ("standard", "topk", "jumprelu", "gated", "hook_z")
PROMPT = "The cat sat on the mat."


def expected(case: str) -> dict[str, torch.Tensor]:
    return load_file(FIXTURES / f"{case}.expected.safetensors")


def close(got: torch.Tensor, want: torch.Tensor) -> None:
    """Equal up to float32 matmul rounding (which differs across CPUs and thread counts; on
    the machine that made the fixtures, with one thread, they are bit-identical)."""
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-5)


def random_sae(activation: str = "relu", d_in: int = 32, seed: int = 0, **kw) -> SparseAutoencoder:
    """An interp SAE with non-trivial seeded weights and biases (b_dec, b_enc non-zero)."""
    k = 4 if activation == "topk" else None
    sae = SparseAutoencoder(SAEConfig(d_in=d_in, n_latents=48, activation=activation, k=k,
                                      **kw), seed=seed)
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        sae.b_dec.copy_(torch.randn(d_in, generator=gen) * 0.2)
        sae.b_enc.copy_(torch.randn(48, generator=gen) * 0.2)
        sae.W_enc.add_(torch.randn(sae.W_enc.shape, generator=gen) * 0.1)
    return sae


# ---- SAEs written by SAELens ----------------------------------------------------------------
def test_fixtures_were_made_by_the_recorded_saelens():
    manifest = json.loads((FIXTURES / "manifest.json").read_text())
    assert manifest["sae_lens"] == "6.54.12" and manifest["cases"] == sorted(CASES)


@pytest.mark.parametrize("case", CASES)
def test_saelens_written_sae_computes_saelens_numbers_exactly(case):
    sae = load_saelens(FIXTURES / case)
    want = expected(case)
    x = want["x"].flatten(-2) if case == "hook_z" else want["x"]  # SAELens flattens the heads
    out, z = sae(x)
    assert torch.equal(z > 0, want["feature_acts"] > 0)  # the same features fire
    close(z, want["feature_acts"])
    close(out, want["sae_out"].reshape(out.shape))
    assert torch.equal(sae.encode(x), z)
    assert 0 < (z > 0).float().mean() < 1  # the case exercises its activation
    raw = json.loads((FIXTURES / case / "cfg.json").read_text())
    assert sae.cfg.architecture == raw["architecture"]
    assert sae.cfg.hook_name == raw["metadata"]["hook_name"]
    assert sae.cfg.model_name == "interp-test-gpt2"


def test_config_fields_are_read():
    topk = load_saelens(FIXTURES / "topk").cfg
    assert (topk.k, topk.rescale_acts_by_decoder_norm) == (5, True)
    gated = load_saelens(FIXTURES / "gated").cfg
    assert not gated.apply_b_dec_to_input
    assert gated.normalize_activations == "constant_norm_rescale"
    assert load_saelens(FIXTURES / "hook_z").cfg.reshape_activations == "hook_z"
    assert load_saelens(FIXTURES / "standard", dtype="float64").W_enc.dtype == torch.float64


def test_pre_6_flat_config_reads_as_6(tmp_path):
    """SAELens < 6 wrote a flat cfg.json (hook_point, activation_fn_str, activation_fn_kwargs,
    a boolean normalize_activations); it loads as the same SAE."""
    src = FIXTURES / "standard"
    old = tmp_path / "old"
    old.mkdir()
    (old / "sae_weights.safetensors").write_bytes((src / "sae_weights.safetensors").read_bytes())
    cfg = {"d_in": 32, "d_sae": 40, "dtype": "torch.float32", "device": "cpu",
           "model_name": "gpt2-small", "hook_point": "blocks.1.hook_resid_pre",
           "hook_point_layer": 1, "hook_point_head_index": None, "activation_fn_str": "topk",
           "activation_fn_kwargs": {"k": 3}, "apply_b_dec_to_input": True,
           "normalize_activations": False, "sae_lens_training_version": "3.13.0"}
    (old / "cfg.json").write_text(json.dumps(cfg))
    sae = load_saelens(old)
    c = sae.cfg
    assert (c.architecture, c.k, c.hook_name, c.normalize_activations) == (
        "topk", 3, "blocks.1.hook_resid_pre", "none")
    assert c.model_name == "gpt2-small" and c.hook_head_index is None
    new = load_saelens(src)
    assert torch.equal(sae.W_enc, new.W_enc) and torch.equal(sae.b_dec, new.b_dec)
    assert int((sae.encode(expected("standard")["x"]) > 0).sum(-1).max()) <= 3


def test_older_jumprelu_log_threshold_is_read(tmp_path):
    src = FIXTURES / "jumprelu"
    (tmp_path / "cfg.json").write_text((src / "cfg.json").read_text())
    state = load_file(src / "sae_weights.safetensors")
    state["log_threshold"] = state.pop("threshold").log()
    save_file(state, tmp_path / "sae_weights.safetensors")
    sae = load_saelens(tmp_path)
    assert torch.allclose(sae.threshold, load_saelens(src).threshold, rtol=1e-6, atol=0)


def test_resaving_a_saelens_sae_keeps_it(tmp_path):
    sae = load_saelens(FIXTURES / "gated")
    save_saelens(sae, tmp_path / "again")
    again = load_saelens(tmp_path / "again")
    assert again.cfg == sae.cfg and again.cfg.metadata == sae.cfg.metadata
    for name, t in sae.state_dict().items():
        assert torch.equal(t, again.state_dict()[name]), name


# ---- interp SAEs in SAELens' layout ---------------------------------------------------------
@pytest.mark.parametrize("activation", ["relu", "topk"])
def test_interp_sae_round_trip_is_exact(tmp_path, activation):
    sae = random_sae(activation, unit_norm="oneill-bui", init="oneill-bui", l1=0.05)
    save_saelens(sae, tmp_path / "s", hook=("resid_post", 1), model_name="tiny",
                 fingerprint="abc123")
    raw = json.loads((tmp_path / "s" / "cfg.json").read_text())
    assert raw["architecture"] == ("standard" if activation == "relu" else "topk")
    assert (raw["d_in"], raw["d_sae"], raw["dtype"]) == (32, 48, "float32")
    assert raw["apply_b_dec_to_input"] is True and raw["normalize_activations"] == "none"
    assert raw.get("k") == (4 if activation == "topk" else None)
    meta = raw["metadata"]
    assert meta["hook_name"] == "blocks.1.hook_resid_post" and meta["model_name"] == "tiny"
    assert meta["sae_lens_version"] == "6.54.12"
    assert meta["interp"]["sae"] == sae.cfg.to_dict()
    assert meta["interp"]["fingerprint"] == "abc123"

    lens = load_saelens(tmp_path / "s")
    for name, t in sae.state_dict().items():
        assert torch.equal(getattr(lens, name), t), name
    x = torch.randn(3, 7, 32, generator=torch.Generator().manual_seed(5)) * 2
    assert torch.equal(lens.encode(x), sae.encode(x))
    assert torch.equal(lens(x)[0], sae(x)[0])
    assert torch.equal(sae_codes(lens, x, k=2), sae_codes(sae, x, k=2))  # duck-typed
    back = lens.to_interp()
    assert back.cfg == sae.cfg
    assert all(torch.equal(back.state_dict()[k], v) for k, v in sae.state_dict().items())


def test_same_sae_same_bytes(tmp_path):
    sae = random_sae("topk")
    for name in ("a", "b"):
        save_saelens(sae, tmp_path / name, hook="blocks.0.hook_mlp_out")
    for file in ("cfg.json", "sae_weights.safetensors"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()


def test_saving_replaces_an_sae_but_not_other_things(tmp_path):
    save_saelens(random_sae(seed=1), tmp_path / "s", hook="blocks.0.hook_resid_pre")
    save_saelens(random_sae(seed=2), tmp_path / "s", hook="blocks.0.hook_resid_pre")
    assert torch.equal(load_saelens(tmp_path / "s").W_dec, random_sae(seed=2).W_dec)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(InterpError, match="not empty and holds no SAELens SAE"):
        save_saelens(random_sae(), other)
    assert (other / "notes.txt").read_text() == "mine"


def test_fingerprint_of_another_model_is_refused(tmp_path):
    save_saelens(random_sae(), tmp_path / "s", hook="blocks.0.hook_resid_pre",
                 model_name="tiny", fingerprint="abc123")
    load_saelens(tmp_path / "s", fingerprint="abc123")
    with pytest.raises(InterpError, match="trained on model 'tiny' .*abc123"):
        load_saelens(tmp_path / "s", fingerprint="ffff")
    load_saelens(FIXTURES / "standard", fingerprint="ffff")  # SAELens' own: nothing to check


def test_what_interp_cannot_express_is_refused():
    with pytest.raises(InterpError, match="architecture is 'jumprelu'"):
        load_saelens(FIXTURES / "jumprelu").to_interp()
    standard = load_saelens(FIXTURES / "standard")
    for change, why in [({"apply_b_dec_to_input": False}, "does not subtract b_dec"),
                        ({"normalize_activations": "layer_norm"}, "normalises its input")]:
        other = SAELensSAE(replace(standard.cfg, **change), dict(standard.state_dict()))
        with pytest.raises(InterpError, match=why):
            other.to_interp()
    with pytest.raises(InterpError, match="ranks top-k by decoder norm"):
        load_saelens(FIXTURES / "topk").to_interp()


@pytest.mark.parametrize("edit,match", [
    (lambda c, s: c.update(architecture="matching_pursuit"),
     "unknown SAELens architecture 'matching_pursuit'; expected one of 'standard'"),
    (lambda c, s: c.update(normalize_activations="covariance_whitening"),
     "covariance_whitening"),
    (lambda c, s: c.update(d_sae=41), r"tensor 'W_enc' has shape \[32, 40\], not \[32, 41\]"),
    (lambda c, s: c.pop("d_in"), "has no 'd_in'"),
    (lambda c, s: s.update(extra=torch.zeros(3)), "tensor 'extra' is not a parameter"),
    (lambda c, s: s.pop("b_enc"), "tensor 'b_enc' is missing"),
    (lambda c, s: s["W_dec"].view(-1).__setitem__(0, float("nan")), "'W_dec' holds NaN"),
])
def test_damaged_directory_is_one_line(tmp_path, edit, match):
    src = FIXTURES / "standard"
    cfg = json.loads((src / "cfg.json").read_text())
    state = load_file(src / "sae_weights.safetensors")
    edit(cfg, state)
    (tmp_path / "cfg.json").write_text(json.dumps(cfg))
    save_file(state, tmp_path / "sae_weights.safetensors")
    with pytest.raises(InterpError, match=match) as err:
        load_saelens(tmp_path)
    assert "\n" not in str(err.value) and str(tmp_path) in str(err.value)


def test_missing_directory_names_the_files(tmp_path):
    with pytest.raises(InterpError, match="does not exist; expected cfg.json and sae_weights"):
        load_saelens(tmp_path / "nope")


# ---- on a model -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def gpt2(loaded):
    return loaded("gpt2")


def test_hook_names_map_to_the_bridge(gpt2):
    assert resolve_hook(gpt2, "blocks.1.hook_resid_pre") == "blocks.1.hook_resid_pre"
    assert resolve_hook(gpt2, "blocks.0.attn.hook_z") == "blocks.0.attn.hook_z"
    assert resolve_hook(gpt2, ("mlp_out", 1)) == "blocks.1.hook_mlp_out"
    assert resolve_hook(gpt2, "blocks.0.ln2.hook_normalized") == "blocks.0.ln2.hook_normalized"
    for bad, why in [("blocks.7.hook_resid_pre", "layer 7 out of range"),
                     ("blocks.0.mlp.hook_pre_linear", "not gated"),
                     ("blocks.0.hook_resid_middle", "does not exist")]:
        with pytest.raises(InterpError, match=why) as err:
            resolve_hook(gpt2, bad)
        assert repr(bad) in str(err.value) and "blocks.{0..1}.hook_resid_pre" in str(err.value)


def test_feature_acts_are_the_sae_of_the_captured_activation(gpt2):
    sae = load_saelens(FIXTURES / "standard")  # hook blocks.1.hook_resid_pre
    got = feature_acts(gpt2, sae, PROMPT)
    acts = capture(gpt2, ["blocks.1.hook_resid_pre"], PROMPT).acts["blocks.1.hook_resid_pre"]
    assert got.shape == (1, acts.shape[1], 40)
    assert torch.equal(got, sae.encode(acts))
    assert (got > 0).any()


def _logits(model):
    return model.logits(model.to_tokens(PROMPT))


@pytest.mark.parametrize("case", ["standard", "topk", "jumprelu", "gated", "hook_z"])
def test_splice_replaces_the_activation_and_restores(gpt2, case):
    sae = load_saelens(FIXTURES / case)
    name = sae.cfg.hook_name
    clean = _logits(gpt2)
    before = capture(gpt2, [name], PROMPT).acts[name]
    with splice_sae(gpt2, sae) as handle:
        assert handle.active and len(active_interventions(gpt2)) == 1
        inside = capture(gpt2, [name], PROMPT).acts[name]  # attached after: sees the splice
        spliced = _logits(gpt2)
    flat = before.flatten(-2) if case == "hook_z" else before
    assert torch.equal(inside, sae(flat)[0].reshape(before.shape))
    assert not torch.allclose(spliced, clean)
    assert torch.equal(_logits(gpt2), clean) and not active_interventions(gpt2)


def test_splice_is_undone_when_the_body_raises(gpt2):
    clean = _logits(gpt2)
    with pytest.raises(RuntimeError, match="boom"), splice_sae(
            gpt2, load_saelens(FIXTURES / "standard")):
        raise RuntimeError("boom")
    assert torch.equal(_logits(gpt2), clean) and not active_interventions(gpt2)


def test_interp_sae_on_one_head_and_persistent_attach(gpt2):
    """An interp per-head SAE (d_in = d_head) at attn_z head 2: only that head changes."""
    sae = random_sae(d_in=8)
    name = "blocks.0.attn.hook_z"
    before = capture(gpt2, [name], PROMPT).acts[name]
    handle = attach_sae(gpt2, sae, hook=("attn_z", 0), head=2)
    try:
        inside = capture(gpt2, [name], PROMPT).acts[name]
    finally:
        handle.remove()
    assert torch.equal(inside[:, :, [0, 1, 3]], before[:, :, [0, 1, 3]])
    assert torch.equal(inside[:, :, 2], sae(before[:, :, 2])[0])
    assert torch.equal(feature_acts(gpt2, sae, PROMPT, hook=name, head=2),
                       sae.encode(before[:, :, 2]))
    assert not active_interventions(gpt2)


def test_bad_splices_are_refused_before_running(gpt2):
    with pytest.raises(InterpError, match="names no hook; pass hook="):
        splice_sae(gpt2, random_sae()).__enter__()
    with pytest.raises(InterpError, match="reads vectors of 32, but hook 'blocks.0.mlp.hook_post'"
                       " gives 128"):
        feature_acts(gpt2, random_sae(), PROMPT, hook="blocks.0.mlp.hook_post")
    with pytest.raises(InterpError, match="head 4 out of range; valid: 0..3"):
        splice_sae(gpt2, random_sae(d_in=8), hook="blocks.0.attn.hook_z", head=4).__enter__()
    with pytest.raises(InterpError, match="applies to attn.hook_z only"):
        attach_sae(gpt2, random_sae(), hook="blocks.0.hook_resid_pre", head=0)
    assert not active_interventions(gpt2)


def test_saved_for_a_model_names_its_hook_and_fingerprint(gpt2, tmp_path):
    save_saelens(random_sae(), tmp_path / "s", hook=("resid_pre", 1), model=gpt2)
    lens = load_saelens(tmp_path / "s", model=gpt2)
    assert lens.cfg.hook_name == "blocks.1.hook_resid_pre"
    assert lens.cfg.metadata["interp"]["fingerprint"] == gpt2.fingerprint
    assert feature_acts(gpt2, lens, PROMPT).shape[-1] == 48
    with pytest.raises(InterpError, match="hook 'blocks.9.hook_resid_pre' does not exist"):
        save_saelens(random_sae(), tmp_path / "t", hook="blocks.9.hook_resid_pre", model=gpt2)
    assert not (tmp_path / "t").exists()


# ---- against SAELens itself (a separate environment) -----------------------------------------
@pytest.mark.parametrize("activation,head", [("relu", None), ("topk", None), ("relu", 1)])
def test_sae_lens_loads_what_interp_writes(tmp_path, activation, head):
    sae_lens = pytest.importorskip("sae_lens")
    sae = random_sae(activation, d_in=8 if head is not None else 32)
    hook = "blocks.0.attn.hook_z" if head is not None else "blocks.0.hook_resid_post"
    save_saelens(sae, tmp_path / "s", hook=hook, head=head, model_name="tiny")
    theirs = sae_lens.SAE.load_from_disk(tmp_path / "s")
    assert sae_lens.__version__ == "6.54.12"
    assert theirs.cfg.architecture() == ("standard" if activation == "relu" else "topk")
    assert theirs.cfg.metadata.hook_name == hook and theirs.cfg.metadata.hook_head_index == head
    for name, t in sae.state_dict().items():
        assert torch.equal(getattr(theirs, name).detach(), t), name
    x = torch.randn(3, 7, sae.cfg.d_in, generator=torch.Generator().manual_seed(5)) * 2
    with torch.no_grad():
        assert torch.equal(theirs.encode(x), sae.encode(x))
        assert torch.equal(theirs(x), sae(x)[0])
    theirs.save_model(tmp_path / "resaved")  # SAELens keeps metadata["interp"]
    assert load_saelens(tmp_path / "resaved").to_interp().cfg == sae.cfg
