"""Head and edge scores from codes, ROC-AUC (checked against scikit-learn), precision /
recall / F1 and the paper's TPR-TNR harmonic mean."""

from __future__ import annotations

import itertools

import pytest
import torch

from interp.circuits import classify, edge_scores, edges_to_heads, head_scores, roc_auc
from interp.circuits.scores import edge_truth, top_pair_heads
from interp.errors import InterpError

# 3 positives, 2 negatives; 3 heads
CODES = torch.tensor([[1, 5, 7], [2, 5, 7], [3, 6, 7], [1, 5, 7], [4, 6, 7]])
LABELS = torch.tensor([True, True, True, False, False])


def test_head_scores_by_hand():
    # head 0: positives {1,2,3}, negatives {1,4} -> {2,3}; head 1: {5,6} vs {5,6} -> none
    assert head_scores(CODES, LABELS).tolist() == [2, 0, 0]
    assert head_scores(CODES, LABELS, "fraction").tolist() == pytest.approx([2 / 4, 0, 0])
    assert head_scores(CODES, LABELS, "frequency").tolist() == pytest.approx([2 / 3, 0, 0])
    with pytest.raises(InterpError, match="head score"):
        head_scores(CODES, LABELS, "max")
    with pytest.raises(InterpError, match="both positive and negative"):
        head_scores(CODES, torch.ones(5, dtype=torch.bool))


def test_edge_scores_match_brute_force():
    gen = torch.Generator().manual_seed(0)
    codes = torch.randint(-1, 4, (12, 5), generator=gen)
    labels = torch.arange(12) < 6
    got = edge_scores(codes, labels)
    for h1, h2 in itertools.product(range(5), repeat=2):
        pos = {(int(a), int(b)) for a, b in codes[labels][:, [h1, h2]]}
        neg = {(int(a), int(b)) for a, b in codes[~labels][:, [h1, h2]]}
        want = 0 if h1 == h2 else len(pos - neg)
        assert got[h1, h2] == want
        if h1 != h2:  # the paper's |pos| + |neg| denominator, and the union of both
            assert float(edge_scores(codes, labels, True)[h1, h2]) == pytest.approx(
                want / (len(pos) + len(neg)))
            assert float(edge_scores(codes, labels, True, "union")[h1, h2]) == pytest.approx(
                want / len(pos | neg))
    edges = torch.tensor([[0.0, 3, 1], [2, 0, 0], [5, 1, 0]])
    assert edges_to_heads(edges).tolist() == [5, 3, 5]  # max over each head's row and column
    t = edge_truth(torch.tensor([True, False, True]))
    assert t.tolist() == [[False, False, True], [False, False, False], [True, False, False]]


def test_normalised_edge_score_by_hand():
    # heads 0 and 1; positives give code pairs (0, 0), (1, 1); negatives (0, 0), (2, 1):
    # one pair, (1, 1), only on positives; 2 + 2 = 4 distinct pairs counted side by side (the
    # paper's code), 3 in the union
    codes = torch.tensor([[0, 0], [1, 1], [0, 0], [2, 1]])
    labels = torch.tensor([True, True, False, False])
    assert edge_scores(codes, labels).tolist() == [[0, 1], [1, 0]]
    assert edge_scores(codes, labels, normalise=True).tolist() == [[0, 0.25], [0.25, 0]]
    union = edge_scores(codes, labels, normalise=True, denominator="union")
    assert union.flatten().tolist() == pytest.approx([0, 1 / 3, 1 / 3, 0])
    with pytest.raises(InterpError, match="edge denominator"):
        edge_scores(codes, labels, normalise=True, denominator="max")


def test_top_pair_heads_by_hand_and_against_numpy():
    import numpy as np

    # ordered pairs by score, ties to the later pair: (1,0) (0,1) (2,1) (1,2) (2,0) (0,2) ...
    edges = torch.tensor([[0.0, 3, 1], [3, 0, 2], [1, 2, 0]])
    assert top_pair_heads(edges, 4).tolist() == [2, 2, 0]  # heads 1 0 0 1
    assert top_pair_heads(edges, 5).tolist() == [2, 2, 1]  # ... 2
    assert top_pair_heads(edges, 9).tolist() == [2, 4, 3]  # ... 1 1 2 2
    assert top_pair_heads(torch.tensor([[0.0, 1], [1, 0]]), 1).tolist() == [0, 1]  # the tie
    gen = torch.Generator().manual_seed(2)
    for _ in range(5):  # the paper's edge_circuit_prediction, with a stable sort for ties
        e = torch.randint(0, 4, (6, 6), generator=gen).float()
        order = np.argsort(e.flatten().numpy(), kind="stable")[::-1]
        rows, cols = np.unravel_index(order, (6, 6))
        heads = [h for pair in zip(rows, cols) for h in pair][:18]
        assert top_pair_heads(e, 18).tolist() == np.bincount(heads, minlength=6).tolist()
    with pytest.raises(InterpError, match="slots"):
        top_pair_heads(edges, 19)


def test_roc_auc_against_sklearn():
    from sklearn.metrics import roc_auc_score

    gen = torch.Generator().manual_seed(1)
    for _ in range(5):
        scores = torch.randint(0, 4, (30,), generator=gen).float()  # many ties
        truth = torch.rand(30, generator=gen) < 0.3
        assert roc_auc(scores, truth) == pytest.approx(roc_auc_score(truth, scores))
    assert roc_auc(torch.tensor([3.0, 2, 1, 0]), torch.tensor([1, 1, 0, 0])) == 1.0
    assert roc_auc(torch.tensor([0.0, 1, 2, 3]), torch.tensor([1, 1, 0, 0])) == 0.0
    with pytest.raises(InterpError, match="both circuit and non-circuit"):
        roc_auc(torch.ones(3), torch.zeros(3))


def test_precision_recall_f1_and_paper_f1():
    scores = torch.tensor([0.9, 0.8, 0.7, 0.1, 0.0, 0.0])
    truth = torch.tensor([1, 0, 1, 1, 0, 0]).bool()
    c = classify(scores, truth, top_n=2)
    assert (c.tp, c.fp, c.fn, c.tn) == (1, 1, 2, 2)
    assert c.precision == 0.5 and c.recall == pytest.approx(1 / 3)
    assert c.f1 == pytest.approx(0.4)
    assert c.tpr_tnr_hmean == pytest.approx(2 * (1 / 3) * (2 / 3) / (1 / 3 + 2 / 3))
    t = classify(scores, truth, threshold=0.5)
    assert (t.tp, t.fp) == (2, 1)
    with pytest.raises(InterpError, match="exactly one"):
        classify(scores, truth)


def test_sae_settings_default_to_the_papers():
    """O'Neill & Bui's code: lambda 0.05 on docstring and 0.02 otherwise, their SAE layout and
    init with the pre-bias from 0, and codes = np.argmax of the latents (0 when none fires)."""
    from interp.circuits import SAESettings, score_outputs

    gen = torch.Generator().manual_seed(0)
    outputs = torch.randn(12, 6, 16, generator=gen)
    labels = torch.arange(12) < 6
    settings = SAESettings(epochs=1, n_train=4)
    for task, l1 in (("docstring", 0.05), ("ioi", 0.02), ("greater-than", 0.02), (None, 0.02)):
        _, codes, sae, _ = score_outputs(outputs, labels, settings, task=task)
        assert sae.cfg.l1 == l1
    assert SAESettings(l1=0.1).l1_for("docstring") == 0.1
    assert (sae.cfg.unit_norm, sae.cfg.init, settings.silent) == ("oneill-bui",) * 2 + ("argmax",)
    assert sae.b_dec.abs().max() <= 1.001e-3  # one Adam step from 0, not the data mean
    with torch.no_grad():
        assert torch.equal(codes, sae.encode(outputs).argmax(-1))


def test_roc_points_trace_the_curve_whose_area_is_roc_auc():
    from interp.circuits import roc_points

    g = torch.Generator().manual_seed(0)
    for _ in range(5):
        scores = torch.randint(0, 6, (40,), generator=g).float()  # ties included
        truth = torch.rand(40, generator=g) < 0.3
        fpr, tpr = roc_points(scores, truth)
        assert (fpr[0], tpr[0]) == (0.0, 0.0) and (fpr[-1], tpr[-1]) == (1.0, 1.0)
        area = sum((fpr[i + 1] - fpr[i]) * (tpr[i + 1] + tpr[i]) / 2 for i in range(len(fpr) - 1))
        assert abs(area - roc_auc(scores, truth)) < 1e-12


def test_heatmap_scale_diverges_for_signed_scores():
    from interp.viz.circuits import head_heatmap, roc_figure, score_scatter

    signed = head_heatmap(torch.tensor([[0.5, -0.2], [0.1, 0.0]])).data[0]
    assert signed.zmid == 0.0 and signed.colorscale[0][1] != signed.colorscale[-1][1]
    plain = head_heatmap(torch.tensor([[0.5, 0.2], [0.1, 0.0]])).data[0]
    assert plain.zmid is None
    truth = torch.tensor([[True, False], [False, False]])
    fig = score_scatter(torch.rand(2, 2), torch.rand(2, 2), x_title="a", y_title="b", title="t",
                        truth=truth)
    assert [len(d.x) for d in fig.data] == [3, 1] and fig.data[1].text == ("L0H0",)
    assert len(roc_figure({"m": ([0.0, 1.0], [0.0, 1.0])}, title="r").data) == 2
