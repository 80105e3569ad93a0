"""probe_layers on synthetic representations with a known answer: a feature planted from
layer 3 on, shuffled-label control, confidence intervals, definitions and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from interp.errors import InterpError
from interp.probes import converging_point, jumping_point, probe_layers, t_interval

N_LAYERS, N, D, PLANT = 6, 160, 12, 3


def planted(seed: int = 0) -> tuple[torch.Tensor, np.ndarray]:
    """[layers, n, d] Gaussian noise; from layer PLANT on, the labels shift one direction."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], N // 2)
    x = rng.normal(size=(N_LAYERS, N, D))
    x[PLANT:, :, 0] += 4.0 * (2 * y - 1)
    return torch.tensor(x, dtype=torch.float32), y


@pytest.fixture(scope="module")
def result():
    reps, y = planted()
    return probe_layers(reps, y, folds=5, seed=0, depths=[i + 1 for i in range(N_LAYERS)],
                        n_layers=N_LAYERS)


def test_planted_jumping_point(result):
    acc = result.accuracy
    assert result.chance == 0.5
    assert all(a < 0.7 for a in acc[:PLANT])
    assert all(a > 0.95 for a in acc[PLANT:])
    assert result.jumping_point == PLANT
    assert result.converging_point == PLANT
    assert result.jumping_depth == pytest.approx((PLANT + 1) / N_LAYERS)
    assert all(result.metrics["roc_auc"][i] > 0.95 for i in range(PLANT, N_LAYERS))
    assert all(result.metrics["f1"][i] > 0.95 for i in range(PLANT, N_LAYERS))


def test_control_near_chance_and_selectivity(result):
    control = result.metrics["control_accuracy"]
    assert all(abs(a - 0.5) < 0.15 for a in control)
    assert all(s > 0.3 for s in result.selectivity[PLANT:])
    assert all(s < 0.3 for s in result.selectivity[:PLANT])


def test_means_and_ci_are_the_t_interval_of_the_folds(result):
    t = 2.7764451051977934  # Student t, 0.975 quantile, 4 degrees of freedom (5 folds)
    for name, values in result.metrics.items():
        assert len(result.folds[name]) == N_LAYERS
        for folds, mean, (lo, hi) in zip(result.folds[name], values, result.ci[name]):
            assert len(folds) == 5
            half = t * float(np.std(folds, ddof=1)) / math.sqrt(5)
            assert mean == pytest.approx(float(np.mean(folds)), abs=1e-12)
            # clipped to [0, 1], where every metric lies
            assert (lo, hi) == pytest.approx((max(mean - half, 0.0), min(mean + half, 1.0)),
                                             abs=1e-9)
    assert set(result.to_dict()) >= {"metrics", "ci", "jumping_point", "params"}


def test_t_interval_matches_formula():
    mean, lo, hi = t_interval([0.5, 0.7, 0.6, 0.8])
    half = 3.182446305284263 * np.std([0.5, 0.7, 0.6, 0.8], ddof=1) / 2
    assert mean == pytest.approx(0.65)
    assert (lo, hi) == pytest.approx((0.65 - half, 0.65 + half))


def test_deterministic_seed():
    reps, y = planted(1)
    a = probe_layers(reps[:2], y, folds=3, seed=7, control=False)
    b = probe_layers(reps[:2], y, folds=3, seed=7, control=False)
    assert a.folds == b.folds
    assert probe_layers(reps[:2], y, folds=3, seed=8, control=False).folds != a.folds
    assert all(math.isnan(s) for s in a.selectivity)


def test_multiclass():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 30)
    x = rng.normal(size=(2, 90, 6))
    x[1, np.arange(90), y] += 5.0
    r = probe_layers(x, y, folds=3, control=False)
    assert r.chance == pytest.approx(1 / 3)
    assert r.accuracy[1] > 0.9 and r.metrics["roc_auc"][1] > 0.95
    assert r.jumping_point == 1


def test_definitions_on_curves():
    assert jumping_point([0.5, 0.52, 0.9, 0.95], 0.5) == 2
    assert jumping_point([0.8, 0.85, 0.9], 0.5) == 0  # decodable from the first layer
    assert jumping_point([0.5, 0.55, 0.6, 0.65], 0.5) is None  # gradual: no jump of 0.1
    assert jumping_point([0.5, 0.58, 0.5], 0.5, jump=0.05, margin=0.1) is None  # below margin
    assert converging_point([0.5, 0.7, 0.89, 0.9, 0.85], 0.5) == 2
    assert converging_point([0.5, 0.52, 0.51], 0.5) is None


@pytest.mark.parametrize("n, labels, match", [
    (20, [1] * 20, r"single class \[1\]"),
    (4, [0, 1] * 2, "too few samples"),
    (20, [0, 1] * 9, "one entry per sample"),
])
def test_bad_labels(n, labels, match):
    with pytest.raises(InterpError, match=match):
        probe_layers(torch.zeros(2, n, 3), labels)


def test_bad_shapes_and_folds():
    with pytest.raises(InterpError, match=r"\[layers, n, d\]"):
        probe_layers(torch.zeros(10, 3), [0, 1] * 5)
    with pytest.raises(InterpError, match="folds"):
        probe_layers(torch.zeros(1, 10, 3), [0, 1] * 5, folds=1)
    with pytest.raises(InterpError, match="depths"):
        probe_layers(torch.zeros(2, 10, 3), [0, 1] * 5, depths=[1.0])


def twins(n_pairs: int = 40, d: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray,
                                                                   list[str]]:
    """Pairs of near-identical representations with opposite labels (a statement and its
    false twin): nothing in them predicts the label, but each pair shares an identity."""
    rng = np.random.default_rng(seed)
    identity = rng.normal(size=(n_pairs, d))
    x = np.repeat(identity, 2, axis=0) + 0.01 * rng.normal(size=(2 * n_pairs, d))
    y = np.tile([0, 1], n_pairs)
    groups = [f"pair{i}" for i in range(n_pairs) for _ in range(2)]
    return x[None], y, groups


def test_groups_stop_twins_leaking():
    x, y, groups = twins()
    plain = probe_layers(x, y, folds=5, control=False)
    grouped = probe_layers(x, y, folds=5, control=False, groups=groups)
    # ungrouped: one twin in training, the other in test gets its twin's (wrong) label
    assert plain.accuracy[0] < 0.35 and not plain.params["grouped"]
    # grouped: both twins are in the test fold; no signal, so chance (not below it)
    assert 0.4 <= grouped.accuracy[0] <= 0.6
    assert grouped.params["grouped"] and grouped.params["n_groups"] == 40


def test_grouped_folds_keep_groups_whole():
    from interp.probes.depth import make_splits

    _, y, groups = twins(n_pairs=30)
    g = np.asarray(groups, dtype=object)
    splits = make_splits(y, 5, 0, g)
    assert sorted(np.concatenate([t for _, t in splits]).tolist()) == list(range(len(y)))
    for train, test in splits:
        assert not set(g[train]) & set(g[test])
    assert make_splits(y, 5, 0, g)[0][1].tolist() == splits[0][1].tolist()  # seeded


def test_grouped_still_finds_planted_signal():
    reps, y = planted()
    groups = [str(i // 4) for i in range(N)]  # blocks of 4 same-label samples
    r = probe_layers(reps, y, folds=5, seed=0, groups=groups)
    assert r.jumping_point == PLANT and all(a > 0.95 for a in r.accuracy[PLANT:])
    assert all(c < 0.75 for c in r.metrics["control_accuracy"])


def test_bad_groups():
    y = [0, 1] * 10
    with pytest.raises(InterpError, match=r"only 4 groups for 5-fold") as err:
        probe_layers(torch.zeros(1, 20, 3), y, groups=[str(i % 4) for i in range(20)])
    assert "\n" not in str(err.value)
    with pytest.raises(InterpError, match="one entry per sample"):
        probe_layers(torch.zeros(1, 20, 3), y, groups=["a", "b"])
    with pytest.raises(InterpError, match="leaves a class out of a fold"):
        # each group holds one class and class 1 has only 2 groups: 5 folds cannot cover it
        probe_layers(torch.zeros(1, 20, 3), [0] * 10 + [1] * 10, folds=5,
                     groups=[str(i // 2) for i in range(10)] + ["x"] * 5 + ["y"] * 5)


def test_control_task_labels_by_hand():
    """One label per word type, the task's balance shared over the types, seeded."""
    from interp.probes.depth import control_task_labels

    types = ["a", "a", "b", "c", "c", "d", "e", "e"]
    y = [0, 0, 1, 1, 0, 1, 0, 1]  # 4 / 4: of 5 types, class 0 gets round-up 3, class 1 gets 2
    ctrl = control_task_labels(types, y, seed=3)
    per_type = {}
    for t, c in zip(types, ctrl.tolist()):
        assert per_type.setdefault(t, c) == c  # a type never has two labels
    assert sorted(per_type.values()) == [0, 0, 0, 1, 1]
    assert control_task_labels(types, y, seed=3).tolist() == ctrl.tolist()
    seeds = {tuple(control_task_labels(types, y, seed=s).tolist()) for s in range(20)}
    assert len(seeds) > 1
    # 1 : 3 balance over 8 types -> 2 and 6; string labels work too
    t8 = [str(i) for i in range(8)]
    assert sorted(control_task_labels(t8, ["n", "y", "y", "y"] * 2).tolist()) == \
        ["n"] * 2 + ["y"] * 6
    with pytest.raises(InterpError, match="1 word type"):
        control_task_labels(["up"] * 4, [0, 1, 0, 1])
