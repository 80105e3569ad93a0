"""Dose-response of concept neurons against random control neurons: the clamping experiment of
Davies 2025 (arXiv 2501.02688) on the bundled interp-tiny, the study quoted in docs/steering.md
("Measured on interp-tiny").

Inputs (experiments/inputs/dose_response.json): the model, the concepts (named word lists of
interp.steer.concepts), the prompts, the clamp values, the number of controls and the seed.

For each concept:

1. Find its neurons by decoding: every neuron's down vector (what it writes) through the LM
   head with the default decoding options (`decode_neurons(model, "down")`), then
   `NeuronMap.find(words)` ranks neurons by the probability mass their top-20 tokens give the
   concept's words. The top hit is the target; the next hits and the top hit of the up map
   (what a neuron reads) are measured too, without controls.
2. Clamp (mode "set", at every position) each neuron to each value, in multiples of its own
   max |activation| over the default reference corpus (`activation_scale`), and measure
   P(concept): the summed next-token probability of every single-token spelling of the
   concept's words after each prompt, averaged over the prompts.
3. Controls: `controls` random neurons of the target's layer (seeded), clamped to the target's
   raw values (`dose_response(..., n_controls=...)`).

Writes <out>/<model>.json (sorted keys, rounded, no timings: reruns give the same bytes) and
<out>/<model>.figure.json (plotly JSON: `plotly.io.read_json(path).show()`); `--quick` (the CI
form: one concept, four prompts, three values, three controls, an activation scale from 8,000
characters of the reference corpus instead of 60,000) writes <model>.quick.*.

    .venv/bin/python experiments/dose_response.py            # the study quoted in the docs
    .venv/bin/python experiments/dose_response.py --quick    # reduced form (CI)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from interp.neurons import decode_neurons
from interp.progress import say
from interp.steer import (
    activation_scale,
    concept_token_ids,
    default_corpus,
    dose_response,
    resolve_concept,
)

if TYPE_CHECKING:
    from interp.models.model import Model

INPUTS_PATH = ROOT / "experiments" / "inputs" / "dose_response.json"
OUT_DIR = ROOT / "experiments" / "results" / "dose_response"
TOP_K = 20  # tokens per neuron searched by find (the decoding default)
DIGITS = 6


def load_inputs(path: Path = INPUTS_PATH, quick: bool = False) -> dict[str, Any]:
    """The committed inputs; with `quick`, the reduced CI form of them."""
    data = json.loads(path.read_text(encoding="utf-8"))
    inputs = {k: data[k] for k in ("model", "concepts", "prompts", "values", "controls", "seed",
                                   "hits", "scale_chars")}
    if quick:
        q = data["quick"]
        inputs.update(concepts=q["concepts"], prompts=data["prompts"][:q["prompts"]],
                      values=q["values"], controls=q["controls"], hits=q["hits"],
                      scale_chars=q["scale_chars"])
    inputs["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    inputs["quick"] = quick
    return inputs


def _r(x: float) -> float:
    return round(float(x), DIGITS)


def _name(layer: int, neuron: int) -> str:
    return f"{layer}:{neuron}"


def find_hits(model: Model, side: str, concepts: Sequence[str], limit: int
              ) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """{concept: the `limit` best neurons of the `side` map by mass}, and the map's options."""
    nmap = decode_neurons(model, side, top_k=TOP_K, bottom_k=0)
    out = {}
    for concept in concepts:
        hits = nmap.find(resolve_concept(concept), limit=limit, by="mass")
        out[concept] = [{"neuron": _name(h.layer, h.neuron), "mass": _r(h.mass), "hits": h.hits,
                         "top": list(h.top)} for h in hits]
    calibration = nmap.header.extras.get("calibration", {})
    return out, {"options": nmap.options.to_dict(),
                 "calibration_factor": _r(calibration.get("factor", float("nan")))}


def _curve(result: Any, c: int, role: str, max_abs: float) -> dict[str, Any]:
    p = result.probs[c]  # [values, prompts]
    return {"neuron": result.curves[c], "role": role, "max_abs": _r(max_abs),
            "raw_values": [_r(x) for x in result.raw_values[:, 0]],
            "mean": [_r(x) for x in p.mean(-1)],
            "std": [_r(x) for x in (p.std(-1) if p.shape[-1] > 1 else p[:, 0] * 0)]}


def study_concept(model: Model, concept: str, hits: list[dict[str, Any]],
                  up_hit: dict[str, Any] | None, inputs: dict[str, Any], scales: Any
                  ) -> dict[str, Any]:
    """The target with its controls, then the other hits, on one concept."""
    prompts, values = inputs["prompts"], inputs["values"]
    if not hits:
        raise SystemExit(f"no neuron's top-{TOP_K} down tokens include a {concept} word")
    target = hits[0]["neuron"]
    layer, neuron = map(int, target.split(":"))
    res = dose_response(model, target, prompts, concept, values, n_controls=inputs["controls"],
                        seed=inputs["seed"], scales=scales)
    unit = float(scales.unit(layer, [neuron])[0])
    curves = [_curve(res, 0, "target", unit)]
    curves += [_curve(res, c, "control", unit) for c in range(1, len(res.curves))]
    others = [(h["neuron"], f"down hit {i + 2}") for i, h in enumerate(hits[1:])]
    if up_hit is not None and up_hit["neuron"] not in {target, *(n for n, _ in others)}:
        others.append((up_hit["neuron"], "up top hit"))
    for name, role in others:
        other = dose_response(model, name, prompts, concept, values, n_controls=0,
                              scales=scales)
        ol, on = map(int, name.split(":"))
        curves.append(_curve(other, 0, role, float(scales.unit(ol, [on])[0])))
    controls = torch.tensor([c["mean"] for c in curves if c["role"] == "control"])
    return {
        "words": resolve_concept(concept),
        "n_token_ids": len(concept_token_ids(model.tokenizer, concept)),
        "down_hits": hits, "up_top_hit": up_hit, "target": target,
        "baseline": {"mean": _r(res.baseline.mean()),
                     "per_prompt": [_r(x) for x in res.baseline]},
        "curves": curves,
        "controls_mean": [_r(x) for x in controls.mean(0)] if len(controls) else [],
        "controls_max": [_r(x) for x in controls.max(0).values] if len(controls) else [],
    }


def run_study(model: Model, inputs: dict[str, Any], log: bool = True) -> dict[str, Any]:
    """The whole study for one loaded model (a JSON-ready dict; deterministic)."""
    torch.manual_seed(inputs["seed"])
    t0 = time.perf_counter()
    down, down_info = find_hits(model, "down", inputs["concepts"], inputs["hits"])
    up, up_info = find_hits(model, "up", inputs["concepts"], 1)
    layers = sorted({int(h["neuron"].split(":")[0])
                     for hits in [*down.values(), *up.values()] for h in hits})
    corpus = (None if inputs["scale_chars"] is None
              else default_corpus(inputs["scale_chars"], model=model))
    scales = activation_scale(model, layers=layers, corpus=corpus)
    say("dose-response", f"decoded and scaled: {time.perf_counter() - t0:.1f} s", enabled=log)
    concepts = {}
    for concept in inputs["concepts"]:
        up_hit = up[concept][0] if up[concept] else None
        concepts[concept] = study_concept(model, concept, down[concept], up_hit, inputs, scales)
        say("dose-response", f"{concept}: {time.perf_counter() - t0:.1f} s", enabled=log)
    return {
        "model": str(model.name), "fingerprint": model.fingerprint,
        "inputs": {k: v for k, v in inputs.items() if k != "sha256"},
        "inputs_sha256": inputs["sha256"],
        "decode": {"down": down_info, "up": up_info, "find": {"top_k": TOP_K, "by": "mass"}},
        "clamp": {"mode": "set", "positions": "all", "site": "mlp_post",
                  "unit": "max |activation| over the reference corpus",
                  "scale_corpus": scales.meta["corpus"] if corpus is None else
                  f"first {inputs['scale_chars']} characters of the default",
                  "scale_tokens": scales.n_tokens},
        "concepts": concepts,
    }


def figure(result: dict[str, Any]) -> Any:
    """One panel per concept: the target (blue), controls (grey), other hits (orange,
    dashed), the unclamped baseline (dotted)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    names = list(result["concepts"])
    x = result["inputs"]["values"]
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=[
        f"{c} ({result['concepts'][c]['target']})" for c in names], shared_yaxes=True)
    style = {"target": {"color": "rgb(31,119,180)", "width": 3},
             "control": {"color": "rgba(120,120,120,0.6)", "width": 1}}
    for col, concept in enumerate(names, start=1):
        data = result["concepts"][concept]
        for curve in data["curves"]:
            role = curve["role"]
            line = style.get(role, {"color": "rgb(255,127,14)", "width": 1.5, "dash": "dash"})
            fig.add_trace(go.Scatter(x=x, y=curve["mean"], mode="lines+markers", line=line,
                                     name=f"{role} {curve['neuron']}", legendgroup=role,
                                     showlegend=col == 1 and role != "control"),
                          row=1, col=col)
        fig.add_trace(go.Scatter(x=[x[0], x[-1]], y=[data["baseline"]["mean"]] * 2,
                                 mode="lines", line={"color": "black", "dash": "dot"},
                                 name="no clamp", showlegend=col == 1), row=1, col=col)
        fig.update_xaxes(title_text="x max |activation|", row=1, col=col)
    fig.update_yaxes(title_text="P(concept), mean over prompts", row=1, col=1)
    fig.update_layout(title=f"Dose-response on {result['model']}: concept neurons vs "
                      f"{result['inputs']['controls']} random controls (grey)",
                      template="simple_white", height=420, width=300 * len(names) + 150)
    return fig


def write_result(result: dict[str, Any], out: Path) -> list[Path]:
    """<model>[.quick].json (sorted keys) and <model>[.quick].figure.json under `out`."""
    import plotly.io as pio

    from interp.atomic import write_atomic

    out.mkdir(parents=True, exist_ok=True)
    stem = result["model"] + (".quick" if result["inputs"]["quick"] else "")
    paths = [out / f"{stem}.json", out / f"{stem}.figure.json"]
    write_atomic(paths[0], json.dumps(result, sort_keys=True, indent=1, ensure_ascii=False)
                 + "\n")
    write_atomic(paths[1], pio.to_json(figure(result), pretty=False) + "\n")
    return paths


def summary(result: dict[str, Any]) -> str:
    """The table of docs/steering.md: P(concept) per value, and the controls."""
    values = result["inputs"]["values"]
    head = ["concept", "neuron", "role", "max|act|", "no clamp", *[f"{v}x" for v in values]]
    rows = [head]
    for concept, data in result["concepts"].items():
        for curve in data["curves"]:
            if curve["role"] == "control":
                continue
            rows.append([concept, curve["neuron"], curve["role"], f"{curve['max_abs']:.1f}",
                         f"{data['baseline']['mean']:.4f}", *[f"{m:.4f}" for m in curve["mean"]]])
        n_controls = sum(c["role"] == "control" for c in data["curves"])
        rows.append([concept, f"{n_controls} ctrl", "mean", "", "",
                     *[f"{m:.4f}" for m in data["controls_mean"]]])
        rows.append([concept, "", "max", "", "", *[f"{m:.4f}" for m in data["controls_max"]]])
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows)


def main(argv: Sequence[str] | None = None) -> int:
    from interp import load_model

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="the reduced CI form (see the inputs' \"quick\")")
    parser.add_argument("--inputs", type=Path, default=INPUTS_PATH)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    inputs = load_inputs(args.inputs, args.quick)
    t0 = time.perf_counter()
    model = load_model(inputs["model"], device=args.device)
    result = run_study(model, inputs)
    paths = write_result(result, args.out)
    print(summary(result))
    print(f"{inputs['model']}: {time.perf_counter() - t0:.1f} s; wrote "
          + ", ".join(str(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p)
                      for p in paths))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
