"""export_neurons: a neuron map plus each neuron's top-activating and random text windows, in
the files OpenAI's automated-interpretability and Neuronpedia read (rows: interp.neurons.interop;
JSON-Schema files: interp/neurons/schemas/), with a cfg.json manifest (model, fingerprint).
"""

from __future__ import annotations

import gzip
import itertools
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interp import __version__
from interp.artifact import CFG_FILE, Kind, cfg_bytes
from interp.atomic import atomic_dir
from interp.errors import InterpError, range_error
from interp.neurons import interop
from interp.progress import Progress, say

if TYPE_CHECKING:
    import torch

    from interp.models.model import Model
    from interp.options import ModelOptions

EXPORT = Kind("neuron-export", 1, "neuron export", made="is of", fields={
    "model": str, "fingerprint": str, "n_layers": int, "d_mlp": int, "neurons": dict})
OPENAI_DIR, NEURONPEDIA_DIR = "openai", "neuronpedia"
SCHEMAS = {"openai": "openai-neuron-record.schema.json",
           "neuronpedia": "neuronpedia-export.schema.json"}
#: Neurons per Neuronpedia features/activations batch file.
BATCH = 1024
SITE = "mlp_post"


@dataclass(frozen=True)
class ExportOptions:
    """Top-activating windows kept per neuron (`top_k`), random windows (`random`, the same
    windows for every neuron, drawn with `seed`), tokens `before` / `after` each window's
    centre, documents cut at `max_length` tokens and run `batch_size` at a time; the creator
    id and name Neuronpedia's rows carry."""

    top_k: int = 20
    random: int = 20
    before: int = 24
    after: int = 8
    max_length: int = 128
    batch_size: int = 8
    seed: int = 0
    creator_id: str = interop.DEFAULT_CREATOR
    creator_name: str = "interp"

    def __post_init__(self) -> None:
        for name, low in (("top_k", 1), ("random", 0), ("before", 0), ("after", 0),
                          ("max_length", 2), ("batch_size", 1), ("seed", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise InterpError(f"{name} must be an integer >= {low}, got {value!r}")
        if not self.creator_id.strip() or not self.creator_name.strip():
            raise InterpError("creator_id and creator_name must not be empty")


@dataclass(frozen=True)
class ExportSummary:
    """What export_neurons wrote."""

    path: Path
    n_neurons: int
    n_files: int
    n_docs: int
    n_tokens: int

    def __str__(self) -> str:
        return (f"{self.n_neurons} neurons over {self.n_docs} documents ({self.n_tokens} "
                f"tokens) written to {self.path} ({self.n_files} files)")


def parse_neurons(items: Iterable[str] | None) -> list[tuple[int, int]] | None:
    """(layer, neuron) pairs from texts "5:123" or "5:123,140" (None stays None)."""
    if items is None:
        return None
    out = []
    for item in items:
        layer, _, rest = str(item).partition(":")
        try:
            out += [(int(layer), int(n)) for n in rest.split(",")]
        except ValueError:
            raise InterpError(f"bad neuron {item!r}; use LAYER:NEURON, e.g. 5:123 or "
                              "5:123,140") from None
    return out


def select_neurons(n_layers: int, d_mlp: int, mapped: Sequence[int],
                   layers: Iterable[int] | None = None,
                   neurons: Iterable[tuple[int, int]] | None = None) -> dict[int, list[int]]:
    """{layer: sorted neuron indices}: the given (layer, neuron) pairs, else every neuron of
    `layers`, else of every layer the map has; each layer must be in the map."""
    if neurons is not None and layers is not None:
        raise InterpError("give layers or neurons, not both")
    if neurons is not None:
        chosen: dict[int, set[int]] = {}
        for layer, n in neurons:
            if not 0 <= n < d_mlp:
                raise range_error("neuron", n, d_mlp)
            chosen.setdefault(layer, set()).add(n)
    else:
        chosen = {layer: set(range(d_mlp)) for layer in (mapped if layers is None else layers)}
    if not chosen:
        raise InterpError("no neurons chosen: give at least one layer or neuron")
    for layer in chosen:
        if not 0 <= layer < n_layers:
            raise range_error("layer", layer, n_layers)
        if layer not in mapped:
            raise InterpError(f"layer {layer} is not in the neuron map (it has layers "
                              f"{list(mapped)}); map that layer or choose others")
    return {layer: sorted(chosen[layer]) for layer in sorted(chosen)}


def default_model_id(name: str) -> str:
    """A Neuronpedia model id from a model name or path: "HF/Org/SmolLM2" -> "smollm2"."""
    base = str(name).rstrip("/").split("/")[-1].lower()
    return re.sub(r"[^a-z0-9_-]+", "-", base).strip("-")[:128] or "model"


def export_neurons(
    model: Model | ModelOptions | str,
    maps: Any,
    out: str | os.PathLike,
    *,
    corpus: Any = None,
    corpus_chars: int | None = None,
    max_docs: int | None = None,
    layers: Iterable[int] | None = None,
    neurons: Iterable[tuple[int, int]] | None = None,
    options: ExportOptions | None = None,
    neuronpedia_model: str | None = None,
    progress: bool = False,
) -> ExportSummary:
    """Write the chosen neurons of `model` to directory `out` (new, empty or a previous
    export, replaced whole): `openai/<layer>/<neuron>.json` (NeuronRecord), and
    `neuronpedia/<neuronpedia_model>/<layer>/` (model, sourceset, source .jsonl; features/
    and activations/ batch-N.jsonl.gz), plus cfg.json (model, fingerprint, corpus, options).

    maps: a NeuronMap or map folder, or several (one per side) of this model; Neuronpedia's
    pos_str/neg_str are the down side's decoded top/bottom tokens when given, else the first
    side's. corpus: as interp.atlas.collect_records (None: the model's default corpus;
    `corpus_chars` of generated text, at most `max_docs` documents). layers / neurons: which
    neurons (default: every neuron of the map's layers). neuronpedia_model: the model id there
    (default: the model's name, lower-cased). Activations are at mlp_post; the
    windows skip the BOS position. Bad input raises InterpError before any work; same inputs,
    same bytes.
    """
    from interp.atlas.site import _model_source, load_maps
    from interp.options import as_model
    from interp.outputs import output_dir
    from interp.texts.corpora import BUNDLED_CHARS, Corpus, default_corpus_name, open_corpus

    options = options or ExportOptions()
    out = output_dir(out)
    nmaps = load_maps([maps] if isinstance(maps, (str, os.PathLike)) or not isinstance(
        maps, Iterable) else list(maps))
    h = nmaps[0].header
    chosen = select_neurons(h.n_layers, h.d_mlp, nmaps[0].layers,
                            None if layers is None else list(layers),
                            None if neurons is None else list(neurons))
    model_id = default_model_id(h.model) if neuronpedia_model is None else neuronpedia_model
    if not interop.MODEL_ID.match(model_id):
        raise InterpError(f"neuronpedia_model {model_id!r} is not a Neuronpedia model id: use "
                          "1-128 lowercase letters, digits, '-' or '_'")
    EXPORT.check_output(out)
    if corpus is None:
        corpus = default_corpus_name(_model_source(model))
    if isinstance(corpus, (str, os.PathLike)):
        corpus = open_corpus(corpus, n_chars=corpus_chars or BUNDLED_CHARS, max_docs=max_docs)
    elif not isinstance(corpus, Corpus):
        corpus = [t for t in corpus]
        if not all(isinstance(t, str) for t in corpus) or not any(t.strip() for t in corpus):
            raise InterpError("the corpus must hold at least one text (strings only)")
        corpus = corpus[:max_docs] if max_docs else corpus
    model = as_model(model)
    if model.fingerprint != h.fingerprint:
        raise InterpError(f"the neuron map is of model {h.model} (fingerprint {h.fingerprint}), "
                          f"not of model {model.name} (fingerprint {model.fingerprint}); give "
                          "this model's map")
    described = corpus.describe() if isinstance(corpus, Corpus) else {"name": "given"}
    stats = _collect(model, corpus, chosen, options, progress)
    if stats["n_tokens"] == 0:
        raise InterpError("the corpus gave no tokens to record (every document was empty or "
                          "only a BOS token); give documents with text")
    decoded = next((m for m in nmaps if m.options.side == "down"), nmaps[0])
    cfg = {
        "model": str(model.name), "fingerprint": model.fingerprint, "site": SITE,
        "n_layers": h.n_layers, "d_mlp": h.d_mlp, "d_model": h.d_model,
        "neurons": {str(layer): _spans(idx) for layer, idx in chosen.items()},
        "corpus": described, "n_docs": stats["n_docs"], "n_tokens": stats["n_tokens"],
        "skip_bos": stats["skip_bos"], "options": asdict(options),
        "maps": [{"side": m.options.side, "options_digest": m.options.digest()}
                 for m in nmaps],
        "decoded_side": decoded.options.side, "interp_version": __version__,
        "formats": {
            "openai": {"path": OPENAI_DIR, "layout": "<layer>/<neuron>.json",
                       "source": "openai/automated-interpretability neuron-explainer "
                                 "(PyPI neuron-explainer 0.0.1)",
                       "commit": interop.OPENAI_COMMIT, "schema": SCHEMAS["openai"]},
            "neuronpedia": {"path": f"{NEURONPEDIA_DIR}/{model_id}", "model_id": model_id,
                            "source_set": interop.NEURONS_SET,
                            "source": "hijohnnylin/neuronpedia import (admin/import)",
                            "commit": interop.NEURONPEDIA_COMMIT,
                            "schema": SCHEMAS["neuronpedia"]}},
    }
    files = _files(model, decoded, chosen, stats, options, model_id, described["name"])
    n_files = _write(out, files, cfg, progress)
    return ExportSummary(out, sum(map(len, chosen.values())), n_files, stats["n_docs"],
                         stats["n_tokens"])


def _spans(idx: list[int]) -> list[list[int]]:
    """Sorted indices as inclusive [first, last] runs."""
    runs: list[list[int]] = []
    for i in idx:
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return runs


def _windows(tokens: torch.Tensor, valid: torch.Tensor, rows: torch.Tensor,
             pos: torch.Tensor, before: int, after: int) -> tuple[torch.Tensor, ...]:
    """Token ids (-1 = none) of the windows around (rows, pos), and where to read them."""
    import torch

    p = tokens.shape[1]
    wpos = pos[:, None] + torch.arange(-before, after + 1)
    wrow = rows[:, None].expand_as(wpos)
    wpos_c = wpos.clamp(0, p - 1)
    ok = (wpos >= 0) & (wpos < p) & valid[wrow, wpos_c]
    return torch.where(ok, tokens[wrow, wpos_c], -1), wrow, wpos_c, ok


def _collect(model: Model, corpus: Iterable[str], chosen: dict[int, list[int]],
             o: ExportOptions, progress: bool) -> dict[str, Any]:
    """One pass over `corpus`: per layer the top windows (interp.atlas.topk.LayerState),
    shifted power sums for the moments, and a reservoir of random windows (the `random`
    token positions with the smallest keys, drawn per document from `seed`)."""
    import torch

    from interp.atlas.collect import _has_bos
    from interp.atlas.topk import LayerState
    from interp.hooks import active_interventions, capture

    if active_interventions(model):
        raise InterpError("export neurons of the unmodified model: interventions are active "
                          "(remove them with interp.hooks.remove_all(model))")
    max_length = min(o.max_length, model.facts.n_ctx)
    names = {layer: model.hook_name(SITE, layer) for layer in chosen}
    idx = {layer: torch.tensor(n) for layer, n in chosen.items()}
    w = o.before + 1 + o.after
    top = {layer: LayerState.empty(len(n), o.top_k, w) for layer, n in chosen.items()}
    sums = {layer: torch.zeros(4, len(n), dtype=torch.float64) for layer, n in chosen.items()}
    shift: dict[int, torch.Tensor] = {}
    keys = torch.zeros(0, dtype=torch.float64)
    rdoc = rpos = torch.zeros(0, dtype=torch.int64)
    rids = torch.zeros(0, w, dtype=torch.int64)
    racts = {layer: torch.zeros(0, w, len(n)) for layer, n in chosen.items()}
    bos = _has_bos(model)
    docs, n_docs = iter(corpus), 0
    bar = Progress("export", desc="export neurons", unit="doc", enabled=progress)
    bar.note(f"{sum(map(len, chosen.values()))} neurons of {len(chosen)} layers ...")
    with bar:
        while batch := list(itertools.islice(docs, o.batch_size)):
            acts = capture(model, [(SITE, layer) for layer in chosen], batch,
                           batch_size=o.batch_size, dtype=torch.float32, max_length=max_length)
            tokens, valid = acts.tokens.cpu().long(), acts.mask.cpu().clone()
            if bos:
                valid[:, 0] = False
            b, p = tokens.shape
            draw = torch.stack([torch.rand(max_length, dtype=torch.float64, generator=torch.
                                           Generator().manual_seed(o.seed * 2**32 + n_docs + i)
                                           )[:p] for i in range(b)])
            cand = torch.cat([keys, draw.masked_fill(~valid, torch.inf).flatten()])
            order = cand.sort(stable=True).indices[:o.random]
            order = order[cand[order].isfinite()]
            new = order >= len(keys)
            flat = order[new] - len(keys)
            ids, wrow, wpos, ok = _windows(tokens, valid, flat // p, flat % p, o.before, o.after)
            pick = torch.where(new, len(keys) + new.cumsum(0) - 1, order)
            keys, rids = cand[order], torch.cat([rids, ids])[pick]
            rdoc = torch.cat([rdoc, flat // p + n_docs])[pick]
            rpos = torch.cat([rpos, flat % p])[pick]
            for layer, name in names.items():
                a = acts[name].cpu().float()[..., idx[layer]]
                top[layer].update(a, tokens, valid, n_docs, o.before, o.after)
                got = torch.where(ok[..., None], a[wrow, wpos], 0.0)
                racts[layer] = torch.cat([racts[layer], got])[pick]
                x = a[valid].double()
                if layer not in shift and x.shape[0]:
                    shift[layer] = x.mean(0)
                if x.shape[0]:
                    d = x - shift[layer]
                    sums[layer] += torch.stack([d.sum(0), d.pow(2).sum(0), d.pow(3).sum(0),
                                                d.pow(4).sum(0)])
            n_docs += b
            bar.update(b)
    n_tokens = top[next(iter(chosen))].n_tokens
    bar.note(f"{n_docs} documents, {n_tokens} tokens")
    return {"top": top, "sums": sums, "shift": shift, "n_docs": n_docs, "n_tokens": n_tokens,
            "random": (rdoc, rpos, rids, racts), "skip_bos": bos, "max_length": max_length}


def _moments(s: torch.Tensor, shift: torch.Tensor, n: int) -> list[tuple]:
    """Per neuron (mean, variance, skewness, excess kurtosis) of the population from the
    power sums `s` [4, units] of the values minus `shift`; None where undefined."""
    m1, e2, e3, e4 = (s / n).unbind(0)
    var = (e2 - m1**2).clamp(min=0)
    m3 = e3 - 3 * m1 * e2 + 2 * m1**3
    m4 = e4 - 4 * m1 * e3 + 6 * m1**2 * e2 - 3 * m1**4
    out = []
    for j in range(s.shape[1]):
        v = float(var[j])
        flat = v <= 1e-12 * max(1.0, float(e2[j]))
        out.append((float(shift[j] + m1[j]), v, None if flat else float(m3[j]) / v**1.5,
                    None if flat else float(m4[j]) / v**2 - 3.0))
    return out


def _record(vocab: list[str], ids: torch.Tensor, acts: torch.Tensor) -> tuple[list, list]:
    keep = ids >= 0
    return [vocab[int(i)] for i in ids[keep]], acts[keep].tolist()


def _files(model: Model, nmap: Any, chosen: dict[int, list[int]], stats: dict[str, Any],
           o: ExportOptions, model_id: str, data_source: str) -> Iterator[tuple[str, bytes]]:
    """(relative path, bytes) of every file, built one layer at a time."""
    h, vocab = nmap.header, nmap.vocab
    base = f"{NEURONPEDIA_DIR}/{model_id}"
    rdoc, _rpos, rids, racts = stats["random"]
    n_tok = stats["n_tokens"]
    desc = f"MLP neurons at {SITE} (exported by interp {__version__})"
    for layer, neurons in chosen.items():
        s = stats["top"][layer]
        moments = _moments(stats["sums"][layer], stats["shift"][layer], n_tok)
        src = f"{base}/{layer}"
        notes = (f"interp {__version__}: activations at {model.hook_name(SITE, layer)}; pos/neg "
                 f"tokens decoded from the {nmap.options.side} side (interp neuron map)")
        yield f"{src}/model.jsonl", interop.jsonl_bytes([interop.model_row(
            model_id, str(model.name), h.n_layers, h.d_mlp, h.d_model, o.creator_id)])
        yield f"{src}/sourceset.jsonl", interop.jsonl_bytes([interop.sourceset_row(
            model_id, o.creator_id, o.creator_name, desc)])
        yield f"{src}/source.jsonl", interop.jsonl_bytes([interop.source_row(
            model_id, layer, o.creator_id, data_source, stats["n_docs"], stats["max_length"],
            notes)])
        for b0 in range(0, len(neurons), BATCH):
            features, activations = [], []
            for j in range(b0, min(b0 + BATCH, len(neurons))):
                n = neurons[j]
                tops = []
                for r in range(o.top_k):
                    if int(s.doc[j, r]) < 0:
                        break
                    toks, vals = _record(vocab, s.window_ids[j, r], s.window_acts[j, r])
                    tops.append(interop.activation_record(toks, vals))
                    activations.append(interop.activation_row(
                        model_id, layer, n, r, o.creator_id, toks, vals, data_source,
                        int(s.doc[j, r])))
                rand = [interop.activation_record(*_record(vocab, rids[e], racts[layer][e, :, j]))
                        for e in range(len(rdoc))]
                yield (f"{OPENAI_DIR}/{layer}/{n}.json",
                       interop.json_bytes(interop.neuron_record(layer, n, tops, rand,
                                                                moments[j])) + b"\n")
                features.append(interop.feature_row(
                    model_id, layer, n, o.creator_id, model.hook_name(SITE, layer),
                    float(s.values[j, 0]), float(s.n_pos[j]) / n_tok,
                    nmap.top_tokens(layer, n), nmap.top_tokens(layer, n, bottom=True)))
            batch = f"batch-{b0 // BATCH}.jsonl.gz"
            yield f"{src}/features/{batch}", _gz(interop.jsonl_bytes(features))
            yield f"{src}/activations/{batch}", _gz(interop.jsonl_bytes(activations))


def _gz(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6, mtime=0)


def _write(out: Path, files: Iterable[tuple[str, bytes]], cfg: dict[str, Any],
           progress: bool) -> int:
    """Write `files` and cfg.json as directory `out`, atomically; the number of files."""
    n = 0
    with atomic_dir(out) as tmp:
        for name, data in files:
            path = tmp / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            n += 1
        cfg["n_files"] = n + 1
        (tmp / CFG_FILE).write_bytes(cfg_bytes(EXPORT.stamp(cfg)))
    say("export", f"{n + 1} files written to {out}", enabled=progress)
    return n + 1
