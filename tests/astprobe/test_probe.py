"""The probe: loss pieces by hand, gradients, and the planted test (trees recovered, F1 ~ 1)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from interp.astprobe.dataset import build_samples
from interp.astprobe.metrics import tree_scores
from interp.astprobe.probe import ASTProbe, probe_loss, rank_loss
from interp.astprobe.train import Vocab, predict_trees, train_probe
from interp.errors import InterpError

sys.path.insert(0, str(Path(__file__).parent))
from planted import planted_reps


def test_rank_loss_by_hand():
    pred = torch.tensor([[3.0, 1.0, 2.5, 0.0]])
    gold = torch.tensor([[3.0, 1.0, 2.0, 9.0]])
    mask = torch.tensor([[True, True, True, False]])
    # pairs with gold_i > gold_j: (0,1) margin 2 -> 0; (0,2) 0.5 -> 0.5; (2,1) 1.5 -> 0
    assert rank_loss(pred, gold, mask).item() == pytest.approx(0.5 / 3)


def test_orthogonality_penalty_and_distances():
    probe = ASTProbe(6, 3, 2, 2)
    with torch.no_grad():
        probe.proj.copy_(torch.eye(6)[:, :3])
    assert probe.orthogonality().item() == pytest.approx(0.0)
    x = torch.zeros(1, 3, 6)
    x[0, 1, 0], x[0, 2, 5] = 2.0, 7.0  # the second step moves only outside the subspace
    d, s_c, s_u = probe(x)
    assert d.tolist() == [[4.0, 4.0]]
    assert s_c.shape == (1, 2, 2) and s_u.shape == (1, 3, 2)


def test_every_parameter_gets_a_gradient():
    torch.manual_seed(0)
    probe = ASTProbe(8, 4, 3, 2)
    x = torch.randn(2, 5, 8)
    d = torch.tensor([[1.0, 2, 1, 3], [2.0, 1, 0, 0]])
    c = torch.tensor([[0, 1, 2, 0], [1, 2, -1, -1]])
    u = torch.tensor([[0, 1, 1, 0, 1], [1, 0, 1, -1, -1]])
    loss, parts = probe_loss(probe, x, d, c, u, torch.tensor([5, 3]))
    loss.backward()
    assert set(parts) == {"rank", "c", "u", "orth"}
    for name, p in probe.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


@pytest.fixture(scope="module")
def planted_samples(tiny_tokenizer, stdlib_codes):
    """Train / val / test samples; val and test keep only snippets whose labels all occur in
    training (the planted test is about finding the subspace, not about unseen labels)."""
    seen: set[str] = set()
    s = {k: build_samples(v, tiny_tokenizer, seen=seen)[0] for k, v in stdlib_codes.items()}
    vocab = Vocab.from_samples(s["train"])
    for k in ("val", "test"):
        s[k] = [x for x in s[k] if -1 not in vocab.ids(x.encoding.c, "c") + vocab.ids(
            x.encoding.u, "u")]
    return s


def test_planted_subspace_is_recovered(planted_samples):
    s = planted_samples
    vocab = Vocab.from_samples(s["train"])
    assert len(s["test"]) >= 20
    xs = {k: planted_reps(v, vocab, dim=64, noise=0.5, seed=i)
          for i, (k, v) in enumerate(s.items())}
    res = train_probe(xs["train"], s["train"], xs["val"], s["val"], vocab, rank=32, lr=1e-2,
                      epochs=60, patience=60, lr_patience=100, batch_size=8)
    scores = tree_scores([x.gold for x in s["test"]], predict_trees(res.probe, xs["test"],
                                                                    s["test"], vocab))
    assert scores["f1"] > 0.9, scores["f1"]
    # the same probe on vectors without the planted structure recovers (almost) nothing
    noise = [torch.randn_like(x) for x in xs["test"]]
    chance = tree_scores([x.gold for x in s["test"]], predict_trees(res.probe, noise, s["test"],
                                                                    vocab))
    assert chance["f1"] < 0.5 * scores["f1"]


def test_bad_rank_and_empty_splits(planted_samples):
    s = planted_samples
    vocab = Vocab.from_samples(s["train"])
    xs = planted_reps(s["train"][:4], vocab, dim=16, k_walk=8, k_u=4)
    with pytest.raises(InterpError, match="rank 17 out of range"):
        train_probe(xs, s["train"][:4], xs, s["train"][:4], vocab, rank=17)
    with pytest.raises(InterpError, match="at least one"):
        train_probe(xs, s["train"][:4], [], [], vocab, rank=4)


def test_validation_loss_is_the_task_loss_without_the_penalty(planted_samples):
    """The history holds the task loss and the orthogonality penalty apart; selection and early
    stopping use the task loss, recomputed here batch by batch with the penalty switched off."""
    from interp.astprobe.train import make_batches

    s = planted_samples
    vocab = Vocab.from_samples(s["train"])
    xs = {k: planted_reps(v, vocab, dim=32, k_walk=12, k_u=4, seed=i)
          for i, (k, v) in enumerate(s.items())}
    res = train_probe(xs["train"], s["train"], xs["val"], s["val"], vocab, rank=24, lr=1e-2,
                      epochs=4, patience=4, batch_size=16, orth=5.0)
    assert len(res.history) == 4
    for h in res.history:
        assert set(h) >= {"train_loss", "train_task_loss", "val_task_loss", "orth_penalty"}
    # rank 24 of 32 from a uniform init: B is far from an isometry, so the penalty is not 0
    assert res.best["orth_penalty"] > 0.1
    assert res.best["orth_penalty"] == pytest.approx(res.probe.orthogonality().item(), rel=1e-5)
    total, task, n = 0.0, 0.0, 0
    with torch.no_grad():
        for b in make_batches(xs["val"], s["val"], vocab, 16):  # the batches of training
            loss0, _ = probe_loss(res.probe, b.x, b.d, b.c, b.u, b.lengths, orth=0.0)
            loss5, _ = probe_loss(res.probe, b.x, b.d, b.c, b.u, b.lengths, orth=5.0)
            task += loss0.item() * len(b.index)
            total += loss5.item() * len(b.index)
            n += len(b.index)
    assert res.best_val_loss == pytest.approx(task / n, rel=1e-6)
    assert res.best["val_task_loss"] == res.best_val_loss
    assert total / n - task / n == pytest.approx(5.0 * res.best["orth_penalty"], rel=1e-4)
    assert res.best_val_loss == min(h["val_task_loss"] for h in res.history)
    assert all(h["val_loss"] == h["val_task_loss"] for h in res.history)
    # select_on="total": the penalty is added to what is selected on, and reported apart
    tot = train_probe(xs["train"], s["train"], xs["val"], s["val"], vocab, rank=24, lr=1e-2,
                      epochs=2, patience=2, batch_size=16, orth=5.0, select_on="total")
    for h in tot.history:
        assert h["val_loss"] == pytest.approx(h["val_task_loss"] + 5.0 * h["orth_penalty"])
    assert tot.best_val_loss == min(h["val_loss"] for h in tot.history)
    with pytest.raises(InterpError, match="unknown select_on 'sum'"):
        train_probe(xs["train"], s["train"], xs["val"], s["val"], vocab, select_on="sum")
