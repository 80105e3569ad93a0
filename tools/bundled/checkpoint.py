"""Resumable training checkpoints as safetensors + JSON (model, AdamW state, progress)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def save_checkpoint(path: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    state: dict) -> None:
    """Write model weights, optimizer moments and `state` to `path`, atomically."""
    from safetensors.torch import save_file

    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    weights = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    save_file(weights, tmp / "model.safetensors")
    names = {id(p): n for n, p in model.named_parameters()}
    moments = {}
    for param, pstate in optimizer.state.items():
        for key, value in pstate.items():
            moments[f"{names[id(param)]}::{key}"] = value.detach().clone().reshape(
                value.shape or (1,)).contiguous()
    save_file(moments, tmp / "optimizer.safetensors")
    (tmp / "state.json").write_text(json.dumps(state))
    old = path.with_name(path.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if path.exists():
        os.replace(path, old)
    os.replace(tmp, path)
    shutil.rmtree(old, ignore_errors=True)


def load_checkpoint(path: Path, model: torch.nn.Module,
                    optimizer: torch.optim.Optimizer) -> dict | None:
    """Restore model and optimizer from `path`; returns the saved state, or None if absent."""
    from safetensors.torch import load_file

    if not (path / "state.json").exists():
        return None
    model.load_state_dict(load_file(path / "model.safetensors"), strict=False)
    moments = load_file(path / "optimizer.safetensors")
    params = dict(model.named_parameters())
    for key, value in moments.items():
        name, field = key.split("::")
        param = params[name]
        target = optimizer.state[param]
        target[field] = value.reshape(()) if field == "step" else value
    return json.loads((path / "state.json").read_text())
