"""End to end on tiny random models: representations (decoder and encoder), the cache, the
experiment with both baselines, the report files and the CLI."""

from __future__ import annotations

import json

import pytest
import torch

from interp.artifact import CFG_FILE
from interp.astprobe.experiment import ProbeConfig, prepare_samples, run_experiment
from interp.astprobe.reps import compute_leaf_reps, leaf_representations
from interp.errors import InterpError


def tiny_codes(n: int, offset: int = 0) -> list[str]:
    """Short distinct Python functions (they fit a 64-token context)."""
    ops = ["+", "-", "*", "//", "%"]
    out = []
    for i in range(offset, offset + n):
        a, op = f"v{i % 7}", ops[i % 5]
        body = [f"return {a} {op} {i}", f"x = {a}({i})\n    return x",
                f"if {a}:\n        return {i}\n    return None"][i % 3]
        out.append(f"def f{i}({a}):\n    {body}\n")
    return out


SPLITS = {"train": tiny_codes(24), "val": tiny_codes(8, 100), "test": tiny_codes(8, 200)}
CFG = ProbeConfig(rank=8, epochs=3, patience=2, batch_size=8)
PLANTED_DIM, PLANTED_F1 = 16, 0.8


def test_leaf_reps_shape_and_mean_pooling(loaded):
    model = loaded("llama")
    samples, skipped = prepare_samples(model, SPLITS)
    assert all(len(samples[s]) == len(SPLITS[s]) for s in SPLITS), skipped
    reps = compute_leaf_reps(model, samples["val"], batch_size=3, progress=False)
    assert len(reps) == model.facts.n_layers + 1
    per = reps.layer(1)
    assert [x.shape[0] for x in per] == [s.n_leaves for s in samples["val"]]
    # leaf 0 of sample 0 = mean of its tokens' residual after block 0, from a plain forward
    s = samples["val"][0]
    with torch.no_grad():
        _, cache = model.bridge.run_with_cache(torch.tensor([s.token_ids]))
    h = cache["blocks.0.hook_resid_post"][0]
    want = h[s.leaf_tokens[0]].mean(0)
    torch.testing.assert_close(per[0][0], want.float(), atol=2e-3, rtol=2e-3)


def test_encoder_hidden_states_work_too(tiny_model_dirs):
    from transformers import AutoTokenizer, BertConfig, BertModel

    tok = AutoTokenizer.from_pretrained(tiny_model_dirs["llama"])
    torch.manual_seed(0)
    bert = BertModel(BertConfig(vocab_size=len(tok), hidden_size=16, num_hidden_layers=2,
                                num_attention_heads=2, intermediate_size=32,
                                max_position_embeddings=64)).eval()
    samples, _ = prepare_samples(bert, SPLITS, tokenizer=tok)
    reps = compute_leaf_reps(bert, samples["test"], progress=False)
    assert len(reps) == 3 and reps.layers[0].shape == (sum(s.n_leaves for s in samples["test"]), 16)
    res = run_experiment(bert, SPLITS, tokenizer=tok, layers=[1], cfg=CFG, ranks=(4,),
                         progress=False)
    assert [r["row"] for r in res["per_layer"]] == [r["row"] for r in res["random_init"]] == [0, 1]


def test_cache_reused_and_wrong_model_refused(loaded, tmp_path):
    model = loaded("llama")
    samples, _ = prepare_samples(model, SPLITS)
    first = leaf_representations(model, samples["test"], cache_dir=tmp_path, progress=False)
    again = leaf_representations(model, samples["test"], cache_dir=tmp_path, progress=False)
    assert torch.equal(first.layers[2], again.layers[2])
    entry = next(tmp_path.iterdir())
    meta = json.loads((entry / CFG_FILE).read_text())
    assert meta["fingerprint"] == model.fingerprint
    meta["fingerprint"] = "0" * 16
    (entry / CFG_FILE).write_text(json.dumps(meta))
    with pytest.raises(InterpError, match="fingerprint"):
        leaf_representations(model, samples["test"], cache_dir=tmp_path, progress=False)


def test_experiment_with_baselines_and_report(loaded, tmp_path):
    from interp.astprobe.report import FILES, write_report

    model = loaded("llama")
    res = run_experiment(model, SPLITS, layers=[2], cfg=CFG, ranks=(4, 8), n_examples=2,
                         progress=False)
    assert res["rows"] == [0, 2]
    assert [r["row"] for r in res["random_init"]] == [0, 2]
    assert res["random_init_fingerprint"] != model.fingerprint
    assert res["embedding_baseline"]["row"] == 0
    assert [r["rank"] for r in res["rank_sweep"]] == [4, 8]
    for r in res["per_layer"] + res["random_init"] + res["rank_sweep"]:
        assert 0.0 <= r["f1"] <= 1.0 and r["n_snippets"] == len(SPLITS["test"])
    paths = write_report(res, tmp_path)
    assert sorted(p.name for p in paths.values()) == sorted(FILES)
    assert "plotly" in (tmp_path / "ast_probe.html").read_text()
    assert "gold:" in (tmp_path / "examples.txt").read_text()
    with pytest.raises(InterpError, match="layer 9 out of range"):
        run_experiment(model, SPLITS, layers=[9], cfg=CFG, random_baseline=False, progress=False)


def test_experiment_finds_the_planted_layer(loaded, monkeypatch):
    """Representations with the tree structure planted at row 1 only (tests/astprobe/planted.py;
    pure noise at rows 0 and 2, and at every row of the random-init baseline): the experiment
    must choose row 1 on validation, score it far above the embedding row and the random-init
    row, and run its rank sweep there."""
    import sys
    from pathlib import Path
    from types import SimpleNamespace

    from interp.astprobe import experiment
    from interp.astprobe.reps import LeafReps
    from interp.astprobe.train import Vocab

    sys.path.insert(0, str(Path(__file__).parent))
    from planted import planted_reps

    model = loaded("llama")
    samples, _ = prepare_samples(model, SPLITS)
    vocab = Vocab.from_samples(samples["train"])
    seed_of = {samples[s][0].code: i for i, s in enumerate(("train", "val", "test"))}
    random_model = SimpleNamespace(fingerprint="f" * 16)  # its representations are faked too

    def fake_reps(m, split_samples, **_kwargs):
        seed = seed_of[split_samples[0].code]
        planted = planted_reps(split_samples, vocab, dim=PLANTED_DIM, k_walk=8, k_u=4,
                               noise=0.2, seed=seed)
        g = torch.Generator().manual_seed(100 + seed)
        noise = [torch.randn(x.shape, generator=g) for x in planted for _ in range(3)]
        rows = [noise[0::3], planted if m is model else noise[1::3], noise[2::3]]
        offsets = torch.tensor([0, *torch.tensor([x.shape[0] for x in planted]).cumsum(0)])
        return LeafReps([torch.cat(r) for r in rows], offsets)

    monkeypatch.setattr(experiment, "leaf_representations", fake_reps)
    cfg = ProbeConfig(rank=12, lr=2e-2, epochs=100, patience=100, batch_size=8)
    res = run_experiment(model, SPLITS, cfg=cfg, ranks=(4, 12), random_model=random_model,
                         n_examples=1, progress=False)
    f1 = {r["row"]: r["f1"] for r in res["per_layer"]}
    random_f1 = {r["row"]: r["f1"] for r in res["random_init"]}
    assert res["rows"] == [0, 1, 2] and res["best_layer"] == 1, res["per_layer"]
    assert f1[1] > PLANTED_F1, f1
    assert f1[1] > max(f1[0], f1[2], random_f1[1]) + 0.3, (f1, random_f1)
    assert res["embedding_baseline"]["f1"] == f1[0]
    assert res["random_init_fingerprint"] == "f" * 16
    sweep = {r["rank"]: r for r in res["rank_sweep"]}
    assert sweep[12]["row"] == 1 and sweep[12]["f1"] == f1[1]  # the same probe, retrained
    # controls beside every layer, all on the same test snippets
    lex = res["lookup_table"]
    assert lex["n_snippets"] == len(SPLITS["test"]) and 0.0 <= lex["f1"] <= 1.0
    for r in res["per_layer"]:
        want = {"embedding_layer": f1[0], "lookup_table": lex["f1"],
                "random_init": random_f1[r["row"]]}
        assert r["controls"] == want
        assert r["margin_over_controls"] == pytest.approx(r["f1"] - max(want.values()))
        assert want[r["best_control"]] == max(want.values())
    assert res["per_layer"][0]["margin_over_controls"] <= 0  # row 0 is a control itself


def test_no_usable_snippets_is_an_error(loaded):
    with pytest.raises(InterpError, match="no usable val snippets"):
        prepare_samples(loaded("llama"), {"train": SPLITS["train"], "val": ["def (:"],
                                          "test": SPLITS["test"]})


def test_cli_runs_and_reports_bad_input(tiny_model_dirs, tmp_path, capsys):
    from interp_cli.main import main

    assert main(["ast-probe", "--model", str(tiny_model_dirs["gpt2"]), "--language", "cobol",
                 "--out", str(tmp_path)]) == 2
    assert "unknown language 'cobol'" in capsys.readouterr().err
    assert main(["ast-probe", "--language", "python", "--train", "0", "--out",
                 str(tmp_path)]) == 2
    data = tmp_path / "csn"
    data.mkdir()
    for name, split in (("train", "train"), ("valid", "val"), ("test", "test")):
        rows = [json.dumps({"original_string": c, "language": "python"}) for c in SPLITS[split]]
        (data / f"{name}.jsonl").write_text("\n".join(rows) + "\n")
    out = tmp_path / "out"
    code = main(["ast-probe", "--model", str(tiny_model_dirs["gpt2"]), "--data", str(data),
                 "--layers", "1", "--ranks", "4", "--rank", "4", "--epochs", "2",
                 "--examples", "1", "--out", str(out), "--device", "cpu"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "best layer" in printed and "random-init F1" in printed
    res = json.loads((out / "results.json").read_text())
    assert res["n_snippets"] == {"train": 24, "val": 8, "test": 8} and res["data"] == str(data)


def _weights(hf) -> dict[str, torch.Tensor]:
    return {k.replace("._original_component", ""): v for k, v in hf.state_dict().items()}


@pytest.mark.parametrize("arch", ["llama", "gpt2"])
def test_random_init_baseline_keeps_the_embeddings(loaded, arch):
    """The paper's baseline: blocks re-initialised, input embeddings (and GPT-2's learned
    positions) the trained model's, so row 0 is the same and row 1 is not; "fresh" (the old
    baseline) re-initialises the embeddings too."""
    from interp.astprobe.baseline import random_init_model

    model = loaded(arch)
    kept = random_init_model(model, seed=3)
    fresh = random_init_model(model, seed=3, keep_embeddings=False)
    w, k, f = _weights(model.hf_model), _weights(kept.hf_model), _weights(fresh.hf_model)
    emb = {"llama": ["model.embed_tokens.weight"],
           "gpt2": ["transformer.wte.weight", "transformer.wpe.weight"]}[arch]
    block = {"llama": "model.layers.0.mlp.up_proj.weight",
             "gpt2": "transformer.h.0.mlp.c_fc.weight"}[arch]
    for name in emb:
        assert torch.equal(k[name], w[name]), name
        assert not torch.equal(f[name], w[name]), name
    assert not torch.equal(k[block], w[block]) and torch.equal(k[block], f[block])
    assert kept.fingerprint not in (model.fingerprint, fresh.fingerprint)
    assert "embeddings kept" in kept.name
    samples, _ = prepare_samples(model, {"train": SPLITS["train"][:2], "val": SPLITS["val"][:2],
                                         "test": SPLITS["test"][:2]})
    ours = compute_leaf_reps(model, samples["test"], progress=False)
    theirs = compute_leaf_reps(kept, samples["test"], progress=False)
    torch.testing.assert_close(theirs.layers[0], ours.layers[0])
    assert not torch.allclose(theirs.layers[1], ours.layers[1], atol=1e-3)


def test_random_init_encoder_keeps_its_embeddings_module(tiny_model_dirs):
    """A Hugging Face encoder: the whole `embeddings` module (words, positions, token types and
    its LayerNorm) is kept, as the reference's `baseline.embeddings = model.embeddings`."""
    from transformers import BertConfig, BertModel

    from interp.astprobe.baseline import random_init_model

    torch.manual_seed(1)
    bert = BertModel(BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1,
                                num_attention_heads=2, intermediate_size=32,
                                max_position_embeddings=64)).eval()
    with torch.no_grad():
        bert.embeddings.LayerNorm.weight.uniform_(0.5, 1.5)
    base = random_init_model(bert, seed=0)
    for name, value in bert.embeddings.state_dict().items():
        assert torch.equal(base.embeddings.state_dict()[name], value), name
    assert not torch.equal(base.encoder.layer[0].intermediate.dense.weight,
                           bert.encoder.layer[0].intermediate.dense.weight)
    with pytest.raises(InterpError, match="unknown random_embeddings 'none'"):
        run_experiment(bert, SPLITS, random_embeddings="none", progress=False)


@pytest.mark.parametrize("arch", ["llama", "gpt2"])
def test_row_0_is_the_non_contextual_token_embedding(loaded, arch):
    """The embedding-layer baseline is the lexical probe on non-contextual embeddings: each
    leaf's vector at row 0 is the mean of its tokens' rows of the embedding matrix (plus, for
    GPT-2, the learned position rows), computed here from the weights alone."""
    model = loaded(arch)
    samples, _ = prepare_samples(model, {s: v[:2] for s, v in SPLITS.items()})
    w = _weights(model.hf_model)
    emb = w["model.embed_tokens.weight" if arch == "llama" else "transformer.wte.weight"]
    reps = compute_leaf_reps(model, samples["test"], progress=False)
    row0 = reps.layer(0)
    for s, got in zip(samples["test"], row0):
        ids = torch.tensor(s.token_ids)
        vec = emb[ids].float()
        if arch == "gpt2":
            vec = vec + w["transformer.wpe.weight"][: len(ids)].float()
        want = torch.stack([vec[toks].mean(0) for toks in s.leaf_tokens])
        torch.testing.assert_close(got, want, atol=2e-3, rtol=2e-3)
