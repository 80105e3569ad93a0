"""Syntax in a real model: the AST-Probe of Hernández López et al. 2022 on SmolLM2-135M-Instruct,
per residual row, beside every control of issue 20 on the same test snippets.

Inputs: experiments/inputs/ast_probe_real.json (the data, the rows probed, the probe's
settings and where they depart from the paper, the ranks of the sweep, the diagnostics, the
reduced CI form). Steps:

1. Data: Python functions of this interpreter's standard library
   (`interp.astprobe.data.stdlib_snippets`: split by the hash of the file's path, so no file is
   in two splits; deduplicated), parsed, encoded as (d, c, u) and aligned to the tokenizer
   (`prepare_samples`; also deduplicated across splits). The result records the sizes asked
   for, found and used (with the skip counts), the leaves per split, a sha256 of the snippets
   and of the prepared samples, and the Python version (the standard library differs between
   versions: another version gives other snippets).
2. Leaf vectors of the probed rows only (row 0 = the embedding output, row l = the residual
   after l blocks), one forward pass per batch; a leaf's vector is the **mean of the vectors of
   every token overlapping its characters** (the paper's `scatter_mean` over a leaf's
   subwords; a token spanning two leaves, e.g. '):', serves both: 12 % of gaps between
   adjacent leaves here). All 31 rows of the ~2,600 snippets (~155,000 leaves) would take
   ~5.5 GB per model in float16 (twice that with the random-init copy), so only the listed
   rows are captured: ~180 MB per row and pooling; the two models' vectors are never held at
   once.
3. One probe per row (`interp.astprobe.experiment.probe_row`): test constituent F1 (mean over
   snippets, the paper's; precision, recall, micro scores) and validation F1. The best row is
   the validation-F1 argmax; test scores never choose anything.
4. Controls, same test snippets: the **embedding layer** (row 0: this IS the probe on
   non-contextual token embeddings: SmolLM2 has rotary positions, so row 0 is the token's row
   of the embedding matrix, mean-pooled over the leaf's tokens exactly as the hidden states
   are; the test recomputes it from the weights); the **random-init copy with the embeddings
   kept** (the paper's baseline: `interp.astprobe.baseline.random_init_model`, the probe's
   seed) probed at the same rows; the **adjacent-leaf lookup table**
   (`interp.astprobe.lexical`, no model). Each row's `margin_over_controls` = its F1 minus the
   best control's (`add_margins`); "the model encodes syntax" holds only where it is > 0.
5. The rank sweep (the paper's syntactic-subspace dimension) at the best row.
6. Diagnostics (optional, `diagnostics` in the inputs) for "why no middle-layer peak": the same
   probe with another setting, on all rows or at the best row. `norm`: each row's vectors
   multiplied by one number so that their mean norm on the training leaves is `norm`; a list
   tries each and keeps, per row, the one with the best validation F1 (SmolLM2's residual
   norm grows from ~2.7 at row 0 to ~150 at row 15 and ~850 at row 30, while the probe's
   projection is held near an isometry and its ranking hinge has margin 1, so the raw rows
   are at very different scales for the same lr). `pooling`: the leaf's "last" (or "first")
   token instead of the mean (in a decoder only the last token has read the whole leaf; all
   rows, pooled in the same pass). Any ProbeConfig field (e.g. the paper's lr 1e-3).
   `random_init`: the random-init copy probed the same way; then the diagnostic has its own
   margins (its row 0, its random-init, the lookup table). `rank_sweep`: the ranks at the
   diagnostic's best validation row. The mean leaf norm of every probed row (train split) is
   recorded for both models.

Writes experiments/results/ast_probe_real/<model>.json (sorted keys, rounded, no wall times,
so a rerun writes the same bytes) and <model>.figure.json (plotly: F1 per row for the model,
the random-init copy, the embedding row, the lookup table, the diagnostics on all rows; the
rank sweeps). `--quick` (CI) writes <model>.quick.*: a few dozen snippets, two rows, two
epochs, one rank. Progress lines go to stderr; wall times are printed, never stored.

    .venv/bin/python experiments/ast_probe_real.py              # the study of the docs
    .venv/bin/python experiments/ast_probe_real.py --quick      # reduced form (CI)
    .venv/bin/python experiments/ast_probe_real.py --markdown   # the docs' tables
    .venv/bin/python experiments/ast_probe_real.py --rows 0 15 --out /tmp/ap   # a trial
    .venv/bin/python experiments/ast_probe_real.py --threads 1  # on a busy 2-core machine
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from interp.astprobe.reps import LeafReps
from interp.progress import say

if TYPE_CHECKING:
    from interp.astprobe.dataset import Sample
    from interp.models.model import Model

INPUTS_PATH = ROOT / "experiments" / "inputs" / "ast_probe_real.json"
OUT_DIR = ROOT / "experiments" / "results" / "ast_probe_real"
DIGITS = 4
SPLITS = ("train", "val", "test")
POOLINGS = ("mean", "first", "last")
#: The scores kept per probe (label recall is kept once, at the best row).
SCORE_KEYS = ("row", "f1", "precision", "recall", "micro_f1", "micro_precision", "micro_recall",
              "val_f1", "best_epoch", "epochs_run", "val_task_loss", "orth_penalty",
              "n_snippets", "n_gold_constituents")


def log(text: str) -> None:
    say("ast-probe-real", text)


def load_inputs(path: Path = INPUTS_PATH, quick: bool = False) -> dict[str, Any]:
    inputs = json.loads(Path(path).read_text(encoding="utf-8"))
    if quick:
        q = inputs["quick"]
        inputs = {**inputs, **{k: v for k, v in q.items() if k not in ("data", "probe")},
                  "data": {**inputs["data"], **q.get("data", {})},
                  "probe": {**inputs["probe"], **q.get("probe", {})}}
    return inputs


class RowReps(LeafReps):
    """Leaf vectors of some rows only: `by_row[r]` [total leaves, d] (float16)."""

    def __init__(self, by_row: dict[int, Tensor], offsets: Tensor) -> None:
        super().__init__(list(by_row.values()), offsets)
        self.by_row = by_row

    def layer(self, row: int) -> list[Tensor]:
        x = self.by_row[row].float()
        o = self.offsets.tolist()
        return [x[o[i]:o[i + 1]] for i in range(len(o) - 1)]


def row_hooks(model: Model, rows: Sequence[int]) -> list[str]:
    """Hook names of the rows: resid_pre of block r, and resid_post of the last block for
    row n_layers (as `interp.astprobe.reps`)."""
    n = model.facts.n_layers
    return [model.hook_name("resid_pre", r) if r < n else model.hook_name("resid_post", n - 1)
            for r in rows]


def pooling_matrix(sample: Sample, pooling: str) -> Tensor:
    """[leaves, tokens]: row k averages leaf k's tokens ("mean") or picks its first / last."""
    m = torch.zeros(sample.n_leaves, len(sample.token_ids))
    for k, toks in enumerate(sample.leaf_tokens):
        if pooling == "mean":
            m[k, toks] = 1.0 / len(toks)
        else:
            m[k, toks[0] if pooling == "first" else toks[-1]] = 1.0
    return m


def leaf_vectors(model: Model, samples: Sequence[Sample], rows: Sequence[int],
                 poolings: Sequence[str] = ("mean",), batch_size: int = 16,
                 progress: bool = True) -> dict[str, RowReps]:
    """{pooling: RowReps} of `rows` for `samples`, from one forward pass per batch that stops
    after the last block needed. "mean": the mean of a leaf's tokens (as
    `interp.astprobe.reps.compute_leaf_reps`); "first" / "last": its first / last token."""
    from interp.hooks import capture

    names = row_hooks(model, rows)
    order = sorted(range(len(samples)), key=lambda i: len(samples[i].token_ids))
    parts: dict[str, dict[int, list[Tensor | None]]] = {
        p: {r: [None] * len(samples) for r in rows} for p in poolings}
    t0, done = time.perf_counter(), 0
    for b0 in range(0, len(order), batch_size):
        idx = order[b0:b0 + batch_size]
        width = max(len(samples[i].token_ids) for i in idx)
        tokens = torch.zeros((len(idx), width), dtype=torch.long)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        for k, i in enumerate(idx):
            ids = samples[i].token_ids
            tokens[k, :len(ids)] = torch.tensor(ids)
            mask[k, :len(ids)] = 1
        acts = capture(model, names, tokens, attention_mask=mask, batch_size=len(idx))
        stacked = torch.stack([acts[name] for name in names], 1)  # [batch, rows, pos, d]
        for k, i in enumerate(idx):
            s = samples[i]
            h = stacked[k, :, :len(s.token_ids)].float()
            for p in poolings:
                v = pooling_matrix(s, p) @ h  # [rows, leaves, d]
                for j, r in enumerate(rows):
                    parts[p][r][i] = v[j].half()
        done += len(idx)
        if progress and (b0 // batch_size) % 25 == 0:
            log(f"  leaf vectors {done}/{len(samples)} snippets ({time.perf_counter() - t0:.0f} s)")
    offsets = torch.tensor([0] + [s.n_leaves for s in samples]).cumsum(0)
    # concatenate row by row, dropping each row's pieces at once (peak: the reps + one row)
    return {p: RowReps({r: torch.cat(parts[p].pop(r)) for r in rows}, offsets)  # type: ignore[arg-type]
            for p in poolings}


def mean_norms(reps: RowReps) -> dict[int, float]:
    """Mean leaf-vector norm per row."""
    return {r: float(x.float().norm(dim=1).mean()) for r, x in reps.by_row.items()}


def scaled(reps: dict[str, RowReps], row: int, norm: float | None) -> dict[str, RowReps]:
    """The splits' vectors of one row times one number, so that the train split's mean leaf
    norm there is `norm` (None: as they are)."""
    if norm is None:
        return reps
    factor = norm / float(reps["train"].by_row[row].float().norm(dim=1).mean())
    return {s: RowReps({row: (r.by_row[row].float() * factor).half()}, r.offsets)
            for s, r in reps.items()}


def _hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


def _slim(scores: dict[str, Any]) -> dict[str, Any]:
    return {k: scores[k] for k in SCORE_KEYS if k in scores}


def _norms(spec: dict[str, Any]) -> list[float | None]:
    norm = spec.get("norm")
    return list(norm) if isinstance(norm, list) else [norm]


class Study:
    """What one run shares: the samples, the label vocabulary, the probe's settings."""

    def __init__(self, inputs: dict[str, Any]) -> None:
        from interp.astprobe.experiment import ProbeConfig

        self.inputs = inputs
        self.cfg = ProbeConfig(**inputs["probe"])
        self.rows = list(dict.fromkeys([0, *inputs["rows"]]))
        self.samples: dict[str, list[Sample]] = {}
        self.vocab: Any = None

    def probe(self, reps: dict[str, RowReps], row: int, *, norm: float | None = None,
              **overrides: Any) -> dict[str, Any]:
        """One probe at `row` (vectors rescaled to mean norm `norm`, unless None)."""
        from interp.astprobe.experiment import ProbeConfig, probe_row

        cfg = ProbeConfig(**{**asdict(self.cfg), **overrides})
        scores, _, _ = probe_row(scaled(reps, row, norm), self.samples, self.vocab, row, cfg)
        return scores

    def sweep(self, reps: dict[str, RowReps], tag: str, rows: Sequence[int],
              norms: Sequence[float | None] = (None,), **overrides: Any) -> list[dict[str, Any]]:
        """One probe per row; with several `norms`, one per norm and the row keeps the one with
        the best validation F1 (the first on ties), as `norm`, beside `val_f1_by_norm`."""
        out = []
        for row in rows:
            tried = []
            for norm in norms:
                t0 = time.perf_counter()
                s = self.probe(reps, row, norm=norm, **overrides)
                at = "" if norm is None else f" at norm {norm:g}"
                log(f"{tag} row {row}{at}: test F1 {s['f1']:.3f} (val {s['val_f1']:.3f}, epoch "
                    f"{s['best_epoch']}/{s['epochs_run']}; {time.perf_counter() - t0:.0f} s)")
                tried.append((norm, s))
            norm, s = max(tried, key=lambda t: t[1]["val_f1"])
            if norm is not None:
                s["norm"] = norm
            if len(tried) > 1:
                s["val_f1_by_norm"] = {f"{n:g}": t["val_f1"] for n, t in tried}
            out.append(s)
        return out

    def rank_sweep(self, reps: dict[str, RowReps], tag: str, row: int,
                   norm: float | None = None, **overrides: Any) -> list[dict[str, Any]]:
        out = []
        for rank in sorted({r for r in self.inputs["ranks"]
                            if 1 <= r <= reps["train"].by_row[row].shape[1]}):
            s = self.probe(reps, row, norm=norm, **{**overrides, "rank": rank})
            log(f"{tag}: rank {rank} at row {row}: test F1 {s['f1']:.3f}")
            out.append({"rank": rank, **_slim(s)})
        return out


#: Keys of a diagnostic that are not ProbeConfig fields.
DIAGNOSTIC_KEYS = ("name", "rows", "pooling", "norm", "random_init", "rank_sweep")


def _diag_rows(spec: dict[str, Any], rows: list[int], best: int) -> list[int]:
    which = spec.get("rows", "best")
    return rows if which == "all" else [best] if which == "best" else list(dict.fromkeys(which))


def _overrides(spec: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in spec.items() if k not in DIAGNOSTIC_KEYS}


def _check(spec: dict[str, Any], rows: list[int]) -> None:
    from interp.astprobe.experiment import ProbeConfig

    name = spec["name"]
    if spec.get("pooling", "mean") not in POOLINGS:
        raise ValueError(f"diagnostic {name}: pooling must be one of {POOLINGS}")
    if any(n is not None and not n > 0 for n in _norms(spec)):
        raise ValueError(f"diagnostic {name}: norm must be > 0 (or null)")
    unknown = set(_overrides(spec)) - set(ProbeConfig.__dataclass_fields__)
    if unknown:
        raise ValueError(f"diagnostic {name}: unknown keys {sorted(unknown)}")
    which = spec.get("rows", "best")
    if which not in ("all", "best") and not set(which) <= set(rows):
        raise ValueError(f"diagnostic {name}: rows must be 'all', 'best' or probed rows")
    if spec.get("pooling", "mean") != "mean" and which != "all":
        raise ValueError(f"diagnostic {name}: another pooling needs rows 'all' (one pass)")
    if spec.get("random_init") and spec.get("pooling", "mean") != "mean":
        raise ValueError(f"diagnostic {name}: the random-init copy is probed with mean pooling")


def _diagnostic(st: Study, spec: dict[str, Any], reps: dict[str, RowReps],
                which: list[int]) -> dict[str, Any]:
    """A diagnostic's rows (and its rank sweep at its best row, if asked)."""
    tag, norms, over = spec["name"], _norms(spec), _overrides(spec)
    out: dict[str, Any] = {"spec": spec,
                           "rows": [_slim_norm(s) for s in st.sweep(reps, tag, which, norms,
                                                                    **over)]}
    if spec.get("rank_sweep"):
        best = max(out["rows"], key=lambda s: s["val_f1"])
        out["best_row"] = best["row"]
        out["rank_sweep"] = st.rank_sweep(reps, tag, best["row"], best.get("norm"), **over)
    return out


def _slim_norm(scores: dict[str, Any]) -> dict[str, Any]:
    return {**_slim(scores), **{k: scores[k] for k in ("norm", "val_f1_by_norm") if k in scores}}


def run_study(inputs: dict[str, Any], progress: bool = True) -> tuple[dict[str, Any], Any]:
    """The study's result (JSON-ready, rounded) and its plotly figure."""
    from experiments.common import rounded
    from interp import load_model
    from interp.astprobe.baseline import random_init_model
    from interp.astprobe.data import stdlib_snippets
    from interp.astprobe.experiment import add_margins, prepare_samples
    from interp.astprobe.lexical import lookup_table_scores
    from interp.astprobe.reps import samples_hash
    from interp.astprobe.train import Vocab

    st = Study(inputs)
    data, rows, lang = inputs["data"], st.rows, inputs["language"]
    diagnostics = inputs.get("diagnostics") or []
    for spec in diagnostics:
        _check(spec, rows)
    snippets = stdlib_snippets(data["train"], data["val"], data["test"],
                               per_file=data["per_file"], max_chars=data["max_chars"])
    model = load_model(inputs["model"], device="cpu")
    for r in rows:
        if not 0 <= r <= model.facts.n_layers:
            raise ValueError(f"row {r} out of range 0..{model.facts.n_layers}")
    st.samples, skipped = prepare_samples(model, snippets, lang)
    st.vocab = Vocab.from_samples(st.samples["train"])
    log("snippets used " + ", ".join(f"{s} {len(st.samples[s])}" for s in SPLITS)
        + f"; skipped {skipped}")
    # the model's one pass pools every way a diagnostic asks for (on all rows)
    poolings = ["mean"] + sorted({d.get("pooling", "mean") for d in diagnostics} - {"mean"})

    def reps_of(m: Model, pools: Sequence[str], which: Sequence[int], tag: str
                ) -> dict[str, dict[str, RowReps]]:
        t0 = time.perf_counter()
        out = {s: leaf_vectors(m, st.samples[s], which, pools, progress=progress) for s in SPLITS}
        log(f"{tag}: leaf vectors of rows {list(which)} ({', '.join(pools)}) in "
            f"{time.perf_counter() - t0:.0f} s")
        return {p: {s: out[s][p] for s in SPLITS} for p in pools}

    reps = reps_of(model, poolings, rows, "model")
    norms = mean_norms(reps["mean"]["train"])
    per_row = st.sweep(reps["mean"], "model", rows)
    best = max(per_row, key=lambda s: s["val_f1"])["row"]
    log(f"best row by validation F1: {best}")
    best_scores = next(s for s in per_row if s["row"] == best)
    rank_sweep = st.rank_sweep(reps["mean"], "model", best)
    diag_out: dict[str, dict[str, Any]] = {}
    for spec in diagnostics:
        diag_out[spec["name"]] = _diagnostic(st, spec, reps[spec.get("pooling", "mean")],
                                             _diag_rows(spec, rows, best))
    del reps
    rnd = random_init_model(model, seed=st.cfg.seed, keep_embeddings=True)
    rreps = reps_of(rnd, ["mean"], rows, "random-init")["mean"]
    random_norms = mean_norms(rreps["train"])
    random_rows = [_slim(s) for s in st.sweep(rreps, "random-init", rows)]
    for spec in diagnostics:
        if spec.get("random_init"):
            which = _diag_rows(spec, rows, best)
            diag_out[spec["name"]]["random_init"] = [_slim_norm(s) for s in st.sweep(
                rreps, f"random-init {spec['name']}", which, _norms(spec), **_overrides(spec))]
    del rreps
    lexical = _slim(lookup_table_scores(st.samples["train"], st.samples["test"], lang))
    log(f"adjacent-leaf lookup table: test F1 {lexical['f1']:.3f}")
    per_row = [_slim(s) for s in per_row]
    add_margins(per_row, random_rows, lexical["f1"])
    for d in diag_out.values():
        if d["rows"][0]["row"] == 0 and len(d["rows"]) > 1:  # its own row 0 as the embedding
            add_margins(d["rows"], d.get("random_init"), lexical["f1"])
    result = {
        "model": inputs["model"], "fingerprint": model.fingerprint,
        "random_init_fingerprint": rnd.fingerprint, "random_init_embeddings": "kept",
        "language": lang,
        "python": {"implementation": platform.python_implementation(),
                   "version": platform.python_version()},
        "data": {
            "source": data["source"], "asked": {s: data[s] for s in SPLITS},
            "per_file": data["per_file"], "max_chars": data["max_chars"],
            "found": {s: len(snippets[s]) for s in SPLITS},
            "used": {s: len(st.samples[s]) for s in SPLITS},
            "n_leaves": {s: sum(x.n_leaves for x in st.samples[s]) for s in SPLITS},
            "n_tokens": {s: sum(len(x.token_ids) for x in st.samples[s]) for s in SPLITS},
            "skipped": skipped,
            "snippets_sha256": _hash({s: snippets[s] for s in SPLITS}),
            "samples_sha256": {s: samples_hash(st.samples[s]) for s in SPLITS},
            "split_rule": "by sha256 of the file's path in the standard library (80/10/10); "
                          "deduplicated within and across splits",
        },
        "pooling": "mean of the vectors of every token overlapping the leaf's characters "
                   "(a token spanning two leaves serves both)",
        "rows": rows, "row_meaning": "row 0 = embedding output (non-contextual token "
                                     "embeddings); row l = residual after l blocks",
        "config": asdict(st.cfg), "vocab": {"c": len(st.vocab.c), "u": len(st.vocab.u)},
        "per_row": per_row, "best_row": best, "best_row_rule": "argmax of validation F1",
        "embedding_row": next(s for s in per_row if s["row"] == 0),
        "random_init": random_rows, "lookup_table": lexical, "rank_sweep": rank_sweep,
        "best_label_recall": best_scores["label_recall"],
        "best_label_count": best_scores["label_count"],
        "mean_leaf_norm": {"model": {str(r): v for r, v in norms.items()},
                           "random_init": {str(r): v for r, v in random_norms.items()}},
        "diagnostics": diag_out, "inputs": inputs,
    }
    result = rounded(result, DIGITS)
    return result, figure(result)


def _in_order(result: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The diagnostics in the inputs' order (the JSON sorts them by name)."""
    return [(d["name"], result["diagnostics"][d["name"]])
            for d in result["inputs"].get("diagnostics") or []]


def figure(result: dict[str, Any]) -> Any:
    """F1 per row (model, random-init, embedding row, lookup table, the diagnostics on several
    rows) and the rank sweep: `interp.viz.ast_probe.layer_figure` on the result."""
    import plotly.graph_objects as go

    from interp.viz.ast_probe import layer_figure

    fig = layer_figure({**result, "per_layer": result["per_row"], "best_layer": result["best_row"],
                        "embedding_baseline": result["embedding_row"]})
    for name, d in _in_order(result):
        for key, label, dash in (("rows", name, "dashdot"),
                                 ("random_init", f"{name} (random init)", "dot")):
            if len(d.get(key) or []) > 1:
                x, y = [s["row"] for s in d[key]], [s["f1"] for s in d[key]]
                fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", line={"dash": dash},
                                         name=f"diagnostic: {label}"), row=1, col=1)
        if d.get("rank_sweep"):
            fig.add_trace(go.Scatter(x=[s["rank"] for s in d["rank_sweep"]],
                                     y=[s["f1"] for s in d["rank_sweep"]], mode="lines+markers",
                                     line={"dash": "dashdot"},
                                     name=f"F1 by rank: {name} (row {d['best_row']})"),
                          row=1, col=2)
    fig.update_xaxes(title_text="row (0 = embeddings)", dtick=3, row=1, col=1)
    return fig


def _f(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def _m(x: float | None) -> str:
    return "–" if x is None else f"{x:+.3f}"


def markdown_table(result: dict[str, Any]) -> str:
    """The docs' tables: one line per row (the model, its controls, the margin), the rank
    sweeps, and the diagnostics."""
    rnd = {s["row"]: s["f1"] for s in result["random_init"] or []}
    lex = result["lookup_table"]["f1"]
    header = "| row | test F1 | val F1 | random-init F1 | lookup-table F1 | best control | margin |"
    lines = [header, "|---:|---:|---:|---:|---:|---|---:|"]
    for s in result["per_row"]:
        mark = " (best)" if s["row"] == result["best_row"] else ""
        lines.append(f"| {s['row']}{mark} | {_f(s['f1'])} | {_f(s['val_f1'])} | "
                     f"{_f(rnd.get(s['row']))} | {_f(lex)} | {s['best_control']} | "
                     f"{_m(s['margin_over_controls'])} |")
    sweeps = [("probe", result["best_row"], result["rank_sweep"])]
    sweeps += [(name, d["best_row"], d["rank_sweep"]) for name, d in _in_order(result)
               if d.get("rank_sweep")]
    if any(sweep for _, _, sweep in sweeps):
        lines += ["", "| setting | row | rank | test F1 | micro F1 | val F1 |",
                  "|---|---:|---:|---:|---:|---:|"]
        lines += [f"| {name} | {row} | {s['rank']} | {_f(s['f1'])} | {_f(s['micro_f1'])} | "
                  f"{_f(s['val_f1'])} |" for name, row, sweep in sweeps for s in sweep]
    if result["diagnostics"]:
        head = ("| diagnostic | row | norm | test F1 | val F1 | random-init F1 | best control "
                "| margin |")
        lines += ["", head, "|---|---:|---:|---:|---:|---:|---|---:|"]
        for name, d in _in_order(result):
            drnd = {s["row"]: s for s in d.get("random_init") or []}
            for s in d["rows"]:
                r = drnd.get(s["row"], {})
                norm = "–" if s.get("norm") is None else f"{s['norm']:g}"
                lines.append(f"| {name} | {s['row']} | {norm} | {_f(s['f1'])} | "
                             f"{_f(s['val_f1'])} | {_f(r.get('f1'))} | "
                             f"{s.get('best_control', '–')} | "
                             f"{_m(s.get('margin_over_controls'))} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    from experiments.common import result_path, study_parser, write_json

    parser = study_parser(__doc__, OUT_DIR, inputs=INPUTS_PATH)
    parser.add_argument("--markdown", action="store_true",
                        help="only print the docs' tables from the result JSON already in --out")
    parser.add_argument("--rows", type=int, nargs="+",
                        help="probe these rows instead of the inputs' (a trial; row 0 always)")
    parser.add_argument("--threads", type=int,
                        help="torch threads for the forward passes (the probes use one)")
    args = parser.parse_args(argv)
    inputs = load_inputs(args.inputs, args.quick)
    if args.rows:
        inputs["rows"] = args.rows
    path = result_path(args.out, inputs["model"], args.quick)
    if args.markdown:
        print(markdown_table(json.loads(path.read_text(encoding="utf-8"))))
        return 0
    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads or threads)
    t0 = time.perf_counter()
    try:
        result, fig = run_study(inputs)
    finally:
        torch.set_num_threads(threads)
    write_json(path, result)
    write_json(result_path(args.out, inputs["model"], args.quick, ".figure.json"),
               json.loads(fig.to_json()))
    print(markdown_table(result))
    print(f"{inputs['model']}: {time.perf_counter() - t0:.1f} s; wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
