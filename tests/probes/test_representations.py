"""representations on the tiny Llama: shapes per site, last/mean pooling against capture,
the on-disk cache (round trip, fingerprint refusal) and bad input."""

from __future__ import annotations

import json

import pytest
import torch

from interp.errors import InterpError
from interp.hooks import capture
from interp.probes import representations, site_depths

TEXTS = ["The cat sat on the mat.", "A dog", "One two three four five six.", "Paris is"]


@pytest.fixture(scope="module")
def model(loaded):
    return loaded("llama")


@pytest.mark.parametrize("site, rows", [("resid_pre", 3), ("resid_mid", 2), ("resid_post", 2)])
def test_shapes(model, site, rows):
    reps = representations(model, TEXTS, site=site, pooling="last")
    assert reps.shape == (rows, len(TEXTS), model.facts.d_model)
    assert reps.dtype == torch.float32
    assert len(site_depths(site, model.facts.n_layers)) == rows


def test_pooling_matches_capture(model):
    names = [model.hook_name("resid_post", layer) for layer in range(2)]
    full = capture(model, names, TEXTS, batch_size=3)
    last = representations(model, TEXTS, "resid_post", "last", batch_size=2)
    mean = representations(model, TEXTS, "resid_post", "mean", batch_size=2)
    for layer, name in enumerate(names):
        for i, text in enumerate(TEXTS):
            n = model.to_tokens(text).shape[1]
            x = full[name][i, :n].float()
            torch.testing.assert_close(last[layer, i], x[-1], atol=1e-5, rtol=1e-5)
            torch.testing.assert_close(mean[layer, i], x.mean(0), atol=1e-5, rtol=1e-5)


def test_resid_pre_last_row_is_final_resid_post(model):
    pre = representations(model, TEXTS, "resid_pre", "mean")
    post = representations(model, TEXTS, "resid_post", "mean")
    torch.testing.assert_close(pre[-1], post[-1])
    torch.testing.assert_close(pre[1], post[0], atol=1e-5, rtol=1e-5)


def test_cache_round_trip_and_fingerprint(model, tmp_path, monkeypatch):
    first = representations(model, TEXTS, "resid_mid", "mean", cache_dir=tmp_path)
    metas = list(tmp_path.glob("*.json"))
    assert len(metas) == 1 and len(list(tmp_path.glob("*.safetensors"))) == 1
    assert not list(tmp_path.glob(".*tmp*"))
    meta = json.loads(metas[0].read_text())
    assert meta["fingerprint"] == model.fingerprint
    assert (meta["site"], meta["pooling"], meta["n_texts"]) == ("resid_mid", "mean", 4)
    other = representations(model, TEXTS[:2], "resid_mid", "last", cache_dir=tmp_path)
    assert other.shape[1] == 2 and len(list(tmp_path.glob("*.json"))) == 2  # own entry

    import importlib

    mod = importlib.import_module("interp.probes.layer_reps")

    def boom(*a, **k):
        raise AssertionError("model rerun despite cache")

    monkeypatch.setattr(mod, "compute_representations", boom)
    again = representations(model, TEXTS, "resid_mid", "mean", cache_dir=tmp_path)
    torch.testing.assert_close(again, first, atol=0, rtol=0)

    meta["fingerprint"] = "0" * 16
    metas[0].write_text(json.dumps(meta))
    with pytest.raises(InterpError, match="fingerprint"):
        representations(model, TEXTS, "resid_mid", "mean", cache_dir=tmp_path)


def test_bad_input(model):
    with pytest.raises(InterpError, match="'resid_final'"):
        representations(model, TEXTS, site="resid_final")
    with pytest.raises(InterpError, match="'max'"):
        representations(model, TEXTS, pooling="max")
    with pytest.raises(InterpError, match="no texts"):
        representations(model, [])
    with pytest.raises(InterpError, match="single str"):
        representations(model, "one text")
