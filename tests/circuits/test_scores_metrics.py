"""Head and edge scores from codes, ROC-AUC (checked against scikit-learn), precision /
recall / F1 and the paper's TPR-TNR harmonic mean."""

from __future__ import annotations

import itertools

import pytest
import torch

from interp.circuits import classify, edge_scores, edges_to_heads, head_scores, roc_auc
from interp.circuits.scores import edge_truth
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
    norm = edge_scores(codes, labels, normalise=True)
    assert (norm <= 1).all() and (norm >= 0).all()
    assert torch.equal(edges_to_heads(got), torch.maximum(got.max(0).values, got.max(1).values))
    t = edge_truth(torch.tensor([True, False, True]))
    assert t.tolist() == [[False, False, True], [False, False, False], [True, False, False]]


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
