"""Write an AST-probe experiment's results to a directory: results.json, scores.csv (one row
per model and layer), ast_probe.html (per-layer and rank-sweep figure, plotly.js inline),
examples.html (gold and predicted trees side by side) and examples.txt (bracketed trees).
Every file is written to a temporary name and renamed. `ast_probe_report` runs the whole
experiment of `interp ast-probe` and writes them."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interp.artifact import Kind
from interp.atomic import write_atomic
from interp.viz.html import PLOTLY_JS

if TYPE_CHECKING:
    from interp.models.model import Model
    from interp.options import AstProbeOptions, ModelOptions

FILES = ("results.json", "scores.csv", "ast_probe.html", "examples.html", "examples.txt",
         PLOTLY_JS)
#: The format tag of results.json (interp.artifact's scheme).
AST_PROBE_RESULTS = Kind("ast-probe-results", 1, "AST-probe results")
_COLUMNS = ("model", "layer", "precision", "recall", "f1", "micro_precision", "micro_recall",
            "micro_f1", "val_f1", "best_epoch", "n_snippets", "margin_over_controls",
            "best_control")


def scores_csv(results: dict[str, Any]) -> str:
    """One row per model and layer; the lookup table (no layer) last. The margin over the
    controls is given for the model's layers only."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(_COLUMNS)
    for key, name in (("per_layer", results["model"]), ("random_init", "random-init")):
        for r in results.get(key) or []:
            margin = r.get("margin_over_controls")
            w.writerow([name, r["row"], *(f"{r[k]:.4f}" for k in _COLUMNS[2:9]),
                        r["best_epoch"], r["n_snippets"],
                        "" if margin is None else f"{margin:.4f}", r.get("best_control", "")])
    lex = results.get("lookup_table")
    if lex:
        w.writerow(["lookup-table", "", *(f"{lex[k]:.4f}" for k in _COLUMNS[2:8]), "", "",
                    lex["n_snippets"], "", ""])
    return buf.getvalue()


def examples_text(results: dict[str, Any]) -> str:
    parts = []
    for i, ex in enumerate(results.get("examples", [])):
        parts.append(f"### example {i}\n{ex['code']}\n\ngold: {ex['gold']}\npred: {ex['pred']}\n")
    return "\n".join(parts)


def examples_html(results: dict[str, Any]) -> str:
    from html import escape

    from interp.viz.ast_probe import tree_pair_figure
    from interp.viz.html import figure_html

    body = []
    for i, ex in enumerate(results.get("examples", [])):
        fig = tree_pair_figure(ex)
        body.append(f"<h2>example {i}</h2><pre>{escape(ex['code'])}</pre>")
        body.append(figure_html(fig, full_html=False, include_plotlyjs=False, key=str(i)))
    title = f"AST probe examples: {escape(results['model'])}, layer {results['best_layer']}"
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
            f"<script src=\"{PLOTLY_JS}\" charset=\"utf-8\"></script></head>"
            f"<body><h1>{title}</h1>{''.join(body)}</body></html>")


def write_report(results: dict[str, Any], out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write every file of FILES into `out_dir` (created); returns their paths."""
    from interp.viz.ast_probe import layer_figure
    from interp.viz.html import figure_html, plotly_js

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    texts = {
        "results.json": json.dumps(AST_PROBE_RESULTS.stamp(results), indent=1),
        "scores.csv": scores_csv(results),
        "ast_probe.html": figure_html(layer_figure(results), include_plotlyjs=PLOTLY_JS),
        "examples.html": examples_html(results),
        "examples.txt": examples_text(results),
        PLOTLY_JS: plotly_js(),
    }
    for name, text in texts.items():
        write_atomic(out / name, text)
    return {name: out / name for name in FILES}


def results_table(results: dict[str, Any]) -> str:
    """F1 per layer (random-init F1 and the margin over the best control beside it), the
    lookup table's F1, the best layer, snippets used and skipped."""
    head = f"{'layer':>5}  {'F1':>6}  {'micro F1':>8}  {'random-init F1':>14}  "
    lines = [head + f"{'margin over controls':>20}"]
    rnd = {r["row"]: r for r in results.get("random_init") or []}
    for r in results["per_layer"]:
        other = f"{rnd[r['row']]['f1']:.3f}" if r["row"] in rnd else "-"
        margin = r.get("margin_over_controls")
        m = "-" if margin is None else f"{margin:+.3f} ({r['best_control']})"
        lines.append(f"{r['row']:>5}  {r['f1']:>6.3f}  {r['micro_f1']:>8.3f}  {other:>14}  "
                     f"{m:>20}")
    if results.get("lookup_table"):
        lex = results["lookup_table"]["f1"]
        lines.append(f"adjacent-leaf lookup table (no model): F1 {lex:.3f}")
    lines.append(f"best layer {results['best_layer']} (by validation F1); snippets "
                 + ", ".join(f"{k} {v}" for k, v in results["n_snippets"].items())
                 + "; skipped "
                 + ", ".join(f"{k}: {sum(v.values())}" for k, v in results["skipped"].items()))
    return "\n".join(lines)


def ast_probe_report(
    model: Model | ModelOptions | str, out: str | os.PathLike,
    options: AstProbeOptions | None = None,
) -> tuple[dict[str, Any], dict[str, Path]]:
    """`interp ast-probe`: check the language (its grammar installed) and the data ("stdlib":
    Python functions of this interpreter's standard library; or a CodeSearchNet directory),
    then load the model, run the experiment and write its files into `out`; returns the
    results and the files' paths."""
    from interp.astprobe.data import codesearchnet_snippets, stdlib_snippets
    from interp.astprobe.experiment import ProbeConfig, run_experiment
    from interp.astprobe.parse import get_parser
    from interp.errors import InterpError
    from interp.options import AstProbeOptions, as_model
    from interp.outputs import output_dir

    o = options or AstProbeOptions()
    out = output_dir(out)
    cache = output_dir(o.cache or out / "cache", "cache")
    get_parser(o.language)  # unknown or missing grammar: error before loading anything
    if o.data == "stdlib":
        if o.language != "python":
            raise InterpError(f"data 'stdlib' holds Python code, not {o.language!r}; give a "
                              "CodeSearchNet directory as data")
        splits = stdlib_snippets(o.train, o.val, o.test)
    else:
        splits = codesearchnet_snippets(o.data, o.language,
                                        limits={"train": o.train, "val": o.val, "test": o.test})
    model = as_model(model)
    cfg = ProbeConfig(rank=o.rank, lr=o.lr, epochs=o.epochs, patience=o.patience,
                      batch_size=o.batch_size, seed=o.seed, select_on=o.select_on,
                      device="cpu" if model.device.type == "mps" else str(model.device))
    results = run_experiment(
        model, splits, language=o.language, layers=o.layers, cfg=cfg, ranks=o.ranks,
        random_baseline=o.random_baseline, random_embeddings=o.random_embeddings,
        n_examples=o.examples,
        cache_dir=str(cache))
    results["data"] = o.data
    return results, write_report(results, out)
