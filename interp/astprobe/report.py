"""Write an AST-probe experiment's results to a directory: results.json, scores.csv (one row
per model and layer), ast_probe.html (per-layer and rank-sweep figure, plotly.js inline),
examples.html (gold and predicted trees side by side) and examples.txt (bracketed trees).
Every file is written to a temporary name and renamed."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from interp.atomic import write_atomic

FILES = ("results.json", "scores.csv", "ast_probe.html", "examples.html", "examples.txt")
_COLUMNS = ("model", "layer", "precision", "recall", "f1", "micro_precision", "micro_recall",
            "micro_f1", "val_f1", "best_epoch", "n_snippets")


def scores_csv(results: dict[str, Any]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(_COLUMNS)
    for key, name in (("per_layer", results["model"]), ("random_init", "random-init")):
        for r in results.get(key) or []:
            w.writerow([name, r["row"], *(f"{r[k]:.4f}" for k in _COLUMNS[2:9]),
                        r["best_epoch"], r["n_snippets"]])
    return buf.getvalue()


def examples_text(results: dict[str, Any]) -> str:
    parts = []
    for i, ex in enumerate(results.get("examples", [])):
        parts.append(f"### example {i}\n{ex['code']}\n\ngold: {ex['gold']}\npred: {ex['pred']}\n")
    return "\n".join(parts)


def examples_html(results: dict[str, Any]) -> str:
    from html import escape

    from interp.viz.ast_probe import tree_pair_figure

    body, first = [], True
    for i, ex in enumerate(results.get("examples", [])):
        fig = tree_pair_figure(ex)
        body.append(f"<h2>example {i}</h2><pre>{escape(ex['code'])}</pre>")
        body.append(fig.to_html(full_html=False, include_plotlyjs=first))
        first = False
    title = f"AST probe examples: {escape(results['model'])}, layer {results['best_layer']}"
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body><h1>{title}</h1>{''.join(body)}</body></html>")


def write_report(results: dict[str, Any], out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write every file of FILES into `out_dir` (created); returns their paths."""
    from interp.viz.ast_probe import layer_figure

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    texts = {
        "results.json": json.dumps(results, indent=1),
        "scores.csv": scores_csv(results),
        "ast_probe.html": layer_figure(results).to_html(full_html=True, include_plotlyjs=True),
        "examples.html": examples_html(results),
        "examples.txt": examples_text(results),
    }
    for name, text in texts.items():
        write_atomic(out / name, text)
    return {name: out / name for name in FILES}
