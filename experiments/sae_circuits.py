"""The SAE method of O'Neill & Bui against activation patching on the bundled models: per model,
task and seed, the patching circuit (heads whose |activation-patching score| >= 0.1 of the
clean-corrupted gap) and the ROC-AUC / top-n precision and recall of the SAE method (node
scores, and the paper's node scores from the top edge pairs) and of attribution patching
against it. Every setting is the library default (the paper's); patching is the ground truth,
so it is not scored. "planted" is the hand-wired planted-circuit model
(interp.circuits.planted): there the truth is the wiring, and every head score, edge score
and both kinds of negatives are measured.

    .venv/bin/python experiments/sae_circuits.py                   # every model, seeds 0 1 2
    .venv/bin/python experiments/sae_circuits.py --models interp-circuits --seeds 0
    .venv/bin/python experiments/sae_circuits.py --markdown     # the docs' tables, from the JSON

Writes experiments/results/sae_circuits/<model>.json: the command, seeds, settings, one
record per (row, seed) and per row the range (min, max) over the seeds of each number; no wall
times (those are benchmarks/circuits.py's), so a rerun with the same seeds and torch threads
writes the same numbers. docs/sae-circuits.md quotes these files through --markdown, which
only reads them (tests/circuits/test_sae_circuits_study.py checks that every line it prints is
in the docs).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

OUT = Path(__file__).resolve().parent / "results" / "sae_circuits"
N_PROMPTS = 50
#: model -> rows: (row name, task, task keyword arguments)
ROWS = {
    "interp-circuits": [
        ("ioi-paper", "ioi", {"words": "bundled", "corrupt": "paper"}),
        ("ioi-s1", "ioi", {"words": "bundled", "corrupt": "s1"}),
        ("ioi-s2", "ioi", {"words": "bundled", "corrupt": "s2"}),
        ("greater-than", "greater-than", {}),
    ],
    "interp-tiny": [
        ("ioi-bundled-words", "ioi", {"words": "bundled"}),
        ("ioi-paper-words", "ioi", {}),
        ("greater-than", "greater-than", {}),
        ("docstring", "docstring", {}),
    ],
}
SCORED = ("sae", "sae_edges", "attribution")
PLANTED = "planted"


def measure_planted(models: dict, seed: int) -> list[dict]:
    """Planted model: patching and attribution against the wiring, then the SAE method with
    each head score, edge score and the paper's top pairs, on minimal pairs (shared fillers)
    and on negatives with fresh fillers; and plant B's scores against both wirings."""
    from interp.circuits import (
        HEAD_SCORES,
        SAESettings,
        activation_patching,
        attribution_patching,
        classify,
        edge_truth,
        head_scores,
        roc_auc,
        sae_circuit,
    )
    from interp.circuits.planted import planted_circuit, planted_task

    truth = planted_circuit().mask(2, 4)
    off = ~torch.eye(8, dtype=torch.bool)
    pair_truth = edge_truth(truth.flatten())[off]
    records = []
    paired = planted_task(40, seed=seed)
    patch = activation_patching(models["a"], paired)
    attr = attribution_patching(models["a"], paired)
    records.append({"row": "planted-patching", "seed": seed, "clean_metric": patch.clean,
                    "corrupted_metric": patch.corrupted,
                    "patching_circuit_min": float(patch.scores[truth].min()),
                    "patching_other_max_abs": float(patch.scores[~truth].abs().max()),
                    "attribution_circuit_min": float(attr.scores[truth].min()),
                    "attribution_max_abs_difference": float((attr.scores - patch.scores)
                                                            .abs().max())})
    for row, shared in (("planted-sae-shared-fillers", True),
                        ("planted-sae-fresh-fillers", False)):
        task = planted_task(40, seed=seed, shared_fillers=shared)
        res = sae_circuit(models["a"], task, SAESettings(seed=seed))
        rec: dict = {"row": row, "seed": seed}
        for kind in HEAD_SCORES:
            scores = head_scores(res.codes, res.is_positive, kind)
            c = classify(scores, truth, top_n=3)
            rec[f"sae_{kind}.roc_auc"] = roc_auc(scores, truth)
            rec[f"sae_{kind}.precision"] = c.precision
        for name, edges in (("raw", res.edges()), ("sum", res.edges(True)),
                            ("union", res.edges(True, "union"))):
            rec[f"edges_{name}.pair_roc_auc"] = roc_auc(edges[off], pair_truth)
        rec["sae_edges.roc_auc"] = roc_auc(res.edge_heads(), truth)
        records.append(rec)
    res_b = sae_circuit(models["b"], paired, SAESettings(seed=seed))
    records.append({"row": "planted-b", "seed": seed,
                    "own_roc_auc": roc_auc(res_b.scores, planted_circuit((0, 2), 1).mask(2, 4)),
                    "vs_a_roc_auc": roc_auc(res_b.scores, truth)})
    return records


def measure(model, row: str, task_name: str, kwargs: dict, seed: int) -> dict:
    from interp.circuits import SAESettings, make_task, run_circuits
    from interp.errors import InterpError

    task = make_task(task_name, model, N_PROMPTS, seed, **kwargs)
    out: dict = {"row": row, "task": task_name, "task_args": kwargs, "seed": seed}
    try:
        rep = run_circuits(model, task, ("sae", "patching", "attribution"), truth="patching",
                           settings=SAESettings(seed=seed))
    except InterpError as err:  # patching puts no head (or every head) over the threshold
        out["error"] = str(err)
        return out
    out["clean_metric"] = rep.info["patching"]["clean_metric"]
    out["corrupted_metric"] = rep.info["patching"]["corrupted_metric"]
    patch = rep.scores["patching"]
    out["circuit"] = {f"L{layer}H{head}": round(float(patch[layer, head]), 4)
                      for layer, head in rep.truth.heads}
    for m in SCORED:
        ev = rep.evaluation[m]
        out[m] = {"roc_auc": ev["roc_auc"], "top_n": ev["n"],
                  "precision": ev["top_n"]["precision"], "recall": ev["top_n"]["recall"]}
    out["sae_settings"] = rep.info["sae"]["settings"]
    return out


def ranges(records: list[dict]) -> dict:
    """Per row: min and max over the seeds of each number, and the circuits found."""
    out: dict = {}
    for rec in records:
        row = out.setdefault(rec["row"], {"seeds": [], "errors": {}, "circuits": {}})
        row["seeds"].append(rec["seed"])
        if "error" in rec:
            row["errors"][str(rec["seed"])] = rec["error"]
            continue
        if "circuit" in rec:
            row["circuits"][str(rec["seed"])] = sorted(rec["circuit"])
            values = {"clean_metric": rec["clean_metric"],
                      "corrupted_metric": rec["corrupted_metric"]}
            for m in SCORED:
                for k in ("roc_auc", "precision", "recall"):
                    values[f"{m}.{k}"] = rec[m][k]
        else:  # planted records: flat numbers
            values = {k: v for k, v in rec.items() if isinstance(v, float)}
        for k, v in values.items():
            lo, hi = row.get(k, (v, v))
            row[k] = (min(lo, v), max(hi, v))
    return out


#: (model, row) -> the docs' label of a row
LABELS = {
    ("interp-circuits", "ioi-paper"): "IOI, the paper's negatives (`--ioi-corrupt paper`, "
                                      "the default)",
    ("interp-circuits", "ioi-s1"): "IOI, the subject's *first* mention replaced (`s1`)",
    ("interp-circuits", "ioi-s2"): "IOI, the *second* mention replaced (`s2`)",
    ("interp-circuits", "greater-than"): "greater-than",
    ("interp-tiny", "ioi-bundled-words"): "IOI, interp-tiny's templates (`--ioi-words bundled`)",
    ("interp-tiny", "ioi-paper-words"): "IOI, the paper's templates",
    ("interp-tiny", "greater-than"): "greater-than",
    ("interp-tiny", "docstring"): "docstring",
}
METRIC = {"ioi": "logit diff", "greater-than": "P(later) - P(earlier)", "docstring": "logit diff"}
#: planted rows of the docs' table: (label, row, key, format)
PLANTED_ROWS = [
    ("patching: lowest score of a planted head (fraction of the gap)", "planted-patching",
     "patching_circuit_min", ".3f"),
    ("patching: largest abs. score of any other head", "planted-patching",
     "patching_other_max_abs", ".4f"),
    ("attribution: lowest score of a planted head", "planted-patching",
     "attribution_circuit_min", ".2f"),
    ("attribution: largest abs. difference from patching", "planted-patching",
     "attribution_max_abs_difference", ".3f"),
    *[(f"{fillers} fillers: SAE ROC-AUC ({kind}) / top-3 precision",
       f"planted-sae-{fillers}-fillers", (f"sae_{kind}.roc_auc", f"sae_{kind}.precision"), ".2f")
      for fillers in ("shared", "fresh") for kind in ("count", "fraction", "frequency")],
    *[(f"{fillers} fillers: edge ROC-AUC over head pairs ({what})",
       f"planted-sae-{fillers}-fillers", f"edges_{name}.pair_roc_auc", ".2f")
      for fillers in ("shared", "fresh")
      for name, what in (("raw", "raw count"),
                         ("sum", "the paper's normalised: / pairs on positives + on negatives"),
                         ("union", "normalised: / pairs on either side"))],
    *[(f"{fillers} fillers: `sae_edges` ROC-AUC (node scores from the top pairs)",
       f"planted-sae-{fillers}-fillers", "sae_edges.roc_auc", ".2f")
      for fillers in ("shared", "fresh")],
    ("plant B: SAE ROC-AUC against its own circuit", "planted-b", "own_roc_auc", ".2f"),
    ("plant B: SAE ROC-AUC against plant A's circuit", "planted-b", "vs_a_roc_auc", ".2f"),
]


def _range(lo: float, hi: float, fmt: str) -> str:
    """"lo-hi" ("lo to hi" when either is negative), one number when both print the same."""
    a, b = format(lo, fmt), format(hi, fmt)
    if a == b:
        return a
    return f"{a} to {b}" if lo < 0 or hi < 0 else f"{a}-{b}"


def _circuit(records: list[dict]) -> str:
    """The patching circuits of a row's seeds: size, heads in every seed, the others (with
    their number of seeds), and the largest effect."""
    sets = [set(r["circuit"]) for r in records]
    order = lambda h: tuple(int(x) for x in h[1:].split("H"))
    every = sorted(set.intersection(*sets), key=order)
    some = sorted(set.union(*sets) - set(every), key=order)
    sizes = [len(s) for s in sets]
    n = len(records)
    cell = f"{_range(min(sizes), max(sizes), 'd')} heads"
    cell += f"; in every seed: {', '.join(every)}" if every else "; none in every seed"
    if some:
        counts = [f"{h} ({sum(h in s for s in sets)} of {n})" for h in some[:6]]
        more = f" and {len(some) - 6} more" if len(some) > 6 else ""
        cell += f"; in some: {', '.join(counts)}{more}"
    top = [max(r["circuit"].items(), key=lambda kv: abs(kv[1])) for r in records]
    if len({h for h, _ in top}) == 1:
        values = [v for _, v in top]
        cell += (f"; largest {top[0][0]} at {_range(min(values), max(values), '.2f')} "
                 f"of the gap")
    else:
        cell += f"; largest: {', '.join(h for h, _ in top)} by seed"
    return cell


def markdown_tables(result: dict) -> str:
    """The docs' table of one model's result JSON: for the planted model, each measurement's
    range over the seeds; for a bundled model, per row the metric on clean and corrupted
    prompts, their gap, the patching circuit and the methods' ROC-AUC and top-n precision
    (= recall) against it. A row whose gap changes sign between seeds (the corruption does not
    switch the behaviour off) has a circuit that is noise: its scores are in parentheses."""
    seeds = ", ".join(map(str, result["seeds"]))
    ranges = result["ranges"]
    if result["model"] == PLANTED:
        lines = [(f"| planted model, {result['n_prompts']} prompt pairs per seed | "
                  f"seeds {seeds}: min-max |"), "|---|---|"]
        for label, row, key, fmt in PLANTED_ROWS:
            keys = (key,) if isinstance(key, str) else key
            lines.append(f"| {label} | " + " / ".join(_range(*ranges[row][k], fmt)
                                                     for k in keys) + " |")
        return "\n".join(lines)
    lines = [("| task | clean vs corrupted metric | gap (clean - corrupted) | patching circuit "
              "(abs. score >= 0.1) | SAE ROC-AUC (count) | `sae_edges` ROC-AUC | SAE top-n "
              "precision = recall | attribution ROC-AUC |"), "|---|---|---|---|---|---|---|---|"]
    known = [row for row, _, _ in ROWS.get(result["model"], []) if row in ranges]
    for row in known + sorted(set(ranges) - set(known)):
        r = ranges[row]
        records = [x for x in result["records"] if x["row"] == row]
        if r["errors"]:
            lines.append(f"| {LABELS.get((result['model'], row), row)} | errors: "
                         f"{r['errors']} | | | | | | |")
            continue
        assert all(x[m]["precision"] == x[m]["recall"] for x in records for m in SCORED)
        gaps = [x["clean_metric"] - x["corrupted_metric"] for x in records]
        noise = min(gaps) < 0 < max(gaps)
        wrap = (lambda c: f"({c})") if noise else (lambda c: c)
        # two decimals, three where the metric itself is below 0.1 (a model that does not do
        # the task)
        fmt = ".2f" if max(map(abs, r["clean_metric"] + r["corrupted_metric"])) >= 0.1 else ".3f"
        metric = (f"{METRIC[records[0]['task']]} {_range(*r['clean_metric'], fmt)} vs "
                  f"{_range(*r['corrupted_metric'], fmt)}")
        cells = [LABELS.get((result["model"], row), row), metric,
                 _range(min(gaps), max(gaps), fmt) + (", changes sign: noise" if noise
                                                       else ""),
                 _circuit(records),
                 wrap(_range(*r["sae.roc_auc"], ".2f")),
                 wrap(_range(*r["sae_edges.roc_auc"], ".2f")),
                 wrap(_range(*r["sae.precision"], ".2f")),
                 wrap(_range(*r["attribution.roc_auc"], ".2f"))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=[PLANTED, *ROWS],
                        choices=[PLANTED, *ROWS])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--out-dir", type=Path, default=OUT)
    parser.add_argument("--markdown", action="store_true",
                        help="only print the docs' tables from the result JSON already in "
                             "--out-dir, one per model of --models")
    args = parser.parse_args(argv)
    if args.markdown:
        print("\n\n".join(markdown_tables(json.loads((args.out_dir / f"{name}.json")
                                                      .read_text(encoding="utf-8")))
                           for name in args.models))
        return 0
    from interp import load_model
    from interp.atomic import write_atomic

    torch.set_num_threads(args.threads)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    command = ("python experiments/sae_circuits.py --models " + " ".join(args.models)
               + " --seeds " + " ".join(map(str, args.seeds)) + f" --threads {args.threads}")
    for name in args.models:
        records = []
        if name == PLANTED:
            from interp.circuits.planted import build_planted_model

            with tempfile.TemporaryDirectory() as tmp:
                models = {
                    "a": load_model(build_planted_model(Path(tmp) / "a"), device="cpu"),
                    "b": load_model(build_planted_model(Path(tmp) / "b", layer0=(0, 2),
                                                        mover=1, seed=1), device="cpu")}
                for seed in args.seeds:
                    print(f"sae-circuits: planted seed {seed}", file=sys.stderr, flush=True)
                    records += measure_planted(models, seed)
            model, n_prompts, truth = models["a"], 40, "the wiring: L0H1, L0H3, L1H2"
        else:
            model = load_model(name, device="cpu")
            for row, task_name, kwargs in ROWS[name]:
                for seed in args.seeds:
                    print(f"sae-circuits: {name} {row} seed {seed}", file=sys.stderr,
                          flush=True)
                    records.append(measure(model, row, task_name, kwargs, seed))
            n_prompts, truth = N_PROMPTS, "activation patching (corrupted), |score| >= 0.1"
        result = {"model": name, "fingerprint": model.fingerprint, "command": command,
                  "seeds": args.seeds, "n_prompts": n_prompts, "torch_threads": args.threads,
                  "truth": truth, "ranges": ranges(records), "records": records}
        path = write_atomic(args.out_dir / f"{name}.json",
                            json.dumps(result, indent=1, sort_keys=True) + "\n")
        print(f"wrote {path}")
        for row, r in result["ranges"].items():
            cells = [f"{k} {v[0]:.3g}-{v[1]:.3g}" for k, v in r.items() if isinstance(v, tuple)]
            print(f"  {row}: " + "; ".join(cells) + (f"; errors {r['errors']}"
                                                    if r["errors"] else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
