"""Codebooks as an interp.artifact (kind CODEBOOKS): a directory with cfg.json (model name
and fingerprint, one entry per site) and codebooks.safetensors (codes, usage counts and, with
the layer norm, its weight and bias). Written atomically; loading against a model with another
fingerprint is refused. Format version 2 added the layer norm; version 1 directories (made
without it) are refused with "make it again"."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from interp.artifact import Kind, load_tensors, tensor_bytes
from interp.codebook.layer import Codebook
from interp.codebook.splice import Codebooks, CodebookSite
from interp.errors import InterpError

if TYPE_CHECKING:
    from interp.models.model import Model

CODEBOOKS = Kind("codebooks", 2, "codebooks", made="were made for")
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


def load_codebooks(path: str | os.PathLike, model: Model) -> Codebooks:
    """Load codebooks saved for `model`; InterpError if they were made for another model."""
    cfg = CODEBOOKS.read(path, model)
    try:
        tensors, _ = load_tensors(Path(path) / TENSORS_FILE, cfg["fingerprint"])
    except InterpError as err:
        raise CODEBOOKS.invalid(path, str(err)) from None
    sites, books = [], []
    for entry in cfg["sites"]:
        s = CodebookSite(int(entry["layer"]), str(entry["site"]))
        book = Codebook(int(entry["dim"]), int(entry["n_codes"]), int(entry["k"]),
                        groups=int(entry["groups"]), similarity=entry["similarity"],
                        layer_norm=bool(entry["layer_norm"]))
        try:
            book.codes.data.copy_(tensors[f"{s.key}.codes"])
            book.counts.copy_(tensors[f"{s.key}.counts"])
            if book.layer_norm:
                book.ln_weight.data.copy_(tensors[f"{s.key}.ln_weight"])
                book.ln_bias.data.copy_(tensors[f"{s.key}.ln_bias"])
        except (KeyError, RuntimeError) as err:
            raise InterpError(f"codebooks in '{path}' are damaged at {s}: {err}") from None
        sites.append(s)
        books.append(book)
    out = Codebooks(sites, books, model_name=cfg["model"], fingerprint=cfg["fingerprint"])
    out.check_model(model)
    return out.to(model.device)
