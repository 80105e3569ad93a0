"""SAELens' on-disk SAE layout: a directory of cfg.json and sae_weights.safetensors (SAELens
6.x, `SAE.save_model` / `SAE.load_from_disk`). `load_saelens` reads one (and the flat
cfg.json of SAELens < 6) into a SAELensSAE; `save_saelens` writes an interp SparseAutoencoder
(or a SAELensSAE) so that SAELens loads it. What SAELens has no field for goes under
metadata["interp"], which SAELens keeps and ignores.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from interp.artifact import TensorSpec, cfg_bytes, load_tensors, save_dir, tensor_bytes
from interp.errors import InterpError, choices_error, first_line
from interp.outputs import output_dir
from interp.sae.model import SparseAutoencoder
from interp.sae.saelens_model import DTYPES, SAELensConfig, SAELensSAE

if TYPE_CHECKING:
    from interp.models.model import Model

#: SAELens' file names (sae_lens.constants SAE_CFG_FILENAME, SAE_WEIGHTS_FILENAME).
SAELENS_CFG_FILE = "cfg.json"
SAELENS_WEIGHTS_FILE = "sae_weights.safetensors"
#: Optional SAELens file beside them (feature log-sparsities): not read; a directory holding
#: it may be overwritten by save_saelens (replaced whole).
SAELENS_SPARSITY_FILE = "sparsity.safetensors"
#: The SAELens release whose format this writes (and was tested against).
SAELENS_VERSION = "6.54.12"
#: metadata key for what interp records and SAELens has no field for.
INTERP_KEY = "interp"
INTERP_FORMAT = "interp-sae-saelens"
#: cfg.json keys of SAELens < 6 that 6.x keeps under "metadata".
_METADATA_KEYS = ("model_name", "hook_name", "hook_head_index", "model_class_name",
                  "model_from_pretrained_kwargs", "prepend_bos", "exclude_special_tokens",
                  "neuronpedia_id", "context_size", "seqpos_slice", "dataset_path",
                  "sae_lens_version", "sae_lens_training_version")
_OLD_NAMES = {"hook_point": "hook_name", "hook_point_head_index": "hook_head_index",
              "activation_fn_str": "activation_fn"}


def _major(version: object) -> int:
    try:
        return int(str(version).split(".")[0])
    except ValueError:
        return 0


def parse_config(raw: Any) -> SAELensConfig:
    """A SAELensConfig from a parsed cfg.json, 6.x (fields + "metadata") or older (flat, with
    hook_point, activation_fn_str, activation_fn_kwargs.k, a boolean normalize_activations)."""
    if not isinstance(raw, dict):
        raise InterpError("its cfg.json is not a JSON object")
    meta = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
    if _major(raw.get("sae_lens_version") or meta.get("sae_lens_version")) < 6:
        raw = {_OLD_NAMES.get(k, k): v for k, v in raw.items()}
        meta = {k: raw[k] for k in _METADATA_KEYS if k in raw} | meta
        if raw.get("activation_fn") == "topk" and "architecture" not in raw:
            raw["architecture"], raw["k"] = "topk", (raw.get("activation_fn_kwargs") or {}).get("k")
        norm = raw.get("normalize_activations")
        if isinstance(norm, bool) or norm is None:
            raw["normalize_activations"] = "expected_average_only_in" if norm else "none"
        if "reshape_activations" not in raw and "hook_z" in str(meta.get("hook_name") or ""):
            raw["reshape_activations"] = "hook_z"
    missing = [k for k in ("d_in", "d_sae") if k not in raw]
    if missing:
        raise InterpError(f"its cfg.json has no {missing[0]!r}")
    if raw.get("normalize_activations") == "covariance_whitening":
        raise InterpError("its normalize_activations is 'covariance_whitening', which needs "
                          "SAELens' whitening statistics; fold them into the weights first "
                          "(SAE.fold_activation_whitening) and save again")
    dtype = str(raw.get("dtype", "float32")).removeprefix("torch.")
    return SAELensConfig(
        architecture=raw.get("architecture", "standard"), d_in=raw["d_in"], d_sae=raw["d_sae"],
        dtype=dtype, apply_b_dec_to_input=raw.get("apply_b_dec_to_input", True),
        normalize_activations=raw.get("normalize_activations", "none"),
        reshape_activations=raw.get("reshape_activations", "none"), k=raw.get("k"),
        rescale_acts_by_decoder_norm=raw.get("rescale_acts_by_decoder_norm", False),
        metadata=dict(meta),
    )


def _read_weights(file: Path, cfg: SAELensConfig) -> dict[str, torch.Tensor]:
    """The parameters of `cfg`'s architecture from `file`, checked (shapes, finite floats);
    an older JumpReLU's log_threshold becomes threshold, an all-ones scaling_factor is
    dropped (as SAELens does)."""
    state, _ = load_tensors(file)
    if "log_threshold" in state and "threshold" not in state:
        state["threshold"] = state.pop("log_threshold").exp()
    scale = state.pop("scaling_factor", None)
    if scale is not None and not bool((scale == 1).all()):
        raise InterpError(f"{file.name}: tensor 'scaling_factor' is not all ones; SAELens' "
                          "finetuning scaling factor is not supported")
    shapes = cfg.shapes()
    extra = sorted(set(state) - set(shapes))
    if extra:
        raise InterpError(f"{file.name}: tensor {extra[0]!r} is not a parameter of a "
                          f"{cfg.architecture} SAE (expected {', '.join(shapes)})")
    sizes: dict[str, int] = {}
    for name, shape in shapes.items():
        spec = TensorSpec(shape, tuple(DTYPES))
        why = "is missing" if name not in state else spec.problem(state[name], sizes)
        if why:
            raise InterpError(f"{file.name}: tensor {name!r} {why} ({cfg.architecture} SAE, "
                              f"d_in {cfg.d_in}, d_sae {cfg.d_sae})")
    return state


def load_saelens(
    path: str | os.PathLike, *, model: Model | None = None, fingerprint: str | None = None,
    device: str | torch.device = "cpu", dtype: str | None = None,
) -> SAELensSAE:
    """The SAE in SAELens directory `path` (cfg.json + sae_weights.safetensors), in its
    cfg's dtype unless `dtype` ("float32", ...) is given. With `model` (or `fingerprint`), an
    SAE that interp wrote for another model (metadata["interp"]["fingerprint"]) is refused;
    one SAELens wrote names no fingerprint (its width is checked where it is spliced)."""
    root = Path(path)
    for name in (SAELENS_CFG_FILE, SAELENS_WEIGHTS_FILE):
        if not (root / name).is_file():
            why = "it does not exist" if not root.exists() else f"it has no {name}"
            raise InterpError(f"'{root}' is not a SAELens SAE directory ({why}; expected "
                              f"{SAELENS_CFG_FILE} and {SAELENS_WEIGHTS_FILE})")
    try:
        raw = json.loads((root / SAELENS_CFG_FILE).read_text(encoding="utf-8"))
        if dtype is not None and isinstance(raw, dict):
            raw["dtype"] = dtype
        cfg = parse_config(raw)
        state = _read_weights(root / SAELENS_WEIGHTS_FILE, cfg)
    except (OSError, ValueError) as err:  # InterpError is a ValueError
        raise InterpError(f"'{root}' is not a valid SAELens SAE: {first_line(err)}") from None
    ours = cfg.metadata.get(INTERP_KEY) or {}
    want = model if model is not None else fingerprint
    if want is not None and isinstance(ours, dict) and ours.get("fingerprint"):
        from interp.artifact import check_model

        check_model(f"SAE in '{root}' was trained on", ours.get("model"), ours["fingerprint"],
                    want)
    return SAELensSAE(cfg, state).to(device)


def _hook_text(hook: str | tuple[str, int] | None, model: Model | None) -> str | None:
    """The hook name to record: checked against `model` when given (interp.sae.splice)."""
    if hook is None:
        return None
    if model is not None:
        from interp.sae.splice import resolve_hook

        return resolve_hook(model, hook)
    if isinstance(hook, str):
        return hook
    from interp.models.sites import SITES

    site, layer = hook
    if site not in SITES:
        raise choices_error("site", site, SITES)
    return SITES[site].format(layer=layer)


def saelens_files(
    sae: SparseAutoencoder | SAELensSAE, *, hook: str | tuple[str, int] | None = None,
    head: int | None = None, model: Model | None = None, model_name: str | None = None,
    fingerprint: str | None = None, metadata: dict[str, Any] | None = None,
) -> dict[str, bytes]:
    """{file name: bytes} of `sae` in SAELens' layout (see save_saelens); the same SAE and
    arguments give the same bytes."""
    if model is not None:
        model_name, fingerprint = model_name or model.name, fingerprint or model.fingerprint
    hook_name = _hook_text(hook, model)
    if isinstance(sae, SAELensSAE):
        c = sae.cfg
        meta = dict(c.metadata)
        fields = {"architecture": c.architecture, "d_in": c.d_in, "d_sae": c.d_sae,
                  "dtype": c.dtype, "apply_b_dec_to_input": c.apply_b_dec_to_input,
                  "normalize_activations": c.normalize_activations,
                  "reshape_activations": c.reshape_activations}
        if c.architecture == "topk":
            fields |= {"k": c.k, "rescale_acts_by_decoder_norm": c.rescale_acts_by_decoder_norm}
        tensors = {k: v.detach() for k, v in sae.state_dict().items()}
    elif isinstance(sae, SparseAutoencoder):
        c2 = sae.cfg
        topk = c2.activation == "topk"
        meta = {INTERP_KEY: {"format": INTERP_FORMAT, "format_version": 1, "sae": c2.to_dict(),
                             "model": model_name, "fingerprint": fingerprint}}
        fields = {"architecture": "topk" if topk else "standard", "d_in": c2.d_in,
                  "d_sae": c2.n_latents, "dtype": "float32", "apply_b_dec_to_input": True,
                  "normalize_activations": "none", "reshape_activations": "none"}
        if topk:
            fields |= {"k": c2.k, "rescale_acts_by_decoder_norm": False}
        tensors = {k: v.detach().float() for k, v in sae.state_dict().items()}
    else:
        raise InterpError(f"expected an interp SparseAutoencoder or a SAELensSAE, got "
                          f"{type(sae).__name__}")
    if hook_name is not None:
        meta["hook_name"] = hook_name
        meta["hook_head_index"] = head
        if isinstance(sae, SparseAutoencoder):
            z_all = hook_name.endswith("hook_z") and head is None
            fields["reshape_activations"] = "hook_z" if z_all else "none"
    if model_name is not None:
        meta["model_name"] = model_name
    meta.setdefault("hook_head_index", head)
    meta.setdefault("sae_lens_version", SAELENS_VERSION)
    meta.setdefault("sae_lens_training_version", None)
    meta |= metadata or {}
    cfg = {**fields, "device": "cpu", "metadata": meta}
    return {SAELENS_WEIGHTS_FILE: tensor_bytes(tensors), SAELENS_CFG_FILE: cfg_bytes(cfg)}


def save_saelens(
    sae: SparseAutoencoder | SAELensSAE, path: str | os.PathLike, *,
    hook: str | tuple[str, int] | None = None, head: int | None = None,
    model: Model | None = None, model_name: str | None = None, fingerprint: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Write `sae` as SAELens directory `path` (new, empty, or a SAELens SAE: replaced whole,
    atomically), loadable by `sae_lens.SAE.load_from_disk`.

    An interp SparseAutoencoder becomes architecture "standard" (ReLU) or "topk" (k),
    apply_b_dec_to_input true, normalize_activations "none", float32; its whole config
    (l1, unit_norm, init: training settings SAELens has no field for) and the model's name and
    fingerprint go under metadata["interp"]. hook: the hook name it reads (a TransformerLens
    name, or a (site, layer) pair); head: the attn_z head of a per-head SAE
    (hook_head_index); a hook_z SAE over all heads gets reshape_activations "hook_z".
    `metadata` adds or replaces metadata keys (e.g. prepend_bos, context_size)."""
    files = saelens_files(sae, hook=hook, head=head, model=model, model_name=model_name,
                          fingerprint=fingerprint, metadata=metadata)
    root = output_dir(path, "path")
    if root.is_dir() and any(root.iterdir()):
        known = {SAELENS_CFG_FILE, SAELENS_WEIGHTS_FILE, SAELENS_SPARSITY_FILE}
        others = sorted(p.name for p in root.iterdir() if p.name not in known)
        if not (root / SAELENS_CFG_FILE).is_file() or others:
            raise InterpError(f"'{root}' is not empty and holds no SAELens SAE "
                              f"({', '.join(others) or 'no ' + SAELENS_CFG_FILE}); choose an "
                              "empty or new directory")
    return save_dir(root, files)
