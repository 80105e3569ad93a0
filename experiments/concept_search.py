"""Concept search at scale on a real model: for each of the committed concepts (word lists in
experiments/inputs/concepts.json), the neurons of every side (up, gate, down) whose decoded
top-k tokens carry the most probability on the concept's words (`find_neurons`, by mass), with
the best neuron, its side, layer, mass and matched tokens, and the runner-up. Token bias is
handled: tokens ranked by cosine with their unembedding row (`score="cosine"`) and special /
unreachable / under-trained tokens excluded (`flagged_tokens="exclude"`).

    .venv/bin/python experiments/concept_search.py                          # SmolLM2, every layer
    .venv/bin/python experiments/concept_search.py --model gemma-3-270m     # where installed
    .venv/bin/python experiments/concept_search.py --quick                  # CI: last layer only
    .venv/bin/python experiments/concept_search.py --model gemma-3-270m --markdown  # docs table

Writes experiments/results/concept_search/<model>[.quick].json (sorted keys; the same bytes on
a rerun) and prints the table.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from interp.models.model import Model

INPUTS_PATH = ROOT / "experiments" / "inputs" / "concepts.json"
OUT_DIR = ROOT / "experiments" / "results" / "concept_search"
SIDES = ("up", "gate", "down")
OPTIONS = {"top_k": 20, "score": "cosine", "flagged_tokens": "exclude"}
QUICK_LAYERS = (29,)


def load_concepts(path: Path = INPUTS_PATH) -> dict[str, list[str]]:
    """The committed concepts: name -> words."""
    return json.loads(path.read_text(encoding="utf-8"))["concepts"]


def _distinct(hit: Any) -> int:
    """How many different words of the concept the neuron's matched tokens spell."""
    return len({t.strip().lower() for t in hit.matched})


def _hit(side: str, hit: Any) -> dict[str, Any]:
    return {"side": side, "layer": hit.layer, "neuron": hit.neuron, "mass": round(hit.mass, 4),
            "hits": hit.hits, "distinct_words": _distinct(hit), "matched": list(hit.matched),
            "top": list(hit.top)}


def search(maps: dict[str, Any], concepts: dict[str, list[str]]) -> dict[str, Any]:
    """Per concept: the single-token words, the best two neurons over all sides by mass, the
    broadest neuron (most different concept words in its top-k; ties by mass), and per side
    how many neurons have any concept word in their top-k."""
    from interp.errors import InterpError
    from interp.neurons import find_neurons
    from interp.neurons.find import token_ids

    out: dict[str, Any] = {}
    for name, words in concepts.items():
        hits: list[dict[str, Any]] = []
        broad: list[dict[str, Any]] = []
        any_hit: dict[str, int] = {}
        first = next(iter(maps.values()))
        n_tokens = len(token_ids(first.vocab, words, True))
        for side, nmap in maps.items():
            try:
                found = find_neurons(nmap, words, limit=None, by="mass")
            except InterpError:  # none of the words is a single token
                found = []
            any_hit[side] = len(found)
            hits += [_hit(side, h) for h in found[:2]]
            if found:
                broad.append(_hit(side, max(found, key=lambda h: (_distinct(h), h.mass))))
        hits.sort(key=lambda h: (-h["mass"], -h["hits"], SIDES.index(h["side"]), h["layer"],
                                 h["neuron"]))
        out[name] = {"words": len(words), "token_ids": n_tokens, "neurons_with_a_hit": any_hit,
                     "best": hits[0] if hits else None,
                     "runner_up": hits[1] if len(hits) > 1 else None,
                     "broadest": max(broad, key=lambda h: (h["distinct_words"], h["mass"]))
                     if broad else None}
    return out


def run_study(model: Model, concepts: dict[str, list[str]], layers: Sequence[int] | None,
              progress: bool = True) -> dict[str, Any]:
    from interp.neurons import decode_neurons

    maps = {side: decode_neurons(model, side, layers=layers, progress=progress, **OPTIONS)
            for side in SIDES}
    return {"model": model.name, "fingerprint": model.fingerprint, "options": OPTIONS,
            "layers": list(layers) if layers is not None else "all",
            "concepts": search(maps, concepts)}


def summary(result: dict[str, Any]) -> str:
    """One row per concept: best neuron (side, layer:neuron, mass, matched) and runner-up."""
    rows = [["concept", "best", "mass", "matched", "runner-up", "mass", "broadest", "words"]]
    for name, data in result["concepts"].items():
        best, second = data["best"], data["runner_up"]
        show = (lambda h: f"{h['side']} {h['layer']}:{h['neuron']}" if h else "-")
        rows.append([name, show(best), f"{best['mass']:.3f}" if best else "-",
                     " ".join(best["matched"][:4]) if best else "-", show(second),
                     f"{second['mass']:.3f}" if second else "-", show(data["broadest"]),
                     str(data["broadest"]["distinct_words"]) if data["broadest"] else "-"])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows)


def markdown_table(result: dict[str, Any]) -> str:
    """The docs' table (docs/neurons-smollm2.md), concepts in alphabetical order."""
    show = (lambda h: f"{h['side']} {h['layer']}:{h['neuron']}" if h else "-")
    lines = [("| concept | best neuron (side layer:neuron) | mass | matched (first 4) | runner-up "
              "| mass | broadest neuron | concept words |"), "|---|---|---|---|---|---|---|---|"]
    for name, data in sorted(result["concepts"].items()):
        best, second, broad = data["best"], data["runner_up"], data["broadest"]
        matched = ", ".join(f"`{t}`" for t in best["matched"][:4]) if best else "-"
        lines.append(f"| {name} | {show(best)} | {best['mass']:.3f} | {matched} | "
                     f"{show(second)} | {second['mass']:.3f} | {show(broad)} | "
                     f"{broad['distinct_words']} |" if best and second and broad else
                     f"| {name} | - | - | - | - | - | - | - |")
    return "\n".join(lines)


def write_result(result: dict[str, Any], out: Path, quick: bool) -> Path:
    from experiments.common import result_path, write_json

    return write_json(result_path(out, result["model"], quick), result)


def main(argv: Sequence[str] | None = None) -> int:
    from experiments.common import study_parser
    from interp import load_model

    parser = study_parser(__doc__, OUT_DIR, quick_help=f"layers {QUICK_LAYERS} only")
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--markdown", action="store_true",
                        help="only print the docs' table from the result JSON already in --out")
    args = parser.parse_args(argv)
    if args.markdown:
        from experiments.common import result_path

        path = result_path(args.out, args.model, args.quick)
        print(markdown_table(json.loads(path.read_text(encoding="utf-8"))))
        return 0
    t0 = time.perf_counter()
    model = load_model(args.model, device="cpu")
    layers = QUICK_LAYERS if args.quick else None
    result = run_study(model, load_concepts(), layers)
    path = write_result(result, args.out, args.quick)
    print(summary(result))
    found = sum(d["best"] is not None for d in result["concepts"].values())
    print(f"{args.model}: {found}/{len(result['concepts'])} concepts have a neuron; "
          f"{time.perf_counter() - t0:.1f} s; wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
