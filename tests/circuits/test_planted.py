"""The planted circuit: patching finds the hand-wired heads and the SAE method recovers them;
the SAE's scores follow the plant (they do not match another plant's circuit)."""

from __future__ import annotations

import pytest
import torch

from interp.circuits import (
    SAESettings,
    activation_patching,
    attribution_patching,
    classify,
    edge_truth,
    roc_auc,
    sae_circuit,
)
from interp.circuits.planted import planted_circuit, planted_task
from interp.errors import InterpError


def test_patching_gives_the_planted_ground_truth(planted):
    model = planted("a")
    res = activation_patching(model, planted_task(40))
    assert res.clean > 5 and abs(res.corrupted) < 0.5  # the model does the task; negatives not
    truth = planted_circuit().mask(2, 4)
    assert torch.equal(res.scores.abs() > 0.2, truth)
    assert res.scores[truth].min() > 0.3 and res.scores[~truth].abs().max() < 0.05
    mean = activation_patching(model, planted_task(40), mode="mean")
    assert torch.equal(mean.scores.abs() > 0.2, truth)
    with pytest.raises(InterpError, match="patching mode"):
        activation_patching(model, planted_task(4), mode="zero")
    attr = attribution_patching(model, planted_task(40))
    assert torch.equal(attr.scores.abs() > 0.2, truth)  # first-order estimate agrees here
    assert (attr.scores - res.scores).abs().max() < 0.1


def test_sae_method_recovers_the_planted_circuit(planted):
    model = planted("a")
    truth = planted_circuit().mask(2, 4)
    res = sae_circuit(model, planted_task(40, seed=1), SAESettings(seed=1))  # paper settings
    assert roc_auc(res.scores, truth) >= 0.95
    top3 = classify(res.scores, truth, top_n=3)
    assert top3.precision == 1.0 and top3.recall == 1.0
    assert res.codes.shape == (80, 8) and res.seconds["total"] > 0
    # edges: the normalised co-occurrence score ranks circuit-circuit pairs first; the raw
    # count is dominated by how many codes the partner head has (measured, not asserted)
    off = ~torch.eye(8, dtype=torch.bool)
    edges = res.edges(normalise=True)
    assert roc_auc(edges[off], edge_truth(truth.flatten())[off]) >= 0.9


def test_sae_scores_follow_the_plant_not_the_head_index(planted):
    """Plant B wires the circuit into other heads: its SAE scores miss plant A's circuit."""
    truth_a = planted_circuit().mask(2, 4)
    truth_b = planted_circuit(layer0=(0, 2), mover=1).mask(2, 4)
    res = sae_circuit(planted("b"), planted_task(40), SAESettings(epochs=200))
    assert roc_auc(res.scores, truth_b) >= 0.95
    assert roc_auc(res.scores, truth_a) <= 0.3


def test_unpaired_negatives_need_a_normalised_score(planted):
    """With fresh fillers in the negatives, busy heads produce chance positive-only codes; the
    'frequency' score still separates the circuit (measured: the raw count may not)."""
    model = planted("a")
    truth = planted_circuit().mask(2, 4)
    task = planted_task(40, shared_fillers=False)
    res = sae_circuit(model, task, SAESettings(score="frequency", epochs=200))
    assert roc_auc(res.scores, truth) >= 0.95
    busy = res.scores[~truth]
    assert busy.max() > 0  # the busy heads are not trivially silent here


@pytest.mark.parametrize("mode", ["corrupted", "mean"])
def test_batched_patching_equals_one_forward_per_head(planted, mode):
    """The batched, resumed patching against the plain reference: a full forward per head with
    that head's hook_z replaced."""
    from interp.circuits.heads import z_hook_names
    from interp.circuits.patching import _padded_pair, task_metric
    from interp.hooks import attach

    model = planted("b")
    task = planted_task(12, seed=3)
    res = activation_patching(model, task, mode=mode)
    clean_tok, corrupt_tok, lengths = _padded_pair(model, task)
    names = z_hook_names(model)
    saved = {}
    with attach(model, {n: (lambda z, hook, _n=n: saved.__setitem__(_n, z.clone()))
                        for n in names}), torch.no_grad():
        model.bridge(corrupt_tok)
    rows = torch.arange(len(lengths))

    def metric(fns):
        with attach(model, fns), torch.no_grad():
            logits = model.bridge(clean_tok)
        return task_metric(logits[rows, lengths - 1], task)

    clean = metric({})
    keep = (torch.arange(clean_tok.shape[1])[None] < lengths[:, None]).float()
    for layer, name in enumerate(names):
        source = saved[name]
        if mode == "mean":
            source = ((source * keep[:, :, None, None]).sum((0, 1)) / keep.sum()).expand_as(source)
        for head in range(model.facts.n_heads):
            def patch(z, hook, _h=head, _s=source):
                z = z.clone()
                z[:, :, _h] = _s[:, :, _h]
                return z

            want = float((clean - metric({name: patch})).mean())
            assert abs(float(res.raw[layer, head]) - want) < 1e-4 * max(1.0, abs(want))
