"""Activation scale: streamed statistics equal a one-shot capture; guards."""

from __future__ import annotations

import pytest
import torch

from interp.errors import InterpError
from interp.hooks import capture
from interp.steer import activation_scale, apply_clamps, default_corpus

CORPUS = ["The cat sat on the mat.", "A dog ran in the park with a red ball.",
          "Paris is the capital of France.", "for i in range(10): print(i * i)",
          "One two three four five six."]


def test_streamed_stats_equal_one_capture(loaded):
    model = loaded("llama")
    scale = activation_scale(model, corpus=iter(CORPUS), chunk_docs=2, batch_size=2)
    assert scale.layers == [0, 1] and scale.site == "mlp_post"
    acts = capture(model, [("mlp_post", None)], CORPUS, positions=slice(1, None))
    for row, layer in enumerate(scale.layers):
        x = acts.flat(model.hook_name("mlp_post", layer)).float()
        assert scale.n_tokens == x.shape[0]
        torch.testing.assert_close(scale.max_abs[row], x.abs().amax(0))
        torch.testing.assert_close(scale.max[row], x.amax(0))
        torch.testing.assert_close(scale.min[row], x.amin(0))
        torch.testing.assert_close(scale.mean[row], x.mean(0), atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(scale.std[row], x.std(0, unbiased=False), atol=1e-4, rtol=1e-3)
    torch.testing.assert_close(scale.unit(1, [3, 4]), scale.max_abs[1, [3, 4]])


def test_guards(loaded):
    model = loaded("gpt2")
    with pytest.raises(InterpError, match="layer 4 out of range"):
        activation_scale(model, layers=[4], corpus=CORPUS)
    with pytest.raises(InterpError, match="empty"):
        activation_scale(model, corpus=[])
    scale = activation_scale(model, layers=0, corpus=CORPUS)
    with pytest.raises(InterpError, match="neuron 500 out of range"):
        scale.unit(0, [500])
    with pytest.raises(InterpError, match="no activation scale for mlp_post layer 1"):
        scale.unit(1)
    handle = apply_clamps(model, "0:1=3")
    try:
        with pytest.raises(InterpError, match="interventions are active"):
            activation_scale(model, corpus=CORPUS)
    finally:
        handle.remove()
    other = loaded("neox")
    with pytest.raises(InterpError, match="fingerprint"):
        scale.check_model(other)


def test_default_corpus_is_the_generated_stories():
    from interp.bundled.stories import generate_documents

    docs = default_corpus(5_000, seed=1)
    assert docs == list(generate_documents(5_000, seed=1))  # no model: the stories, seeded
    assert docs != default_corpus(5_000, seed=2)
    assert sum(map(len, docs)) >= 5_000 and all(isinstance(d, str) and d for d in docs)


def test_default_scale_is_kept_on_disk_keyed_by_the_weights(loaded, tmp_path, monkeypatch):
    """A second process reads default_scale from the cache directory (same tensors, no
    computation); an edited neuron (same fingerprint, other weights) computes its own."""
    import weakref

    from interp.steer import scale as scale_mod

    monkeypatch.setenv("INTERP_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(scale_mod, "_CACHE", weakref.WeakKeyDictionary())
    model = loaded("llama")
    first = scale_mod.default_scale(model)
    files = sorted((tmp_path / "activation-scales").glob("*.safetensors"))
    assert len(files) == 1 and files[0].name.startswith(model.fingerprint)

    def refuse(*args, **kwargs):
        raise AssertionError("computed again")

    real = scale_mod.activation_scale
    monkeypatch.setattr(scale_mod, "activation_scale", refuse)
    scale_mod._CACHE.clear()  # as in a new process
    again = scale_mod.default_scale(model)
    assert (again.layers, again.n_tokens, again.site, again.meta) == (
        first.layers, first.n_tokens, first.site, first.meta)
    for name in ("max_abs", "max", "min", "mean", "std"):
        assert torch.equal(getattr(again, name), getattr(first, name))

    monkeypatch.setattr(scale_mod, "activation_scale", real)
    down = model.neuron_vectors(0, "down")
    saved = down[3].clone()
    try:
        with torch.no_grad():
            down[3] *= 5
        scale_mod._CACHE.clear()
        edited = scale_mod.default_scale(model)
    finally:
        with torch.no_grad():
            down[3] = saved
    assert len(list((tmp_path / "activation-scales").glob("*.safetensors"))) == 2
    assert not torch.equal(edited.max_abs[1], first.max_abs[1])  # layer 1 reads the edit
