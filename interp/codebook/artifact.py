"""Codebooks as an interp.artifact (kind CODEBOOKS): a directory with cfg.json (model name
and fingerprint, one entry per site) and codebooks.safetensors (codes, usage counts and, with
the layer norm, its weight and bias). Written atomically; loading against a model with another
fingerprint is refused, and so is a damaged one (cfg.json fields, tensor shapes, dtypes and
finite values are checked before anything is built). Format version 2 added the layer norm;
version 1 directories (made without it) are refused with "make it again"."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from interp.artifact import CFG_FILE, COUNT, INDEX, Kind, TensorSpec, load_tensors, tensor_bytes
from interp.codebook.layer import Codebook
from interp.codebook.splice import Codebooks, CodebookSite
from interp.errors import InterpError

if TYPE_CHECKING:
    from interp.models.model import Model

SITE_FIELDS = {"layer": INDEX, "site": str, "n_codes": COUNT, "k": COUNT, "groups": COUNT,
               "dim": COUNT, "similarity": str, "layer_norm": bool}
CODEBOOKS = Kind("codebooks", 2, "codebooks", made="were made for", fields={
    "model": str, "fingerprint": str, "sites": [SITE_FIELDS]})
TENSORS_FILE = "codebooks.safetensors"


def save_codebooks(codebooks: Codebooks, path: str | os.PathLike, meta: dict | None = None
                   ) -> Path:
    """Write the codebooks to directory `path` (new, empty, or earlier codebooks: replaced
    whole); `meta` (JSON-able) is kept in cfg.json under "meta" (e.g. training settings and
    health). Returns the path."""
    tensors = {}
    sites = []
    for s, book in codebooks.items():
        tensors[f"{s.key}.codes"] = book.codes.float()
        tensors[f"{s.key}.counts"] = book.counts
        if book.layer_norm:
            tensors[f"{s.key}.ln_weight"] = book.ln_weight.float()
            tensors[f"{s.key}.ln_bias"] = book.ln_bias.float()
        sites.append({"layer": s.layer, "site": s.site, "n_codes": book.n_codes, "k": book.k,
                      "groups": book.groups, "dim": book.dim, "similarity": book.similarity,
                      "layer_norm": book.layer_norm})
    cfg = {"model": codebooks.model_name, "fingerprint": codebooks.fingerprint,
           "sites": sites, "meta": meta or {}}
    return CODEBOOKS.save(path, cfg, {TENSORS_FILE: tensor_bytes(tensors, codebooks.fingerprint)})


def tensor_specs(site: CodebookSite, entry: dict) -> dict[str, TensorSpec]:
    """What the tensors of one cfg.json site entry must be (codes and layer norm finite
    float32, usage counts non-negative int64)."""
    groups, n, dim = entry["groups"], entry["n_codes"], entry["dim"]
    specs = {f"{site.key}.codes": TensorSpec((groups, n, dim)),
             f"{site.key}.counts": TensorSpec((groups, n), ("int64",), low=0)}
    if entry["layer_norm"]:
        specs |= {f"{site.key}.{name}": TensorSpec((groups, dim))
                  for name in ("ln_weight", "ln_bias")}
    return specs


def load_codebooks(path: str | os.PathLike, model: Model) -> Codebooks:
    """Load codebooks saved for `model`; InterpError if they were made for another model or
    are damaged (naming the file and what is wrong). The tensors are checked against cfg.json
    before any codebook is built."""
    cfg = CODEBOOKS.read(path, model)
    try:
        sites = [CodebookSite.parse((e["layer"], e["site"])) for e in cfg["sites"]]
    except InterpError as err:
        raise CODEBOOKS.invalid(path, f"{CFG_FILE}: {err}") from None
    expect = {k: v for s, e in zip(sites, cfg["sites"], strict=True)
              for k, v in tensor_specs(s, e).items()}
    try:
        tensors, _ = load_tensors(Path(path) / TENSORS_FILE, cfg["fingerprint"], expect=expect)
    except InterpError as err:
        raise CODEBOOKS.invalid(path, str(err)) from None
    try:
        books = [Codebook(e["dim"], e["n_codes"], e["k"], groups=e["groups"],
                          similarity=e["similarity"], layer_norm=e["layer_norm"])
                 for e in cfg["sites"]]
        out = Codebooks(sites, books, model_name=cfg["model"], fingerprint=cfg["fingerprint"])
    except InterpError as err:
        raise CODEBOOKS.invalid(path, f"{CFG_FILE}: {err}") from None
    with torch.no_grad():
        for s, book in out.items():
            book.codes.copy_(tensors[f"{s.key}.codes"])
            book.counts.copy_(tensors[f"{s.key}.counts"])
            if book.layer_norm:
                book.ln_weight.copy_(tensors[f"{s.key}.ln_weight"])
                book.ln_bias.copy_(tensors[f"{s.key}.ln_bias"])
    out.check_model(model)
    return out.to(model.device)
