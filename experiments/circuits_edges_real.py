"""Positions and edges of SmolLM2's IOI circuit: where each head that per-head activation
patching found (experiments/circuits_real.py, ioi-dev) acts, per named position, and the top
edges among those heads by edge attribution patching (EAP), checked by exact edge patching.

Inputs: experiments/inputs/circuits_edges_real.json (a reduced run: a few prompts of the
ioi-dev row, only the listed heads' layers patched per position).

1. Per head x position activation patching (interp.circuits.position_patching): each head's
   hook_z from the paired corrupted prompt at one of IO, S1, S1+1, S2, END
   (interp.circuits.ioi_positions: read off each prompt's text, so ABBA and BABA templates
   align by role); the score is the fraction of the clean - corrupted gap removed. Beside
   it, the head patched at every position at once on the same prompts, and the committed
   50-prompt per-head score.
2. EAP (interp.circuits.edge_attribution) over the whole graph (input, 270 heads, 30 MLPs ->
   q/k/v inputs, MLP inputs, logits): the top edges overall and among the listed heads and
   the logits; the top `exact_edges` of the latter patched exactly (edge_patching) beside
   their first-order estimate.
3. Path patching (interp.circuits.path_patching, Wang et al. 2022) traced back from the logits
   as the paper does, without naming a head: every head's paths to the logits; then every
   earlier head's paths to the queries of the heads that step found (name movers), to the
   values of the heads found next (S-inhibition), to the keys of the heads found after that
   (induction; senders: every head before the deepest receiver); what each head found
   attends to beside it (experiments/circuits_real.py's ioi_attention).

Writes experiments/results/circuits_edges_real/<model>[.quick].json (sorted keys, rounded,
no wall times). Wall times are printed.

    .venv/bin/python experiments/circuits_edges_real.py             # the study (minutes)
    .venv/bin/python experiments/circuits_edges_real.py --quick     # reduced form (CI)
    .venv/bin/python experiments/circuits_edges_real.py --markdown  # the docs' tables
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

INPUTS_PATH = ROOT / "experiments" / "inputs" / "circuits_edges_real.json"
OUT_DIR = ROOT / "experiments" / "results" / "circuits_edges_real"
HEAD_STUDY = ROOT / "experiments" / "results" / "circuits_real"


def load_inputs(path: Path, quick: bool) -> dict[str, Any]:
    inputs = json.loads(Path(path).read_text(encoding="utf-8"))
    if quick:
        q = inputs["quick"]
        inputs = {**inputs, **{k: v for k, v in q.items() if k != "heads"},
                  "heads": {h: inputs["heads"][h] for h in q["heads"]}}
    return inputs


def build_task(model: Model, inputs: dict[str, Any]) -> Any:
    """The ioi-dev prompts of experiments/circuits_real.py (same templates and corruption)."""
    from experiments.circuits_real import build_task as head_study_task

    row = {"task": "ioi", "templates": inputs["templates"], "corrupt": inputs["corrupt"]}
    return head_study_task(model, row, inputs["n_prompts"], inputs["prompt_seed"])


def committed_head_scores(model: str) -> dict[str, float]:
    """Per-head activation-patching scores of the committed ioi-dev run (50 prompts)."""
    path = HEAD_STUDY / f"{model}.json"
    if not path.exists():
        return {}
    grid = json.loads(path.read_text(encoding="utf-8"))["rows"]["ioi-dev"]["patching"]["scores"]
    return {f"L{layer}H{h}": v for layer, row in enumerate(grid) for h, v in enumerate(row)}


def _parse(head: str) -> tuple[int, int]:
    layer, h = head[1:].split("H")
    return int(layer), int(h)


def path_chain(model: Model, task: Any, spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Wang et al.'s chain of path-patching steps (inputs' "paths"): each step's receivers are
    the q/k/v inputs of the heads the previous step found (score >= threshold, at most
    max_receivers, largest first), its senders every head of a layer before the deepest of
    them (a receiver that runs before a sender is left clean for it)."""
    from interp.circuits.edges import head_input
    from interp.circuits.heads import head_labels
    from interp.circuits.paths import path_patching

    f = model.facts
    steps: list[dict[str, Any]] = []
    found: list[str] = []
    for name, kind in spec["steps"]:
        if kind == "logits":
            receivers, until = ["logits"], f.n_layers
        elif not found:
            break
        else:
            receivers = list(dict.fromkeys(head_input(model, *_parse(head), kind)
                                           for head in found))  # a KV input once
            until = max(_parse(head)[0] for head in found)  # each sender reaches one
        senders = [h for h in head_labels(model)
                   if spec.get("senders_from", 0) <= _parse(h)[0] < until]
        if not senders:
            break
        result = path_patching(model, task, senders, receivers)
        scores = dict(zip(senders, result.scores.tolist()))
        say("circuits-edges-real", f"paths, {name}: {len(senders)} senders -> "
                                   f"{', '.join(receivers)} in {result.seconds:.1f} s")
        ranked = sorted(senders, key=lambda h: (-abs(scores[h]), h))
        found = [h for h in sorted(senders, key=lambda h: (-scores[h], h))
                 if scores[h] >= spec["threshold"]][:spec["max_receivers"]]
        steps.append({"name": name, "receivers": receivers, "n_senders": len(senders),
                      "top": [{"head": h, "score": scores[h]} for h in ranked[:spec["top"]]],
                      "found": found})
    return steps


def run_study(model: Model, inputs: dict[str, Any]) -> dict[str, Any]:
    from experiments.common import rounded
    from interp.circuits import (
        edge_attribution,
        edge_patching,
        ioi_positions,
        position_patching,
    )
    from interp.circuits.patching import patched_drops

    task = build_task(model, inputs)
    heads = list(inputs["heads"])
    positions = ioi_positions(model, task)
    layers = sorted({_parse(h)[0] for h in heads})
    t0 = time.perf_counter()
    pos = position_patching(model, task, positions, layers=layers)
    whole, _, _ = patched_drops(model, task, None, layers=layers)  # every position at once
    whole = whole[..., 0] / (pos.clean - pos.corrupted)
    t_pos = time.perf_counter() - t0
    before = committed_head_scores(inputs["model"])
    per_head = {}
    for head in heads:
        scores = pos.at(*_parse(head))
        top = max(scores, key=lambda k: abs(scores[k]))
        per_head[head] = {"scores": scores, "largest_at": top, "role": inputs["heads"][head],
                          "whole_head": float(whole[_parse(head)]),
                          "whole_head_committed": before.get(head)}
    t0 = time.perf_counter()
    eap = edge_attribution(model, task)
    t_eap = time.perf_counter() - t0
    among = eap.top(inputs["top_edges"], nodes=[*heads, "logits"])
    t0 = time.perf_counter()
    checked = among[:inputs["exact_edges"]]
    exact = edge_patching(model, task, [(u, d) for u, d, _ in checked])
    t_exact = time.perf_counter() - t0
    gap = eap.clean - eap.corrupted
    say("circuits-edges-real", f"positions {t_pos:.1f} s ({len(layers)} layers), EAP "
                               f"{t_eap:.1f} s, exact edges {t_exact:.1f} s")
    from experiments.circuits_real import ioi_attention

    chain = path_chain(model, task, inputs["paths"])
    named = sorted({x["head"] for step in chain for x in step["top"]}, key=_parse)
    attention = ioi_attention(model, task, [_parse(h) for h in named])
    edge = lambda u, d, s: {"upstream": u, "downstream": d, "eap": s}
    result = {
        "model": model.name, "fingerprint": model.fingerprint,
        "inputs": {k: v for k, v in inputs.items() if k not in ("quick", "description")},
        "metric": {"clean": pos.clean, "corrupted": pos.corrupted, "gap": pos.clean -
                   pos.corrupted},
        "positions": {"names": pos.positions, "layers_patched": layers, "heads": per_head,
                      "mean_index": {k: float(v.float().mean()) for k, v in positions.items()}},
        "edges": {
            "n_upstream": len(eap.upstream), "n_downstream": len(eap.downstream),
            "n_edges": int(eap.allowed.sum()),
            "top_overall": [edge(*e) for e in eap.top(inputs["top_edges"])],
            "top_among_heads": [edge(*e) for e in among],
            "exact": [{**edge(u, d, s), "exact": float(x) / gap}
                      for (u, d, s), x in zip(checked, exact.tolist())],
        },
        "paths": {"steps": chain, "attention": attention},
    }
    return rounded(result)


def markdown_tables(result: dict[str, Any]) -> str:
    """The docs' tables: per-position scores of each head; edges among them; overall."""
    names = result["positions"]["names"]
    header = ("| head | role (committed attention) | whole head (committed, 50 prompts) | "
              "whole head (these prompts) | ")
    lines = [header + " | ".join(names) + " | largest at |",
             "|---|---|---|---|" + "---|" * len(names) + "---|"]
    for head, r in result["positions"]["heads"].items():
        whole = r["whole_head_committed"]
        cells = " | ".join(f"{r['scores'][n]:+.3f}" for n in names)
        lines.append(f"| {head} | {r['role']} | {'' if whole is None else f'{whole:+.3f}'} | "
                     f"{r['whole_head']:+.3f} | {cells} | {r['largest_at']} |")
    e = result["edges"]
    title = (f"Top edges among these heads and the logits (EAP of {e['n_edges']:,} edges; "
             "the first ones also patched exactly):")
    lines += ["", title, "",
              "| edge | EAP estimate | exact edge patching |", "|---|---|---|"]
    exact = {(x["upstream"], x["downstream"]): x["exact"] for x in e["exact"]}
    for x in e["top_among_heads"]:
        ex = exact.get((x["upstream"], x["downstream"]))
        lines.append(f"| {x['upstream']} -> {x['downstream']} | {x['eap']:+.3f} | "
                     f"{'' if ex is None else f'{ex:+.3f}'} |")
    lines += ["", "Top edges of the whole graph (EAP):", "", "| edge | EAP estimate |",
              "|---|---|"]
    lines += [f"| {x['upstream']} -> {x['downstream']} | {x['eap']:+.3f} |"
              for x in e["top_overall"]]
    cells = ("END->IO", "END->S2", "S2->S1", "S2->S1+1")
    attention = result["paths"]["attention"]
    for i, step in enumerate(result["paths"]["steps"], 1):
        title = (f"Path patching, step {i} ({step['name']}): {step['n_senders']} senders -> "
                 f"{', '.join(step['receivers'])}; found: {', '.join(step['found']) or 'none'}")
        lines += ["", title, "", "| head | path score | " + " | ".join(cells) + " |",
                  "|---|---|" + "---|" * len(cells)]
        for x in step["top"]:
            a = attention[x["head"]]
            lines.append(f"| {x['head']} | {x['score']:+.3f} | "
                         + " | ".join(f"{a[c]:.2f}" for c in cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    from experiments.common import result_path, study_parser, write_json
    from interp import load_model

    parser = study_parser(__doc__, OUT_DIR, inputs=INPUTS_PATH)
    parser.add_argument("--markdown", action="store_true",
                        help="only print the docs' tables from the result JSON already in --out")
    args = parser.parse_args(argv)
    inputs = load_inputs(args.inputs, args.quick)
    path = result_path(args.out, inputs["model"], args.quick)
    if args.markdown:
        print(markdown_tables(json.loads(path.read_text(encoding="utf-8"))))
        return 0
    t0 = time.perf_counter()
    model = load_model(inputs["model"], device="cpu")
    result = run_study(model, inputs)
    write_json(path, result)
    print(markdown_tables(result))
    print(f"{inputs['model']}: {time.perf_counter() - t0:.1f} s; wrote {path}")
    return 0


if __name__ == "__main__":
    torch.manual_seed(0)
    raise SystemExit(main())
