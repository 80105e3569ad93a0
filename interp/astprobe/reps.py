"""Per-leaf hidden states of every layer, from one forward pass per batch, cached on disk.

Row 0 is the embedding output (the residual entering block 0), row l the residual after l
blocks, so an n-layer model gives n + 1 rows (as Hugging Face's `hidden_states`). Works with
an `interp.Model` (captured with `interp.hooks.capture`: resid_pre of every block plus the
last resid_post) and with a plain Hugging Face model, encoder or decoder, called with
`output_hidden_states=True`. A leaf's vector is the mean of its tokens' vectors.

`leaf_representations(..., cache_dir=)` stores one `layer{r}.safetensors` per row (float16
`leaves` [total leaves, d] + int64 `offsets` [n + 1]) and a `cfg.json` (interp.artifact's
format tag, model fingerprint, samples hash) in an entry directory written atomically; an
entry for another model fingerprint is refused, one of an older format (or with the
`meta.json` of earlier versions) made again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from jaxtyping import Float, Int
from torch import Tensor

from interp.artifact import CFG_FILE, Kind, cfg_bytes, load_tensors, save_dir, tensor_bytes
from interp.astprobe.dataset import Sample
from interp.errors import InterpError
from interp.models.devices import dtype_name
from interp.progress import Progress

if TYPE_CHECKING:
    from interp.models.model import Model

LEAF_REPS = Kind("astprobe-leaf-reps", 1, "cached representations", made="were computed by")


class LeafReps:
    """`layers[r]`: [total leaves, d] for row r; sample i's leaves are rows
    offsets[i]:offsets[i+1]."""

    def __init__(self, layers: list[Tensor], offsets: Int[Tensor, " n_plus_1"]) -> None:
        self.layers, self.offsets = layers, offsets

    def __len__(self) -> int:
        return len(self.layers)

    def layer(self, row: int) -> list[Float[Tensor, "leaves d"]]:
        """Per-sample float32 leaf vectors of one row."""
        x = self.layers[row].float()
        o = self.offsets.tolist()
        return [x[o[i]:o[i + 1]] for i in range(len(o) - 1)]


def samples_hash(samples: Sequence[Sample]) -> str:
    h = hashlib.sha256()
    for s in samples:
        h.update(json.dumps([s.token_ids, s.leaf_tokens]).encode())
    return h.hexdigest()


def _forward_rows(model: Model, tokens: Tensor, mask: Tensor) -> list[Tensor]:
    """Hidden states [b, p, d] of every row for a right-padded batch (on the CPU, float32)."""
    if hasattr(model, "bridge"):  # interp.Model
        from interp.hooks import capture

        n = model.facts.n_layers
        names = [model.hook_name("resid_pre", i) for i in range(n)]
        names.append(model.hook_name("resid_post", n - 1))
        acts = capture(model, names, tokens, attention_mask=mask, batch_size=len(tokens))
        return [acts[name].float() for name in names]
    device = next(model.parameters()).device
    with torch.no_grad():
        out = model(input_ids=tokens.to(device), attention_mask=mask.to(device),
                    output_hidden_states=True)
    return [h.detach().float().cpu() for h in out.hidden_states]


def compute_leaf_reps(model: Model, samples: Sequence[Sample], batch_size: int = 16,
                      progress: bool = True, pad_id: int = 0) -> LeafReps:
    """Leaf vectors of every row for `samples` (no caching); stored as float16."""
    order = sorted(range(len(samples)), key=lambda i: len(samples[i].token_ids))
    per_sample: list[list[Tensor] | None] = [None] * len(samples)
    bar = Progress("ast-probe", desc="leaf representations", total=len(samples),
                   unit="snippet", enabled=progress)
    bar.note(f"representations of {len(samples)} snippets ...")
    with bar:
        for b0 in range(0, len(order), batch_size):
            idx = order[b0:b0 + batch_size]
            width = max(len(samples[i].token_ids) for i in idx)
            tokens = torch.full((len(idx), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(idx), width), dtype=torch.long)
            for r, i in enumerate(idx):
                ids = samples[i].token_ids
                tokens[r, :len(ids)] = torch.tensor(ids)
                mask[r, :len(ids)] = 1
            rows = _forward_rows(model, tokens, mask)
            for r, i in enumerate(idx):
                s = samples[i]
                leaf = torch.tensor([k for k, toks in enumerate(s.leaf_tokens) for _ in toks])
                tok = torch.tensor([t for toks in s.leaf_tokens for t in toks])
                count = torch.bincount(leaf, minlength=s.n_leaves).unsqueeze(1).float()
                per_sample[i] = [
                    (torch.zeros(s.n_leaves, h.shape[-1]).index_add_(0, leaf, h[r, tok]) / count)
                    .half() for h in rows]
            bar.update(len(idx))
    n_rows = len(per_sample[0]) if per_sample else 0
    layers = [torch.cat([p[row] for p in per_sample]) for row in range(n_rows)]  # type: ignore[index]
    offsets = torch.tensor([0] + [s.n_leaves for s in samples]).cumsum(0)
    return LeafReps(layers, offsets)


def _fingerprint(model: Model) -> str:
    """The model's fingerprint; for a plain Hugging Face model (no fingerprint), a hash of
    its first weights' bytes."""
    fp = getattr(model, "fingerprint", None)
    if fp:
        return str(fp)
    h = hashlib.sha256()
    for name, p in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(p.detach().float().cpu().numpy().tobytes()[:4096])
    return h.hexdigest()[:16]


def leaf_representations(model: Model, samples: Sequence[Sample], *, batch_size: int = 16,
                         cache_dir: str | os.PathLike | None = None, progress: bool = True,
                         pad_id: int = 0) -> LeafReps:
    """Leaf vectors of every row, loaded from `cache_dir/<key>/` when present (see module)."""
    if not samples:
        raise InterpError("no samples to compute representations for")
    if cache_dir is None:
        return compute_leaf_reps(model, samples, batch_size, progress, pad_id)
    fp, shash = _fingerprint(model), samples_hash(samples)
    entry = Path(cache_dir) / hashlib.sha256(f"{fp}|{shash}".encode()).hexdigest()[:20]
    meta = LEAF_REPS.cached(entry / CFG_FILE)
    if meta is not None:
        LEAF_REPS.check_model(meta, fp, entry, "delete the entry")
        files = [load_tensors(entry / f"layer{r}.safetensors")[0] for r in range(meta["n_rows"])]
        return LeafReps([f["leaves"] for f in files], files[0]["offsets"])
    reps = compute_leaf_reps(model, samples, batch_size, progress, pad_id)
    meta = LEAF_REPS.stamp({
        "model": str(getattr(model, "name", type(model).__name__)), "fingerprint": fp,
        "samples_sha256": shash, "n_samples": len(samples), "n_rows": len(reps),
        "d": int(reps.layers[0].shape[1]), "dtype": dtype_name(reps.layers[0].dtype)})
    files = ((f"layer{r}.safetensors", tensor_bytes({"leaves": x, "offsets": reps.offsets}, fp))
             for r, x in enumerate(reps.layers))
    save_dir(entry, chain(files, [(CFG_FILE, cfg_bytes(meta))]))
    return reps
