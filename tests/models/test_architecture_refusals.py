"""Issue 21, class 8 (architectures), on tiny random models of each layout: OPT-350m's layout
(post-norm, project_out, no final norm) and Falcon's new_decoder_architecture are refused in
one line before anything is written; plain pre-norm OPT and Falcon decode as transformers run
them, with the real MLP width and activation; an empty map is never left, nor searched."""

from __future__ import annotations

import types

import pytest
import torch

from interp.errors import InterpError
from tests.conftest import VOCAB, build_tokenizer

COMMON = {"vocab_size": VOCAB, "bos_token_id": 0, "eos_token_id": 0, "pad_token_id": 0}
OPT = {"hidden_size": 32, "num_hidden_layers": 2, "ffn_dim": 48, "num_attention_heads": 4,
       "max_position_embeddings": 64, **COMMON}
FALCON = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, **COMMON}
LAYOUTS = {  # name: (config class, fields, what the refusal names; None: supported)
    "opt-350m": ("OPTConfig", {**OPT, "ffn_dim": 128, "word_embed_proj_dim": 16,
                               "do_layer_norm_before": False}, "post-norm"),
    "opt-post-norm": ("OPTConfig", {**OPT, "do_layer_norm_before": False}, "post-norm"),
    "opt-project-out": ("OPTConfig", {**OPT, "word_embed_proj_dim": 16}, "project_out"),
    "falcon-new": ("FalconConfig", {**FALCON, "num_kv_heads": 2,
                                    "new_decoder_architecture": True},
                   "new_decoder_architecture"),
    "opt": ("OPTConfig", OPT, None),
    "falcon": ("FalconConfig", {**FALCON, "ffn_hidden_size": 80}, None),
}
REFUSED = [name for name, (_, _, what) in LAYOUTS.items() if what]


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory):
    """{layout: directory of a tiny random checkpoint with non-trivial norms and biases}."""
    import transformers
    from transformers import AutoModelForCausalLM

    root = tmp_path_factory.mktemp("layouts")
    dirs = {}
    for i, (name, (config_cls, fields, _)) in enumerate(LAYOUTS.items()):
        torch.manual_seed(i)
        hf = AutoModelForCausalLM.from_config(getattr(transformers, config_cls)(**fields))
        with torch.no_grad():
            for pname, param in hf.named_parameters():
                if pname.endswith("bias"):
                    param.normal_(0.0, 0.1)
                elif "norm" in pname or "ln_f" in pname:
                    param.copy_(1.0 + 0.3 * torch.randn_like(param))
        hf.save_pretrained(root / name)
        build_tokenizer(str(root / name)).save_pretrained(root / name)
        dirs[name] = root / name
    return dirs


def _files(root) -> set:
    return {p.relative_to(root) for p in root.rglob("*")}


@pytest.mark.parametrize("layout", REFUSED)
@pytest.mark.parametrize("verb", ["info", "map-neurons"])
def test_unsupported_layout_is_one_line_before_any_file(model_dirs, layout, verb, tmp_path,
                                                        capsys):
    from interp_cli.main import main

    out = tmp_path / "map"
    before = _files(model_dirs[layout]) | _files(tmp_path)
    argv = [verb, "--model", str(model_dirs[layout]), "--device", "cpu"]
    assert main(argv + (["--out", str(out)] if verb == "map-neurons" else [])) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert LAYOUTS[layout][2] in lines[0] and "not supported" in lines[0]
    assert "supported:" in lines[0].split("not supported", 1)[1]  # and what is
    assert "Traceback" not in err
    assert _files(model_dirs[layout]) | _files(tmp_path) == before and not out.exists()


def test_refusal_comes_before_weights_are_read(model_dirs, monkeypatch):
    from transformers import AutoModelForCausalLM

    from interp import load_model

    def no_weights(*args, **kwargs):
        raise AssertionError("weights were read")

    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", no_weights)
    with pytest.raises(InterpError, match="new_decoder_architecture=true"):
        load_model(model_dirs["falcon-new"], device="cpu")


def test_any_bridge_failure_is_one_interp_error(model_dirs, monkeypatch):
    from transformer_lens.model_bridge import TransformerBridge

    from interp import load_model

    def broken(*args, **kwargs):
        raise RuntimeError("split_with_sizes expects split_sizes to sum exactly to 64\nmore")

    monkeypatch.setattr(TransformerBridge, "boot_transformers", broken)
    with pytest.raises(InterpError, match=r"cannot wrap .*RuntimeError: split_with_sizes") as err:
        load_model(model_dirs["opt"], device="cpu")
    assert "\n" not in str(err.value)


def test_bridge_without_final_norm_or_with_a_projection_is_refused():
    from interp.models.layouts import check_bridge

    def bridge(ln_final, head_width):
        head = torch.nn.Linear(head_width, VOCAB)
        hf = types.SimpleNamespace(get_output_embeddings=lambda: head)
        cfg = types.SimpleNamespace(architecture="ToyForCausalLM", d_model=32)
        return types.SimpleNamespace(cfg=cfg, original_model=hf, ln_final=ln_final)

    check_bridge(bridge(torch.nn.LayerNorm(32), 32), "toy")
    with pytest.raises(InterpError, match="no final norm"):
        check_bridge(bridge(None, 32), "toy")
    with pytest.raises(InterpError, match="reads 16 features, not the residual stream's 32"):
        check_bridge(bridge(torch.nn.LayerNorm(32), 16), "toy")


@pytest.fixture(scope="module")
def supported(model_dirs):
    """{layout: (interp Model, transformers model)} for the supported layouts."""
    from transformers import AutoModelForCausalLM

    from interp import load_model

    return {name: (load_model(model_dirs[name], device="cpu"),
                   AutoModelForCausalLM.from_pretrained(model_dirs[name],
                                                        attn_implementation="eager").eval())
            for name in ("opt", "falcon")}


def _final_norm_and_mlps(name, hf):
    """transformers' own final norm and (fc2 / dense_4h_to_h) down projections."""
    if name == "opt":
        return hf.model.decoder.final_layer_norm, [b.fc2 for b in hf.model.decoder.layers]
    return hf.transformer.ln_f, [b.mlp.dense_4h_to_h for b in hf.transformer.h]


@pytest.mark.parametrize(("name", "act", "d_mlp"), [("opt", "relu", 48), ("falcon", "gelu", 80)])
def test_facts_are_the_models_own(supported, name, act, d_mlp):
    model, hf = supported[name]
    assert model.facts.act_fn == act and model.facts.d_mlp == d_mlp
    mlp = hf.model.decoder.layers[0] if name == "opt" else hf.transformer.h[0].mlp
    act_module = mlp.activation_fn if name == "opt" else mlp.act
    x = torch.linspace(-3, 3, 13)
    from transformers.activations import get_activation

    torch.testing.assert_close(act_module(x), get_activation(act)(x))
    tokens = torch.tensor([[0, 5, 17, 99, 250, 3, 44, 61]])
    with torch.no_grad():
        torch.testing.assert_close(model.logits(tokens), hf(tokens).logits, atol=1e-4, rtol=0)


@pytest.mark.parametrize("name", ["opt", "falcon"])
def test_a_neurons_decode_is_what_the_model_does(supported, name):
    """The decoded top tokens and logits of each neuron's write vector are those of
    lm_head(final_norm(state)) as transformers computes them, for a residual state made of
    that neuron's write alone, large enough that the norm's eps does not matter."""
    from interp.neurons import decode_neurons

    model, hf = supported[name]
    final_norm, downs = _final_norm_and_mlps(name, hf)
    nmap = decode_neurons(model, side="down", top_k=5, bottom_k=0, center="none",
                          scale="norm", bias="include")
    for layer, down in enumerate(downs):
        rows = down.weight.detach().T  # [d_mlp, d_model]: what each neuron writes
        torch.testing.assert_close(model.write_vectors(layer).float(), rows)
        with torch.no_grad():
            theirs = hf.lm_head(final_norm(100 * rows / rows.norm(dim=1, keepdim=True)))
        assert torch.equal(nmap.layer(layer).top_ids.long(), theirs.topk(5, dim=1).indices)
        torch.testing.assert_close(nmap.layer(layer).top_logits,
                                   theirs.topk(5, dim=1).values, atol=1e-3, rtol=1e-4)


def test_a_failed_map_leaves_nothing(supported, tmp_path, monkeypatch):
    from interp.neurons import mapper

    def fails(*args, **kwargs):
        raise InterpError("layer 0 cannot be decoded")

    monkeypatch.setattr(mapper, "decode_vectors", fails)
    with pytest.raises(InterpError, match="cannot be decoded"):
        mapper.map_neurons(supported["opt"][0], out=tmp_path / "map", progress=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("empty", ["layers", "neurons"])
def test_find_neurons_refuses_an_empty_map(supported, tmp_path, capsys, empty):
    from interp_cli.main import main

    from interp.neurons import decode_neurons, store

    model = supported["opt"][0]
    nmap = decode_neurons(model, layers=[0], top_k=3, bottom_k=0)
    header = nmap.header
    if empty == "neurons":
        header = store.MapHeader(**{**vars(header), "d_mlp": 0})
        data = type(nmap.layer(0)).from_tensors(
            {k: v[:0] for k, v in nmap.layer(0).tensors().items()})
        store.write_header(tmp_path, header, nmap.vocab)
        store.write_layer(tmp_path, header, 0, data)
    else:  # a map of no layers that planned none (planning some makes it unfinished instead)
        header = store.MapHeader(**{**vars(header), "planned": None})
        store.write_header(tmp_path, header, nmap.vocab)
    assert main(["find-neurons", "the", "--map", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    expected = "has no layers" if empty == "layers" else "'d_mlp' is 0"
    assert len(err) == 1 and err[0].startswith("error: ") and expected in err[0], err
