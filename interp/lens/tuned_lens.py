"""Read a tuned lens (Belrose et al. 2023) trained with the `tuned-lens` package, so that
`logit_lens(..., tuned=lens)` decodes each row through its affine translator first.

The format read is tuned-lens' `TunedLens.save` (AlignmentResearch/tuned-lens,
tuned_lens/nn/lenses.py): a folder with `config.json` (TunedLensConfig: base_model_name_or_path,
d_model, num_hidden_layers, bias, base_model_revision, unembed_hash, lens_type
"linear_tuned_lens") and `params.pt`, the state dict of its ModuleList of translators ("0.weight",
"0.bias", ... one nn.Linear(d_model, d_model) per hidden state 0..num_hidden_layers-1; the last
hidden state needs none). Translator i acts on transformers' hidden_states[i] (the residual
after i blocks: interp's lens row i) residually: h + W_i h + b_i, then the final norm and the
LM head. `params.pt` is a torch pickle: it is read with `torch.load(weights_only=True)`, which
accepts tensors and plain containers only and never runs code from the file; a
`params.safetensors` beside it is preferred when present.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from jaxtyping import Float
from torch import Tensor

from interp.errors import InterpError
from interp.errors import first_line as _first_line

if TYPE_CHECKING:
    from interp.models.model import Model

LENS_TYPE = "linear_tuned_lens"


@dataclass(frozen=True)
class TunedLens:
    """Affine translators, one per row 0..n_layers-1: `weight` [row, d_model, d_model] (as
    nn.Linear: out x in) and `bias` [row, d_model]; `config` as read."""

    weight: Float[Tensor, "row d_out d_in"]
    bias: Float[Tensor, "row d_model"]
    config: dict[str, Any]
    path: str

    def translate(self, resid: Float[Tensor, "row pos d_model"]
                  ) -> Float[Tensor, "row pos d_model"]:
        """Rows 0..n-1 moved by their translators (h + W h + b); the last row as it is."""
        n = self.weight.shape[0]
        head = resid[:n].float()
        moved = head + torch.einsum("rpi,roi->rpo", head, self.weight) + self.bias[:, None, :]
        return torch.cat([moved, resid[n:].float()])


def load_tuned_lens(path: str | os.PathLike, model: Model | None = None) -> TunedLens:
    """The tuned lens saved in folder `path` by tuned-lens; with `model`, its d_model and
    number of layers must match (the base model's name is not checked: a converted GGUF model
    has another name than the hub model a lens was trained on)."""
    root = Path(path)
    config_file = root / "config.json"
    if not config_file.is_file():
        raise InterpError(f"tuned lens '{root}' has no config.json; give the folder that "
                          "tuned-lens' TunedLens.save wrote (config.json + params.pt)")
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
        d_model, n = int(config["d_model"]), int(config["num_hidden_layers"])
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise InterpError(f"tuned lens '{config_file}' is not a TunedLensConfig: "
                          f"{_first_line(err)}") from None
    kind = config.get("lens_type", LENS_TYPE)
    if kind != LENS_TYPE:
        raise InterpError(f"tuned lens '{root}': lens_type {kind!r} is not supported; "
                          f"supported: {LENS_TYPE!r}")
    if model is not None and (d_model, n) != (model.facts.d_model, model.facts.n_layers):
        raise InterpError(
            f"tuned lens '{root}' was trained for d_model {d_model} and {n} layers "
            f"({config.get('base_model_name_or_path')!r}); this model has d_model "
            f"{model.facts.d_model} and {model.facts.n_layers} layers")
    state = _read_state(root)
    bias = bool(config.get("bias", True))
    weights, biases = [], []
    for i in range(n):
        w = _tensor(state, f"{i}.weight", (d_model, d_model), root)
        b = (_tensor(state, f"{i}.bias", (d_model,), root) if bias
             else torch.zeros(d_model))
        weights.append(w)
        biases.append(b)
    extra = sorted(set(state) - {f"{i}.{p}" for i in range(n) for p in ("weight", "bias")})
    if extra:
        raise InterpError(f"tuned lens '{root}': unexpected tensors {', '.join(extra[:3])}; "
                          f"expected 0.weight ... {n - 1}.weight (and biases)")
    return TunedLens(torch.stack(weights), torch.stack(biases), config, str(root))


def _read_state(root: Path) -> dict[str, Tensor]:
    safe, pickled = root / "params.safetensors", root / "params.pt"
    try:
        if safe.is_file():
            from safetensors.torch import load_file

            return load_file(str(safe))
        if pickled.is_file():
            state = torch.load(pickled, map_location="cpu", weights_only=True)
        else:
            raise InterpError(f"tuned lens '{root}' has no params.pt (or params.safetensors)")
    except InterpError:
        raise
    except Exception as err:  # noqa: BLE001 - torch's restricted unpickler refuses code
        raise InterpError(f"tuned lens '{root}': cannot read its parameters "
                          f"({type(err).__name__}: {_first_line(err)}); only tensors are "
                          "accepted") from None
    if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
        raise InterpError(f"tuned lens '{root}': params.pt is not a state dict of tensors")
    return state


def _tensor(state: dict[str, Tensor], key: str, shape: tuple[int, ...], root: Path) -> Tensor:
    t = state.get(key)
    if t is None:
        raise InterpError(f"tuned lens '{root}': tensor {key!r} is missing")
    if tuple(t.shape) != shape:
        raise InterpError(f"tuned lens '{root}': tensor {key!r} has shape {tuple(t.shape)}, "
                          f"expected {shape}")
    t = t.float()
    if not torch.isfinite(t).all():
        raise InterpError(f"tuned lens '{root}': tensor {key!r} is not finite")
    return t
