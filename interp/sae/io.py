"""SAE artifacts: a directory with cfg.json (config, model name, fingerprint, hook site) and
sae.safetensors; loading against a different model is refused."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors.torch import load_file, save_file

from interp.atomic import write_with
from interp.errors import InterpError
from interp.sae.model import SAEConfig, SparseAutoencoder

if TYPE_CHECKING:
    from interp.models.model import Model

CFG_FILE = "cfg.json"
WEIGHTS_FILE = "sae.safetensors"
FORMAT = "interp-sae"
FORMAT_VERSION = 1


def save_sae(
    sae: SparseAutoencoder, path: str | os.PathLike, *, model: Model | None = None,
    model_name: str | None = None, fingerprint: str | None = None, hook: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write `sae` to directory `path`. Pass `model` (an interp Model) or model_name and
    fingerprint explicitly; `hook` names the activation site it was trained on."""
    if model is not None:
        model_name = model_name or model.name
        fingerprint = fingerprint or model.fingerprint
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    cfg = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "sae": sae.cfg.to_dict(),
        "model_name": model_name, "fingerprint": fingerprint, "hook": hook,
        "extra": extra or {},
    }
    tensors = {k: v.detach().cpu().clone().contiguous() for k, v in sae.state_dict().items()}
    write_with(out / WEIGHTS_FILE, lambda tmp: save_file(tensors, tmp))
    write_with(out / CFG_FILE, lambda tmp: Path(tmp).write_text(json.dumps(cfg, indent=1)))
    return out


def load_sae(
    path: str | os.PathLike, *, model: Model | None = None, fingerprint: str | None = None,
    device: str | torch.device = "cpu",
) -> tuple[SparseAutoencoder, dict[str, Any]]:
    """(SAE, metadata) from a directory written by save_sae. With `model` (or `fingerprint`),
    refuse an SAE trained on another model."""
    root = Path(path)
    try:
        meta = json.loads((root / CFG_FILE).read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise InterpError(f"'{root}' is not an SAE directory (cannot read {CFG_FILE}: "
                          f"{getattr(err, 'strerror', None) or err})") from None
    if meta.get("format") != FORMAT:
        raise InterpError(f"'{root / CFG_FILE}' is not an {FORMAT} config")
    want = model.fingerprint if model is not None else fingerprint
    if want is not None and meta.get("fingerprint") != want:
        raise InterpError(
            f"SAE at '{root}' was trained on model {meta.get('model_name')!r} (fingerprint "
            f"{meta.get('fingerprint')}), not this one (fingerprint {want})")
    sae = SparseAutoencoder(SAEConfig.from_dict(meta["sae"]))
    try:
        state = load_file(str(root / WEIGHTS_FILE))
    except OSError as err:
        raise InterpError(f"cannot read '{root / WEIGHTS_FILE}': {err}") from None
    sae.load_state_dict(state)
    return sae.to(device), meta
