"""Wrap a model that is already in memory: a Hugging Face causal LM and its tokenizer
(`wrap_hf`, what `load_model` ends with and what `Model.from_hf` calls) or an existing
TransformerBridge (`wrap_bridge`, `Model.from_bridge`). No weight is read again: the model's
own tensors are bridged (or reused) as they are, and the facts and fingerprint are those
`load_model` gives for the same checkpoint.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interp.errors import InterpError
from interp.errors import first_line as _first_line

if TYPE_CHECKING:
    import torch

    from interp.models.model import Model


def wrap_hf(hf_model: Any, tokenizer: Any, *, name: str | None = None,
            path: Path | None = None, device: torch.device | str | None = None) -> Model:
    """A Model around `hf_model` (a transformers causal LM, put in eval mode) and `tokenizer`.

    name: what artifacts record (default: the config's name_or_path, else the class name);
    path: the checkpoint's directory when known (default: name_or_path when it is a directory);
    device: where the model goes (default: where its parameters already are).
    The attention runs eagerly (as transformer-lens requires), so hooks see the pattern.
    """
    import torch

    from interp.models.layouts import check_config

    if not isinstance(hf_model, torch.nn.Module) or not hasattr(hf_model, "config"):
        raise InterpError(f"hf_model must be a transformers model (a torch.nn.Module with a "
                          f"config), got {type(hf_model).__name__}")
    if tokenizer is None or not callable(tokenizer):
        raise InterpError(f"tokenizer must be the model's transformers tokenizer, got "
                          f"{type(tokenizer).__name__}")
    check_config(hf_model.config)
    name = name or _config_name(hf_model.config) or type(hf_model).__name__
    path = path if path is not None else _config_dir(hf_model.config)
    dev = torch.device(device) if device is not None else _param_device(hf_model)
    try:
        from transformer_lens.model_bridge import TransformerBridge

        hf_model = hf_model.to(dev).eval()
        # Hash what HF holds: the bridge renames modules and may add parameters.
        hf_params = list(hf_model.named_parameters())
        bridge = TransformerBridge.boot_transformers(
            str(path) if path else name, hf_model=hf_model, tokenizer=tokenizer, device=dev,
            dtype=hf_model.dtype,
        )
    except Exception as err:  # only transformers / transformer-lens code runs above
        raise InterpError(
            f"transformer-lens cannot wrap {name!r} ({type(hf_model).__name__}): "
            f"{type(err).__name__}: {_first_line(err)}"
        ) from err
    return _model(bridge, hf_params, name=name, path=path, device=dev, tokenizer=tokenizer)


def wrap_bridge(bridge: Any, *, name: str | None = None) -> Model:
    """A Model around an existing TransformerBridge (booted by transformer-lens or by interp;
    its weights must be raw, as `boot_transformers` leaves them). The fingerprint hashes the
    parameters of the wrapped HF model that its class defines, so it equals load_model's."""
    import torch

    from interp.models.weights import check_unprocessed

    model = getattr(bridge, "original_model", None)
    if model is None or not hasattr(bridge, "cfg") or not hasattr(bridge, "hook_dict"):
        raise InterpError(f"bridge must be a transformer_lens TransformerBridge, got "
                          f"{type(bridge).__name__}")
    check_unprocessed(bridge)
    name = name or _config_name(model.config) or type(model).__name__
    hf_params = _hf_named_parameters(model, name)
    dev = _param_device(model) if any(True for _ in model.parameters()) else torch.device("cpu")
    return _model(bridge, hf_params, name=name, path=_config_dir(model.config), device=dev)


def _model(bridge: Any, hf_params: list, *, name: str, path: Path | None,
           device: torch.device, tokenizer: Any = None) -> Model:
    """The Model: layout checked, eval mode, BOS rule of converted GGUF models, facts and
    fingerprint. `tokenizer`: the model's own tokenizer as transformers loads it (the bridge's
    is reconfigured by transformer-lens and always reports a BOS); read from `path` when not
    given."""
    from interp.models.facts import facts_from_bridge
    from interp.models.fingerprint import fingerprint_params
    from interp.models.layouts import check_bridge
    from interp.models.model import Model

    check_bridge(bridge, name)
    bridge.eval()
    source_info = _converted_source(path)
    if source_info is not None:
        # converted GGUF models: add BOS exactly when the model's own tokenizer does
        if tokenizer is None:
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        bridge.cfg.default_prepend_bos = tokenizer_adds_bos(tokenizer)
    hf_model = bridge.original_model
    facts = facts_from_bridge(bridge)
    fingerprint = fingerprint_params(hf_params, facts, hf_model.config)
    return Model(
        bridge=bridge, tokenizer=bridge.tokenizer, name=name, path=path, device=device,
        dtype=hf_model.dtype, facts=facts, fingerprint=fingerprint, source_info=source_info,
    )


def _hf_named_parameters(bridged: Any, name: str) -> list[tuple[str, Any]]:
    """The (HF name, tensor) pairs of the parameters that the HF class defines, read from a
    bridged model: transformer-lens moves HF modules under bridge components (each records
    the HF name it stands for in `.name`, relative to its parent or from the root) and adds
    parameters of its own (split q/k/v, a zero LM-head bias), which are left out."""
    import torch

    with torch.device("meta"):  # the class's own names and shapes, no memory
        skeleton = type(bridged)(bridged.config)
    shapes = {n: tuple(p.shape) for n, p in skeleton.named_parameters()}
    modules = {n for n, _ in skeleton.named_modules()}
    hf_path: dict[str, str] = {"": ""}
    for path, module in bridged.named_modules():
        if not path:
            continue
        parent, _, segment = path.rpartition(".")
        base = hf_path[parent]
        if segment == "_original_component":
            hf_path[path] = base
            continue
        own = getattr(module, "name", None)
        if isinstance(own, str) and own and hasattr(module, "original_component"):
            relative = f"{base}.{own}" if base else own
            hf_path[path] = relative if relative in modules or own not in modules else own
        else:
            hf_path[path] = f"{base}.{segment}" if base else segment
    found: dict[str, Any] = {}
    for path, module in bridged.named_modules():
        for leaf, param in module.named_parameters(recurse=False):
            hf_name = f"{hf_path[path]}.{leaf}" if hf_path[path] else leaf
            if shapes.get(hf_name) == tuple(param.shape):
                found.setdefault(hf_name, param)
    missing = sorted(set(shapes) - set(found))
    if missing:
        raise InterpError(f"bridge {name!r}: cannot find the {type(bridged).__name__} "
                          f"parameters {', '.join(missing[:3])} in it; wrap the HF model with "
                          "Model.from_hf instead")
    return [(n, found[n]) for n in shapes]


def _param_device(module: Any) -> torch.device:
    return next(module.parameters()).device


def _config_name(config: Any) -> str | None:
    return str(getattr(config, "name_or_path", "") or getattr(config, "_name_or_path", "")
               ) or None


def _config_dir(config: Any) -> Path | None:
    where = _config_name(config)
    return Path(where) if where and Path(where).is_dir() else None


def _converted_source(path: Path | None) -> dict | None:
    """interp-source.json of a directory converted from GGUF (None for any other model)."""
    from interp.models.gguf import SOURCE_FILE

    if path is None or not (path / SOURCE_FILE).is_file():
        return None
    try:
        return json.loads((path / SOURCE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def tokenizer_adds_bos(tokenizer: Any) -> bool:
    """Whether the Hugging Face tokenizer opens every text with its BOS token by default (Gemma's
    does, SmolLM2's does not)."""
    bos = tokenizer.bos_token_id
    ids = tokenizer("x").input_ids
    return bos is not None and bool(ids) and ids[0] == bos
