"""Run head-scoring methods for a task, compare them with a ground truth, and write the
ranked table (CSV + JSON), heatmaps (offline HTML) and wall times."""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from torch import Tensor

from interp.artifact import Kind
from interp.atomic import write_atomic
from interp.circuits.discover import SAESettings, sae_circuit
from interp.circuits.ground_truth import Circuit, circuit_from_mask
from interp.circuits.metrics import classify, roc_auc
from interp.circuits.patching import activation_patching, attribution_patching
from interp.circuits.tasks.base import Task
from interp.errors import InterpError, choices_error
from interp.options import CircuitsOptions

if TYPE_CHECKING:
    from interp.models.model import Model
    from interp.options import ModelOptions

METHODS = ("sae", "patching", "attribution")
#: The format tag of report.json (interp.artifact's scheme).
CIRCUITS_REPORT = Kind("circuits-report", 1, "circuits report")
#: The report's name for the SAE method's node scores from edges (O'Neill & Bui's top pairs).
SAE_EDGES = "sae_edges"


@dataclass
class CircuitReport:
    """Scores ([n_layers, n_heads]) and wall time per method, the ground truth (if any) and
    each method's ROC-AUC / precision / recall / F1 against it. Wall times (`seconds`, and
    the stages and rates in `timings`) are written apart, to timings.json: everything else a
    run writes is the same bytes for the same inputs."""

    model: str
    fingerprint: str
    task: str
    n_prompts: int
    scores: dict[str, Tensor] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    truth: Circuit | None = None
    truth_mask: Tensor | None = None
    evaluation: dict[str, dict[str, Any]] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, Any] = field(default_factory=dict)

    def ranked(self) -> list[dict[str, Any]]:
        """One row per head, ranked by the first method's score (descending)."""
        first = next(iter(self.scores))
        n_layers, n_heads = self.scores[first].shape
        rows = []
        for layer in range(n_layers):
            for head in range(n_heads):
                row: dict[str, Any] = {"layer": layer, "head": head, "label": f"L{layer}H{head}"}
                if self.truth_mask is not None:
                    row["in_truth"] = bool(self.truth_mask[layer, head])
                for method, s in self.scores.items():
                    row[method] = round(float(s[layer, head]), 6)
                rows.append(row)
        rows.sort(key=lambda r: -r[first])
        for i, row in enumerate(rows):
            row["rank"] = i + 1
        return rows

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model, "fingerprint": self.fingerprint, "task": self.task,
            "n_prompts": self.n_prompts,
            "scores": {m: s.tolist() for m, s in self.scores.items()},
            "truth": None if self.truth is None else self.truth.to_dict(),
            "evaluation": self.evaluation, "info": self.info, "heads": self.ranked(),
        }

    def summary(self, top: int = 15) -> str:
        rows = self.ranked()
        methods = list(self.scores)
        head = f"{'rank':>4}  {'head':<7}" + "".join(f"{m:>13}" for m in methods)
        if self.truth_mask is not None:
            head += "  truth"
        lines = [f"{self.task} on {self.model} ({self.n_prompts} prompt pairs)", head]
        for row in rows[:top]:
            line = f"{row['rank']:>4}  {row['label']:<7}" + "".join(
                f"{row[m]:>13.4g}" for m in methods)
            if self.truth_mask is not None:
                line += "  " + ("yes" if row["in_truth"] else "")
            lines.append(line)
        lines.append("wall time: " + ", ".join(f"{m} {s:.2f} s" for m, s in self.seconds.items()))
        if self.info.get("truth_is") in self.scores:  # never print a self-comparison
            lines.append(f"{self.info['truth_is']}: is the ground truth "
                         f"({self.truth.source if self.truth else 'its own scores'}); "
                         "not scored against itself")
        for m, ev in self.evaluation.items():
            c = ev["top_n"]
            lines.append(f"{m}: ROC-AUC {ev['roc_auc']:.3f}; top-{ev['n']}: precision "
                         f"{c['precision']:.3f} recall {c['recall']:.3f} F1 {c['f1']:.3f} "
                         f"(TPR/TNR harmonic mean {c['tpr_tnr_hmean']:.3f})")
        return "\n".join(lines)

    def write(self, out: str | os.PathLike) -> list[Path]:
        """heads.csv, report.json (`to_dict`, format-tagged), timings.json (wall times),
        heatmap_<method>.html and the plotly.js they share in `out` (atomic writes)."""
        from interp.viz.circuits import head_heatmap
        from interp.viz.html import PLOTLY_JS, figure_html, plotly_js

        root = Path(out)
        root.mkdir(parents=True, exist_ok=True)
        rows = self.ranked()
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        files = {"heads.csv": buf.getvalue(),
                 "report.json": json.dumps(CIRCUITS_REPORT.stamp(self.to_dict()), indent=1),
                 "timings.json": json.dumps({"seconds": self.seconds, **self.timings},
                                            indent=1, sort_keys=True) + "\n"}
        for method, s in self.scores.items():
            fig = head_heatmap(s, truth=self.truth_mask,
                               title=f"{method}: {self.task} on {self.model}")
            files[f"heatmap_{method}.html"] = figure_html(fig, include_plotlyjs=PLOTLY_JS)
        if self.scores:
            files[PLOTLY_JS] = plotly_js()
        written = []
        for name, text in files.items():
            written.append(write_atomic(root / name, text))
        return written


def evaluate(scores: Tensor, truth: Tensor, top_n: int | None = None,
             threshold: float | None = None) -> dict[str, Any]:
    """ROC-AUC and classification at the top n (default: the truth's size) or a threshold."""
    n = int(truth.sum()) if top_n is None else top_n
    out = {"roc_auc": roc_auc(scores, truth), "n": n,
           "top_n": classify(scores, truth, top_n=n).to_dict()}
    if threshold is not None:
        out["threshold"] = {"value": threshold,
                            **classify(scores, truth, threshold=threshold).to_dict()}
    return out


def run_circuits(
    model: Model, task: Task,
    methods: list[str] | tuple[str, ...] = (CircuitsOptions.method,), *,
    truth: Circuit | str | None = None,
    truth_threshold: float = CircuitsOptions.truth_threshold,
    settings: SAESettings | None = None, pooling: str = CircuitsOptions.pooling,
    patch_mode: str = CircuitsOptions.patch_mode, top_n: int | None = CircuitsOptions.top_n,
    threshold: float | None = CircuitsOptions.threshold, progress: bool = False,
) -> CircuitReport:
    """Score every head with each method; truth: a Circuit, "patching" (heads whose
    activation-patching score |s| >= truth_threshold) or None. Patching and attribution
    scores are evaluated by their absolute value (a head that hurts the task is in the
    circuit too, like IOI's negative name movers)."""
    for m in methods:
        if m not in METHODS:
            raise choices_error("method", m, METHODS)
    if not methods:
        raise InterpError("no methods given")
    settings = settings or SAESettings()
    f = model.facts
    truth_mask = None
    if isinstance(truth, Circuit):
        truth_mask = truth.mask(f.n_layers, f.n_heads)
    elif truth not in (None, "patching"):
        raise InterpError(f"truth must be a Circuit, 'patching' or None, got {truth!r}")
    rep = CircuitReport(model.name, model.fingerprint, task.name, len(task))
    patch = None
    for m in methods:
        if m == "sae":
            res = sae_circuit(model, task, settings, pooling=pooling, progress=progress)
            rep.scores["sae"], rep.seconds["sae"] = res.scores, res.seconds["total"]
            # the paper's node scores from the top edge pairs (raw counts, as their table)
            rep.scores[SAE_EDGES] = res.edge_heads()
            rep.timings["sae_stages_s"] = res.seconds
            rep.timings["sae_train_activations_per_s"] = res.log.activations_per_s
            rep.info["sae"] = {"settings": {**settings.__dict__,
                                            "l1": settings.l1_for(task.name)},
                               "pooling": pooling,
                               "final_loss": res.log.loss[-1],
                               SAE_EDGES: "heads counted in the top n_heads**2 // 2 slots of "
                                          "the edge pairs ranked by raw edge score"}
        elif m == "patching":
            patch = activation_patching(model, task, mode=patch_mode)
            rep.scores["patching"], rep.seconds["patching"] = patch.scores, patch.seconds
            rep.info["patching"] = {"mode": patch_mode, "clean_metric": patch.clean,
                                    "corrupted_metric": patch.corrupted}
        else:
            attr = attribution_patching(model, task)
            rep.scores["attribution"], rep.seconds["attribution"] = attr.scores, attr.seconds
    if truth == "patching":
        if patch is None:
            patch = activation_patching(model, task, mode=patch_mode)
            rep.timings["truth_patching_s"] = patch.seconds
        mask = patch.scores.abs() >= truth_threshold
        if not bool(mask.any()) or bool(mask.all()):
            raise InterpError(f"activation patching puts {int(mask.sum())} of {mask.numel()} "
                              f"heads over |score| >= {truth_threshold}; choose another "
                              "truth_threshold")
        truth = circuit_from_mask(mask, task.name, model.name,
                                  f"activation patching ({patch_mode}), |score| >= "
                                  f"{truth_threshold}")
        truth_mask = mask
        rep.info["truth_is"] = "patching"
    rep.truth, rep.truth_mask = (truth if isinstance(truth, Circuit) else None), truth_mask
    if truth_mask is not None:
        for m, s in rep.scores.items():
            if m == rep.info.get("truth_is"):
                continue  # the truth scored against itself is not a result
            # patching effects rank by size, either sign
            rep.evaluation[m] = evaluate(s.abs() if m in ("patching", "attribution") else s,
                                         truth_mask, top_n, threshold)
    return rep


def parse_methods(text: str) -> list[str]:
    """"all" or a comma list of METHODS -> the methods."""
    out = list(METHODS) if text == "all" else [m.strip() for m in text.split(",")]
    for m in out:
        if m not in METHODS:
            raise choices_error("method", m, (*METHODS, "all"))
    return out


def circuit_report(
    model: Model | ModelOptions | str, out: str | os.PathLike,
    options: CircuitsOptions | None = None, *, task: str | None = None,
    task_file: str | os.PathLike | None = None, truth: str | None = None,
    progress: bool = True,
) -> tuple[CircuitReport, list[Path]]:
    """`interp circuits`: score every head for a task (a bundled `task` name, or a custom
    `task_file`: exactly one) with the options' methods, compare with `truth` (a bundled
    circuit, a JSON file, "patching" or None) and write the report into `out`. Every input is
    checked before the model loads."""
    from interp.circuits.ground_truth import load_circuit
    from interp.circuits.tasks import TASKS, make_task
    from interp.circuits.tasks.custom import task_from_file
    from interp.options import as_model
    from interp.outputs import output_dir

    o = options or CircuitsOptions()
    output_dir(out)
    methods = parse_methods(o.method)
    if (task is None) == (task_file is None):
        raise InterpError(f"give exactly one task: a name ({', '.join(TASKS)}) or a task_file")
    if task is not None and task not in TASKS:
        raise choices_error("task", task, tuple(TASKS))
    loaded = truth if truth in (None, "patching") else load_circuit(truth)
    settings = SAESettings(n_latents=o.latents, l1=o.l1, epochs=o.epochs, n_train=o.n_train,
                           score=o.score, seed=o.seed)
    model = as_model(model)
    if task_file is not None:
        built = task_from_file(model, task_file)
    else:
        extra = {"words": o.ioi_words, "corrupt": o.ioi_corrupt} if task == "ioi" else {}
        built = make_task(task, model, o.n_prompts, o.seed, **extra)
    report = run_circuits(model, built, methods, truth=loaded,
                          truth_threshold=o.truth_threshold, settings=settings,
                          pooling=o.pooling, patch_mode=o.patch_mode, top_n=o.top_n,
                          threshold=o.threshold, progress=progress)
    return report, report.write(out)
