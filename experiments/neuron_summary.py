"""The whole neuron map of a real model, per layer, beside a chance control: for every side (up,
gate, down) and layer, how many neurons are specialised (top-1 probability >= 0.5: one token
outweighs all others together), the distribution of top-1 probability, the commonest top-1
tokens, "form" neurons (top-5 tokens all spellings of one word) and "category" neurons (top-20
spelling >= 3 different words of one concept of experiments/inputs/concepts.json), and the
commonest concepts by layer. The chance control decodes, for every real neuron, one random
Gaussian direction of the same norm with the same options (the same number per layer), so
every count has its chance level beside it; the concept search's masses get theirs too.

Decoding options are the concept search's (experiments/concept_search.py): cosine scores,
flagged tokens excluded, top 20, the defaults otherwise (centre "mean", scale "calibrated").

    .venv/bin/python experiments/neuron_summary.py            # SmolLM2, every layer (~4 min)
    .venv/bin/python experiments/neuron_summary.py --quick    # CI: the last layer
    .venv/bin/python experiments/neuron_summary.py --markdown # the docs' tables

Writes experiments/results/neuron_summary/<model>[.quick].json (sorted keys, rounded; the same
bytes on a rerun) and <model>[.quick].figure.json (plotly JSON: top-1 probability by layer).
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from experiments.concept_search import OPTIONS, SIDES, load_concepts

if TYPE_CHECKING:
    from interp.models.model import Model

OUT_DIR = ROOT / "experiments" / "results" / "neuron_summary"
SPECIALISED = 0.5  # top-1 probability: one token outweighs all the others together
CONCEPT_MASS = 0.5  # a concept neuron puts at least half its probability on the concept
CATEGORY_WORDS = 3  # distinct concept words in the top-k for a "category" neuron
FORM_TOP = 5  # a "form" neuron's first FORM_TOP tokens are spellings of one word
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
BINS = 20  # histogram of top-1 probability over [0, 1]
QUICK_LAYERS = (29,)
SEED = 0
DIGITS = 4


def _r(x: float) -> float:
    return round(float(x), DIGITS)


def random_map(model: Model, real: Any, seed: int) -> Any:
    """A NeuronMap of random directions: per layer, one Gaussian vector per neuron rescaled
    to that neuron's vector norm, decoded with the real map's options."""
    from interp.neurons import NeuronMap
    from interp.neurons.decode import decode_vectors, layer_vectors
    from interp.neurons.mapper import prepare_unembedding

    options = real.options
    unembed, _ = prepare_unembedding(model, options, model.device)  # calibration included
    data = {}
    for layer in real.layers:
        vectors = layer_vectors(model, layer, options).detach().float()
        g = torch.Generator().manual_seed(seed * 1000 + layer)
        noise = torch.randn(vectors.shape, generator=g)
        noise *= (vectors.norm(dim=1) / noise.norm(dim=1))[:, None]
        data[layer] = decode_vectors(noise, unembed, options)
    return NeuronMap(real.header, real.vocab, data)


def form_neurons(vocab: list[str], top_ids: torch.Tensor) -> int:
    """Neurons whose first FORM_TOP tokens, stripped and lower-cased, are one word."""
    count = 0
    for row in top_ids[:, :FORM_TOP].tolist():
        forms = {vocab[t].strip().lower() for t in row}
        count += len(forms) == 1 and next(iter(forms)).isalpha()
    return count


def concept_masks(nmap: Any, concepts: dict[str, list[str]]) -> dict[str, dict[int, Any]]:
    """Per concept and layer: (mass [d_mlp], distinct concept words [d_mlp]) of the top-k."""
    from interp.neurons.find import token_ids

    out: dict[str, dict[int, Any]] = {}
    for name, words in concepts.items():
        ids = token_ids(nmap.vocab, words, True)
        word_of = {i: nmap.vocab[i].strip().lower() for i in ids}
        target = torch.tensor(ids, dtype=torch.long)
        per_layer = {}
        for layer, data in nmap.data.items():
            match = torch.isin(data.top_ids.long(), target)
            mass = (data.top_probs * match).sum(1)
            distinct = torch.tensor([len({word_of[t] for t, m in zip(row, hit) if m})
                                     for row, hit in zip(data.top_ids.tolist(),
                                                         match.tolist())])
            per_layer[layer] = (mass, distinct)
        out[name] = per_layer
    return out


def layer_summary(nmap: Any, layer: int, masks: dict[str, dict[int, Any]]) -> dict[str, Any]:
    """The numbers of one layer of one map."""
    data = nmap.data[layer]
    top1 = data.top1_prob
    counts = Counter(data.top_ids[:, 0].tolist())
    concept_counts = {name: int((m[layer][0] >= CONCEPT_MASS).sum()) for name, m in masks.items()}
    category = torch.zeros(data.n_neurons, dtype=torch.bool)
    for m in masks.values():
        category |= m[layer][1] >= CATEGORY_WORDS
    ranked = sorted(((n, c) for c, n in concept_counts.items() if n), key=lambda x: (-x[0], x[1]))
    return {
        "layer": layer, "neurons": data.n_neurons,
        "specialised": int((top1 >= SPECIALISED).sum()),
        "top1_quantiles": [_r(q) for q in torch.quantile(top1, torch.tensor(QUANTILES))],
        "top1_histogram": torch.histc(top1, bins=BINS, min=0.0, max=1.0).int().tolist(),
        "distinct_top1": len(counts),
        "commonest_top1": [[nmap.vocab[t], n] for t, n in
                           sorted(counts.items(), key=lambda x: (-x[1], x[0]))[:5]],
        "form_neurons": form_neurons(nmap.vocab, data.top_ids),
        "category_neurons": int(category.sum()),
        "concept_neurons": sum(concept_counts.values()),
        "concept_counts": {c: n for c, n in concept_counts.items() if n},
        "top_concepts": [[c, n] for n, c in ranked[:3]],
    }


def concept_chance(real: dict[str, Any], rand: dict[str, Any]) -> dict[str, Any]:
    """Per concept, over all sides and layers: the best mass and the count of neurons with
    mass >= CONCEPT_MASS, real against random directions (as many as real neurons)."""
    out = {}
    for name in real[SIDES[0]]:
        row = {}
        for kind, masks in (("real", real), ("random", rand)):
            masses = torch.cat([m for side in SIDES for m, _ in masks[side][name].values()])
            row[f"{kind}_best_mass"] = _r(masses.max())
            row[f"{kind}_neurons"] = int((masses >= CONCEPT_MASS).sum())
        out[name] = row
    return out


def run_study(model: Model, layers: Sequence[int] | None, progress: bool = True) -> dict[str, Any]:
    from interp.neurons import decode_neurons

    concepts = load_concepts()
    sides: dict[str, Any] = {}
    masks: dict[str, Any] = {"real": {}, "random": {}}
    for s, side in enumerate(SIDES):
        real = decode_neurons(model, side, layers=layers, progress=progress, **OPTIONS)
        rand = random_map(model, real, SEED + s)
        masks["real"][side] = concept_masks(real, concepts)
        masks["random"][side] = concept_masks(rand, concepts)
        sides[side] = {"layers": [layer_summary(real, layer, masks["real"][side])
                                  for layer in real.layers],
                       "random": [layer_summary(rand, layer, masks["random"][side])
                                  for layer in real.layers]}
    totals = {side: {key: {kind: sum(row[key] for row in sides[side][kind])
                           for kind in ("layers", "random")}
                     for key in ("specialised", "form_neurons", "category_neurons",
                                 "concept_neurons")}
              for side in SIDES}
    return {"model": model.name, "fingerprint": model.fingerprint, "options": OPTIONS,
            "thresholds": {"specialised_top1": SPECIALISED, "concept_mass": CONCEPT_MASS,
                           "category_words": CATEGORY_WORDS, "form_top": FORM_TOP},
            "layers": list(layers) if layers is not None else "all", "seed": SEED,
            "sides": sides, "totals": totals,
            "concept_chance": concept_chance(masks["real"], masks["random"])}


def figure(result: dict[str, Any]) -> Any:
    """Per side, a heatmap of the top-1 probability histogram by layer (share of neurons)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=len(SIDES), subplot_titles=SIDES, shared_yaxes=True)
    edges = [f"{i / BINS:.2f}" for i in range(BINS)]
    for c, side in enumerate(SIDES):
        rows = result["sides"][side]["layers"]
        z = [[n / row["neurons"] for n in row["top1_histogram"]] for row in rows]
        fig.add_trace(go.Heatmap(z=z, x=edges, y=[row["layer"] for row in rows],
                                 colorscale="Blues", zmin=0, zmax=1, showscale=c == 0,
                                 colorbar={"title": "share"}), row=1, col=c + 1)
        fig.update_xaxes(title_text="top-1 probability", row=1, col=c + 1)
    fig.update_yaxes(title_text="layer", row=1, col=1)
    fig.update_layout(title=f"{result['model']}: top-1 probability of decoded neurons by layer",
                      height=520, width=1100)
    return fig


def table(result: dict[str, Any]) -> str:
    """Per side and layer: specialised (random), median top-1, form / category / concept
    neurons (random), commonest top-1 token, top concepts."""
    lines = []
    for side in SIDES:
        lines.append(f"{side}: layer  specialised(rand)  median-top1  form(rand)  "
                     f"category(rand)  concept(rand)  commonest-top1  top-concepts")
        for row, rnd in zip(result["sides"][side]["layers"], result["sides"][side]["random"]):
            tok, n = row["commonest_top1"][0]
            lines.append(
                f"  {row['layer']:>2}  {row['specialised']:>5} ({rnd['specialised']:>4})  "
                f"{row['top1_quantiles'][2]:.3f}  {row['form_neurons']:>4} "
                f"({rnd['form_neurons']})  {row['category_neurons']:>4} "
                f"({rnd['category_neurons']})  {row['concept_neurons']:>4} "
                f"({rnd['concept_neurons']})  {tok!r} x{n}  "
                + ", ".join(f"{c} {k}" for c, k in row["top_concepts"]))
    return "\n".join(lines)


def markdown_tables(result: dict[str, Any]) -> str:
    """The tables of docs/neurons-smollm2.md: per layer, specialised neurons and median top-1
    per side (random directions in brackets); per layer, form / category / concept neurons over
    the three sides (random in brackets) and the commonest concepts; per concept, the concept
    search's best mass and count of concept neurons against random directions."""
    sides = result["sides"]
    layers = [row["layer"] for row in sides[SIDES[0]]["layers"]]
    head = ["layer"] + [f"{s} specialised (random)" for s in SIDES] + [
        f"{s} median top-1" for s in SIDES]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for i, layer in enumerate(layers):
        real = [sides[s]["layers"][i] for s in SIDES]
        rand = [sides[s]["random"][i] for s in SIDES]
        out.append(f"| {layer} | " + " | ".join(
            f"{r['specialised']} ({q['specialised']})" for r, q in zip(real, rand)) + " | "
            + " | ".join(f"{r['top1_quantiles'][2]:.2f}" for r in real) + " |")
    head = ["layer", "form (random)", "category (random)", "concept (random)",
            "commonest concepts (neurons, 3 sides)"]
    out += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for i, layer in enumerate(layers):
        cells = []
        for key in ("form_neurons", "category_neurons", "concept_neurons"):
            real = sum(sides[s]["layers"][i][key] for s in SIDES)
            rand = sum(sides[s]["random"][i][key] for s in SIDES)
            cells.append(f"{real} ({rand})")
        pooled: Counter[str] = Counter()
        for s in SIDES:
            pooled.update(sides[s]["layers"][i]["concept_counts"])
        top = sorted(pooled.items(), key=lambda x: (-x[1], x[0]))[:3]
        out.append(f"| {layer} | " + " | ".join(cells) + " | "
                   + ", ".join(f"{c} {n}" for c, n in top) + " |")
    head = ["concept", "best mass: model (random)",
            f"neurons with mass >= {CONCEPT_MASS}: model (random)", "p (more than chance)"]
    out += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, c in result["concept_chance"].items():
        p = excess_p(c["real_neurons"], c["random_neurons"])
        out.append(f"| {name} | {c['real_best_mass']:.3f} ({c['random_best_mass']:.3f}) | "
                   f"{c['real_neurons']} ({c['random_neurons']}) | {p:.2g} |")
    return "\n".join(out)


def excess_p(real: int, random: int) -> float:
    """One-sided p that the model has more concept neurons than random directions: with both
    counts Poisson over the same number of vectors, real | (real + random) is Binomial(n, 1/2)
    under the null; p = P(X >= real)."""
    n = real + random
    return sum(math.comb(n, k) for k in range(real, n + 1)) / 2**n if n else 1.0


def write_result(result: dict[str, Any], out: Path, quick: bool) -> Path:
    from experiments.common import result_path, write_json
    from interp.atomic import write_atomic

    path = write_json(result_path(out, result["model"], quick), result)
    write_atomic(result_path(out, result["model"], quick, ".figure.json"),
                 figure(result).to_json() + "\n")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    from experiments.common import study_parser
    from interp import load_model

    parser = study_parser(__doc__, OUT_DIR, quick_help=f"layers {QUICK_LAYERS} only")
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--markdown", action="store_true",
                        help="only print the docs' tables from the result JSON already in --out")
    args = parser.parse_args(argv)
    if args.markdown:
        from experiments.common import result_path

        path = result_path(args.out, args.model, args.quick)
        print(markdown_tables(json.loads(path.read_text(encoding="utf-8"))))
        return 0
    t0 = time.perf_counter()
    model = load_model(args.model, device="cpu")
    result = run_study(model, QUICK_LAYERS if args.quick else None)
    path = write_result(result, args.out, args.quick)
    print(table(result))
    print(json.dumps(result["totals"]))
    print(f"{args.model}: {time.perf_counter() - t0:.1f} s; wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
