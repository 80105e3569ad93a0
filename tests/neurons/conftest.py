"""Fixtures for neuron decoding: planted checkpoints built from the tiny random models.

A planted model has one neuron whose vector decodes (with the final norm folded in) to a
chosen token `a`, while the naive decode (no gain) picks another token `b`, under both token
scores (raw logits and cosine): the final norm's gain is 4 on dimension I, 0.25 on J and 1
on K; token a's LM-head row is S (e_I + e_K), token b's is S (e_J + e_K), and the neuron
vector is e_I + 1.5 e_J. Naive: both rows have one norm, b wins (1.5 > 1). Folded: a's
column is S (4 e_I + e_K), b's S (0.25 e_J + e_K): a wins by logit (4 vs 0.375) and by
cosine (0.54 vs 0.20), since the gain turns the columns, not only their lengths. No other
token's row has a component on I, J or K.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import torch

PLANT_LAYER, PLANT_NEURON = 1, 5
DIM_I, DIM_J, DIM_K, S = 3, 7, 11, 50.0


def word_tokens(model_dir: Path, n: int = 2) -> list[int]:
    """Ids of the first `n` tokens that decode to ' word' (a space then 2+ lowercase letters)."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    out = []
    for i in range(len(tok)):
        if re.fullmatch(r" [a-z]{2,}", tok.decode([i])):
            out.append(i)
        if len(out) == n:
            return out
    raise AssertionError("tokenizer has too few word tokens")


def _modules(hf, arch: str):
    """(final norm, lm_head, {side: setter(vector)}) for the planted neuron of `arch`."""
    n = PLANT_NEURON
    if arch == "gpt2":
        mlp = hf.transformer.h[PLANT_LAYER].mlp  # Conv1D weights are [in, out]
        sides = {"up": lambda v: mlp.c_fc.weight[:, n].copy_(v),
                 "down": lambda v: mlp.c_proj.weight[n].copy_(v)}
        return hf.transformer.ln_f, hf.lm_head, sides
    if arch == "neox":
        mlp = hf.gpt_neox.layers[PLANT_LAYER].mlp
        sides = {"up": lambda v: mlp.dense_h_to_4h.weight[n].copy_(v),
                 "down": lambda v: mlp.dense_4h_to_h.weight[:, n].copy_(v)}
        return hf.gpt_neox.final_layer_norm, hf.get_output_embeddings(), sides
    mlp = hf.model.layers[PLANT_LAYER].mlp
    sides = {"up": lambda v: mlp.up_proj.weight[n].copy_(v),
             "gate": lambda v: mlp.gate_proj.weight[n].copy_(v),
             "down": lambda v: mlp.down_proj.weight[:, n].copy_(v)}
    return hf.model.norm, hf.lm_head, sides


def build_planted(src: Path, dst: Path, arch: str) -> tuple[Path, int, int]:
    """Save a planted copy of the checkpoint in `src` to `dst`; returns (dst, a, b)."""
    from transformers import AutoModelForCausalLM

    a, b = word_tokens(src)
    hf = AutoModelForCausalLM.from_pretrained(src).eval()
    norm, head, sides = _modules(hf, arch)
    d = norm.weight.shape[0]
    vector = torch.zeros(d)
    vector[DIM_I], vector[DIM_J] = 1.0, 1.5
    with torch.no_grad():
        norm.weight[DIM_I], norm.weight[DIM_J], norm.weight[DIM_K] = 4.0, 0.25, 1.0
        # no other token reads dimensions I, J, K (a random one could otherwise line up with
        # the neuron by chance, in these 32-64-dimensional models)
        head.weight[:, [DIM_I, DIM_J, DIM_K]] = 0.0
        head.weight[a] = 0.0
        head.weight[b] = 0.0
        head.weight[a, DIM_I] = head.weight[a, DIM_K] = S
        head.weight[b, DIM_J] = head.weight[b, DIM_K] = S
        for set_side in sides.values():
            set_side(vector)
    hf.save_pretrained(dst)
    for f in src.glob("tokenizer*"):
        shutil.copy(f, dst / f.name)
    return dst, a, b


@pytest.fixture(scope="session")
def planted(tiny_model_dirs, tmp_path_factory):
    """planted(arch) -> namespace(model, a, b, layer, neuron), cached per architecture."""
    from types import SimpleNamespace

    from interp import load_model

    root = tmp_path_factory.mktemp("planted")
    cache: dict[str, tuple] = {}

    def get(arch: str):
        if arch not in cache:
            path, a, b = build_planted(tiny_model_dirs[arch], root / arch, arch)
            cache[arch] = SimpleNamespace(model=load_model(path, device="cpu"), a=a, b=b,
                                          layer=PLANT_LAYER, neuron=PLANT_NEURON)
        return cache[arch]

    return get
