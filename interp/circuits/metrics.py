"""Scores against a ground truth: ROC-AUC, real precision / recall / F1 at a threshold or the
top n, and the harmonic mean of TPR and TNR that O'Neill & Bui print as "F1"."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from jaxtyping import Bool, Float
from torch import Tensor

from interp.errors import InterpError


def _check(scores: Tensor, truth: Tensor) -> tuple[Tensor, Tensor]:
    s, t = scores.flatten().double(), truth.flatten().bool()
    if s.shape != t.shape:
        raise InterpError(f"scores have {s.numel()} entries but the ground truth {t.numel()}")
    if not bool(torch.isfinite(s).all()):
        raise InterpError("scores contain NaN or infinite values")
    return s, t


def roc_auc(scores: Float[Tensor, ...], truth: Bool[Tensor, ...]) -> float:
    """Area under the ROC curve: P(score of a true head > score of a false one), ties 1/2."""
    s, t = _check(scores, truth)
    n_pos, n_neg = int(t.sum()), int((~t).sum())
    if n_pos == 0 or n_neg == 0:
        raise InterpError(f"ROC-AUC needs both circuit and non-circuit heads; ground truth has "
                          f"{n_pos} of {t.numel()}")
    order = s.argsort()
    ranks = torch.empty_like(s)
    ranks[order] = torch.arange(1, len(s) + 1, dtype=s.dtype)
    for value in s.unique():  # average ranks over ties
        tied = s == value
        if int(tied.sum()) > 1:
            ranks[tied] = ranks[tied].mean()
    return float((ranks[t].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def roc_points(scores: Float[Tensor, ...], truth: Bool[Tensor, ...]
               ) -> tuple[list[float], list[float]]:
    """The ROC curve (false-positive rates, true-positive rates), one point per distinct score
    from the highest down, starting at (0, 0); its area is roc_auc's."""
    s, t = _check(scores, truth)
    n_pos, n_neg = int(t.sum()), int((~t).sum())
    if n_pos == 0 or n_neg == 0:
        raise InterpError(f"a ROC curve needs both circuit and non-circuit heads; ground truth "
                          f"has {n_pos} of {t.numel()}")
    fpr, tpr = [0.0], [0.0]
    for value in s.unique(sorted=True).flip(0):
        above = s >= value
        tpr.append(int((above & t).sum()) / n_pos)
        fpr.append(int((above & ~t).sum()) / n_neg)
    return fpr, tpr


@dataclass(frozen=True)
class Classification:
    """Confusion counts and rates of one cut of the scores."""

    tp: int
    fp: int
    fn: int
    tn: int
    precision: float
    recall: float
    f1: float
    tnr: float
    tpr_tnr_hmean: float  # what O'Neill & Bui print as "F1"

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def classify(
    scores: Float[Tensor, ...], truth: Bool[Tensor, ...], *, threshold: float | None = None,
    top_n: int | None = None,
) -> Classification:
    """Precision, recall, F1 (the real ones) predicting heads with score > threshold, or the
    top_n highest-scoring heads (ties broken by order); exactly one of the two."""
    s, t = _check(scores, truth)
    if (threshold is None) == (top_n is None):
        raise InterpError("give exactly one of threshold or top_n")
    if top_n is not None:
        if not 0 <= top_n <= len(s):
            raise InterpError(f"top_n {top_n} out of range; valid: 0..{len(s)}")
        pred = torch.zeros_like(t)
        pred[s.argsort(descending=True, stable=True)[:top_n]] = True
    else:
        pred = s > threshold
    tp, fp = int((pred & t).sum()), int((pred & ~t).sum())
    fn, tn = int((~pred & t).sum()), int((~pred & ~t).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    tnr = tn / (tn + fp) if tn + fp else 0.0
    hmean = 2 * recall * tnr / (recall + tnr) if recall + tnr else 0.0
    return Classification(tp, fp, fn, tn, precision, recall, f1, tnr, hmean)
