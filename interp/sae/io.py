"""SAE artifacts (an interp.artifact of kind SAE): a directory with cfg.json (config, model
name under "model_name", fingerprint, hook site) and sae.safetensors; loading against a
different model is refused, and so is a damaged one (cfg.json, or weights of another shape or
dtype, or not finite)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from interp.artifact import CFG_FILE, Kind, TensorSpec, load_tensors, tensor_bytes
from interp.errors import InterpError
from interp.sae.model import SAEConfig, SparseAutoencoder

if TYPE_CHECKING:
    from interp.models.model import Model

SAE = Kind("sae", 1, "SAE", made="was trained on", a="an", fields={"sae": dict})
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
    weights = {k: v.float() for k, v in sae.state_dict().items()}  # loading makes float32
    return SAE.save(path, cfg, {WEIGHTS_FILE: tensor_bytes(weights, fingerprint)})


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
    try:
        cfg = SAEConfig.from_dict(meta["sae"])
    except (InterpError, TypeError) as err:  # TypeError: a field missing or of another type
        raise SAE.invalid(root, f"{CFG_FILE}: 'sae': {err}") from None
    try:
        state, _ = load_tensors(root / WEIGHTS_FILE, expect=tensor_specs(cfg))
    except InterpError as err:
        raise SAE.invalid(root, str(err)) from None
    sae = SparseAutoencoder(cfg)
    sae.load_state_dict(state)
    return sae.to(device), meta


def tensor_specs(cfg: SAEConfig) -> dict[str, TensorSpec]:
    """What sae.safetensors must hold: the finite float32 weights of an SAE of `cfg`."""
    n, d = cfg.n_latents, cfg.d_in
    shapes = {"W_dec": (n, d), "W_enc": (d, n), "b_enc": (n,), "b_dec": (d,)}
    return {name: TensorSpec(shape) for name, shape in shapes.items()}
