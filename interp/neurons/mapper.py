"""decode_neurons: decode every MLP neuron of chosen layers of a Model into a NeuronMap,
optionally saving each finished layer to an artifact directory (resumable, shardable).
map_neurons: the same for `interp map-neurons` (layers and shard as text, the default
output directory, the model loaded once the input is checked)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from interp.artifact import layer_files
from interp.errors import InterpError, range_error
from interp.models.vocab import vocab_strings
from interp.neurons import store
from interp.neurons.decode import (
    LayerDecode,
    Unembedding,
    decode_vectors,
    layer_vectors,
    unembedding,
)
from interp.neurons.neuron_map import NeuronMap, prepare_output
from interp.neurons.options import DecodeOptions
from interp.neurons.progress import LayerProgress
from interp.neurons.store import MapHeader

if TYPE_CHECKING:
    from interp.models.model import Model
    from interp.options import ModelOptions

_SPAN = re.compile(r"^(\d+)(?:-(\d+))?$")


def resolve_layers(n_layers: int, layers: int | Iterable[int] | None) -> list[int]:
    """None -> all layers; an int or iterable of ints -> sorted, unique, range-checked."""
    if layers is None:
        return list(range(n_layers))
    items = [layers] if isinstance(layers, int) else list(layers)
    if not items:
        raise InterpError("no layers selected; pass None for all layers")
    out = set()
    for layer in items:
        if isinstance(layer, bool) or not isinstance(layer, int):
            raise InterpError(f"layer must be an integer in 0..{n_layers - 1}, got {layer!r}")
        if not 0 <= layer < n_layers:
            raise range_error("layer", layer, n_layers)
        out.add(layer)
    return sorted(out)


def shard_layers(layers: list[int], index: int, count: int) -> list[int]:
    """Layers of shard `index` of `count` (round robin, so shards get similar work)."""
    if count < 1 or not 0 <= index < count:
        raise InterpError(f"shard must be i/n with n >= 1 and 0 <= i < n, got {index}/{count}")
    return layers[index::count]


def parse_layers(items: Sequence[str] | None) -> list[int] | None:
    """Layer numbers from texts such as "3", "0,2" or "1-4" (None stays None: all layers)."""
    if items is None:
        return None
    out: list[int] = []
    for item in items:
        for part in filter(None, str(item).split(",")):
            m = _SPAN.match(part.strip())
            if not m:
                raise InterpError(f"bad layers value {part!r}; use e.g. 3, 0,2 or 1-4")
            lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
            if hi < lo:
                raise InterpError(f"bad layers range {part!r}: end before start")
            out.extend(range(lo, hi + 1))
    return out


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """"I/N" -> (I, N) with 0 <= I < N (None stays None: no sharding)."""
    if text is None:
        return None
    m = re.match(r"^(\d+)/(\d+)$", text.strip())
    if not m or not 0 <= int(m.group(1)) < int(m.group(2)):
        raise InterpError(f"bad shard {text!r}; use I/N with 0 <= I < N, e.g. 0/4")
    return int(m.group(1)), int(m.group(2))


def default_out(model_name: str, side: str) -> str:
    """Where a map is saved when no directory is given: neuron-maps/<model>-<side>."""
    base = re.sub(r"[^\w.-]+", "-", str(model_name).rstrip("/").split("/")[-1]) or "model"
    return f"neuron-maps/{base}-{side}"


@dataclass
class MapRun:
    """What map_neurons did: the map (None when the shard had no layers), where it is saved,
    and the model's number of layers."""

    nmap: NeuronMap | None
    out: str
    n_layers: int


def map_neurons(
    model: Model | ModelOptions | str,
    options: DecodeOptions | None = None,
    *,
    layers: Sequence[int | str] | None = None,
    shard: str | tuple[int, int] | None = None,
    chunk_size: int | None = None,
    out: str | os.PathLike | None = None,
    progress: bool = True,
) -> MapRun:
    """Map the neurons of `layers` (ints, or texts "3", "0,2", "1-4"; None: all) of `model` (a
    Model, ModelOptions or a model source, loaded once the input is checked) into `out`
    (default: neuron-maps/<model>-<side>), resumably; `shard` "I/N" (or (I, N)) maps only
    every N-th layer from the I-th. A shard without layers writes nothing."""
    from interp.options import as_model

    options = options or DecodeOptions()
    if layers is not None and any(isinstance(x, str) for x in layers):
        layers = parse_layers([str(x) for x in layers])
    shard = parse_shard(shard) if isinstance(shard, str) else shard
    if chunk_size is not None and (isinstance(chunk_size, bool) or int(chunk_size) < 1):
        raise InterpError(f"chunk_size must be at least 1, got {chunk_size!r}")
    if out is not None:
        from interp.neurons.store import NEURON_MAP

        NEURON_MAP.check_output(out)  # before the model loads
    model = as_model(model)
    n_layers = model.facts.n_layers
    selected = resolve_layers(n_layers, layers)
    if shard is not None:
        selected = shard_layers(selected, *shard)
    path = str(out) if out is not None else default_out(model.name, options.side)
    if not selected:
        return MapRun(None, path, n_layers)
    nmap = decode_neurons(model, layers=selected, options=options, chunk_size=chunk_size,
                          out=path, progress=progress)
    return MapRun(nmap, path, n_layers)


def map_header(model: Model, options: DecodeOptions, vocab: list[str],
               extras: dict[str, Any] | None = None,
               planned: Iterable[int] | None = None) -> MapHeader:
    f = model.facts
    return MapHeader(model=str(model.name), fingerprint=model.fingerprint,
                     architecture=f.architecture, n_layers=f.n_layers, d_mlp=f.d_mlp,
                     d_model=f.d_model, d_vocab=f.d_vocab, options=options,
                     vocab_sha256=store.vocab_digest(vocab), extras=extras or {},
                     planned=None if planned is None else tuple(sorted(set(planned))))


#: Share of the vocabulary with the largest folded-unembedding norms that a map records as
#: "norm-bias" tokens: the ones raw logits pull every decoded direction toward (the token-bias
#: study, experiments/token_bias.py, measures that pull).
NORM_BIAS_SHARE = 0.01


def norm_bias_tokens(model: Model, share: float = NORM_BIAS_SHARE) -> dict[str, Any]:
    """{"share", "ids"}: the ceil(share x vocab) tokens whose folded-unembedding columns have the
    largest norms (ties: the lower id), sorted by id."""
    import math

    w_u, _ = model.folded_unembedding(torch.float32)
    norms = w_u.detach().norm(dim=0).cpu()
    order = torch.argsort(norms, descending=True, stable=True)
    n = math.ceil(share * norms.shape[0])
    return {"share": share, "ids": sorted(order[:n].tolist())}


def prepare_unembedding(model: Model, options: DecodeOptions, device: torch.device
                        ) -> tuple[Unembedding, dict[str, Any]]:
    """The decoding matrix under `options`, and what the map records about how it was made:
    the flagged tokens (flagged_tokens "mark"/"exclude"), the norm-bias tokens (always) and the
    calibration (scale "calibrated")."""
    from interp.models.vocab import token_flags

    extras: dict[str, Any] = {}
    flagged: list[int] = []
    if options.flagged_tokens != "keep":
        flags = token_flags(model)
        extras["token_flags"] = flags.to_dict()
        if options.flagged_tokens == "exclude":
            flagged = flags.ids()
    extras["norm_bias"] = norm_bias_tokens(model)
    unembed = unembedding(model, options, device, flagged)
    options.check_vocab(model.facts.d_vocab, n_excluded=model.facts.d_vocab
                        - unembed.weight.shape[1])
    if options.scale == "calibrated":
        from interp.neurons.calibrate import calibration

        extras["calibration"] = calibration(model, options, unembed)
        unembed.vector_scale = float(extras["calibration"]["factor"])
    return unembed, extras


def decode_neurons(
    model: Model,
    side: str = DecodeOptions.side,
    layers: int | Iterable[int] | None = None,
    top_k: int = DecodeOptions.top_k,
    bottom_k: int = DecodeOptions.bottom_k,
    *,
    center: str = DecodeOptions.center,
    fold_norm: bool = DecodeOptions.fold_norm,
    scale: str = DecodeOptions.scale,
    score: str = DecodeOptions.score,
    flagged_tokens: str = DecodeOptions.flagged_tokens,
    bias: str = DecodeOptions.bias,
    temperature: float = DecodeOptions.temperature,
    exclude_tokens: Iterable[int] | None = None,
    dtype: str = DecodeOptions.dtype,
    options: DecodeOptions | None = None,
    device: str | torch.device | None = None,
    chunk_size: int | None = None,
    out: str | os.PathLike | None = None,
    progress: bool | LayerProgress = False,
) -> NeuronMap:
    """Decode the MLP neurons of `layers` (default: all) of `model` through its LM head.

    Options (side ... dtype, or a ready `options`) are documented with the maths in
    interp.neurons.options; they are recorded in the map. `device`: where the matmuls run
    (default: the model's device; "auto" picks cuda/mps/cpu). `chunk_size`: neurons per matmul
    (default: ~512 MiB of temporaries). `out`: save to this directory, one file per finished
    layer; rerunning with the same model and options skips the layers already there.
    `progress`: True for a bar per layer on a terminal (a line per layer otherwise).
    Bad input raises InterpError before anything is written.
    """
    if options is None:
        options = DecodeOptions(
            side=side, top_k=top_k, bottom_k=bottom_k, center=center, fold_norm=fold_norm,
            scale=scale, score=score, flagged_tokens=flagged_tokens, bias=bias,
            temperature=temperature,
            exclude_tokens=tuple(exclude_tokens or ()), dtype=dtype)
    options.check_vocab(model.facts.d_vocab)
    selected = resolve_layers(model.facts.n_layers, layers)
    model.neuron_vectors(selected[0], options.side)  # raises for a side the model lacks
    if chunk_size is not None and (isinstance(chunk_size, bool) or int(chunk_size) < 1):
        raise InterpError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    dev = model.device if device is None else _device(device)
    vocab = vocab_strings(model)
    path = None if out is None else Path(out)
    resume = path is not None and prepare_output(path, map_header(model, options, vocab))
    unembed, extras = prepare_unembedding(model, options, dev)
    done = set(layer_files(path)) if resume else set()
    # cfg.json records the layers planned (those there and these): a map left by an
    # interrupted run is known to be unfinished (NeuronMap.load refuses it)
    header = map_header(model, options, vocab, extras, planned=done | set(selected))
    if resume:
        store.plan_layers(path, header.planned)
    fresh = path is not None and not resume  # the header is written with the first layer
    reporter = LayerProgress() if progress is True else (progress or None)

    results: dict[int, LayerDecode] = {}
    try:
        for i, layer in enumerate(selected):
            where = f"{i + 1}/{len(selected)}"
            if layer in done:
                if reporter:
                    reporter.skip(layer, where)
                continue
            vectors = layer_vectors(model, layer, options)
            if reporter:
                reporter.start(layer, vectors.shape[0], where)
            data = decode_vectors(vectors, unembed, options, chunk_size,
                                  reporter.advance if reporter else None)
            if path is not None:
                if fresh:  # only now: a run that fails before its first layer leaves nothing
                    store.write_header(path, header, vocab)
                    fresh = False
                store.write_layer(path, header, layer, data)
            else:
                results[layer] = data
            if reporter:
                reporter.end(layer, vectors.shape[0], where)
    finally:
        if reporter:
            reporter.close()
    if path is not None:
        return NeuronMap.load(path)
    return NeuronMap(header, vocab, results)


def _device(device: str | torch.device) -> torch.device:
    from interp.models.devices import resolve_device

    return resolve_device(device)
