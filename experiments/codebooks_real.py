"""Codebook bottlenecks in a real model (Tamkin et al. 2023 on SmolLM2-135M-Instruct): splice a
codebook into a middle layer's MLP output and one into its attention heads (one codebook per
head), train each with the model frozen, and measure what it costs, what its codes mark and
whether activating a code steers generation.

Inputs: experiments/inputs/codebooks_real.json (sites, codebook and training settings, the
features searched, the steering design, the reduced CI form), the concepts' word lists of
experiments/inputs/concepts.json and the neutral prompts of
experiments/inputs/neutral_prompts.json. Text: the committed python-docs corpus, training split
for training, held-out split (every tenth document) for everything measured.

1. Train: one `Codebooks` over all sites, finetuned together (as in the paper) with
   `interp codebook train`'s defaults (the paper's choices; the model frozen) except half its
   steps (the settings are in the inputs).
2. Cost: `health` on held-out rows, with all codebooks spliced in and with each alone: the
   next-token loss and accuracy of the model without and with them on the same tokens; the
   loss increase with a 95 % percentile bootstrap interval over rows (paired); code
   utilisation (active codes, dead fraction, usage entropy) and relative reconstruction error.
3. Search: each feature marks tokens of the held-out documents (a concept's words or a regex);
   per site, the best code by F1 (`rank_codes`) beside three baselines: the best MLP neuron of
   any layer (`rank_neurons`, the paper's comparison), the best code of the same codebook
   before training (does training matter?) and the best code against the same number of marks
   shuffled over the tokens (chance).
4. Steer: for each steered feature (a concept's words, or a regex such as digits) and site,
   its best code takes all k slots at every position; controls are the codes of the same
   codebook (and head) nearest in training usage.
   One sampled continuation per prompt and arm (unsteered, then target and controls of every
   site and concept), all arms of a prompt in one batch (`CodeSteer(rows=...)`), all codebooks
   spliced in; a continuation shows the feature when it contains one of the concept's words
   (or matches the regex). Effect =
   target rate - mean control rate, and target rate - unsteered rate, with 95 % paired
   bootstrap intervals over prompts; the share of distinct words shows degeneration.

Writes experiments/results/codebooks_real/<model>.json (sorted keys, rounded; timings apart in
"seconds") and <model>.figures.json (plotly: steering rates with intervals, code usage);
`--quick` (CI) writes <model>.quick.json from a few steps, a small codebook and two prompts.
The full run takes about 30 minutes on 2 cores.

    .venv/bin/python experiments/codebooks_real.py             # the study of docs/codebook.md
    .venv/bin/python experiments/codebooks_real.py --quick     # reduced form (CI)
    .venv/bin/python experiments/codebooks_real.py --markdown  # the docs' tables
"""

from __future__ import annotations

import json
import math
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from interp.codebook import Codebook, Codebooks
    from interp.codebook.search import CodeCard, Marked
    from interp.models.model import Model

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

INPUTS_PATH = ROOT / "experiments" / "inputs" / "codebooks_real.json"
CONCEPTS_PATH = ROOT / "experiments" / "inputs" / "concepts.json"
OUT_DIR = ROOT / "experiments" / "results" / "codebooks_real"
#: Seed of the bootstrap resamples and of the shuffled-marks control.
CONTROL_SEED = 1234


def load_inputs(path: Path = INPUTS_PATH, quick: bool = False) -> dict[str, Any]:
    inputs = json.loads(Path(path).read_text(encoding="utf-8"))
    if quick:
        q = inputs["quick"]
        inputs = {**inputs, **{k: v for k, v in q.items() if k not in ("search", "steer")},
                  "search": {**inputs["search"], **q["search"]},
                  "steer": {**inputs["steer"], **q["steer"]}}
    inputs.pop("quick", None)
    return inputs


def bootstrap_mean(diff: torch.Tensor, n: int, seed: int) -> tuple[float, float]:
    """95 % percentile interval of the mean of `diff` (one value per unit) over `n` resamples."""
    gen = torch.Generator().manual_seed(seed)
    idx = torch.randint(len(diff), (n, len(diff)), generator=gen)
    means = diff.double()[idx].mean(-1)
    return float(means.quantile(0.025)), float(means.quantile(0.975))


def concept_words(name: str) -> list[str]:
    return json.loads(CONCEPTS_PATH.read_text(encoding="utf-8"))["concepts"][name]


def feature_pattern(name: str, inputs: dict[str, Any]) -> re.Pattern[str]:
    """How a continuation is checked for a search feature: a concept's words (whole words,
    plurals, any case) or the feature's regex (case-insensitive, as the marks)."""
    from interp.steer.concepts import mention_pattern

    feature = next(f for f in inputs["search"]["features"] if f["name"] == name)
    if "concept" in feature:
        return mention_pattern(concept_words(feature["concept"]))
    return re.compile(feature["regex"], re.IGNORECASE)


# -- cost ------------------------------------------------------------------------------------

def cost(model: Model, books: Codebooks, held: torch.Tensor, inputs: dict[str, Any]
         ) -> dict[str, Any]:
    """Loss and accuracy with and without the codebook, utilisation, with a row bootstrap."""
    from interp.codebook import health

    h = health(model, books, held)
    diff = torch.tensor(h.row_loss_codebooks) - torch.tensor(h.row_loss_original)
    low, high = bootstrap_mean(diff, inputs["bootstrap"], CONTROL_SEED)
    site = h.sites[0].to_dict()
    return {"n_rows": len(held), "n_tokens": h.n_tokens, "loss_original": h.loss_original,
            "loss_codebook": h.loss_codebooks, "loss_increase": h.loss_increase,
            "loss_increase_ci": [low, high], "accuracy_original": h.accuracy_original,
            "accuracy_codebook": h.accuracy_codebooks,
            "accuracy_relative_drop": 1 - h.accuracy_codebooks / max(h.accuracy_original, 1e-12),
            **{k: site[k] for k in ("codes", "active", "dead_fraction", "entropy_bits",
                                     "max_entropy_bits", "relative_error")}}


# -- search ----------------------------------------------------------------------------------

def mark_features(model: Model, texts: list[str], inputs: dict[str, Any]
                  ) -> dict[str, Marked]:
    """Each feature's marked tokens in `texts` (a concept's words, or a regex)."""
    from interp.codebook.search import mark_tokens

    out: dict[str, Marked] = {}
    for f in inputs["search"]["features"]:
        if "concept" in f:
            out[f["name"]] = mark_tokens(model, texts, token_set=concept_words(f["concept"]))
        else:
            out[f["name"]] = mark_tokens(model, texts, regex=f["regex"])
    return out


def shuffled(marked: Marked, seed: int) -> Marked:
    """The same tokens with the same number of marks, placed uniformly at random."""
    from interp.codebook.search import Marked

    flat = torch.cat(marked.marks)
    gen = torch.Generator().manual_seed(seed)
    perm = flat[torch.randperm(len(flat), generator=gen)]
    marks = list(perm.split([len(m) for m in marked.marks]))
    return Marked(marked.tokens, marks, marked.regex + " (shuffled)")


def _best(cards: list[CodeCard]) -> dict[str, Any] | None:
    if not cards:
        return None
    c = cards[0]
    return {"unit": c.unit, "precision": c.precision, "recall": c.recall, "f1": c.f1,
            "n_active": c.n_active, "top_tokens": [t for t, _ in c.top_tokens[:5]]}


def searched(marks: dict[str, Marked], inputs: dict[str, Any]) -> dict[str, Marked]:
    """The features with at least `min_marked` marked tokens."""
    return {k: m for k, m in marks.items() if m.n_marked >= inputs["search"]["min_marked"]}


def neuron_baselines(model: Model, marks: dict[str, Marked], inputs: dict[str, Any]
                     ) -> dict[str, Any]:
    """The best MLP neuron of any layer per searched feature (site-independent)."""
    from interp.codebook.search import neuron_use, rank_neurons

    m = inputs["search"]["min_active"]
    use = neuron_use(model, next(iter(marks.values())).tokens)
    return {name: _best(rank_neurons(model, use, marked, top=1, min_active=m))
            for name, marked in searched(marks, inputs).items()}


def search(model: Model, books: Codebooks, untrained: Codebooks, marks: dict[str, Marked],
           neurons: dict[str, Any], inputs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{site: {feature: the site's best code, trained and untrained, against the marks and
    against shuffled marks, beside the best neuron}}."""
    from interp.codebook.search import CodeUse, code_use, rank_codes

    def alone(use: CodeUse, site: str) -> CodeUse:
        return CodeUse(use.tokens, {site: use.ids[site]}, {site: use.shapes[site]},
                       use.lengths)

    m = inputs["search"]["min_active"]
    use = searched(marks, inputs)
    texts = next(iter(marks.values())).tokens  # every feature marks the same texts
    trained, before = code_use(model, books, texts), code_use(model, untrained, texts)
    out: dict[str, dict[str, Any]] = {}
    for site in inputs["sites"]:
        now, then = alone(trained, site), alone(before, site)
        out[site] = {}
        for name, marked in marks.items():
            row: dict[str, Any] = {"n_marked": marked.n_marked, "searched": name in use}
            if name in use:
                row["code"] = _best(rank_codes(model, now, marked, top=1, min_active=m))
                row["untrained_code"] = _best(rank_codes(model, then, marked, top=1,
                                                         min_active=m))
                row["shuffled_code"] = _best(rank_codes(model, now, shuffled(
                    marked, CONTROL_SEED), top=1, min_active=m))
                row["neuron"] = neurons.get(name)
            out[site][name] = row
    return out


# -- steering --------------------------------------------------------------------------------

def control_codes(book: Codebook, group: int, code: int, n: int) -> list[int]:
    """The n codes of `group` (not `code`) whose training usage is nearest `code`'s (in log)."""
    counts = book.counts[group].double()
    gap = ((counts + 1).log() - math.log(float(counts[code]) + 1)).abs()
    gap[code] = float("inf")
    order = sorted(range(len(gap)), key=lambda i: (float(gap[i]), i))
    return order[:n]


def plan_arms(books: Codebooks, found: dict[str, dict[str, Any]], inputs: dict[str, Any]
              ) -> list[dict[str, Any]]:
    """Row 0 unsteered, then per site and concept its target code and its controls (a row
    each): one batch holds every arm of a prompt."""
    from interp.codebook.steer import CodeSteer

    arms: list[dict[str, Any]] = [{"site": None, "concept": None, "arm": "unsteered",
                                   "steer": None}]
    for site in inputs["sites"]:
        book = books[site]
        for concept in inputs["steer"]["concepts"]:
            best = (found[site].get(concept) or {}).get("code")
            if best is None:
                continue
            target = CodeSteer.parse(best["unit"], "slot", book.k)
            rows = [(target.code, "target")] + [
                (c, "control") for c in control_codes(book, target.group, target.code,
                                                       inputs["steer"]["controls"])]
            for code, arm in rows:
                arms.append({"site": site, "concept": concept, "arm": arm,
                             "group": target.group, "code": code,
                             "steer": CodeSteer(target.site, code, "slot", book.k,
                                                target.group, rows=(len(arms),))})
    return arms


@torch.no_grad()
def generate_arms(model: Model, books: Codebooks, arms: list[dict[str, Any]], prompts: list[str],
                  inputs: dict[str, Any]) -> list[list[str]]:
    """texts[p][r]: prompt p's continuation in arm r (one batch per prompt)."""
    from interp.codebook import splice
    from interp.codebook.steer import activate

    s = inputs["steer"]
    specs = [a["steer"] for a in arms if a["steer"] is not None]
    texts = []
    with splice(model, books), activate(model, books, *specs):
        for i, prompt in enumerate(prompts):
            tokens = model.to_tokens(prompt)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(inputs["seed"] * 100_003 + i)
                out = model.generate(tokens.expand(len(arms), -1), do_sample=True,
                                     max_new_tokens=s["max_new_tokens"],
                                     temperature=s["temperature"], use_cache=True,
                                     stop_at_eos=False, verbose=False)
            new = out[:, tokens.shape[1]:].cpu()
            texts.append([model.tokenizer.decode(r.tolist(), skip_special_tokens=True)
                          for r in new])
    return texts


def distinct_share(texts: list[str]) -> float:
    words = [w.lower() for t in texts for w in t.split()]
    return len(set(words)) / len(words) if words else 0.0


def steering(arms: list[dict[str, Any]], texts: list[list[str]], inputs: dict[str, Any]
             ) -> dict[str, dict[str, Any]]:
    """{site: {concept: rates of the unsteered, target and control rows, effects with
    intervals}} (None where the site has no code for the concept)."""
    out: dict[str, dict[str, Any]] = {}
    for site in inputs["sites"]:
        out[site] = {}
        for concept in inputs["steer"]["concepts"]:
            rows = [r for r, a in enumerate(arms)
                    if a["site"] == site and a["concept"] == concept]
            out[site][concept] = concept_effect(arms, rows, texts, concept, inputs)
    return out


def concept_effect(arms: list[dict[str, Any]], rows: list[int], texts: list[list[str]],
                   concept: str, inputs: dict[str, Any]) -> dict[str, Any] | None:
    """The target row's concept rate against its controls' and the unsteered row's, over
    prompts (paired bootstrap intervals); None when there is no target row."""
    from interp.steer.concepts import mentions

    if not rows:
        return None
    n = inputs["bootstrap"]
    base = [t[0] for t in texts]
    pattern = feature_pattern(concept, inputs)
    hit = torch.tensor([[float(mentions(t[r], pattern) > 0) for r in [0, *rows]]
                        for t in texts])  # [prompts, 1 + target + controls]
    target, control = hit[:, 1], hit[:, 2:].mean(-1)
    vs_control = bootstrap_mean(target - control, n, CONTROL_SEED)
    vs_unsteered = bootstrap_mean(target - hit[:, 0], n, CONTROL_SEED)
    return {
        "target_code": arms[rows[0]]["code"], "group": arms[rows[0]]["group"],
        "control_codes": [arms[r]["code"] for r in rows[1:]],
        "n_prompts": len(texts), "unsteered_rate": float(hit[:, 0].mean()),
        "target_rate": float(target.mean()), "control_rate": float(control.mean()),
        "effect_vs_control": float((target - control).mean()),
        "effect_vs_control_ci": list(vs_control),
        "effect_vs_unsteered": float((target - hit[:, 0]).mean()),
        "effect_vs_unsteered_ci": list(vs_unsteered),
        "distinct_share_target": distinct_share([t[rows[0]] for t in texts]),
        "distinct_share_unsteered": distinct_share(base),
        "examples": [t[rows[0]] for t in texts[:3]]}


# -- the study -------------------------------------------------------------------------------

def subset(books: Codebooks, site: str) -> Codebooks:
    """The codebook of one site alone (the same module, shared with `books`)."""
    from interp.codebook import Codebooks, CodebookSite

    return Codebooks([CodebookSite.parse(site)], [books[site]], model_name=books.model_name,
                     fingerprint=books.fingerprint)


def run_study(model: Model, inputs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    from interp.codebook import Codebooks, finetune
    from interp.codebook.train import TrainConfig, pack_tokens
    from interp.progress import say
    from interp.texts.corpora import default_documents

    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    train_docs = default_documents(model, 10**9, split="train")
    held_docs = default_documents(model, 10**9, split="held_out")
    rows = pack_tokens(model, train_docs, inputs["seq_len"])
    held = pack_tokens(model, held_docs, inputs["seq_len"])[: inputs["eval_rows"]]
    search_docs, chars = [], 0
    for doc in held_docs:
        if chars >= inputs["search"]["chars"]:
            break
        search_docs.append(doc)
        chars += len(doc)
    prompts = json.loads((ROOT / inputs["steer"]["prompts_file"]).read_text(
        encoding="utf-8"))["prompts"][: inputs["steer"]["n_prompts"]]
    say("codebooks", f"{len(rows)} training rows, {len(held)} held-out rows, "
        f"{len(search_docs)} search documents ({chars} characters)")
    seconds["texts"] = time.perf_counter() - t0

    def fresh() -> Codebooks:
        return Codebooks.create(model, inputs["sites"], inputs["codes"], inputs["k"],
                                seed=inputs["seed"])

    books, untrained = fresh(), fresh()
    config = TrainConfig(steps=inputs["steps"], batch_size=inputs["batch_size"],
                         seq_len=inputs["seq_len"], lr=inputs["lr"], seed=inputs["seed"])
    t0 = time.perf_counter()
    log = finetune(model, books, rows, config)
    seconds["train"] = time.perf_counter() - t0
    usage = {site: books[site].counts.clone() for site in inputs["sites"]}  # for the controls
    t0 = time.perf_counter()
    say("codebooks", f"cost on {len(held)} held-out rows")
    costs = {"all sites": cost(model, books, held, inputs)}
    if len(inputs["sites"]) > 1:
        costs |= {site: cost(model, subset(books, site), held, inputs)
                  for site in inputs["sites"]}
    seconds["cost"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    say("codebooks", "search")
    marks = mark_features(model, search_docs, inputs)
    neurons = neuron_baselines(model, marks, inputs)
    found = search(model, books, untrained, marks, neurons, inputs)
    seconds["search"] = time.perf_counter() - t0
    for site in inputs["sites"]:
        books[site].counts.copy_(usage[site])
    t0 = time.perf_counter()
    say("codebooks", f"steering on {len(prompts)} prompts")
    arms = plan_arms(books, found, inputs)
    texts = generate_arms(model, books, arms, prompts, inputs) if len(arms) > 1 else []
    steer = steering(arms, texts, inputs) if texts else {}
    seconds["steer"] = time.perf_counter() - t0
    say("codebooks", "seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in seconds.items()))
    sites = {site: {"cost_alone": costs.get(site),
                    "search": found[site], "steer": steer.get(site, {}),
                    "usage_counts_sorted": sorted((int(c) for c in usage[site].reshape(-1)),
                                                  reverse=True)}
             for site in inputs["sites"]}
    result = {"model": model.name, "fingerprint": model.fingerprint, "inputs": inputs,
              "data": {"train_rows": len(rows), "held_out_rows": len(held),
                       "search_documents": len(search_docs), "search_characters": chars,
                       "search_tokens": sum(len(t) for t in next(iter(marks.values())).tokens)},
              "train": {"first_lm_loss": log.lm_loss[0], "last_lm_loss": log.lm_loss[-1],
                        "last_recon_loss": log.recon_loss[-1]},
              "cost": costs["all sites"], "sites": sites}
    from experiments.common import rounded

    return rounded(result), figures(result)


def figures(result: dict[str, Any]) -> dict[str, Any]:
    """Plotly figures (as dicts): steering rates per concept and arm, code usage by rank."""
    import plotly.graph_objects as go

    steer = go.Figure()
    usage = go.Figure()
    for site, r in _sites(result):
        names = [c for c in result["inputs"]["steer"]["concepts"] if r["steer"].get(c)]
        for arm, key in (("unsteered", "unsteered_rate"), ("controls", "control_rate"),
                         ("target code", "target_rate")):
            steer.add_bar(name=f"{site} {arm}", x=names, y=[r["steer"][c][key] for c in names])
        counts = r["usage_counts_sorted"]
        usage.add_scatter(name=site, x=list(range(1, len(counts) + 1)), y=counts, mode="lines")
    steer.update_layout(barmode="group", title="Continuations naming the concept",
                        yaxis_title="share of prompts", yaxis_range=[0, 1])
    usage.update_layout(title="Code usage in training (sorted)", xaxis_title="code rank",
                        yaxis_title="tokens", yaxis_type="log")
    return {"steering": steer.to_plotly_json(), "usage": usage.to_plotly_json()}


def _fmt_card(card: dict[str, Any] | None) -> str:
    if not card:
        return "none"
    return f"`{card['unit']}` P {card['precision']:.2f} R {card['recall']:.2f} F1 {card['f1']:.2f}"


def _sites(result: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(site, its results) in the inputs' order (the JSON sorts its keys)."""
    return [(site, result["sites"][site]) for site in result["inputs"]["sites"]]


def markdown_tables(result: dict[str, Any]) -> str:
    """The docs' tables: cost, search against baselines, steering."""
    lines = [("| codebooks spliced in | loss without | loss with | increase (95 % CI) | "
              "accuracy without / with (relative drop) |"), "|---|---|---|---|---|"]
    costs = [("all sites (as trained)", result["cost"])] + [
        (f"{site} alone", r["cost_alone"]) for site, r in _sites(result)
        if r["cost_alone"]]
    for name, c in costs:
        lo, hi = c["loss_increase_ci"]
        lines.append(
            f"| {name} | {c['loss_original']:.3f} | {c['loss_codebook']:.3f} | "
            f"{c['loss_increase']:+.3f} ({lo:+.3f} to {hi:+.3f}) | "
            f"{c['accuracy_original']:.1%} / {c['accuracy_codebook']:.1%} "
            f"({c['accuracy_relative_drop']:.1%}) |")
    lines += ["", "| site | codes | active | dead | usage entropy (bits) | relative error |",
              "|---|---|---|---|---|---|"]
    for name, c in costs[1:] or costs:
        lines.append(f"| {name.removesuffix(' alone')} | {c['codes']} | {c['active']} | "
                     f"{c['dead_fraction']:.1%} | {c['entropy_bits']:.2f} of "
                     f"{c['max_entropy_bits']:.0f} | {c['relative_error']:.3f} |")
    lines += ["", ("| site | feature | marked | best code | untrained codebook | shuffled marks "
              "| best neuron (any layer) |"), "|---|---|---|---|---|---|---|"]
    for site, r in _sites(result):
        for name in [f["name"] for f in result["inputs"]["search"]["features"]]:
            f = r["search"][name]
            if not f["searched"]:
                lines.append(f"| {site} | {name} | {f['n_marked']} | too few marks | | | |")
                continue
            shuf = f["shuffled_code"]["f1"] if f["shuffled_code"] else 0.0
            untr = f["untrained_code"]["f1"] if f["untrained_code"] else 0.0
            lines.append(f"| {site} | {name} | {f['n_marked']} | {_fmt_card(f['code'])} | "
                         f"F1 {untr:.2f} | F1 {shuf:.2f} | {_fmt_card(f['neuron'])} |")
    lines += ["", ("| site | concept | code | unsteered | controls | target | target - controls "
              "(95 % CI) | target - unsteered (95 % CI) | distinct words target / unsteered |"),
              "|---|---|---|---|---|---|---|---|---|"]
    for site, r in _sites(result):
        for concept in result["inputs"]["steer"]["concepts"]:
            s = r["steer"].get(concept)
            if not s:
                continue
            a, b = s["effect_vs_control_ci"]
            c, d = s["effect_vs_unsteered_ci"]
            head = f"/h{s['group']}" if site.endswith("attn_z") else ""
            lines.append(
                f"| {site} | {concept} | {head}#{s['target_code']} | {s['unsteered_rate']:.2f} | "
                f"{s['control_rate']:.2f} | {s['target_rate']:.2f} | "
                f"{s['effect_vs_control']:+.2f} ({a:+.2f} to {b:+.2f}) | "
                f"{s['effect_vs_unsteered']:+.2f} ({c:+.2f} to {d:+.2f}) | "
                f"{s['distinct_share_target']:.2f} / {s['distinct_share_unsteered']:.2f} |")
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
    torch.manual_seed(inputs["seed"])
    model = load_model(inputs["model"], device="cpu")
    result, figs = run_study(model, inputs)
    write_json(path, result)
    write_json(result_path(args.out, inputs["model"], args.quick, ".figures.json"), figs)
    print(markdown_tables(result))
    print(f"{inputs['model']}: {time.perf_counter() - t0:.1f} s; wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
