"""Concept-depth results: one probe curve per (dataset, condition), a summary row per curve,
and the artifact a run writes (results.json, summary.csv, concept_depth.html).

Summary columns (depths in blocks: 0 = embedding for resid_pre, i + 0.5 for resid_mid and
mid_norm, i + 1 for resid_post; `*_rel` = depth / n_layers):

dataset, condition, model, fingerprint, variant, site, pooling, n, grouped (folds kept each
group of near-duplicates on one side), chance, jump_depth,
jump_rel, conv_depth, conv_rel, max_acc (with its 95 % CI max_acc_lo..max_acc_hi), best_depth,
auc_at_best, f1_at_best, control_at_best, selectivity_at_best, control_task_at_best and
control_task_selectivity_at_best (the word-type control task, when run), first_acc (the first
row's accuracy), and the thresholds used (jump, margin, tol).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interp.artifact import Kind
from interp.atomic import write_atomic
from interp.probes.depth import DepthResult

RESULTS_JSON = "results.json"
SUMMARY_CSV = "summary.csv"
FIGURE_HTML = "concept_depth.html"
CONCEPT_DEPTH = Kind("concept-depth", 1, "concept-depth results")


@dataclass
class Curve:
    """A DepthResult with what produced it."""

    dataset: str
    condition: str
    model: str
    fingerprint: str
    variant: str
    site: str
    pooling: str
    label_names: list[str]
    result: DepthResult

    def summary(self) -> dict[str, Any]:
        r = self.result
        acc = r.accuracy
        best = max(range(len(acc)), key=lambda i: acc[i])
        control = r.metrics.get("control_accuracy")
        task = r.metrics.get("control_task_accuracy")
        task_sel = r.control_task_selectivity

        def depth(row: int | None) -> float | None:
            return None if row is None else r.depths[row]

        def rel(row: int | None) -> float | None:
            return None if row is None else round(r.depths[row] / r.n_layers, 4)

        return {
            "dataset": self.dataset, "condition": self.condition, "model": self.model,
            "fingerprint": self.fingerprint, "variant": self.variant, "site": self.site,
            "pooling": self.pooling, "n": r.params.get("n_samples"),
            "grouped": bool(r.params.get("grouped", False)), "chance": round(r.chance, 4),
            "jump_depth": depth(r.jumping_point), "jump_rel": rel(r.jumping_point),
            "conv_depth": depth(r.converging_point), "conv_rel": rel(r.converging_point),
            "max_acc": round(acc[best], 4), "max_acc_lo": round(r.ci["accuracy"][best][0], 4),
            "max_acc_hi": round(r.ci["accuracy"][best][1], 4), "best_depth": r.depths[best],
            "auc_at_best": round(r.metrics["roc_auc"][best], 4),
            "f1_at_best": round(r.metrics["f1"][best], 4),
            "control_at_best": None if control is None else round(control[best], 4),
            "selectivity_at_best": (None if math.isnan(r.selectivity[best])
                                    else round(r.selectivity[best], 4)),
            "control_task_at_best": None if task is None else round(task[best], 4),
            "control_task_selectivity_at_best": (None if task_sel is None
                                                 else round(task_sel[best], 4)),
            "first_acc": round(acc[0], 4), "jump": r.params.get("jump"),
            "margin": r.params.get("margin"), "tol": r.params.get("tol"),
        }

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "condition": self.condition, "model": self.model,
                "fingerprint": self.fingerprint, "variant": self.variant, "site": self.site,
                "pooling": self.pooling, "label_names": self.label_names,
                "result": self.result.to_dict()}


@dataclass
class ConceptDepthRun:
    """Every curve of a run plus its parameters."""

    curves: list[Curve]
    params: dict[str, Any] = field(default_factory=dict)

    def rows(self) -> list[dict[str, Any]]:
        return [c.summary() for c in self.curves]

    def table(self, columns: tuple[str, ...] = (
            "dataset", "condition", "n", "jump_depth", "jump_rel", "conv_depth", "conv_rel",
            "max_acc", "best_depth", "selectivity_at_best")) -> str:
        """A fixed-width text table of the summary rows."""
        rows = [[_fmt(r[c]) for c in columns] for r in self.rows()]
        widths = [max(len(c), *(len(row[i]) for row in rows)) if rows else len(c)
                  for i, c in enumerate(columns)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
        lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in rows]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return CONCEPT_DEPTH.stamp({"params": self.params, "summary": self.rows(),
                                    "curves": [c.to_dict() for c in self.curves]})

    def csv(self) -> str:
        rows = self.rows()
        buf = io.StringIO()
        if rows:
            writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows([{k: "" if v is None else v for k, v in r.items()} for r in rows])
        return buf.getvalue()

    def write(self, out: str | os.PathLike, figure_html: str | None = None) -> dict[str, Path]:
        """Write results.json, summary.csv (and the figure page) into `out`, atomically."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        files = {RESULTS_JSON: json.dumps(json_safe(self.to_dict()), indent=1, allow_nan=False),
                 SUMMARY_CSV: self.csv()}
        if figure_html is not None:
            files[FIGURE_HTML] = figure_html
        paths = {}
        for name, text in files.items():
            paths[name] = write_atomic(out / name, text)
        return paths


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}".rstrip("0").rstrip(".") if not v.is_integer() else f"{v:g}"
    return str(v)


def json_safe(v: Any) -> Any:
    """JSON-safe copy: NaN/inf -> None, tuples -> lists, numpy scalars -> Python."""
    if isinstance(v, dict):
        return {k: json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [json_safe(x) for x in v]
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v
