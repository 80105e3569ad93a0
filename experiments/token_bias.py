"""Token bias of decoded neurons, before and after: how much of the paper's reading (Davies 2025,
raw folded logits) is the pull of large-norm and flagged tokens, and which meanings appear once
tokens rank by cosine and flagged tokens are left out.

Every MLP neuron of the chosen layers is decoded through the LM head (interp.neurons) under
three settings, all at the default scale ("calibrated"; rankings equal those of "norm"):

    A  paper:   score="logit",  flagged_tokens="keep"
    B  cosine:  score="cosine", flagged_tokens="keep"
    C  clean:   score="cosine", flagged_tokens="exclude"

For each setting: the share of neurons whose top-1 token is among the 1 % / 5 % of tokens with
the largest folded-unembedding norm (ranked over the full vocabulary in every setting), the
number of distinct top-1 tokens, the 10 commonest, the neurons whose top-1 is a flagged token
(special, unreachable, under-trained: interp.models.vocab), and, for the committed concept words
(experiments/inputs/token_bias_concepts.json), the layers and neurons whose top-3 tokens include
the word (token string stripped and lower-cased == word lower-cased).

Writes <out>/<model>.json (sorted keys, no timings: reruns give the same file) and the figure as
plotly JSON, <out>/<model>.figure.json (a few tens of kB; open it offline with
`plotly.io.read_json(path).show()`); runs on a subset of layers or sides add a suffix.

    .venv/bin/python experiments/token_bias.py                    # both models, side up, all layers
    .venv/bin/python experiments/token_bias.py --quick            # SmolLM2, layers 0 15 29
    .venv/bin/python experiments/token_bias.py --models gemma-3-270m --sides up down
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from interp.models.vocab import KINDS, TokenFlags, token_flags, vocab_strings
from interp.neurons import decode_neurons
from interp.neurons.mapper import resolve_layers
from interp.progress import say

if TYPE_CHECKING:
    from interp.models.model import Model

MODELS = ("smollm2-135m-instruct", "gemma-3-270m")
SETTINGS: dict[str, dict[str, str]] = {
    "A": {"score": "logit", "flagged_tokens": "keep"},
    "B": {"score": "cosine", "flagged_tokens": "keep"},
    "C": {"score": "cosine", "flagged_tokens": "exclude"},
}
SETTING_NAMES = {"A": "paper (logit, keep flagged)", "B": "cosine (keep flagged)",
                 "C": "cosine, flagged excluded"}
NORM_SHARES = (0.01, 0.05)
CONCEPT_K = 3
N_COMMON = 10
N_UNDERTRAINED_EXAMPLES = 20
QUICK_MODEL, QUICK_LAYERS = "smollm2-135m-instruct", (0, 15, 29)
CONCEPTS_PATH = ROOT / "experiments" / "inputs" / "token_bias_concepts.json"
OUT_DIR = ROOT / "experiments" / "results" / "token_bias"
SEED = 0


def load_concepts(path: Path = CONCEPTS_PATH) -> list[str]:
    """The concept words of the committed list, in file order (unique)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    words = [w for group in data["categories"].values() for w in group]
    if len({w.lower() for w in words}) != len(words):
        raise ValueError(f"{path}: concept words must be unique (case-insensitive)")
    return words


def concept_token_ids(vocab: Sequence[str], words: Sequence[str]) -> dict[str, list[int]]:
    """word -> ids of tokens whose string, stripped and lower-cased, is the word lower-cased."""
    wanted = {w.lower(): w for w in words}
    out: dict[str, list[int]] = {w: [] for w in words}
    for i, s in enumerate(vocab):
        word = wanted.get(s.strip().lower())
        if word is not None:
            out[word].append(i)
    return out


def norm_top_sets(w_u: torch.Tensor, shares: Sequence[float] = NORM_SHARES
                  ) -> dict[str, torch.Tensor]:
    """{"top1pct": bool mask of the ceil(1 % of vocab) largest-norm tokens, ...} (ties: lower
    id first); w_u is the folded unembedding [d_model, vocab]."""
    norms = w_u.norm(dim=0)
    order = torch.argsort(norms, descending=True, stable=True)
    out = {}
    for share in shares:
        mask = torch.zeros(norms.shape[0], dtype=torch.bool)
        mask[order[:math.ceil(share * norms.shape[0])]] = True
        out[f"top{round(share * 100)}pct"] = mask
    return out


def decode_top(model: Model, side: str, layers: list[int], setting: str
               ) -> tuple[dict[int, torch.Tensor], dict[str, Any]]:
    """{layer: top-3 ids [d_mlp, 3] (int64)} under `setting`, and the map's calibration."""
    nmap = decode_neurons(model, side=side, layers=layers, top_k=CONCEPT_K, bottom_k=0,
                          **SETTINGS[setting])
    calib = nmap.header.extras.get("calibration", {})
    return ({layer: nmap.layer(layer).top_ids.long() for layer in layers},
            {"factor": round(float(calib.get("factor", float("nan"))), 6)})


def setting_stats(top: dict[int, torch.Tensor], vocab: Sequence[str], flags: TokenFlags,
                  norm_sets: dict[str, torch.Tensor], concept_ids: dict[str, list[int]]
                  ) -> tuple[dict[str, Any], dict[str, set[tuple[int, int]]]]:
    """Statistics of one setting; also {word: {(layer, neuron)} with the word in top-3}."""
    top1 = torch.cat([t[:, 0] for t in top.values()])
    n = int(top1.numel())
    counts = Counter(top1.tolist())
    reasons = flags.reasons()
    common = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:N_COMMON]
    stats: dict[str, Any] = {
        "n_neurons": n,
        "distinct_top1": len(counts),
        "commonest_top1": [{"id": t, "token": vocab[t], "count": c,
                            "flags": reasons.get(t, [])} for t, c in common],
        "norm_share": {k: round(float(m[top1].float().mean()), 6)
                       for k, m in norm_sets.items()},
        "per_layer": {str(layer): {k: round(float(m[t[:, 0]].float().mean()), 6)
                                   for k, m in norm_sets.items()}
                      for layer, t in top.items()},
    }
    flagged: dict[str, Any] = {}
    for kind in (*KINDS, "any"):
        ids = set(flags.ids() if kind == "any" else getattr(flags, kind))
        hit = [t for t in counts if t in ids]
        flagged[kind] = {"neurons": sum(counts[t] for t in hit), "distinct_tokens": len(hit)}
    stats["flagged_top1"] = flagged

    hits: dict[str, set[tuple[int, int]]] = {}
    per_concept: dict[str, Any] = {}
    for word, ids in concept_ids.items():
        found: set[tuple[int, int]] = set()
        if ids:
            want = torch.tensor(ids)
            for layer, t in top.items():
                rows = torch.isin(t[:, :CONCEPT_K], want).any(dim=1).nonzero().squeeze(1)
                found.update((layer, int(r)) for r in rows)
        hits[word] = found
        layers_hit = sorted({layer for layer, _ in found})
        per_concept[word] = {"n_layers": len(layers_hit), "n_neurons": len(found),
                             "layers": layers_hit}
    stats["concepts"] = per_concept
    stats["concepts_total"] = {
        "concepts_present": sum(1 for c in per_concept.values() if c["n_layers"] > 0),
        "layer_count_sum": sum(c["n_layers"] for c in per_concept.values()),
        "neurons": len(set().union(*hits.values())) if hits else 0,
    }
    return stats, hits


def study_side(model: Model, side: str, layers: list[int], words: Sequence[str],
               vocab: Sequence[str], flags: TokenFlags, norm_sets: dict[str, torch.Tensor],
               log: bool = True) -> dict[str, Any]:
    """All three settings on one side, plus what appears only after (B/C against A)."""
    concept_ids = concept_token_ids(vocab, words)
    out: dict[str, Any] = {"settings": {}}
    hits: dict[str, dict[str, set[tuple[int, int]]]] = {}
    for setting, options in SETTINGS.items():
        t0 = time.perf_counter()
        top, calib = decode_top(model, side, layers, setting)
        stats, hits[setting] = setting_stats(top, vocab, flags, norm_sets, concept_ids)
        stats["options"] = dict(options, scale="calibrated")
        stats["calibration"] = calib
        stats["description"] = SETTING_NAMES[setting]
        out["settings"][setting] = stats
        say("token-bias", f"{model.name} {side} {setting}: {time.perf_counter() - t0:.1f} s",
            enabled=log)
    base = out["settings"]["A"]["concepts"]
    base_neurons = set().union(*hits["A"].values())
    after: dict[str, Any] = {}
    for setting in ("B", "C"):
        now = out["settings"][setting]["concepts"]
        neurons = set().union(*hits[setting].values())
        after[setting] = {
            "concepts_only_after": [w for w in words
                                    if base[w]["n_layers"] == 0 and now[w]["n_layers"] > 0],
            "concepts_lost": [w for w in words
                              if base[w]["n_layers"] > 0 and now[w]["n_layers"] == 0],
            "neurons_with_concept_only_after": len(neurons - base_neurons),
            "neurons_with_concept_lost": len(base_neurons - neurons),
        }
    out["only_after"] = after
    out["concept_tokens"] = {w: [vocab[i] for i in ids] for w, ids in concept_ids.items()}
    return out


def flag_summary(flags: TokenFlags, vocab: Sequence[str]) -> dict[str, Any]:
    """Counts per kind and N_UNDERTRAINED_EXAMPLES under-trained tokens (fixed-seed sample)."""
    under = list(flags.undertrained)
    g = torch.Generator().manual_seed(SEED)
    pick = sorted(under[i] for i in torch.randperm(len(under), generator=g)
                  [:N_UNDERTRAINED_EXAMPLES].tolist())
    return {"counts": {k: len(getattr(flags, k)) for k in KINDS} | {"any": len(flags.ids())},
            "undertrained_examples": [{"id": t, "token": vocab[t]} for t in pick],
            "method": flags.method}


def run_study(model: Model, sides: Sequence[str] = ("up",), layers: Sequence[int] | None = None,
              words: Sequence[str] | None = None, log: bool = True) -> dict[str, Any]:
    """The whole study for one loaded model (a JSON-ready dict; no timings, so deterministic)."""
    words = list(words) if words is not None else load_concepts()
    chosen = resolve_layers(model.facts.n_layers, None if layers is None else list(layers))
    vocab = vocab_strings(model)
    flags = token_flags(model)
    w_u, _ = model.folded_unembedding(torch.float32)
    norm_sets = norm_top_sets(w_u.detach().cpu())
    del w_u
    result: dict[str, Any] = {
        "model": str(model.name), "fingerprint": model.fingerprint,
        "n_layers": model.facts.n_layers, "d_mlp": model.facts.d_mlp,
        "d_vocab": model.facts.d_vocab, "layers": chosen, "concept_words": words,
        "concept_match": f"top-{CONCEPT_K} token string stripped and lower-cased == word",
        "norm_sets": {k: int(m.sum()) for k, m in norm_sets.items()},
        "settings": {k: dict(v, scale="calibrated", description=SETTING_NAMES[k])
                     for k, v in SETTINGS.items()},
        "token_flags": flag_summary(flags, vocab),
        "sides": {side: study_side(model, side, chosen, words, vocab, flags, norm_sets, log)
                  for side in sides},
    }
    return result


def figure(result: dict[str, Any]) -> Any:
    """Per-layer top-1 %-norm share by setting (top) and concept layer counts (bottom)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=2, cols=1, vertical_spacing=0.15, subplot_titles=(
        "share of neurons whose top-1 token is in the 1 % largest-norm tokens",
        f"layers with a neuron whose top-{CONCEPT_K} includes the concept"))
    colours = {"A": "#d62728", "B": "#1f77b4", "C": "#2ca02c"}
    for side, data in result["sides"].items():
        for key, stats in data["settings"].items():
            name = f"{side} {key}: {stats['description']}"
            layers = sorted(int(x) for x in stats["per_layer"])
            fig.add_trace(go.Scatter(
                x=layers, y=[stats["per_layer"][str(x)]["top1pct"] for x in layers],
                mode="lines+markers", name=name, legendgroup=name,
                line={"color": colours[key]}), row=1, col=1)
            words = result["concept_words"]
            fig.add_trace(go.Bar(x=words, y=[stats["concepts"][w]["n_layers"] for w in words],
                                 name=name, legendgroup=name, showlegend=False,
                                 marker={"color": colours[key]}), row=2, col=1)
    fig.update_layout(title=f"Token bias of decoded neurons: {result['model']}", barmode="group",
                      template="simple_white", height=800, width=1100)
    fig.update_xaxes(title_text="layer", row=1, col=1)
    fig.update_yaxes(title_text="share", row=1, col=1)
    fig.update_yaxes(title_text="layers", row=2, col=1)
    return fig


def out_stem(name: str, n_layers: int, sides: Sequence[str], layers: list[int]) -> str:
    """<model>, plus .sides-... / .layers-... when not the default full study of side up."""
    stem = name
    if list(sides) != ["up"]:
        stem += ".sides-" + "-".join(sides)
    if layers != list(range(n_layers)):
        stem += ".layers-" + "-".join(str(x) for x in layers)
    return stem


def write_result(result: dict[str, Any], out: Path, sides: Sequence[str]) -> list[Path]:
    """<stem>.json (sorted keys) and <stem>.figure.json (plotly JSON) under `out`."""
    import plotly.io as pio

    out.mkdir(parents=True, exist_ok=True)
    stem = out_stem(result["model"], result["n_layers"], sides, result["layers"])
    paths = [out / f"{stem}.json", out / f"{stem}.figure.json"]
    paths[0].write_text(json.dumps(result, sort_keys=True, indent=1, ensure_ascii=False) + "\n",
                        encoding="utf-8")
    paths[1].write_text(pio.to_json(figure(result), pretty=False) + "\n", encoding="utf-8")
    return paths


def summary(result: dict[str, Any]) -> str:
    """A compact before/after table per side, for the terminal."""
    head = (f"== {result['model']} ({len(result['layers'])} layers) flags "
            f"{result['token_flags']['counts']}")
    lines = [head]
    for side, data in result["sides"].items():
        lines.append(f"-- side {side}")
        lines.append("set  top1%   top5%   distinct  flag(sp/unr/und/any)  concepts  "
                     "layer-sum  commonest")
        for key, s in data["settings"].items():
            f = s["flagged_top1"]
            flagged = "/".join(str(f[k]["neurons"]) for k in (*KINDS, "any"))
            common = ", ".join(f"{c['token']!r} {c['count']}" for c in s["commonest_top1"][:3])
            lines.append(f"{key}    {s['norm_share']['top1pct']:.3f}   "
                         f"{s['norm_share']['top5pct']:.3f}   {s['distinct_top1']:>8}  "
                         f"{flagged:>20}  {s['concepts_total']['concepts_present']:>8}  "
                         f"{s['concepts_total']['layer_count_sum']:>9}  {common}")
        for key in ("B", "C"):
            a = data["only_after"][key]
            lines.append(f"only after {key}: {len(a['concepts_only_after'])} concepts "
                         f"{a['concepts_only_after']}; "
                         f"{a['neurons_with_concept_only_after']} neurons")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    from interp import load_model
    from interp.models.real import installed

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--sides", nargs="+", default=["up"], choices=("up", "gate", "down"))
    parser.add_argument("--layers", nargs="+", type=int, default=None,
                        help="layers to decode (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_MODEL} only, layers {' '.join(map(str, QUICK_LAYERS))}")
    parser.add_argument("--concepts", type=Path, default=CONCEPTS_PATH)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    torch.manual_seed(SEED)
    models, layers = args.models, args.layers
    if args.quick:
        models, layers = [QUICK_MODEL], list(QUICK_LAYERS)
    words = load_concepts(args.concepts)
    for name in models:
        if not installed(name):
            print(f"skip {name}: not installed", file=sys.stderr)
            continue
        t0 = time.perf_counter()
        model = load_model(name, device=args.device)
        result = run_study(model, args.sides, layers, words)
        paths = write_result(result, args.out, args.sides)
        print(summary(result))
        print(f"{name}: {time.perf_counter() - t0:.1f} s; wrote "
              + ", ".join(str(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p)
                          for p in paths))
        del model
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
