"""Tuned lens reader: folders in tuned-lens' layout (config.json + params.pt as TunedLens.save
writes them, written here from its documented format), zero translators give the logit lens,
random ones equal a by-hand decode of transformers' hidden states, and bad folders are refused
(a pickle that would run code included)."""

from __future__ import annotations

import json

import pytest
import torch
from interp_cli.main import main

from interp.errors import InterpError
from interp.lens import load_tuned_lens, logit_lens

TEXT = "the cat sat on the mat"


def _save(path, n_layers: int, d_model: int, seed: int | None = 0, bias: bool = True, **cfg):
    """A tuned-lens folder: TunedLensConfig as JSON and the ModuleList's state dict."""
    path.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(seed or 0)
    state = {}
    for i in range(n_layers):
        scale = 0.0 if seed is None else 0.1
        state[f"{i}.weight"] = torch.randn(d_model, d_model, generator=gen) * scale
        if bias:
            state[f"{i}.bias"] = torch.randn(d_model, generator=gen) * scale
    torch.save(state, path / "params.pt")
    config = {"base_model_name_or_path": "tiny", "d_model": d_model,
              "num_hidden_layers": n_layers, "bias": bias, "base_model_revision": None,
              "unembed_hash": None, "lens_type": "linear_tuned_lens", **cfg}
    (path / "config.json").write_text(json.dumps(config))
    return path


def test_zero_translators_are_the_logit_lens(loaded, tmp_path):
    model = loaded("llama")
    tuned = load_tuned_lens(_save(tmp_path / "zero", 2, 32, seed=None), model)
    plain, moved = logit_lens(model, TEXT), logit_lens(model, TEXT, tuned=tuned)
    assert torch.equal(plain.top_ids, moved.top_ids)
    torch.testing.assert_close(plain.top_probs, moved.top_probs)
    assert moved.kind == "tuned lens" and moved.report().startswith("tuned lens of")


def test_translators_equal_a_decode_of_transformers_hidden_states(arch, loaded, hf_reference,
                                                                  tmp_path):
    model, hf = loaded(arch), hf_reference(arch)
    n = model.facts.n_layers
    folder = _save(tmp_path / arch, n, 32, seed=3, bias=arch != "gpt2")
    state = torch.load(folder / "params.pt", weights_only=True)
    lens = logit_lens(model, TEXT, top_k=3, tuned=load_tuned_lens(folder, model))
    base = getattr(hf, "model", None) or getattr(hf, "transformer", None) or hf.gpt_neox
    norm = getattr(base, "norm", None) or getattr(base, "ln_f", None) or base.final_layer_norm
    with torch.no_grad():
        states = hf(model.to_tokens(TEXT), output_hidden_states=True).hidden_states
        for row in range(n):  # tuned-lens: h + translator(h), then the final norm and head
            h = states[row]
            h = h + h @ state[f"{row}.weight"].T + state.get(f"{row}.bias", torch.zeros(32))
            probs = hf.lm_head(norm(h))[0].softmax(-1)
            assert torch.equal(lens.top_ids[row], probs.topk(3, -1).indices), f"row {row}"
            torch.testing.assert_close(lens.top_probs[row], probs.topk(3, -1).values,
                                       atol=2e-5, rtol=1e-4)


def test_bad_folders_are_refused(loaded, tmp_path):
    model = loaded("llama")
    with pytest.raises(InterpError, match="has no config.json"):
        load_tuned_lens(tmp_path / "none")
    with pytest.raises(InterpError, match="trained for d_model 64 and 2 layers"):
        load_tuned_lens(_save(tmp_path / "wide", 2, 64), model)
    with pytest.raises(InterpError, match="lens_type 'bilinear' is not supported"):
        load_tuned_lens(_save(tmp_path / "kind", 2, 32, lens_type="bilinear"))
    folder = _save(tmp_path / "short", 2, 32)
    state = torch.load(folder / "params.pt", weights_only=True)
    del state["1.bias"]
    torch.save(state, folder / "params.pt")
    with pytest.raises(InterpError, match="tensor '1.bias' is missing"):
        load_tuned_lens(folder)


class _Payload:
    def __reduce__(self):
        return (print, ("code from a pickle ran",))


def test_a_pickle_that_would_run_code_is_refused(tmp_path, capsys):
    folder = _save(tmp_path / "evil", 2, 32)
    torch.save({"0.weight": _Payload()}, folder / "params.pt")
    with pytest.raises(InterpError, match="cannot read its parameters.*only tensors"):
        load_tuned_lens(folder)
    assert "code from a pickle ran" not in capsys.readouterr().out


def test_cli_reads_a_tuned_lens(tmp_path, capsys):
    from interp import load_model

    facts = load_model("interp-tiny", device="cpu").facts
    folder = _save(tmp_path / "tiny", facts.n_layers, facts.d_model, seed=1)
    args = ["logit-lens", "--model", "interp-tiny", "--device", "cpu", "--prompt", "Once upon",
            "--tuned", str(folder)]
    assert main(args) == 0
    assert capsys.readouterr().out.startswith("tuned lens of 'Once upon'")
    assert main(args[:-1] + [str(tmp_path / "missing")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("interp")]
    assert err == [(f"error: --tuned {tmp_path / 'missing'} is not a folder; give the folder "
                    "tuned-lens saved (config.json + params.pt)")]
