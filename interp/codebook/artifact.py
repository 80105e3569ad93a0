"""Codebooks as an artifact: a directory with cfg.json (model name and fingerprint, one entry
per site) and codebooks.safetensors (codes and usage counts). Written atomically; loading
against a model with another fingerprint is refused."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interp.codebook.layer import Codebook
from interp.codebook.splice import Codebooks, CodebookSite
from interp.errors import InterpError

if TYPE_CHECKING:
    from interp.models.model import Model

FORMAT = "interp.codebooks"
FORMAT_VERSION = 1
CFG_FILE = "cfg.json"
TENSORS_FILE = "codebooks.safetensors"


def save_codebooks(codebooks: Codebooks, path: str | os.PathLike, meta: dict | None = None
                   ) -> Path:
    """Write the codebooks to directory `path` (created); `meta` (JSON-able) is kept in
    cfg.json under "meta" (e.g. training settings and health). Returns the path."""
    from safetensors.torch import save

    from interp.atomic import write_atomic

    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    tensors = {}
    sites = []
    for s, book in codebooks.items():
        tensors[f"{s.key}.codes"] = book.codes.detach().cpu().float().contiguous()
        tensors[f"{s.key}.counts"] = book.counts.detach().cpu().contiguous()
        sites.append({"layer": s.layer, "site": s.site, "n_codes": book.n_codes, "k": book.k,
                      "groups": book.groups, "dim": book.dim, "similarity": book.similarity})
    cfg = {"format": FORMAT, "format_version": FORMAT_VERSION, "model": codebooks.model_name,
           "fingerprint": codebooks.fingerprint, "sites": sites, "meta": meta or {}}
    write_atomic(out / TENSORS_FILE,
                 save(tensors, metadata={"fingerprint": codebooks.fingerprint}))
    write_atomic(out / CFG_FILE, (json.dumps(cfg, indent=1) + "\n").encode())
    return out


def read_cfg(path: str | os.PathLike) -> dict[str, Any]:
    """cfg.json of a codebooks directory, validated (InterpError if missing or foreign)."""
    cfg_path = Path(path) / CFG_FILE
    try:
        cfg = json.loads(cfg_path.read_text())
    except FileNotFoundError:
        raise InterpError(f"'{path}' is not a codebooks directory (no {CFG_FILE})") from None
    except (OSError, json.JSONDecodeError) as err:
        raise InterpError(f"cannot read '{cfg_path}': {err}") from None
    if cfg.get("format") != FORMAT:
        raise InterpError(f"'{path}' holds {cfg.get('format')!r}, not {FORMAT!r}")
    if cfg.get("format_version") != FORMAT_VERSION:
        raise InterpError(f"codebooks format_version {cfg.get('format_version')!r} is not "
                          f"supported (this interp reads {FORMAT_VERSION})")
    return cfg


def load_codebooks(path: str | os.PathLike, model: Model) -> Codebooks:
    """Load codebooks saved for `model`; InterpError if they were made for another model."""
    from safetensors.torch import load_file

    cfg = read_cfg(path)
    if cfg["fingerprint"] != model.fingerprint:
        raise InterpError(
            f"codebooks in '{path}' were made for model {cfg['model']!r} (fingerprint "
            f"{cfg['fingerprint']}); this model is {model.name!r} ({model.fingerprint})")
    tensors = load_file(str(Path(path) / TENSORS_FILE))
    sites, books = [], []
    for entry in cfg["sites"]:
        s = CodebookSite(int(entry["layer"]), str(entry["site"]))
        book = Codebook(int(entry["dim"]), int(entry["n_codes"]), int(entry["k"]),
                        groups=int(entry["groups"]), similarity=entry["similarity"])
        try:
            book.codes.data.copy_(tensors[f"{s.key}.codes"])
            book.counts.copy_(tensors[f"{s.key}.counts"])
        except (KeyError, RuntimeError) as err:
            raise InterpError(f"codebooks in '{path}' are damaged at {s}: {err}") from None
        sites.append(s)
        books.append(book)
    out = Codebooks(sites, books, model_name=cfg["model"], fingerprint=cfg["fingerprint"])
    out.check_model(model)
    return out.to(model.device)
