"""Per-layer linear probes and concept depth (issue 6, after Jin et al. 2024, arXiv 2404.07066).

`probe_layers(reps, labels)` fits, for every layer, `make_pipeline(StandardScaler(),
LogisticRegression(max_iter=...))` under stratified k-fold cross-validation (shuffled with a
fixed seed, the same folds for every layer) and reports per layer the mean over folds of
accuracy, F1 (binary: of the positive class, the larger label; multiclass: macro) and ROC-AUC
(binary: of the positive-class probability; multiclass: one-vs-rest macro), each with a 95 %
Student-t confidence interval over folds: mean +/- t(0.975, k-1) * sd / sqrt(k), sd with
ddof=1, clipped to [0, 1]. Folds share training data, so this interval is approximate
(somewhat too narrow).

Groups: pass `groups` (one id per sample, e.g. the country of a capital-city statement and
its false twin) and the folds come from `StratifiedGroupKFold` (shuffled, same seed), so no
group straddles training and test. Without them near-duplicate texts with opposite labels
land on both sides and a probe keyed to surface identity scores below chance; with
same-label duplicates it scores too high. `params["grouped"]` records which was used.

Control task: the same probe on the same representations with the labels permuted once (fixed
seed); selectivity = accuracy - control accuracy (Hewitt & Liang 2019). A probe that is
accurate only because it is expressive has low selectivity.

Word-type control task (Hewitt & Liang 2019 proper; `control_types`): every distinct word type
gets one random label (`control_task_labels`: seeded, the classes shared out over the types in
the task's proportions), every sample takes its type's label, and the same probe is fitted on
the same folds: `control_task_accuracy` per layer and `control_task_selectivity` = accuracy -
control_task_accuracy. A probe that memorises types scores well on it wherever the types of
test samples also occur in training; where the folds keep each type on one side (grouped
folds with the type as group), memorising cannot help and the control sits near chance.

Definitions (the paper's thresholds are not public; these are ours). With `acc` the mean
accuracy curve and `chance` the majority-class fraction:

- jumping point: the first layer l with acc[l] >= chance + margin (default margin 0.05) and
  acc[l] - max(chance, acc[0], ..., acc[l-1]) >= jump (default 0.1): the first layer where
  the concept becomes decodable in one step. Layer 0 can be the jumping point (decodable from
  the first representation). None if no layer qualifies.
- converging point: the first layer l with acc[l] >= max(acc) - tol (default 0.02), provided
  max(acc) >= chance + margin (else None): where the curve reaches its plateau.

Both are also given as relative depth, depths[l] / n_layers (by default depths[l] = l and
n_layers = number of rows; pass `interp.probes.site_depths(site, n_layers)` and the model's
n_layers so that models of different depth compare).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from jaxtyping import Float

from interp.errors import InterpError
from interp.options import ConceptDepthOptions as _CD

METRICS = ("accuracy", "f1", "roc_auc")


def jumping_point(acc: Sequence[float], chance: float, jump: float = _CD.jump,
                  margin: float = _CD.margin) -> int | None:
    """First layer whose accuracy beats chance + margin and the best earlier layer (or chance)
    by at least `jump`; None if there is none. See the module docstring."""
    best = chance
    for layer, a in enumerate(acc):
        if a >= chance + margin and a - best >= jump:
            return layer
        best = max(best, a)
    return None


def converging_point(acc: Sequence[float], chance: float, tol: float = _CD.tol,
                     margin: float = _CD.margin) -> int | None:
    """First layer within `tol` of the curve's maximum, if that maximum beats chance + margin."""
    acc = list(acc)
    if not acc or max(acc) < chance + margin:
        return None
    top = max(acc)
    return next(i for i, a in enumerate(acc) if a >= top - tol)


def t_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): Student-t interval over `values` (a single value: low = high)."""
    from scipy import stats

    v = np.asarray(values, dtype=float)
    mean = float(v.mean())
    if len(v) < 2:
        return mean, mean, mean
    half = float(stats.t.ppf(0.5 + level / 2, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
    return mean, mean - half, mean + half


@dataclass
class DepthResult:
    """Per-layer probe curves plus jumping/converging points (layer index and relative depth).

    `metrics[name]` and `ci[name]` (name in accuracy, f1, roc_auc, control_accuracy and, with
    the word-type control task, control_task_accuracy) are lists
    with one entry per layer; `ci` holds (low, high) pairs; `folds[name]` the per-fold values.
    """

    metrics: dict[str, list[float]]
    ci: dict[str, list[tuple[float, float]]]
    folds: dict[str, list[list[float]]]
    selectivity: list[float]
    chance: float
    jumping_point: int | None
    converging_point: int | None
    jumping_depth: float | None
    converging_depth: float | None
    depths: list[float]
    n_layers: float
    params: dict[str, Any] = field(default_factory=dict)
    #: accuracy - control_task_accuracy per layer (None without the word-type control task)
    control_task_selectivity: list[float] | None = None

    @property
    def accuracy(self) -> list[float]:
        return self.metrics["accuracy"]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def control_task_labels(types: Sequence[Any], labels: Sequence[Any] | np.ndarray, seed: int = 0
                        ) -> np.ndarray:
    """Hewitt & Liang's control labels: one random label per distinct type, each sample taking
    its type's label.

    The types are put in a random order (numpy default_rng(seed)) and the classes (sorted) are
    shared out over them in the task's proportions (class c gets round(k * p_c) of the k types,
    largest remainders first, every class at least one), so the control has the task's class
    balance over types. Deterministic in (types, labels, seed). Raises InterpError when there
    are fewer types than classes."""
    y = np.asarray(labels)
    t = [str(v) for v in types]
    if len(t) != len(y):
        raise InterpError(f"control types need one entry per sample ({len(y)}), got {len(t)}")
    classes, counts = np.unique(y, return_counts=True)
    kinds = sorted(set(t))
    k = len(kinds)
    if k < len(classes):
        raise InterpError(f"{k} word type(s) for {len(classes)} classes: the control task "
                          "needs at least one type per class")
    share = counts / counts.sum() * k
    n_of = np.maximum(np.floor(share).astype(int), 1)
    for c in sorted(range(len(classes)), key=lambda c: (-(share[c] - np.floor(share[c])), c)):
        if n_of.sum() >= k:
            break
        n_of[c] += 1
    while n_of.sum() > k:  # the at-least-one rule overshot: take from the largest share
        n_of[int(np.argmax(n_of))] -= 1
    order = np.random.default_rng(seed).permutation(k)
    pool = np.repeat(classes, n_of)
    label_of = {kinds[i]: pool[j] for j, i in enumerate(order)}
    return np.asarray([label_of[v] for v in t])


def _fold_accuracy(x: np.ndarray, y: np.ndarray, splits: list, max_iter: int, c: float,
                   solver: str) -> list[float]:
    """Accuracy per fold of the same probe (a training fold with one class predicts it)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    out = []
    for train, test in splits:
        if len(np.unique(y[train])) < 2:
            out.append(float(np.mean(y[test] == y[train][0])))
            continue
        clf = make_pipeline(StandardScaler(),
                            LogisticRegression(max_iter=max_iter, C=c, solver=solver))
        clf.fit(x[train], y[train])
        out.append(float(np.mean(clf.predict(x[test]) == y[test])))
    return out


def _check_groups(groups: Any, n: int, folds: int) -> np.ndarray:
    g = np.asarray([str(v) for v in groups], dtype=object)
    if g.ndim != 1 or len(g) != n:
        raise InterpError(f"groups must be 1-D with one entry per sample ({n}), got {len(g)}")
    n_groups = len(set(g.tolist()))
    if n_groups < folds:
        raise InterpError(f"only {n_groups} groups for {folds}-fold cross-validation; need "
                          f">= {folds} groups (or fewer folds)")
    return g


def make_splits(y: np.ndarray, folds: int, seed: int, groups: np.ndarray | None = None,
                ) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) index pairs: stratified k-fold, group-aware when `groups` is given."""
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    dummy = np.zeros((len(y), 1))
    if groups is None:
        return list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(dummy, y))
    splits = list(StratifiedGroupKFold(folds, shuffle=True, random_state=seed).split(
        dummy, y, groups))
    n_classes = len(np.unique(y))
    for train, test in splits:
        if len(np.unique(y[train])) < n_classes or len(np.unique(y[test])) < n_classes:
            raise InterpError(f"a {folds}-fold grouped split leaves a class out of a fold; "
                              "use fewer folds or more groups per class")
    return splits


def _check(reps: Any, labels: Any, folds: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = reps.detach().float().cpu().numpy() if isinstance(reps, torch.Tensor) else np.asarray(
        reps, dtype=np.float32)
    if x.ndim != 3:
        raise InterpError(f"representations must be [layers, n, d], got shape {x.shape}")
    y = np.asarray(labels.cpu() if isinstance(labels, torch.Tensor) else labels)
    if y.ndim != 1 or len(y) != x.shape[1]:
        raise InterpError(f"labels must be 1-D with one entry per sample ({x.shape[1]}), got "
                          f"shape {y.shape}")
    if not np.isfinite(x).all():
        raise InterpError("representations contain NaN or inf")
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise InterpError(f"folds must be an integer >= 2, got {folds!r}")
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise InterpError(f"labels have a single class {classes.tolist()!r}; need at least 2")
    if len(y) < folds or counts.min() < folds:
        raise InterpError(
            f"too few samples for {folds}-fold cross-validation: {len(y)} samples, class counts "
            f"{dict(zip(classes.tolist(), counts.tolist()))}; each class needs >= {folds}")
    return x, y, classes


def _fold_scores(x: np.ndarray, y: np.ndarray, classes: np.ndarray, splits: list, max_iter: int,
                 c: float, solver: str) -> dict[str, list[float]]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    out: dict[str, list[float]] = {m: [] for m in METRICS}
    binary = len(classes) == 2
    for train, test in splits:
        clf = make_pipeline(StandardScaler(),
                            LogisticRegression(max_iter=max_iter, C=c, solver=solver))
        clf.fit(x[train], y[train])
        pred = clf.predict(x[test])
        proba = clf.predict_proba(x[test])
        out["accuracy"].append(float(accuracy_score(y[test], pred)))
        if binary:
            out["f1"].append(float(f1_score(y[test], pred, pos_label=classes[1])))
            auc = roc_auc_score(y[test] == classes[1], proba[:, 1])
        else:
            out["f1"].append(float(f1_score(y[test], pred, average="macro")))
            auc = roc_auc_score(y[test], proba, multi_class="ovr", labels=clf.classes_)
        out["roc_auc"].append(float(auc))
    return out


def probe_layers(
    reps: Float[torch.Tensor, "layers n d"] | np.ndarray, labels: Sequence[Any] | np.ndarray, *,
    folds: int = _CD.folds, seed: int = _CD.seed, max_iter: int = 1000, c: float = 1.0,
    control: bool = True, jump: float = _CD.jump, margin: float = _CD.margin,
    tol: float = _CD.tol,
    depths: Sequence[float] | None = None, n_layers: float | None = None,
    solver: str = "lbfgs", threads: int | None = 1, groups: Sequence[Any] | None = None,
    control_types: Sequence[Any] | None = None,
) -> DepthResult:
    """Probe every layer of `reps` for `labels`; see the module docstring for every definition.

    reps: [layers, n, d] representations (e.g. from `representations`). labels: n class labels
    (two or more classes, each with >= `folds` samples). c: inverse L2 strength of the
    logistic regression. control: also run the shuffled-label control (selectivity is NaN
    without it). depths / n_layers: for relative depth (defaults: row index / number of rows).
    solver: sklearn's LogisticRegression solver (the L2 objective has one optimum, so the
    solver changes speed, not the probe). threads: BLAS threads during the fits (1 by default:
    these small fits run several times slower when BLAS threads fight over few cores; None
    leaves the limit alone). groups: one id per sample; folds then keep each group on one
    side (StratifiedGroupKFold); the control uses the same folds. Fewer groups than folds is
    an error. control_types: one word type per sample; adds the word-type control task
    (`control_task_labels` with `seed`, the same folds) and its selectivity.
    """
    from threadpoolctl import threadpool_limits

    x, y, classes = _check(reps, labels, folds)
    n_rows = x.shape[0]
    depths = [float(i) for i in range(n_rows)] if depths is None else [float(d) for d in depths]
    if len(depths) != n_rows:
        raise InterpError(f"depths has {len(depths)} entries for {n_rows} layers")
    n_layers = float(n_rows if n_layers is None else n_layers)
    if n_layers <= 0:
        raise InterpError(f"n_layers must be positive, got {n_layers!r}")
    g = None if groups is None else _check_groups(groups, len(y), folds)
    splits = make_splits(y, folds, seed, g)
    y_control = np.random.default_rng(seed).permutation(y)
    y_task = None if control_types is None else control_task_labels(control_types, y, seed)
    names = [*METRICS, "control_accuracy"] if control else list(METRICS)
    if y_task is not None:
        names.append("control_task_accuracy")
    per_fold: dict[str, list[list[float]]] = {m: [] for m in names}
    with threadpool_limits(threads):
        for layer in range(n_rows):
            scores = _fold_scores(x[layer], y, classes, splits, max_iter, c, solver)
            if control:
                scores["control_accuracy"] = _fold_scores(
                    x[layer], y_control, classes, splits, max_iter, c, solver)["accuracy"]
            if y_task is not None:
                scores["control_task_accuracy"] = _fold_accuracy(
                    x[layer], y_task, splits, max_iter, c, solver)
            for m in names:
                per_fold[m].append(scores[m])
    metrics: dict[str, list[float]] = {m: [] for m in names}
    ci: dict[str, list[tuple[float, float]]] = {m: [] for m in names}
    for m in names:
        for values in per_fold[m]:
            mean, lo, hi = t_interval(values)
            metrics[m].append(mean)
            ci[m].append((max(lo, 0.0), min(hi, 1.0)))  # every metric lies in [0, 1]
    acc = metrics["accuracy"]
    selectivity = ([a - b for a, b in zip(acc, metrics["control_accuracy"])] if control
                   else [float("nan")] * n_rows)
    task_sel, task_params = None, None
    if y_task is not None:
        task_sel = [a - b for a, b in zip(acc, metrics["control_task_accuracy"])]
        kinds, n_kind = np.unique(y_task, return_counts=True)
        task_params = {"n_types": len({str(v) for v in control_types or ()}),
                       "class_counts": {str(k): int(v) for k, v in zip(kinds, n_kind)}}
    chance = float(np.unique(y, return_counts=True)[1].max() / len(y))
    jp = jumping_point(acc, chance, jump, margin)
    cp = converging_point(acc, chance, tol, margin)
    return DepthResult(
        metrics=metrics, ci=ci, folds=per_fold, selectivity=selectivity, chance=chance,
        jumping_point=jp, converging_point=cp,
        jumping_depth=None if jp is None else depths[jp] / n_layers,
        converging_depth=None if cp is None else depths[cp] / n_layers,
        depths=depths, n_layers=n_layers, control_task_selectivity=task_sel,
        params={"folds": folds, "seed": seed, "max_iter": max_iter, "c": c, "solver": solver,
                "jump": jump, "margin": margin, "tol": tol, "control": control,
                "control_task": task_params, "ci": "student-t 95%",
                "n_samples": len(y), "classes": classes.tolist(), "grouped": g is not None,
                "n_groups": None if g is None else len(set(g.tolist()))},
    )
