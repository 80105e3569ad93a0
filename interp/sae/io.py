"""SAE artifacts (an interp.artifact of kind SAE): a directory with cfg.json (config, model
name under "model_name", fingerprint, hook site) and sae.safetensors; loading against a
different model is refused."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from interp.artifact import Kind, load_tensors, tensor_bytes
from interp.errors import InterpError
from interp.sae.model import SAEConfig, SparseAutoencoder

if TYPE_CHECKING:
    from interp.models.model import Model

SAE = Kind("sae", 1, "SAE", made="was trained on", a="an")
WEIGHTS_FILE = "sae.safetensors"


def save_sae(
    sae: SparseAutoencoder, path: str | os.PathLike, *, model: Model | None = None,
    model_name: str | None = None, fingerprint: str | None = None, hook: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write `sae` to directory `path` (new, empty, or an earlier SAE: replaced whole). Pass
    `model` (an interp Model) or model_name and fingerprint explicitly; `hook` names the
    activation site it was trained on."""
    if model is not None:
        model_name = model_name or model.name
        fingerprint = fingerprint or model.fingerprint
    cfg = {"sae": sae.cfg.to_dict(), "model_name": model_name, "fingerprint": fingerprint,
           "hook": hook, "extra": extra or {}}
    return SAE.save(path, cfg, {WEIGHTS_FILE: tensor_bytes(sae.state_dict(), fingerprint)})


def load_sae(
    path: str | os.PathLike, *, model: Model | None = None, fingerprint: str | None = None,
    device: str | torch.device = "cpu",
) -> tuple[SparseAutoencoder, dict[str, Any]]:
    """(SAE, metadata) from a directory written by save_sae. With `model` (or `fingerprint`),
    refuse an SAE trained on another model."""
    root = Path(path)
    meta = SAE.read(root)
    want = model if model is not None else fingerprint
    if want is not None:  # an SAE's cfg names its model "model_name"
        SAE.check_model({"model": meta.get("model_name"), "fingerprint": meta.get("fingerprint")},
                        want, root)
    sae = SparseAutoencoder(SAEConfig.from_dict(meta["sae"]))
    try:
        state, _ = load_tensors(root / WEIGHTS_FILE)
    except InterpError as err:
        raise SAE.invalid(root, str(err)) from None
    sae.load_state_dict(state)
    return sae.to(device), meta
