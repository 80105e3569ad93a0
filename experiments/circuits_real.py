"""Circuits in a real model: the SAE method of O'Neill & Bui 2024 against activation patching
on SmolLM2-135M-Instruct, for IOI (on the templates looked at and on held-out ones),
greater-than (read at the tens digit) and docstring completion.

Inputs: experiments/inputs/circuits_real.json. For each row (a task and its prompts):

1. Task performance: the metric on the positives and on their corrupted negatives, mean and
   the share of prompts where it is above zero (IOI: logit(IO) - logit(S) > 0, the accuracy).
2. Ground truth: activation patching of every head (its hook_z from the paired corrupted
   prompt; interp.circuits.activation_patching). The circuit is the heads whose |score| >=
   truth_threshold, the fraction of the clean - corrupted gap that one head removes; other
   thresholds are reported beside it. The truth never comes from the SAE, and no method is
   scored against itself.
3. Attribution patching (the first-order baseline) and the SAE method (the paper's settings,
   one run per seed): ROC-AUC against the truth of |attribution|, of the SAE's node scores
   and of its edge-derived node scores; precision and recall of the top n (n = the truth's
   size).
4. IOI only: what each truth head attends to, mean over prompts: from the last position (END)
   to the indirect object (IO), the subject's first and second mentions (S1, S2), and from
   S2 to S1 and to the token after S1. Name movers attend END -> IO, S-inhibition heads END ->
   S2, duplicate-token heads S2 -> S1, induction heads S2 -> S1+1.

Writes experiments/results/circuits_real/<model>.json (sorted keys, rounded, no wall times, so
a rerun writes the same bytes) and <model>.figures.json (per row, plotly figures: the
patching heatmap on a diverging scale, SAE vs patching scatter, ROC curves). Wall times are
printed; benchmarks/circuits.py measures them side by side.

    .venv/bin/python experiments/circuits_real.py             # the study (about 25 minutes)
    .venv/bin/python experiments/circuits_real.py --quick     # reduced form (CI)
    .venv/bin/python experiments/circuits_real.py --markdown  # the docs' tables
    .venv/bin/python experiments/circuits_real.py --model gemma-3-270m   # where installed
    .venv/bin/python experiments/circuits_real.py --rows ioi-dev-abc     # one row, merged in
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from interp.progress import say

if TYPE_CHECKING:
    from interp.models.model import Model

INPUTS_PATH = ROOT / "experiments" / "inputs" / "circuits_real.json"
OUT_DIR = ROOT / "experiments" / "results" / "circuits_real"
#: The paper templates of IOI are ABBA + BABA, 15 each: the first DEV of each are "dev".
DEV = 10


def load_inputs(path: Path, quick: bool) -> dict[str, Any]:
    inputs = json.loads(Path(path).read_text(encoding="utf-8"))
    if quick:
        q = inputs["quick"]
        inputs = {**inputs, "n_prompts": q["n_prompts"], "seeds": q["seeds"],
                  "epochs": q["epochs"],
                  "rows": [r for r in inputs["rows"] if r["name"] in q["rows"]]}
    return inputs


def build_task(model: Model, row: dict[str, Any], n: int, seed: int) -> Any:
    from interp.circuits import make_task
    from interp.circuits.tasks.ioi import ABBA, BABA

    if row["task"] == "ioi":
        which = slice(None, DEV) if row["templates"] == "dev" else slice(DEV, None)
        return make_task("ioi", model, n, seed, templates=ABBA[which] + BABA[which],
                         corrupt=row.get("corrupt", "paper"))
    return make_task(row["task"], model, n, seed)


def performance(model: Model, task: Any) -> dict[str, Any]:
    """The metric on positives and negatives: mean and share above zero."""
    from interp.circuits.patching import _last_logits, _padded_pair, task_metric

    clean, corrupt, lengths = _padded_pair(model, task)
    out = {"n_prompts": len(task), "metric": task.metric}
    with torch.no_grad():
        for what, tokens in (("positives", clean), ("negatives", corrupt)):
            m = task_metric(_last_logits(model, tokens, lengths), task)
            out[what] = {"mean": float(m.mean()), "share_above_zero": float((m > 0).float().mean())}
    return out


def ioi_attention(model: Model, task: Any, heads: list[tuple[int, int]]) -> dict[str, Any]:
    """Mean attention of each head from END to IO / S1 / S2 and from S2 to S1 / S1+1."""
    from interp.circuits.heads import head_label
    from interp.circuits.patching import _padded_pair
    from interp.hooks import attach

    if not heads:
        return {}
    clean, _, lengths = _padded_pair(model, task)
    rows = []
    for i in range(len(task)):
        ids = clean[i, : int(lengths[i])].tolist()
        io, s = task.good[i][0], task.bad[i][0]
        s_at = [p for p, t in enumerate(ids) if t == s]
        io_at = [p for p, t in enumerate(ids) if t == io]
        if len(s_at) != 2 or len(io_at) != 1:
            continue  # a name that also occurs inside another word's tokens: skip the prompt
        rows.append((i, int(lengths[i]) - 1, io_at[0], s_at[0], s_at[1]))
    layers = sorted({layer for layer, _ in heads})
    patterns: dict[int, torch.Tensor] = {}

    def keeper(layer: int) -> Any:
        def keep(p: torch.Tensor, hook: Any = None) -> None:
            patterns[layer] = p.detach()

        return keep

    with torch.no_grad(), attach(model, {model.hook_name("attn_pattern", layer): keeper(layer)
                                         for layer in layers}):
        model.bridge(clean.to(model.device))
    out = {}
    for layer, head in heads:
        p = patterns[layer][:, head].float().cpu()  # [batch, q, k]
        cells = {"END->IO": [], "END->S1": [], "END->S2": [], "S2->S1": [], "S2->S1+1": []}
        for i, end, io, s1, s2 in rows:
            cells["END->IO"].append(p[i, end, io])
            cells["END->S1"].append(p[i, end, s1])
            cells["END->S2"].append(p[i, end, s2])
            cells["S2->S1"].append(p[i, s2, s1])
            cells["S2->S1+1"].append(p[i, s2, s1 + 1])
        out[head_label(layer, head)] = {k: float(torch.stack(v).mean())
                                        for k, v in cells.items()}
    out["n_prompts_used"] = len(rows)
    return out


def measure_row(model: Model, row: dict[str, Any], task: Any, inputs: dict[str, Any],
                figures: dict[str, Any]) -> dict[str, Any]:
    """Everything for one row; figures[row name] gets its plotly figures (as dicts)."""
    from interp.circuits import (
        SAESettings,
        activation_patching,
        attribution_patching,
        classify,
        roc_auc,
        roc_points,
        sae_circuit,
    )
    from interp.circuits.heads import head_label
    from interp.viz.circuits import head_heatmap, roc_figure, score_scatter

    times: dict[str, float] = {}
    record: dict[str, Any] = {"task": row["task"], "performance": performance(model, task)}
    t0 = time.perf_counter()
    patch = activation_patching(model, task)
    times["patching"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    attr = attribution_patching(model, task)
    times["attribution"] = time.perf_counter() - t0
    saes = []
    for seed in inputs["seeds"]:
        settings = SAESettings(seed=seed, **({"epochs": inputs["epochs"]}
                                             if "epochs" in inputs else {}))
        t0 = time.perf_counter()
        saes.append(sae_circuit(model, task, settings))
        times[f"sae seed {seed}"] = time.perf_counter() - t0
    n_heads = model.facts.n_heads
    flat = patch.scores.flatten()
    order = flat.abs().argsort(descending=True)
    record["patching"] = {
        "clean": patch.clean, "corrupted": patch.corrupted, "gap": patch.clean - patch.corrupted,
        "top_heads": [{"head": head_label(int(i) // n_heads, int(i) % n_heads),
                       "score": float(flat[i])} for i in order[:12]],
        "scores": patch.scores.tolist(),  # [n_layers][n_heads]
    }
    record["sae_scores_first_seed"] = saes[0].scores.tolist()
    methods = {"attribution": attr.scores.abs(), **{
        f"sae seed {s}": r.scores for s, r in zip(inputs["seeds"], saes)}, **{
        f"sae edges seed {s}": r.edge_heads() for s, r in zip(inputs["seeds"], saes)}}
    truths = {}
    for threshold in [inputs["truth_threshold"], *inputs["sensitivity"]]:
        mask = patch.scores.abs() >= threshold
        entry: dict[str, Any] = {"threshold": threshold, "size": int(mask.sum()),
                                 "heads": [head_label(*x) for x in mask.nonzero().tolist()]}
        if 0 < int(mask.sum()) < mask.numel():
            for name, scores in methods.items():
                c = classify(scores, mask, top_n=int(mask.sum()))
                entry[name] = {"roc_auc": roc_auc(scores, mask), "precision": c.precision,
                               "recall": c.recall}
        truths[f"{threshold:g}"] = entry
    record["truth"] = truths
    main = patch.scores.abs() >= inputs["truth_threshold"]
    spread = {}
    for kind in ("sae seed", "sae edges seed"):
        aucs = [truths[f"{inputs['truth_threshold']:g}"].get(f"{kind} {s}", {}).get("roc_auc")
                for s in inputs["seeds"]]
        aucs = [a for a in aucs if a is not None]
        if aucs:
            spread[kind.replace(" seed", "")] = {"min": min(aucs), "max": max(aucs),
                                                 "mean": sum(aucs) / len(aucs)}
    record["sae_auc_over_seeds"] = spread
    record["sae_final_loss"] = [r.log.loss[-1] for r in saes]
    if row["task"] == "ioi":
        heads = [tuple(x) for x in main.nonzero().tolist()]
        record["attention"] = ioi_attention(model, task, heads)
    title = f"{row['name']} on {model.name}"
    figs = {"patching": head_heatmap(patch.scores, truth=main, title=f"patching: {title}",
                                     colorbar="fraction of gap"),
            "sae_vs_patching": score_scatter(patch.scores, saes[0].scores,
                                             x_title="activation patching score",
                                             y_title=f"SAE node score (seed {inputs['seeds'][0]})",
                                             title=f"SAE vs patching: {title}", truth=main)}
    if 0 < int(main.sum()) < main.numel():
        first_edges = f"sae edges seed {inputs['seeds'][0]}"  # one edge curve is enough
        figs["roc"] = roc_figure({name: roc_points(scores, main)
                                  for name, scores in methods.items()
                                  if not name.startswith("sae edges") or name == first_edges},
                                 title=f"ROC against patching |score| >= "
                                       f"{inputs['truth_threshold']:g}: {title}")
    figures[row["name"]] = {k: f.to_plotly_json() for k, f in figs.items()}
    say("circuits-real", f"{row['name']}: " + ", ".join(f"{k} {v:.1f} s"
                                                       for k, v in times.items()))
    return record


def run_study(model: Model, inputs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(result, figures) for every row of `inputs`."""
    from interp.errors import InterpError

    figures: dict[str, Any] = {}
    rows = {}
    for row in inputs["rows"]:
        try:  # a task this model's tokenizer cannot express is recorded, not fatal
            task = build_task(model, row, inputs["n_prompts"], inputs["prompt_seed"])
        except InterpError as err:
            rows[row["name"]] = {"task": row["task"], "skipped": str(err)}
            say("circuits-real", f"{row['name']}: skipped: {err}")
            continue
        rows[row["name"]] = measure_row(model, row, task, inputs, figures)
    result = {"model": model.name, "fingerprint": model.fingerprint,
              "inputs": {k: v for k, v in inputs.items() if k not in ("quick", "description")},
              "rows": rows}
    from experiments.common import rounded

    return rounded(result), figures


def _average_ranks(x: torch.Tensor) -> torch.Tensor:
    """Ranks 1..n, ties sharing their mean rank."""
    order = x.argsort()
    ranks = torch.empty_like(x)
    ranks[order] = torch.arange(1, len(x) + 1, dtype=x.dtype)
    for value in x.unique():
        tied = x == value
        ranks[tied] = ranks[tied].mean()
    return ranks


def sae_vs_patching(row: dict[str, Any]) -> dict[str, Any]:
    """How the first seed's SAE node scores relate to |patching score| in a result row:
    Spearman correlation (ties averaged), how coarse the SAE scores are, where the SAE ranks
    the five largest patching effects (1 = highest; ties at their best rank), and how many of
    the SAE's top 15 barely matter (|patching| < 0.04)."""
    from interp.circuits.heads import head_label

    patch = torch.tensor(row["patching"]["scores"], dtype=torch.float64)
    sae = torch.tensor(row["sae_scores_first_seed"], dtype=torch.float64).flatten()
    n_heads = patch.shape[1]
    effect = patch.abs().flatten()
    a, b = _average_ranks(effect), _average_ranks(sae)
    spearman = float(torch.corrcoef(torch.stack([a, b]))[0, 1])
    top = effect.argsort(descending=True)[:5].tolist()
    best = [(head_label(i // n_heads, i % n_heads), int((sae > sae[i]).sum()) + 1) for i in top]
    top15 = sae.argsort(descending=True, stable=True)[:15]
    return {"spearman": spearman, "distinct": len(sae.unique()), "zeros": int((sae == 0).sum()),
            "top_patching_sae_rank": best, "n_heads": len(sae),
            "top15_small": int((effect[top15] < 0.04).sum())}


def markdown_tables(result: dict[str, Any]) -> str:
    """The docs' tables: per row, performance, truth size and AUCs; then IOI attention."""
    t = f"{result['inputs']['truth_threshold']:g}"
    seeds = result["inputs"]["seeds"]
    lines = ["| row | prompts | metric on positives (share > 0) | on negatives | truth heads "
             "(abs. score >= " + t + ") | attribution AUC | SAE AUC (seeds " +
             ", ".join(map(str, seeds)) + ") | SAE edge AUC |", "|---|---|---|---|---|---|---|---|"]
    for name, r in result["rows"].items():
        if "skipped" in r:
            lines.append(f"| {name} | skipped: {r['skipped']} | | | | | | |")
            continue
        p, tr = r["performance"], r["truth"][t]
        sae = ", ".join(f"{tr[f'sae seed {s}']['roc_auc']:.3f}" for s in seeds
                        if f"sae seed {s}" in tr) or "-"
        edges = ", ".join(f"{tr[f'sae edges seed {s}']['roc_auc']:.3f}" for s in seeds
                          if f"sae edges seed {s}" in tr) or "-"
        attr = f"{tr['attribution']['roc_auc']:.3f}" if "attribution" in tr else "-"
        lines.append(f"| {name} | {p['n_prompts']} | {p['positives']['mean']:.3f} "
                     f"({p['positives']['share_above_zero']:.2f}) | "
                     f"{p['negatives']['mean']:.3f} ({p['negatives']['share_above_zero']:.2f}) | "
                     f"{tr['size']}: {' '.join(tr['heads'][:12])} | {attr} | {sae} | {edges} |")
    others = [f"{x:g}" for x in result["inputs"]["sensitivity"]]
    lines += ["", "ROC-AUC at the other thresholds (SAE per seed; attribution):", "",
              "| row | " + " | ".join(f"abs. score >= {x}" for x in others) + " |",
              "|---|" + "---|" * len(others)]
    for name, r in result["rows"].items():
        if "skipped" in r:
            continue
        cells = []
        for x in others:
            tr = r["truth"][x]
            if "attribution" not in tr:
                cells.append(f"{tr['size']} heads: no AUC")
                continue
            sae = " / ".join(f"{tr[f'sae seed {k}']['roc_auc']:.3f}" for k in seeds)
            cells.append(f"{tr['size']} heads: SAE {sae}, attribution "
                         f"{tr['attribution']['roc_auc']:.3f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "SAE node scores (first seed) against |patching score|, per row:", "",
              ("| row | Spearman | distinct SAE scores | heads at 0 | SAE rank of the top 5 "
               "patching heads (of all heads) | SAE top 15: heads with abs. patching < 0.04 |"),
              "|---|---|---|---|---|---|"]
    for name, r in result["rows"].items():
        if "skipped" in r:
            continue
        c = sae_vs_patching(r)
        ranks = ", ".join(f"{h} {k}" for h, k in c["top_patching_sae_rank"])
        lines.append(f"| {name} | {c['spearman']:.2f} | {c['distinct']} | {c['zeros']} | "
                     f"{ranks} (of {c['n_heads']}) | {c['top15_small']} |")
    for name, r in result["rows"].items():
        att = r.get("attention")
        if not att:
            continue
        lines += ["", (f"{name}: attention of the truth heads (mean over "
                       f"{att['n_prompts_used']} prompts)"), "",
                  "| head | patching score | END->IO | END->S1 | END->S2 | S2->S1 | S2->S1+1 |",
                  "|---|---|---|---|---|---|---|"]
        grid = r["patching"]["scores"]
        scores = {f"L{layer}H{h}": v for layer, row in enumerate(grid) for h, v in enumerate(row)}
        for head, a in att.items():
            if head == "n_prompts_used":
                continue
            s = scores.get(head)
            lines.append(f"| {head} | {'' if s is None else f'{s:+.3f}'} | "
                         + " | ".join(f"{a[k]:.2f}" for k in ("END->IO", "END->S1", "END->S2",
                                                               "S2->S1", "S2->S1+1")) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    from experiments.common import result_path, study_parser, write_json
    from interp import load_model

    parser = study_parser(__doc__, OUT_DIR, inputs=INPUTS_PATH)
    parser.add_argument("--model", default=None,
                        help="another model than the inputs' (e.g. gemma-3-270m where installed)")
    parser.add_argument("--markdown", action="store_true",
                        help="only print the docs' tables from the result JSON already in --out")
    parser.add_argument("--rows", nargs="+", default=None, metavar="ROW",
                        help="run only these rows and merge them into the result already in "
                             "--out (each row is seeded on its own, so this equals a full run)")
    args = parser.parse_args(argv)
    inputs = load_inputs(args.inputs, args.quick)
    if args.model:
        inputs["model"] = args.model
    known = [r["name"] for r in inputs["rows"]]
    if args.rows and not set(args.rows) <= set(known):
        parser.error(f"--rows: unknown row(s) {sorted(set(args.rows) - set(known))}; "
                     f"valid: {', '.join(known)}")
    path = result_path(args.out, inputs["model"], args.quick)
    if args.markdown:
        print(markdown_tables(json.loads(path.read_text(encoding="utf-8"))))
        return 0
    figures_path = result_path(args.out, inputs["model"], args.quick, ".figures.json")
    t0 = time.perf_counter()
    model = load_model(inputs["model"], device="cpu")
    if args.rows:
        result = json.loads(path.read_text(encoding="utf-8"))
        figures = json.loads(figures_path.read_text(encoding="utf-8"))
        new, new_figures = run_study(model, {**inputs, "rows": [
            r for r in inputs["rows"] if r["name"] in args.rows]})
        result["rows"].update(new["rows"])
        result["inputs"] = {**new["inputs"], "rows": inputs["rows"]}
        figures.update(new_figures)
    else:
        result, figures = run_study(model, inputs)
    write_json(path, result)
    write_json(figures_path, figures)
    print(markdown_tables(result))
    print(f"{inputs['model']}: {time.perf_counter() - t0:.1f} s; wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
