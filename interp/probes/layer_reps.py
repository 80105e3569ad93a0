"""Per-layer representations of texts for concept-depth probes (Jin et al. 2024).

`representations(model, texts, site=..., pooling=...)` runs `interp.hooks.capture` once over
every layer of one residual-stream site and pools each text to one vector per layer:

- site "resid_pre": n_layers + 1 rows: the residual entering blocks 0..n_layers-1, then the
  residual leaving the last block (row i = after i blocks; row 0 is the embedding).
- site "resid_mid": n_layers rows, the residual after block i's attention, before its MLP.
- site "resid_post": n_layers rows, the residual leaving block i.
- site "mid_norm": n_layers rows, the output of block i's second norm (TransformerLens
  `blocks.{i}.ln2.hook_out`, HF `post_attention_layernorm` / GPT-2 `ln_2`, gain included): the
  paper's site (Jin et al. probe `model.layers.{i}.post_attention_layernorm`). In sequential
  blocks it normalises resid_mid (depth i + 0.5); in parallel attention+MLP blocks (GPT-NeoX,
  GPT-J) it normalises the block input resid_pre (depth i), so it is the MLP's input there.

pooling "last" keeps each text's last token; "mean" averages over its real (unpadded) tokens,
BOS included when the model prepends one. `site_depths` gives each row's depth in blocks, so
layer / n_layers compares models of different depth.

With `cache_dir`, the result is stored as `<key>.safetensors` plus `<key>.json` (model
fingerprint, site, pooling, texts hash, shape), where key hashes site, pooling and texts. Both
files are written to temporary names and renamed (the JSON last, so its presence marks a
complete entry). The key also covers the model's dtype and its `variant` attribute (set by
interp.probes.robustness for quantised copies), since the fingerprint ignores float precision.
A cached entry written for a different model fingerprint is refused.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from jaxtyping import Float
from torch import Tensor

from interp.artifact import Kind, cfg_bytes, load_tensors, tensor_bytes
from interp.atomic import write_atomic
from interp.errors import InterpError, choices_error
from interp.models.devices import dtype_name

if TYPE_CHECKING:
    from interp.models.model import Model

SITES = ("resid_pre", "resid_mid", "resid_post", "mid_norm")
MID_NORM_HOOK = "blocks.{layer}.ln2.hook_out"
POOLINGS = ("last", "mean")
PROBE_REPS = Kind("probe-representations", 2, "cached representations",
                  made="were computed by")


def site_depths(site: str, n_layers: int, parallel: bool = False) -> list[float]:
    """Depth in blocks of each representation row for `site` (resid_mid counts half a block;
    mid_norm too, or 0 in parallel attention+MLP blocks, where it reads the block input)."""
    if site == "resid_pre":
        return [float(i) for i in range(n_layers + 1)]
    if site == "mid_norm" and parallel:
        return [float(i) for i in range(n_layers)]
    if site in ("resid_mid", "mid_norm"):
        return [i + 0.5 for i in range(n_layers)]
    if site == "resid_post":
        return [float(i + 1) for i in range(n_layers)]
    raise choices_error("site", site, SITES)


def texts_hash(texts: Sequence[str]) -> str:
    """sha256 of the texts (length-prefixed, so boundaries count)."""
    h = hashlib.sha256()
    for t in texts:
        b = t.encode("utf-8")
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()


def _check(texts: Sequence[str], site: str, pooling: str) -> list[str]:
    if site not in SITES:
        raise choices_error("site", site, SITES)
    if pooling not in POOLINGS:
        raise choices_error("pooling", pooling, POOLINGS)
    if isinstance(texts, str):
        raise InterpError("texts must be a list of strings, got a single str")
    texts = list(texts)
    if not texts:
        raise InterpError("no texts given")
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise InterpError(f"text {i} is {type(t).__name__}; expected str")
    return texts


def _hook_names(model: Model, site: str) -> list[str]:
    n = model.facts.n_layers
    if site == "mid_norm":
        names = [MID_NORM_HOOK.format(layer=layer) for layer in range(n)]
        missing = [h for h in names if h not in model.bridge.hook_dict]
        if missing:
            raise InterpError(f"site 'mid_norm' needs hook {missing[0]!r}, which this "
                              f"{model.facts.architecture} bridge does not have")
        return names
    names = [model.hook_name(site, layer) for layer in range(n)]
    if site == "resid_pre":
        names.append(model.hook_name("resid_post", n - 1))
    return names


def compute_representations(
    model: Model, texts: Sequence[str], site: str = "resid_post", pooling: str = "last",
    batch_size: int = 8,
) -> Float[Tensor, "rows n_texts d_model"]:
    """Pooled float32 representations [rows, n_texts, d_model] on the CPU (no caching)."""
    from interp.hooks import capture

    texts = _check(texts, site, pooling)
    names = _hook_names(model, site)
    acts = capture(model, names, texts, batch_size=batch_size,
                   positions="last" if pooling == "last" else None)
    rows = []
    for name in names:
        x = acts[name].float()  # [n, k, d]
        if pooling == "last":
            rows.append(x[:, 0])
        else:
            m = acts.mask.unsqueeze(-1).float()
            rows.append((x * m).sum(1) / m.sum(1).clamp(min=1.0))
    return torch.stack(rows)


def model_variant(model: Model) -> str:
    """What the cache key adds to the fingerprint: dtype and `model.variant` (e.g. "int8")."""
    dtype = dtype_name(model.dtype) if getattr(model, "dtype", None) is not None else ""
    variant = getattr(model, "variant", "") or ""
    return f"{dtype}+{variant}" if variant else dtype


def _cache_paths(cache_dir: Path, site: str, pooling: str, thash: str,
                 variant: str) -> tuple[Path, Path]:
    key = hashlib.sha256(f"{site}|{pooling}|{thash}|{variant}".encode()).hexdigest()[:24]
    stem = f"{site}-{pooling}-{key}"
    return cache_dir / f"{stem}.safetensors", cache_dir / f"{stem}.json"


def representations(
    model: Model, texts: Sequence[str], site: str = "resid_post", pooling: str = "last", *,
    batch_size: int = 8, cache_dir: str | os.PathLike | None = None,
) -> Float[Tensor, "rows n_texts d_model"]:
    """Per-layer pooled representations of `texts` at `site`, optionally cached on disk.

    Returns float32 [rows, n_texts, d_model] (rows: see the module docstring). With
    `cache_dir`, a matching entry is loaded instead of rerunning the model; an entry written
    by a model with a different fingerprint raises InterpError.
    """
    texts = _check(texts, site, pooling)
    if cache_dir is None:
        return compute_representations(model, texts, site, pooling, batch_size)
    cache = Path(cache_dir)
    thash = texts_hash(texts)
    variant = model_variant(model)
    tensor_path, meta_path = _cache_paths(cache, site, pooling, thash, variant)
    meta = PROBE_REPS.cached(meta_path) if tensor_path.exists() else None
    if meta is not None:
        PROBE_REPS.check_model(meta, model, meta_path, "use another cache_dir or delete the entry")
        if (meta.get("site"), meta.get("pooling"), meta.get("texts_sha256"),
                meta.get("variant")) == (site, pooling, thash, variant):
            return load_tensors(tensor_path)[0]["representations"]
    reps = compute_representations(model, texts, site, pooling, batch_size)
    cache.mkdir(parents=True, exist_ok=True)
    meta = PROBE_REPS.stamp({
        "model": model.name, "fingerprint": model.fingerprint, "variant": variant, "site": site,
        "pooling": pooling, "texts_sha256": thash, "n_texts": len(texts), "shape": list(reps.shape),
        "depths": site_depths(site, model.facts.n_layers, model.facts.parallel_attn_mlp),
        "n_layers": model.facts.n_layers,
    })
    write_atomic(tensor_path, tensor_bytes({"representations": reps}, model.fingerprint))
    write_atomic(meta_path, cfg_bytes(meta))  # last: its presence marks a complete entry
    return reps
