"""The calibrated reading scale of neuron vectors: one factor per model and side.

A neuron vector v, rescaled to rms 1 (the final norm's reading, `scale="norm"`), gives logits
whose spread depends on the model: on Gemma-3-270m the final norm's gain reaches 300, real
residual states avoid those directions and neuron vectors do not, so every decoded
distribution saturates (median top-1 probability 0.999). `scale="calibrated"` multiplies the
rms-1 vector by

    factor = median_t std_vocab(logits of the model at token t)
             / median_n std_vocab(decoded logits of neuron n at scale "norm")

over the first `N_TOKENS` tokens of the committed real-text corpus (interp.texts) and an
evenly spaced sample of `PER_LAYER` neurons of every layer on the decoded side. The median
neuron then reads at the spread of the model's own predictions, so probabilities and
entropies mean the same on every model. Rankings are unchanged (one positive factor).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import TYPE_CHECKING, Any

import torch

from interp.models.cache import cache_root, cached_json

if TYPE_CHECKING:
    from interp.models.model import Model
    from interp.neurons.decode import Unembedding
    from interp.neurons.options import DecodeOptions

N_TOKENS = 2048
SEQ_LEN = 512
PER_LAYER = 64
VERSION = 2


@torch.no_grad()
def model_logit_spread(model: Model, n_tokens: int = N_TOKENS) -> dict[str, Any]:
    """Median over tokens of the std over the vocabulary of the model's next-token logits (and,
    for reference, of their top-1 probability), on the first `n_tokens` tokens of the
    committed real text (sequences of SEQ_LEN)."""
    from interp.texts.corpora import REAL_TEXT, documents

    ids: list[int] = []
    n_vocab = model.facts.d_vocab  # (tiny test models may have fewer ids than the tokenizer)
    for doc in documents(REAL_TEXT):
        ids += [t for t in model.tokenizer(doc + "\n\n", add_special_tokens=False).input_ids
                if t < n_vocab]
        if len(ids) >= n_tokens:
            break
    ids = ids[:n_tokens]
    bos = model.tokenizer.bos_token_id
    prepend = [bos] if model.bridge.cfg.default_prepend_bos and bos is not None \
        and bos < n_vocab else []
    seq_len = max(1, min(SEQ_LEN, model.facts.n_ctx - len(prepend)))
    stds, tops = [], []
    for start in range(0, len(ids), seq_len):
        seq = torch.tensor([prepend + ids[start:start + seq_len]], device=model.device)
        logits = model.logits(seq)[0, len(prepend):].float()
        stds.append(logits.std(-1).cpu())
        tops.append(logits.softmax(-1).amax(-1).cpu())
    return {"corpus": REAL_TEXT, "n_tokens": len(ids),
            "median_std": float(torch.cat(stds).median()),
            "median_top1": float(torch.cat(tops).median())}


@torch.no_grad()
def neuron_logit_spread(model: Model, options: DecodeOptions, unembed: Unembedding,
                        per_layer: int = PER_LAYER) -> dict[str, Any]:
    """Median std over the vocabulary of decoded logits at scale "norm", over `per_layer`
    evenly spaced neurons of every layer."""
    from interp.neurons.decode import layer_vectors, prepare_vectors

    norm_options = dataclasses.replace(options, scale="norm")
    stds = []
    for layer in range(model.facts.n_layers):
        vectors = layer_vectors(model, layer, options)
        pick = torch.linspace(0, vectors.shape[0] - 1, min(per_layer, vectors.shape[0]))
        v = prepare_vectors(vectors.to(unembed.weight.device), norm_options,
                            unembed.center_rows)[pick.round().long()]
        logits = v.to(unembed.weight.dtype) @ unembed.weight
        stds.append(logits.float().std(-1).cpu())
    spread = torch.cat(stds)
    return {"per_layer": per_layer, "n_neurons": int(spread.numel()),
            "median_std": float(spread.median())}


def calibration(model: Model, options: DecodeOptions, unembed: Unembedding) -> dict[str, Any]:
    """{"factor", "model": model_logit_spread, "neurons": neuron_logit_spread, ...} for this
    model and the options that shape the decode; cached under the cache root by fingerprint."""
    shaping = {k: v for k, v in options.to_dict().items()
               if k in ("side", "center", "fold_norm", "score", "bias", "dtype")}
    n_excluded = int(model.facts.d_vocab - unembed.weight.shape[1])
    key_data = [model.fingerprint, VERSION, N_TOKENS, PER_LAYER, shaping, n_excluded]
    key = hashlib.sha256(json.dumps(key_data, sort_keys=True).encode()).hexdigest()[:16]
    path = cache_root() / "calibration" / f"{model.fingerprint}-{key}.json"

    def compute() -> dict[str, Any]:
        spread_path = cache_root() / "calibration" / f"{model.fingerprint}-model-v{VERSION}.json"
        real = cached_json(spread_path, lambda: model_logit_spread(model))
        neurons = neuron_logit_spread(model, options, unembed)
        return {"definition": "factor = model.median_std / neurons.median_std (see "
                              "interp.neurons.calibrate)",
                "factor": real["median_std"] / neurons["median_std"], "model": real,
                "neurons": neurons, "version": VERSION}

    return cached_json(path, compute)
