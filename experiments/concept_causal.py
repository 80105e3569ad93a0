"""Causal test of concept neurons on SmolLM2-135M-Instruct: clamp each concept's best neuron
(from experiments/concept_search.py) during generation and count how often the continuation
names the concept, against control neurons of the same layer matched on weight norm.

Inputs: experiments/inputs/concept_causal.json (clamp strengths, controls, sampling, bootstrap,
fluency threshold, the reduced CI form), the 60 neutral prompts of
experiments/inputs/neutral_prompts.json, the concepts' word lists of
experiments/inputs/concepts.json and each concept's best neuron from the committed
experiments/results/concept_search/<model>.json.

For each concept c with best neuron (layer L, neuron n):

1. Controls: the `controls` other neurons of layer L whose down vectors (W_out rows, what a
   clamp writes into the residual stream) are closest in norm to n's (|log norm ratio|).
2. Strengths: each value V of `values` sets the neuron's activation (mlp_post, every position,
   prompt and generated tokens) to V x n's max |activation| over the default reference
   corpus (`default_scale`); the controls are set to the same raw value.
3. Generation: for every prompt, one sampled continuation of `max_new_tokens` tokens per
   (concept, strength, neuron) and one unclamped continuation, all rows of one prompt in one
   batch (interp.steer.rows.row_clamps); sampling seeded per prompt and batch.
4. Scoring: a continuation names the concept when it contains one of its words (or plural) as a
   whole word, in any case (interp.steer.concepts.mention_pattern). Effect = target rate -
   mean control rate over the prompts, with a 95 % percentile bootstrap interval over prompts
   (paired: each resample draws prompts and takes every arm of them). Fluency: the
   perplexity of the target's continuations under the unclamped model against that of the
   unclamped continuations (controls are not scored, to save time); it "held" when the
   target's is at most `fluency_ratio` x the unclamped one. Perplexity alone passes degenerate
   repetition ("God God God ..."), so a cell is also "varied" when its share of distinct words
   is at least REPETITION_FLOOR x the unclamped one, and "fluent" when both hold (this second
   criterion was added after the first full run showed the failure; both are reported).

Writes experiments/results/concept_causal/<model>.json (sorted keys, rounded, no timings);
`--quick` (CI) writes <model>.quick.json: two concepts, four prompts, one strength, two controls.
The full run takes about 50 minutes on 2 cores (793 rows of 12 new tokens per prompt); each
prompt's continuations are kept in <model>.partial.jsonl as they finish, so a killed run resumes
where it stopped (same bytes in the end); the file goes once the result is written.

    .venv/bin/python experiments/concept_causal.py           # the study of docs/neurons-smollm2.md
    .venv/bin/python experiments/concept_causal.py --quick   # reduced form (CI)
    .venv/bin/python experiments/concept_causal.py --tables dose/  # tables for the atlas
    .venv/bin/python experiments/concept_causal.py --markdown      # the docs' table
    .venv/bin/python experiments/concept_causal.py --refresh       # flags and summary again
"""

from __future__ import annotations

import hashlib
import json
import math
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

INPUTS_PATH = ROOT / "experiments" / "inputs" / "concept_causal.json"
OUT_DIR = ROOT / "experiments" / "results" / "concept_causal"
DIGITS = 4
EXAMPLES = 3  # continuations kept per (concept, strength) arm
REPETITION_FLOOR = 0.5  # "varied": distinct-word share >= this x the unclamped continuations'


def _r(x: float) -> float:
    return round(float(x), DIGITS)


def load_inputs(path: Path = INPUTS_PATH, quick: bool = False) -> dict[str, Any]:
    """The committed inputs with the prompts, word lists and best neurons they name."""
    inputs = json.loads(path.read_text(encoding="utf-8"))
    reduced = inputs.pop("quick")
    prompts = json.loads((ROOT / inputs["prompts_file"]).read_text(encoding="utf-8"))["prompts"]
    words = json.loads((ROOT / inputs["concepts_file"]).read_text(encoding="utf-8"))["concepts"]
    search = json.loads((ROOT / inputs["concept_search"]).read_text(encoding="utf-8"))
    if search["model"] != inputs["model"]:
        raise SystemExit(f"{inputs['concept_search']} is for {search['model']}, "
                         f"not {inputs['model']}")
    concepts = sorted(search["concepts"])
    if quick:
        concepts = reduced["concepts"]
        inputs.update({k: reduced[k] for k in ("n_prompts", "values", "controls", "bootstrap")})
    prompts = prompts[: inputs["n_prompts"]]
    inputs["targets"] = {c: {"layer": search["concepts"][c]["best"]["layer"],
                             "neuron": search["concepts"][c]["best"]["neuron"],
                             "side": search["concepts"][c]["best"]["side"],
                             "words": words[c]} for c in concepts}
    inputs["prompts"] = prompts
    inputs["sha256"] = {name: hashlib.sha256((ROOT / inputs[name]).read_bytes()).hexdigest()
                        for name in ("prompts_file", "concepts_file", "concept_search")}
    inputs["sha256"]["inputs"] = hashlib.sha256(path.read_bytes()).hexdigest()
    inputs["quick"] = quick
    return inputs


def matched_controls(model: Model, layer: int, neuron: int, n: int) -> list[int]:
    """The n other neurons of `layer` whose down vectors are closest in norm to `neuron`'s."""
    norms = model.neuron_vectors(layer, "down").detach().float().norm(dim=-1)
    gap = (norms.log() - norms[neuron].log()).abs()
    gap[neuron] = float("inf")
    order = sorted(range(len(gap)), key=lambda i: (float(gap[i]), i))
    return order[:n]


def plan_rows(model: Model, inputs: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One row per (concept, strength, neuron) plus the unclamped row first; and per concept
    its neurons, controls, norms and raw clamp values."""
    from interp.steer import default_scale

    scales = default_scale(model)
    rows: list[dict[str, Any]] = [{"concept": None, "clamp": []}]
    design: dict[str, Any] = {}
    for concept, target in inputs["targets"].items():
        layer, neuron = target["layer"], target["neuron"]
        controls = matched_controls(model, layer, neuron, inputs["controls"])
        norms = model.neuron_vectors(layer, "down").detach().float().norm(dim=-1)
        unit = float(scales.unit(layer, torch.tensor([neuron]))[0])
        design[concept] = {
            "layer": layer, "neuron": neuron, "side": target["side"], "controls": controls,
            "down_norm": _r(norms[neuron]), "control_down_norms": [_r(norms[c]) for c in controls],
            "max_activation": _r(unit), "raw_values": [_r(v * unit) for v in inputs["values"]],
        }
        for v, value in enumerate(inputs["values"]):
            for k, unit_id in enumerate([neuron, *controls]):
                rows.append({"concept": concept, "value": v, "curve": k,
                             "clamp": [(layer, unit_id, value * unit)]})
    return rows, design


def generate_rows(model: Model, prompt: str, rows: list[dict[str, Any]], inputs: dict[str, Any],
                  seed: int) -> tuple[list[str], list[float | None]]:
    """Each row's sampled continuation (text) and, for the unclamped row and the target rows
    (not the controls, to halve the cost), its mean token NLL under the unclamped model."""
    from interp.steer.rows import row_clamps

    tokens = model.to_tokens(prompt)
    texts: list[str] = []
    nll: list[float] = []
    size = inputs["batch_rows"]
    for j, start in enumerate(range(0, len(rows), size)):
        chunk = rows[start:start + size]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed + j)
            with row_clamps(model, [r["clamp"] for r in chunk]):
                out = model.generate(tokens.expand(len(chunk), -1), do_sample=True,
                                     max_new_tokens=inputs["max_new_tokens"],
                                     temperature=inputs["temperature"], stop_at_eos=False)
        n_prompt = tokens.shape[1]
        new = out[:, n_prompt:]
        scored = [i for i, r in enumerate(chunk) if r.get("curve", 0) == 0]  # unclamped, targets
        chunk_nll: list[float | None] = [None] * len(chunk)
        if scored:
            with torch.no_grad():
                logits = model.logits(out[scored])[:, n_prompt - 1:-1].float()
                logp = logits.log_softmax(-1).gather(-1, new[scored][..., None])[..., 0]
            for i, value in zip(scored, (-logp.mean(-1)).cpu().tolist()):
                chunk_nll[i] = value
        nll += chunk_nll
        texts += [model.tokenizer.decode(r.tolist(), skip_special_tokens=True)
                  for r in new.cpu()]
    return texts, nll


def bootstrap_interval(diff: torch.Tensor, n: int, seed: int) -> tuple[float, float]:
    """95 % percentile interval of the mean of per-prompt differences `diff` [prompts]."""
    g = torch.Generator().manual_seed(seed)
    idx = torch.randint(len(diff), (n, len(diff)), generator=g)
    means = diff[idx].mean(-1)
    return float(means.quantile(0.025)), float(means.quantile(0.975))


def distinct_share(texts: list[str]) -> float:
    """Distinct words over all words, averaged over continuations (1 = no repetition)."""
    shares = []
    for t in texts:
        words = t.lower().split()
        if words:
            shares.append(len(set(words)) / len(words))
    return sum(shares) / len(shares) if shares else 0.0


def analyse(inputs: dict[str, Any], rows: list[dict[str, Any]], design: dict[str, Any],
            texts: list[list[str]], nll: list[list[float]]) -> dict[str, Any]:
    """Per concept and strength: rates, effect with bootstrap CI, fluency; and the summary."""
    from interp.steer.concepts import mention_pattern

    n_prompts = len(inputs["prompts"])
    base_nll = torch.tensor([nll[p][0] for p in range(n_prompts)])
    base_ppl = math.exp(float(base_nll.mean()))
    base_texts = [texts[p][0] for p in range(n_prompts)]
    index = {(r["concept"], r["value"], r["curve"]): i for i, r in enumerate(rows) if r["concept"]}
    n_curves = 1 + inputs["controls"]
    concepts: dict[str, Any] = {}
    for ci, (concept, target) in enumerate(inputs["targets"].items()):
        pattern = mention_pattern(target["words"])

        def hits(i: int, pattern: Any = pattern) -> torch.Tensor:
            return torch.tensor([float(bool(pattern.search(texts[p][i])))
                                 for p in range(n_prompts)])

        baseline = hits(0)
        strengths = []
        for v, value in enumerate(inputs["values"]):
            arms = torch.stack([hits(index[(concept, v, k)]) for k in range(n_curves)])
            target_hits, control_hits = arms[0], arms[1:]
            diff = target_hits - control_hits.mean(0)
            lo, hi = bootstrap_interval(diff, inputs["bootstrap"], inputs["seed"] + 7919 * ci + v)
            t_idx = index[(concept, v, 0)]
            ppl_target = math.exp(sum(nll[p][t_idx] for p in range(n_prompts)) / n_prompts)
            strengths.append({
                "value": value, "raw_value": design[concept]["raw_values"][v],
                "target_rate": _r(target_hits.mean()),
                "control_rates": [_r(x) for x in control_hits.mean(-1)],
                "control_rate": _r(control_hits.mean()),
                "effect": _r(diff.mean()), "ci": [_r(lo), _r(hi)],
                "excludes_zero": lo > 0 or hi < 0,
                "perplexity": {"target": _r(ppl_target), "unclamped": _r(base_ppl)},
                "distinct_words": {"target": _r(distinct_share([texts[p][t_idx]
                                                                for p in range(n_prompts)])),
                                   "unclamped": _r(distinct_share(base_texts))},
                "examples": [texts[p][t_idx] for p in range(min(EXAMPLES, n_prompts))],
            })
        concepts[concept] = {**design[concept], "baseline_rate": _r(baseline.mean()),
                             "strengths": strengths}
    set_flags(inputs, concepts)
    return {"concepts": concepts, "summary": summarise(inputs, concepts),
            "unclamped": {"perplexity": _r(base_ppl), "distinct_words": _r(
                distinct_share(base_texts)), "examples": base_texts[:EXAMPLES]}}


def set_flags(inputs: dict[str, Any], concepts: dict[str, Any]) -> None:
    """Per cell, from its stored numbers: fluency_held (the target's perplexity at most
    fluency_ratio x the unclamped one), varied (its distinct-word share at least
    REPETITION_FLOOR x the unclamped one: perplexity alone passes "God God God ...", which the
    unclamped model predicts well once it has started) and fluent (both)."""
    for c in concepts.values():
        for s in c["strengths"]:
            ppl, words = s["perplexity"], s["distinct_words"]
            s["fluency_held"] = ppl["target"] <= inputs["fluency_ratio"] * ppl["unclamped"]
            s["varied"] = words["target"] >= REPETITION_FLOOR * words["unclamped"]
            s["fluent"] = s["fluency_held"] and s["varied"]


def summarise(inputs: dict[str, Any], concepts: dict[str, Any]) -> dict[str, Any]:
    """How many concepts' intervals exclude zero (above it), per strength and at any, and how
    many of those kept fluency (perplexity; perplexity and varied words); by the side the
    neuron was found on."""
    out: dict[str, Any] = {"n_concepts": len(concepts), "by_strength": {}}
    for v, value in enumerate(inputs["values"]):
        cells = [c["strengths"][v] for c in concepts.values()]
        out["by_strength"][f"{value:g}x"] = {
            "ci_above_zero": sum(c["ci"][0] > 0 for c in cells),
            "ci_below_zero": sum(c["ci"][1] < 0 for c in cells),
            "ci_above_zero_fluency_held": sum(c["ci"][0] > 0 and c["fluency_held"]
                                              for c in cells),
            "ci_above_zero_fluent": sum(c["ci"][0] > 0 and c["fluent"] for c in cells),
            "fluency_held": sum(c["fluency_held"] for c in cells),
            "fluent": sum(c["fluent"] for c in cells),
        }

    def steered(flag: str | None) -> list[str]:
        return [name for name, c in concepts.items()
                if any(s["ci"][0] > 0 and (flag is None or s[flag]) for s in c["strengths"])]

    up = steered(None)
    out["ci_above_zero_at_any_strength"] = len(up)
    out["ci_above_zero_and_fluency_held_at_any_strength"] = len(steered("fluency_held"))
    out["ci_above_zero_and_fluent_at_any_strength"] = len(steered("fluent"))
    out["concepts_steered"] = up
    out["concepts_steered_fluently"] = steered("fluent")
    out["by_side"] = {side: {"concepts": sum(c["side"] == side for c in concepts.values()),
                             "steered": sum(concepts[n]["side"] == side for n in up)}
                      for side in ("up", "gate", "down")}
    return out


def checkpoint_key(model: Model, inputs: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    """What a checkpoint's lines must match to be reused: the model's fingerprint, the inputs
    and the planned rows (clamp values included)."""
    text = json.dumps([model.fingerprint, inputs, rows], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def read_checkpoint(path: Path, key: str) -> dict[int, tuple[list[str], list[float | None]]]:
    """Prompts already generated under the same key (one JSON line each); a line cut short
    by a kill, or written under another key, is ignored."""
    done: dict[int, tuple[list[str], list[float | None]]] = {}
    if not path.exists():
        return done
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and entry.get("key") == key:
            done[int(entry["prompt"])] = (entry["texts"], entry["nll"])
    return done


def run_study(model: Model, inputs: dict[str, Any], log: bool = True,
              checkpoint: Path | None = None) -> dict[str, Any]:
    """Generate every row for every prompt and analyse them. With `checkpoint`, each prompt's
    continuations are appended there as they finish, and a rerun with the same model and
    inputs resumes after the last complete prompt (the result is the same bytes: sampling is
    seeded per prompt); the file is removed once the study is complete."""
    rows, design = plan_rows(model, inputs)
    key = checkpoint_key(model, inputs, rows)
    done = read_checkpoint(checkpoint, key) if checkpoint is not None else {}
    if done:
        say("concept-causal", f"resuming: {len(done)} prompts already in {checkpoint}",
            enabled=log)
    texts, nll = [], []
    t0 = time.perf_counter()
    for p, prompt in enumerate(inputs["prompts"]):
        if p in done:
            t, n = done[p]
        else:
            t, n = generate_rows(model, prompt, rows, inputs, inputs["seed"] + 1000 * p)
            if checkpoint is not None:
                checkpoint.parent.mkdir(parents=True, exist_ok=True)
                with checkpoint.open("a", encoding="utf-8") as f:
                    f.write(json.dumps({"key": key, "prompt": p, "texts": t, "nll": n}) + "\n")
        texts.append(t)
        nll.append(n)
        say("concept-causal", f"prompt {p + 1}/{len(inputs['prompts'])}: {len(rows)} rows "
            f"({time.perf_counter() - t0:.0f} s)", enabled=log)
    result = analyse(inputs, rows, design, texts, nll)
    result.update(model=model.name, fingerprint=model.fingerprint, inputs=inputs,
                  rows_per_prompt=len(rows))
    if checkpoint is not None:
        checkpoint.unlink(missing_ok=True)
    return result


def table(result: dict[str, Any]) -> str:
    """One line per concept: neuron, baseline, and per strength target/control rate, effect
    [CI] and the target's perplexity."""
    values = result["inputs"]["values"]
    lines = [f"{'concept':<16} {'neuron':<12} base  " + "  ".join(
        f"{v:g}x: tgt ctl effect [95% CI] ppl" for v in values)]
    for name, c in result["concepts"].items():
        cells = [f"{s['target_rate']:.2f} {s['control_rate']:.2f} {s['effect']:+.2f} "
                 f"[{s['ci'][0]:+.2f},{s['ci'][1]:+.2f}] {s['perplexity']['target']:.0f}"
                 f"{'' if s['fluent'] else '!'}" for s in c["strengths"]]
        lines.append(f"{name:<16} {c['side']} {c['layer']}:{c['neuron']:<6} "
                     f"{c['baseline_rate']:.2f}  " + "  ".join(cells))
    return "\n".join(lines)


def markdown_table(result: dict[str, Any]) -> str:
    """The per-concept table of docs/neurons-smollm2.md: per strength, target / control rate,
    effect [95 % CI] and the target's perplexity (marked when fluency did not hold)."""
    values = result["inputs"]["values"]
    head = ["concept", "neuron", "unclamped"] + [f"{v:g}x: target / controls, effect [95% CI], "
                                                  "ppl" for v in values]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, c in result["concepts"].items():
        cells = []
        for s in c["strengths"]:
            mark = "**" if s["ci"][0] > 0 else ""
            flu = "" if s["fluent"] else (" (repetitive)" if s["fluency_held"] else
                                          " (perplexity)")
            cells.append(f"{s['target_rate']:.2f} / {s['control_rate']:.2f}, {mark}"
                         f"{s['effect']:+.2f} [{s['ci'][0]:+.2f}, {s['ci'][1]:+.2f}]{mark}, "
                         f"{s['perplexity']['target']:.0f}{flu}")
        lines.append(f"| {name} | {c['side']} {c['layer']}:{c['neuron']} | "
                     f"{c['baseline_rate']:.2f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def dose_tables(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per concept, its cells as a dose-response table ({"meta", "rows"}, the layout `interp
    dose-response --table F.json` writes), so `interp atlas --dose DIR` shows them on the
    target neuron's page; the means are concept rates, which meta["measure"] says."""
    inputs = result["inputs"]
    n = len(inputs["prompts"])
    measure = (f"share of {inputs['max_new_tokens']}-token sampled continuations naming the "
               "concept")
    tables = {}
    for name, c in result["concepts"].items():
        rows: list[dict[str, Any]] = [{"curve": "baseline", "kind": "baseline", "value": "",
                                       "unit": "", "mean": c["baseline_rate"], "n_prompts": n}]
        curves = [(f"{c['layer']}:{c['neuron']}", "target", [s["target_rate"]
                                                             for s in c["strengths"]])]
        curves += [(f"{c['layer']}:{ctl}", "control", [s["control_rates"][k]
                                                       for s in c["strengths"]])
                   for k, ctl in enumerate(c["controls"])]
        for curve, kind, means in curves:
            rows += [{"curve": curve, "kind": kind, "value": s["value"], "unit": "max",
                      "raw_value": s["raw_value"], "mean": mean, "n_prompts": n}
                     for s, mean in zip(c["strengths"], means)]
        tables[name] = {"meta": {"model": result["model"], "fingerprint": result["fingerprint"],
                                 "site": "mlp_post", "positions": "all", "concept": name,
                                 "measure": measure, "study": "experiments/concept_causal.py"},
                        "rows": rows}
    return tables


def write_tables(result: dict[str, Any], out: Path) -> list[Path]:
    """Write dose_tables(result) as <out>/<concept>.json."""
    from experiments.common import write_json

    return [write_json(Path(out) / f"{name}.json", table, sort_keys=False)
            for name, table in dose_tables(result).items()]


def write_result(result: dict[str, Any], out: Path) -> Path:
    from experiments.common import result_path, write_json

    return write_json(result_path(out, result["model"], result["inputs"]["quick"]), result)


def main(argv: Sequence[str] | None = None) -> int:
    from experiments.common import result_path, study_parser
    from interp import load_model

    parser = study_parser(__doc__, OUT_DIR, inputs=INPUTS_PATH)
    parser.add_argument("--tables", type=Path, default=None, metavar="DIR",
                        help="only write each concept's dose-response table (for `interp atlas "
                             "--dose DIR`) from the result JSON already in --out")
    parser.add_argument("--refresh", action="store_true",
                        help="only recompute the fluency flags and the summary of the result "
                             "JSON already in --out from its stored cells")
    parser.add_argument("--markdown", action="store_true",
                        help="only print the docs' table from the result JSON already in --out")
    args = parser.parse_args(argv)
    inputs = load_inputs(args.inputs, args.quick)
    if args.refresh:
        from experiments.common import write_json

        path = result_path(args.out, inputs["model"], args.quick)
        result = json.loads(path.read_text(encoding="utf-8"))
        set_flags(result["inputs"], result["concepts"])
        result["summary"] = summarise(result["inputs"], result["concepts"])
        write_json(path, result)
        print(json.dumps(result["summary"], indent=1))
        return 0
    if args.tables is not None or args.markdown:
        path = result_path(args.out, inputs["model"], args.quick)
        result = json.loads(path.read_text(encoding="utf-8"))
        if args.markdown:
            print(markdown_table(result))
        if args.tables is not None:
            paths = write_tables(result, args.tables)
            print(f"wrote {len(paths)} dose-response tables to {args.tables}")
        return 0
    t0 = time.perf_counter()
    model = load_model(inputs["model"], device="cpu")
    partial = result_path(args.out, inputs["model"], args.quick, suffix=".partial.jsonl")
    result = run_study(model, inputs, checkpoint=partial)
    path = write_result(result, args.out)
    print(table(result))
    print(json.dumps(result["summary"], indent=1))
    print(f"{inputs['model']}: {time.perf_counter() - t0:.1f} s; wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
