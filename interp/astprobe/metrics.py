"""Constituent precision / recall / F1 between gold and predicted trees.

A constituent is a non-terminal's (label, first leaf, last leaf + 1); matches are counted as
a multiset intersection. `tree_scores` reports, as the paper, the mean over snippets of each
snippet's P/R/F1 ("macro") and also the corpus-level ("micro") P/R/F1 from summed counts, plus
each gold non-terminal label's recall over the corpus (matched / gold occurrences).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from interp.astprobe.tree import Tree, constituents


def prf(gold: Counter, pred: Counter) -> tuple[float, float, float]:
    """(precision, recall, F1) of one snippet's constituent multisets."""
    hit = sum((gold & pred).values())
    p = hit / max(1, sum(pred.values()))
    r = hit / max(1, sum(gold.values()))
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def tree_scores(gold: Sequence[Tree], pred: Sequence[Tree]) -> dict[str, Any]:
    """Scores of predicted trees against gold trees (same order and leaves)."""
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold trees but {len(pred)} predictions")
    ps, rs, fs = [], [], []
    hits = n_gold = n_pred = 0
    label_gold: Counter[str] = Counter()
    label_hit: Counter[str] = Counter()
    for g_tree, p_tree in zip(gold, pred):
        g, p = constituents(g_tree), constituents(p_tree)
        sp, sr, sf = prf(g, p)
        ps.append(sp)
        rs.append(sr)
        fs.append(sf)
        common = g & p
        hits += sum(common.values())
        n_gold += sum(g.values())
        n_pred += sum(p.values())
        for (label, _, _), k in g.items():
            label_gold[label] += k
        for (label, _, _), k in common.items():
            label_hit[label] += k
    n = max(1, len(gold))
    micro_p, micro_r = hits / max(1, n_pred), hits / max(1, n_gold)
    return {
        "precision": sum(ps) / n, "recall": sum(rs) / n, "f1": sum(fs) / n,
        "micro_precision": micro_p, "micro_recall": micro_r, "micro_f1": _f1(micro_p, micro_r),
        "n_snippets": len(gold), "n_gold_constituents": n_gold,
        "label_recall": {k: label_hit[k] / v for k, v in label_gold.most_common()},
        "label_count": dict(label_gold.most_common()),
    }
