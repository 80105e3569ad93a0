"""Activation scale: per-neuron statistics over a reference corpus, the unit for clamp values.

A raw clamp value means little across models and layers; "10x" (ten times the neuron's
largest |activation| on ordinary text) means the same thing everywhere. The statistics are
gathered with `interp.hooks.capture` in one streaming pass (a chunk of documents at a time).
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from jaxtyping import Float
from torch import Tensor

from interp.artifact import check_model
from interp.errors import InterpError, range_error

if TYPE_CHECKING:
    from interp.models.model import Model

#: Characters of the default reference corpus (interp.texts.default_documents).
DEFAULT_CORPUS_CHARS = 60_000
#: Bytes of captured activations held at once (documents per capture call follow from it;
#: the statistics are accumulated across chunks).
CHUNK_BYTES = 256 * 2**20

_CACHE: weakref.WeakKeyDictionary[Any, dict[str, ActivationScale]] = weakref.WeakKeyDictionary()


@dataclass
class ActivationScale:
    """Per-neuron statistics of one site (e.g. mlp_post) at some layers.

    Each tensor is [n_layers_seen, d_units], rows in the order of `layers`. `max_abs` is the
    unit of clamp values given as multiples ("10x" = 10 * max_abs). BOS positions are left
    out: their activations are often outliers that say nothing about ordinary text.
    """

    site: str
    layers: list[int]
    max_abs: Float[Tensor, "layers units"]
    max: Float[Tensor, "layers units"]
    min: Float[Tensor, "layers units"]
    mean: Float[Tensor, "layers units"]
    std: Float[Tensor, "layers units"]
    n_tokens: int
    fingerprint: str | None = None
    meta: dict = field(default_factory=dict)

    def row(self, layer: int) -> int:
        if layer not in self.layers:
            raise InterpError(
                f"no activation scale for {self.site} layer {layer}; this one covers layers "
                f"{self.layers}: compute one with activation_scale(model, layers=[{layer}])"
            )
        return self.layers.index(layer)

    def unit(self, layer: int, neurons: Sequence[int] | Tensor | None = None
             ) -> Float[Tensor, " k"]:
        """max |activation| of `neurons` (all if None) at `layer`: the "1x" of a clamp value."""
        values = self.max_abs[self.row(layer)]
        if neurons is None:
            return values.clone()
        index = torch.as_tensor(neurons, dtype=torch.long).reshape(-1)
        if len(index) and not (0 <= int(index.min()) and int(index.max()) < len(values)):
            bad = next(int(i) for i in index if not 0 <= int(i) < len(values))
            raise range_error("neuron", bad, len(values))
        return values[index]

    def check_model(self, model: Model) -> None:
        """Refuse a scale computed on another checkpoint."""
        if self.fingerprint is not None:
            check_model("activation scale was computed on", None, self.fingerprint, model,
                        "recompute it with activation_scale(model)")

    def __repr__(self) -> str:
        return (f"ActivationScale({self.site}, layers={self.layers}, "
                f"{self.max_abs.shape[-1]} units, {self.n_tokens} tokens)")


def default_corpus(n_chars: int = DEFAULT_CORPUS_CHARS, seed: int = 0, *,
                   model: Model | None = None) -> list[str]:
    """About `n_chars` characters of `model`'s default corpus: the generated stories (`seed`)
    for a bundled toy model or no model, the committed real text for any other model."""
    from interp.texts.corpora import default_documents

    return default_documents(model, n_chars, seed)


def _has_bos(model: Model) -> bool:
    bos = model.tokenizer.bos_token_id
    return bos is not None and int(model.to_tokens("a")[0, 0]) == bos


def activation_scale(
    model: Model,
    layers: int | Sequence[int] | None = None,
    *,
    site: str = "mlp_post",
    corpus: Iterable[str] | None = None,
    batch_size: int = 8,
    max_length: int | None = 128,
    chunk_docs: int | None = None,
) -> ActivationScale:
    """Per-neuron activation statistics of `site` at `layers` (default all) over a corpus.

    corpus: texts (default: `default_corpus(model=model)`, ~60k characters of the stories for
    a bundled toy model, of the committed real text for any other).
    Documents are truncated to `max_length` tokens. `chunk_docs` documents go through
    capture at a time (default: as many as fit in ~256 MiB of activations). Runs on the
    model as it is: active interventions would distort the statistics, so they are refused.
    """
    from interp.hooks import active_interventions, capture

    if active_interventions(model):
        raise InterpError(
            "compute activation scales on the unmodified model: interventions are active "
            "(compute the scale first, or remove them with interp.hooks.remove_all(model))"
        )
    if layers is None:
        layers = list(range(model.facts.n_layers))
    elif isinstance(layers, int):
        layers = [layers]
    layers = list(dict.fromkeys(int(layer) for layer in layers))
    names = [model.hook_name(site, layer) for layer in layers]  # validates site and layers
    docs = iter(default_corpus(model=model) if corpus is None else corpus)
    positions = slice(1, None) if _has_bos(model) else None
    max_length = min(int(max_length or model.facts.n_ctx), model.facts.n_ctx)
    if chunk_docs is None:
        units = model.facts.d_mlp  # every neuron site has d_mlp units
        chunk_docs = max(1, CHUNK_BYTES // (max_length * len(layers) * units * 4))
    batch_size = min(batch_size, chunk_docs)
    acc: dict[str, Tensor] = {}
    n_tokens = 0
    while chunk := list(itertools.islice(docs, chunk_docs)):
        acts = capture(model, [(site, layer) for layer in layers], chunk, batch_size=batch_size,
                       positions=positions, dtype=torch.float32, max_length=max_length)
        x = torch.stack([acts.flat(name) for name in names], 1)  # [tokens, layers, units]
        if x.dim() > 3:
            x = x.flatten(2)
        n_tokens += x.shape[0]
        stats = {"max": x.amax(0), "min": x.amin(0), "sum": x.double().sum(0),
                 "sumsq": x.double().pow(2).sum(0)}
        for key, value in stats.items():
            if key not in acc:
                acc[key] = value
            elif key == "max":
                acc[key] = torch.maximum(acc[key], value)
            elif key == "min":
                acc[key] = torch.minimum(acc[key], value)
            else:
                acc[key] = acc[key] + value
    if n_tokens == 0:
        raise InterpError("the reference corpus is empty; give at least one text with 2+ tokens")
    mean = acc["sum"] / n_tokens
    var = (acc["sumsq"] / n_tokens - mean.pow(2)).clamp(min=0)
    return ActivationScale(
        site=site, layers=layers, max_abs=torch.maximum(acc["max"].abs(), acc["min"].abs()),
        max=acc["max"], min=acc["min"], mean=mean.float(), std=var.sqrt().float(),
        n_tokens=n_tokens, fingerprint=model.fingerprint,
        meta={"corpus": "default" if corpus is None else "given", "max_length": max_length},
    )


def default_scale(model: Model, site: str = "mlp_post") -> ActivationScale:
    """`activation_scale(model, site=site)` over the default corpus, all layers, computed
    once per model and site and then reused: in this process, and across processes from the
    cache directory (interp.models.cache), keyed by a digest of every weight as it is now, the
    site and a hash of the corpus text (another corpus, checkpoint or edited neuron never reads
    it)."""
    per_model = _CACHE.setdefault(model.bridge, {})
    if site not in per_model:
        per_model[site] = _disk_cached_scale(model, site)
    return per_model[site]


#: Bump when activation_scale's statistics change, so that older cached files are not read.
SCALE_VERSION = 1
_STATS = ("max_abs", "max", "min", "mean", "std")


def _disk_cached_scale(model: Model, site: str) -> ActivationScale:
    """default_scale's file cache (best effort: a cache that cannot be read or written only
    costs the computation)."""
    import hashlib
    import json

    from safetensors import SafetensorError, safe_open
    from safetensors.torch import save_file

    from interp.atomic import write_with
    from interp.models.cache import cache_root
    from interp.models.fingerprint import weights_digest

    model.hook_name(site, 0)  # validates the site before anything is read or computed
    docs = default_corpus(model=model)
    text = hashlib.sha256("\x00".join(docs).encode()).hexdigest()
    key = hashlib.sha256(json.dumps([weights_digest(model.bridge), site, text, SCALE_VERSION]
                                    ).encode()).hexdigest()[:16]
    path = cache_root() / "activation-scales" / f"{model.fingerprint}-{key}.safetensors"
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = json.loads(f.metadata()["scale"])
            stats = {k: f.get_tensor(k) for k in _STATS}
        return ActivationScale(site=site, layers=meta["layers"], n_tokens=meta["n_tokens"],
                               fingerprint=model.fingerprint, meta=meta["meta"], **stats)
    except (OSError, SafetensorError, KeyError, ValueError, TypeError):
        pass  # absent, cut short or of another layout: computed again below
    scale = activation_scale(model, site=site, corpus=docs)
    scale.meta["corpus"] = "default"
    meta = {"layers": scale.layers, "n_tokens": scale.n_tokens, "meta": scale.meta}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_with(path, lambda tmp: save_file(
            {k: getattr(scale, k).contiguous() for k in _STATS}, str(tmp),
            metadata={"scale": json.dumps(meta, sort_keys=True)}))
    except OSError:
        pass
    return scale
