"""DecodeOptions: every choice of neuron decoding, validated, recorded in each NeuronMap.

The maths of each option is written down once, in docs/decode-neurons.md ("The maths"). In
short, a neuron vector v is decoded as softmax(scale(fold(center(v))) @ W / temperature):

1. center="mean" (default) subtracts the layer's mean neuron vector ("none": unchanged);
2. fold_norm=True reads v through the final norm linearised: LayerNorm centres v, and the
   norm's gain is folded into W = diag(gain) @ lm_head.weight.T (False: W = lm_head.weight.T);
   on the down side it also multiplies v by the post-MLP norm's gain where the block has one
   (Gemma-2/3), so v is what the neuron writes;
3. scale="calibrated" (default) rescales v to rms 1 (as the final norm would) and then by one
   factor per model and side, chosen so that the median neuron's decoded logits have the
   spread (std over the vocabulary) of the model's own next-token logits on reference text
   (interp.neurons.calibrate); "norm" stops at rms 1 (the paper's reading); "raw": unchanged;
4. score="logit" ranks tokens by v @ W (the paper); "cosine" first rescales every column of W
   to the median column norm, which ranks tokens by cosine similarity and removes the bias
   towards tokens with large unembedding norm;
5. bias="include" adds the folded bias b_U (LayerNorm bias and LM-head bias; default: left
   out, as a direction has no bias); exclude_tokens are removed from the vocabulary, and so
   are flagged tokens (special, unreachable, under-trained: interp.models.vocab) when
   flagged_tokens="exclude" ("mark" records them in the map without excluding them);
6. probabilities are the softmax over the remaining vocabulary at `temperature`;
   margin = top-1 minus top-2 logit; entropy in nats.

The paper's decode (Davies 2025) is center="none", scale="norm" (CLI: --center none --scale
norm): each raw row through the final norm and the LM head. The defaults depart from it in
center="mean" (changes rankings) and scale="calibrated" (changes no ranking).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from interp.errors import InterpError, choices_error

SIDES = ("up", "gate", "down")
CENTERS = ("none", "mean")
SCALES = ("calibrated", "norm", "raw")
SCORES = ("logit", "cosine")
FLAGGED = ("keep", "mark", "exclude")
BIASES = ("exclude", "include")
DTYPES = ("float32", "float64", "bfloat16")
DEFAULT_TOP_K = 20
DEFAULT_BOTTOM_K = 10

#: One-line definitions stored in every artifact's cfg.json, so a map explains itself.
DEFINITIONS = {
    "logits": "v @ W_U per neuron vector v after centring/folding/scaling (see options)",
    "probs": "softmax(logits / temperature) over the vocabulary minus exclude_tokens",
    "top1_prob": "probability of the highest-logit token",
    "margin": "logit of the top token minus logit of the second",
    "entropy": "entropy of probs in nats (log(d_vocab) when flat)",
}


@dataclass(frozen=True)
class DecodeOptions:
    """How neuron vectors are decoded; see the module docstring for the maths.

    side: "up" (TL W_in, what a neuron reads), "gate" (TL W_gate, gated MLPs only) or "down"
        (TL W_out, what it writes).
    top_k / bottom_k: tokens kept per neuron at each end (bottom_k may be 0).
    center: "mean" (subtract the layer's mean neuron vector first) or "none".
    fold_norm: fold the final norm (gain; LayerNorm centring) into the decode.
    scale: "calibrated" (rms 1, then the model's calibration factor), "norm" (rms 1: read
        the vector as a normalised residual state, as the paper does) or "raw".
    score: "logit" (v @ W, the paper) or "cosine" (columns of W at equal norm).
    flagged_tokens: "keep" (decode every token, flag nothing), "mark" (record special,
        unreachable and under-trained tokens in the map) or "exclude" (also leave them out).
    bias: "exclude" or "include" the folded unembedding bias b_U.
    temperature: softmax temperature (> 0) for the probabilities.
    exclude_tokens: token ids left out of ranking and softmax (sorted, unique).
    dtype: compute dtype of the matmul ("float32", "float64", "bfloat16").
    """

    side: str = "up"
    top_k: int = DEFAULT_TOP_K
    bottom_k: int = DEFAULT_BOTTOM_K
    center: str = "mean"
    fold_norm: bool = True
    scale: str = "calibrated"
    score: str = "logit"
    flagged_tokens: str = "keep"
    bias: str = "exclude"
    temperature: float = 1.0
    exclude_tokens: tuple[int, ...] = field(default=())
    dtype: str = "float32"

    def __post_init__(self) -> None:
        object.__setattr__(self, "exclude_tokens", _token_ids(self.exclude_tokens))
        if self.side not in SIDES:
            raise choices_error("side", self.side, SIDES)
        if self.center not in CENTERS:
            raise choices_error("center", self.center, CENTERS)
        if self.scale not in SCALES:
            raise choices_error("scale", self.scale, SCALES)
        if self.score not in SCORES:
            raise choices_error("score", self.score, SCORES)
        if self.flagged_tokens not in FLAGGED:
            raise choices_error("flagged_tokens", self.flagged_tokens, FLAGGED)
        if self.bias not in BIASES:
            raise choices_error("bias", self.bias, BIASES)
        if self.dtype not in DTYPES:
            raise choices_error("dtype", self.dtype, DTYPES)
        for name in ("top_k", "bottom_k"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise InterpError(f"{name} must be an integer, got {value!r}")
        if self.top_k < 1:
            raise InterpError(f"top_k must be at least 1, got {self.top_k}")
        if self.bottom_k < 0:
            raise InterpError(f"bottom_k must be 0 or more, got {self.bottom_k}")
        if not isinstance(self.fold_norm, bool):
            raise InterpError(f"fold_norm must be True or False, got {self.fold_norm!r}")
        try:
            temperature = float(self.temperature)
        except (TypeError, ValueError):
            raise InterpError(f"temperature must be a number, got {self.temperature!r}") from None
        if not temperature > 0 or temperature == float("inf"):
            raise InterpError(f"temperature must be a finite number > 0, got {self.temperature!r}")
        object.__setattr__(self, "temperature", temperature)
        if self.bias == "include" and not self.fold_norm:
            raise InterpError("bias='include' needs fold_norm=True (b_U is the folded bias)")

    def check_vocab(self, d_vocab: int, n_excluded: int | None = None) -> None:
        """Raise unless top_k/bottom_k fit the vocabulary left after `exclude_tokens` (or after
        `n_excluded` tokens in all, flagged ones included)."""
        bad = [t for t in self.exclude_tokens if t >= d_vocab]
        if bad:
            raise InterpError(
                f"exclude_tokens has id {bad[0]}, outside the vocabulary (0..{d_vocab - 1})"
            )
        left = d_vocab - (len(self.exclude_tokens) if n_excluded is None else n_excluded)
        for name in ("top_k", "bottom_k"):
            if getattr(self, name) > left:
                raise InterpError(
                    f"{name} {getattr(self, name)} is larger than the vocabulary ({left} tokens"
                    f"{' after exclusions' if left < d_vocab else ''}); use 1..{left}"
                )

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["exclude_tokens"] = list(self.exclude_tokens)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DecodeOptions:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise InterpError(f"unknown decode option(s): {', '.join(unknown)}")
        return cls(**data)

    def digest(self) -> str:
        """Short stable hash of the options (stored in every layer file)."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def differences(self, other: DecodeOptions) -> list[str]:
        """Human-readable "name: a vs b" for every option that differs."""
        a, b = self.to_dict(), other.to_dict()
        return [f"{k}: {a[k]!r} vs {b[k]!r}" for k in a if a[k] != b[k]]


def _token_ids(ids: Iterable[int] | None) -> tuple[int, ...]:
    if ids is None:
        return ()
    out = set()
    for t in ids:
        if isinstance(t, bool) or int(t) != t or int(t) < 0:
            raise InterpError(f"exclude_tokens must be non-negative token ids, got {t!r}")
        out.add(int(t))
    return tuple(sorted(out))
