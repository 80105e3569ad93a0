"""build_atlas: render neuron maps (+ activation records, + dose-response tables) into a
folder of static files that opens from file:// with no network: HTML/CSS/JS from
interp/atlas/assets and the data as .js files sharded by layer (pages, previews) and by key
hash (search), loaded on demand. Written to a temporary sibling folder and renamed into place.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interp import __version__
from interp.artifact import Kind, cfg_bytes
from interp.atlas.labels import MIN_WORDS, concept_labels
from interp.atlas.preview import PREVIEW_BLOCK, PREVIEW_TOKENS, preview_shard
from interp.atlas.records import RECORDS, ActivationRecords
from interp.atlas.render import SPECIALISED_RULE, Shown, overview, shard
from interp.atlas.search import DEFAULT_SEARCH_LIMIT, build_search
from interp.atomic import atomic_dir
from interp.errors import InterpError
from interp.options import AtlasOptions, ModelOptions, as_model
from interp.progress import say

if TYPE_CHECKING:
    from interp.models.model import Model

ATLAS = Kind("atlas", 1, "atlas", a="an")
MARKER = "atlas.json"
ASSETS = ("index.html", "neuron.html", "layer.html", "assets/atlas.css", "assets/atlas.js",
          "assets/search.js", "assets/browse.js")
DEFAULT_SHARD_SIZE = AtlasOptions.shard_size
#: Most bytes one data file (one neuron page's shard, or one search shard) should weigh.
PAGE_BUDGET = 1024 * 1024


@dataclass(frozen=True)
class AtlasSummary:
    """What build_atlas wrote: the folder, file count, total and largest file bytes."""

    path: Path
    n_files: int
    total_bytes: int
    largest_file: str
    largest_bytes: int
    n_neurons: int

    def __str__(self) -> str:
        return (f"atlas of {self.n_neurons} neurons in {self.path}: {self.n_files} files, "
                f"{self.total_bytes / 2**20:.1f} MiB (largest {self.largest_file}, "
                f"{self.largest_bytes / 1024:.0f} KiB)")


def js_data(call: str, key: str | None, obj: Any) -> bytes:
    """`ATLAS.call("key", {...});` with the data as ASCII-only JSON (every non-ASCII, control
    or quote character escaped), sorted keys: a script that cannot break out of its literal."""
    body = json.dumps(obj, ensure_ascii=True, sort_keys=True, separators=(",", ":"),
                      allow_nan=False)
    head = f"ATLAS.{call}(" + ("" if key is None else json.dumps(key) + ",")
    return (head + body + ");\n").encode("ascii")


def check_output(out: Path) -> None:
    """The site folder must be writable (interp.outputs) and new, empty, or a previous atlas
    (replaced whole)."""
    from interp.outputs import output_dir

    output_dir(out)
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise InterpError(f"output folder '{out}' exists and holds other files (no {MARKER}); "
                          "choose a new or empty folder")


def load_maps(maps: Any) -> list:
    """NeuronMap(s) or map folder(s) -> maps of one model, one per side, in side order."""
    from interp.neurons.neuron_map import NeuronMap
    from interp.neurons.options import SIDES

    items = [maps] if isinstance(maps, (str, os.PathLike, NeuronMap)) else list(maps)
    if not items:
        raise InterpError("no neuron map given; give a map folder (from interp map-neurons)")
    loaded = [m if isinstance(m, NeuronMap) else NeuronMap.load(m) for m in items]
    first = loaded[0]
    for m in loaded[1:]:
        if m.fingerprint != first.fingerprint or m.header.vocab_sha256 != first.header.vocab_sha256:
            raise InterpError(f"neuron maps of different models: {first.model} "
                              f"({first.fingerprint}) and {m.model} ({m.fingerprint})")
        if m.layers != first.layers:
            raise InterpError(f"neuron maps cover different layers: {first.layers} and {m.layers}")
    sides = [m.options.side for m in loaded]
    if len(set(sides)) != len(sides):
        raise InterpError(f"two neuron maps of the same side {sides}; give one map per side")
    return sorted(loaded, key=lambda m: SIDES.index(m.options.side))


def rebuild_command(maps: Sequence, out: Path, model: Model | ModelOptions | str | None,
                    corpus: Any, records: Any, dose: Sequence, options: dict[str, Any]) -> str:
    """The `interp atlas` command line equivalent to a build_atlas call; `options`: those that
    differ from their defaults, by parameter name (top_examples, shard_size, dtype, ...)."""
    parts = ["interp", "atlas"]
    for m in maps:
        parts += ["--map", str(m) if isinstance(m, (str, os.PathLike)) else "<NeuronMap>"]
    if model is not None:
        parts += ["--model", _model_source(model)]
        parts += ["--corpus", str(corpus) if isinstance(corpus, (str, os.PathLike))
                  else str(getattr(corpus, "path", None) or "<given>")]
    if records is not None:
        parts += ["--records", str(records) if isinstance(records, (str, os.PathLike))
                  else "<ActivationRecords>"]
    for d in dose:
        parts += ["--dose", str(d)]
    for name, value in options.items():
        parts += [f"--{name.replace('_', '-')}", str(value)]
    return shlex.join([*parts, "--out", str(out)])


def _model_source(model: Model | ModelOptions | str | os.PathLike) -> str:
    """The name or path a model was (or will be) loaded from."""
    if isinstance(model, ModelOptions):
        return model.model
    return str(model if isinstance(model, (str, os.PathLike)) else model.name)


def build_atlas(
    maps: Any,
    out: str | os.PathLike,
    *,
    model: Model | ModelOptions | str | None = None,
    corpus: Any = None,
    corpus_chars: int | None = None,
    max_docs: int | None = None,
    records: ActivationRecords | str | os.PathLike | None = None,
    dose: Iterable[str | os.PathLike] = (),
    shard_size: int = DEFAULT_SHARD_SIZE,
    search_limit: int = DEFAULT_SEARCH_LIMIT,
    command: str | None = None,
    progress: bool = False,
    **collect_options: Any,
) -> AtlasSummary:
    """Write the atlas of `maps` (NeuronMap or map folder, or several: one per side) to `out`.

    model: a Model, ModelOptions or model name (loaded once the input is checked): collect
        activation records over `corpus` (a corpus name, a .jsonl / text file, texts; None: the
        model's default, interp.texts.default_corpus_name; `corpus_chars` of generated text,
        at most `max_docs` documents) with interp.atlas.collect_records (`collect_options`,
        e.g. top_k, go there). records: ready ActivationRecords, or a folder: read if it holds
        records, else (with `model`) collected and saved there. Without both, pages show the
        decoded tokens only. dose: dose-response JSON tables (interp dose-response), or folders
        of them. Without a `command`, the provenance records the equivalent `interp atlas`
        command line.
    `out` must be new, empty, or a previous atlas. Bad input raises InterpError before
    anything is written; the folder appears whole or not at all. Same inputs, same bytes.
    """
    from interp.atlas.collect import collect_records
    from interp.atlas.dose import dose_files, read_dose
    from interp.outputs import output_dir

    out = output_dir(out)  # an empty name is not "."
    if isinstance(shard_size, bool) or not isinstance(shard_size, int) or shard_size < 1:
        raise InterpError(f"shard_size must be a positive integer, got {shard_size!r}")
    if isinstance(search_limit, bool) or not isinstance(search_limit, int) or search_limit < 1:
        raise InterpError(f"search_limit must be a positive integer, got {search_limit!r}")
    map_args = [maps] if isinstance(maps, (str, os.PathLike)) or not isinstance(
        maps, Iterable) else list(maps)
    nmaps = load_maps(map_args)
    dose_given = [Path(d) for d in dose]
    dose = dose_files(dose_given)
    if model is not None and corpus is None:
        from interp.texts.corpora import default_corpus_name

        corpus = default_corpus_name(_model_source(model))
    if command is None:
        given = {"corpus_chars": corpus_chars, "max_docs": max_docs,
                 "top_examples": collect_options.get("top_k", AtlasOptions.top_examples),
                 "dtype": model.dtype if isinstance(model, ModelOptions) else None,
                 "shard_size": shard_size, "search_limit": search_limit}
        defaults = {"dtype": None, "search_limit": DEFAULT_SEARCH_LIMIT,
                    **{f.name: f.default for f in dataclasses.fields(AtlasOptions)}}
        options = {k: v for k, v in given.items() if v != defaults[k]}
        command = rebuild_command(map_args, Path(out), model, corpus, records, dose_given,
                                  options)
    fingerprint = nmaps[0].fingerprint
    out = Path(out)
    check_output(out)
    doses: dict[tuple[int, int], list[dict]] = {}
    for path in dose:
        for key, summary in read_dose(path, fingerprint).items():
            doses.setdefault(key, []).append(summary)
    records_dir = None
    if isinstance(records, (str, os.PathLike)):
        records_dir = Path(records)
        if RECORDS.check_output(records_dir, "records"):
            records = ActivationRecords.load(records_dir)
        elif model is None:
            raise InterpError(f"'{records_dir}' holds no activation records; give a model to "
                              "collect them there")
        else:
            records = None
    if isinstance(records, ActivationRecords):
        records.check_model(fingerprint)
    elif model is not None:
        from interp.texts.corpora import BUNDLED_CHARS, Corpus, open_corpus

        if isinstance(corpus, (str, os.PathLike)):
            corpus = open_corpus(corpus, n_chars=corpus_chars or BUNDLED_CHARS,
                                 max_docs=max_docs)
        elif not isinstance(corpus, Corpus):
            corpus = list(corpus)
            if not any(isinstance(t, str) and t.strip() for t in corpus):
                raise InterpError("the corpus is empty: give at least one text")
        model = as_model(model)
        if model.fingerprint != fingerprint:
            raise InterpError(f"the neuron map is of model {nmaps[0].model} (fingerprint "
                              f"{fingerprint}), not of model {model.name} (fingerprint "
                              f"{model.fingerprint}); map this model or give its map")
        records = collect_records(model, corpus, layers=nmaps[0].layers, progress=progress,
                                  **collect_options)
        if records_dir is not None:
            records.save(records_dir)
    return _write_site(nmaps, out, records, doses, shard_size, search_limit, command, progress)


def _write_site(nmaps: list, out: Path, records: ActivationRecords | None,
                doses: dict, shard_size: int, search_limit: int, command: str,
                progress: bool) -> AtlasSummary:
    first = nmaps[0]
    h = first.header
    with atomic_dir(out) as tmp:
        files: dict[str, bytes] = {}
        assets = resources.files("interp.atlas") / "assets"
        for name in ASSETS:
            files[name] = (assets / Path(name).name).read_bytes()
        say("atlas", f"search index over {len(nmaps)} side(s), {len(first.layers)} layers",
            enabled=progress)
        labels = concept_labels(nmaps)
        n_buckets, buckets = build_search(nmaps, search_limit, records, labels)
        for b, bucket in enumerate(buckets):
            files[f"data/search/{b:05d}.js"] = js_data("put", f"S{b:05d}", bucket)
        n_neurons = 0
        shown = Shown(first.vocab)
        for i, layer in enumerate(first.layers):
            say("atlas", f"layer {layer} ({i + 1}/{len(first.layers)})", enabled=progress)
            for start in range(0, h.d_mlp, shard_size):
                stop = min(start + shard_size, h.d_mlp)
                key = f"L{layer:03d}/{start // shard_size:05d}"
                files[f"data/{key}.js"] = js_data("put", key, shard(
                    nmaps, layer, start, stop, records, doses, shown, labels))
                n_neurons += stop - start
            for start in range(0, h.d_mlp, PREVIEW_BLOCK):
                key = f"P{layer:03d}/{start // PREVIEW_BLOCK:05d}"
                files[f"data/{key}.js"] = js_data("put", key, preview_shard(
                    nmaps, layer, start, min(start + PREVIEW_BLOCK, h.d_mlp), records, labels,
                    shown))
            _flush(tmp, files)
        meta = {
            "model": h.model, "fingerprint": h.fingerprint, "architecture": h.architecture,
            "n_layers": h.n_layers, "d_mlp": h.d_mlp, "d_model": h.d_model, "d_vocab": h.d_vocab,
            "layers": first.layers, "sides": [m.options.side for m in nmaps],
            "shard_size": shard_size, "n_buckets": n_buckets, "mass_scale": 10_000,
            "search_limit": search_limit, "preview_block": PREVIEW_BLOCK,
            "preview_tokens": PREVIEW_TOKENS, "p1_scale": 10_000,
            "concepts": {"names": sorted({c for v in labels.values() for cs in v.values()
                                          for c in cs}), "min_words": MIN_WORDS},
            "overview": overview(nmaps), "specialised_rule": SPECIALISED_RULE,
            "records": None if records is None else {
                k: records.header[k] for k in ("site", "corpus", "n_docs", "n_tokens", "top_k",
                                               "window", "hist_edges", "max_length",
                                               "related_side", "skip_bos")},
            "provenance": {
                "command": command, "interp_version": __version__,
                "maps": [{"side": m.options.side, "options": m.options.to_dict(),
                          "options_digest": m.options.digest()} for m in nmaps],
                "dose_files": sorted({s["file"] for v in doses.values() for s in v}),
            },
        }
        files["data/meta.js"] = js_data("meta", None, meta)
        files[MARKER] = cfg_bytes(ATLAS.stamp({"model": h.model, "fingerprint": h.fingerprint,
                                               "entry": "index.html"}))
        _flush(tmp, files)
    sizes = sorted(((p.stat().st_size, str(p.relative_to(out))) for p in out.rglob("*")
                    if p.is_file()), key=lambda x: (-x[0], x[1]))
    if sizes[0][0] > PAGE_BUDGET:
        print(f"warning: {sizes[0][1]} weighs {sizes[0][0] / 2**20:.1f} MiB, over the "
              f"{PAGE_BUDGET / 2**20:.0f} MiB page budget; use a smaller shard_size",
              file=sys.stderr)
    return AtlasSummary(out, len(sizes), sum(s for s, _ in sizes), sizes[0][1], sizes[0][0],
                        n_neurons)


def _flush(root: Path, files: dict[str, bytes]) -> None:
    """Write and forget the pending files (keeps memory bounded for large maps)."""
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    files.clear()

