"""Neuron records as rows of two outside formats (plain dicts, no torch), so tools researchers
already use read interp's neurons: JSON-Schema files for both are in interp/neurons/schemas/.

OpenAI automated-interpretability ("neuron_explainer", openai/automated-interpretability at
commit e4aa21bc8baf26ff141ccf2e6f4444dcf120193f, neuron-explainer/neuron_explainer/
activations/activations.py; PyPI neuron-explainer 0.0.1 holds the same files): a
NeuronRecord {neuron_id: NeuronId {layer_index, neuron_index}, most_positive_activation_records,
random_sample: [ActivationRecord {tokens, activations}], random_sample_by_quantile,
quantile_boundaries, mean, variance, skewness, kurtosis}, each object tagged with its
"dataclass_name" as their fast_dataclasses.dumps writes it; one file per neuron at
`<layer>/<neuron>.json` (their load_neuron's layout). Their loader builds a dataclass from
each object's keys, so no other key may appear.

Neuronpedia (hijohnnylin/neuronpedia at commit ebb8426fc550ad5d1f76d52c271a624af3c08a57: the
importer apps/webapp/app/api/admin/import/route.ts and lib/db/import.ts, the tables in
apps/webapp/prisma/schema.prisma, the writer utils/neuronpedia-utils/.../convert-saedashboard-
to-neuronpedia-export.py): a folder `<modelId>/<sourceId>/` with model.jsonl, sourceset.jsonl,
source.jsonl (created with Prisma: only that table's columns), features/*.jsonl.gz (table
Neuron) and activations/*.jsonl.gz (table Activation), whose first line names the columns
inserted. MLP neurons are Neuronpedia's source set "neurons" with the layer number as source
id ("6"); Activation.id has no database default, so each row carries a stable one.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from typing import Any

OPENAI_COMMIT = "e4aa21bc8baf26ff141ccf2e6f4444dcf120193f"
NEURONPEDIA_COMMIT = "ebb8426fc550ad5d1f76d52c271a624af3c08a57"
#: Neuronpedia's source set of MLP neurons; a layer number alone is then the source id.
NEURONS_SET = "neurons"
#: The user Neuronpedia's seed creates as the creator of imported data (prisma/seed.ts).
DEFAULT_CREATOR = "clkht01d40000jv08hvalcvly"
MODEL_ID = re.compile(r"^[a-z0-9_-]{1,128}$")
#: Significant digits kept of every float written (same numbers, same text).
DIGITS = 7


def rounded(x: float) -> float | None:
    """`x` to DIGITS significant digits; None (JSON null) for NaN or infinity."""
    x = float(x)
    return float(f"{x:.{DIGITS}g}") if math.isfinite(x) else None


def json_bytes(obj: Any, *, indent: int | None = None) -> bytes:
    """Canonical JSON: sorted keys, ASCII only, no NaN (same object, same bytes)."""
    sep = (",", ":") if indent is None else (",", ": ")
    return json.dumps(obj, sort_keys=True, ensure_ascii=True, allow_nan=False, indent=indent,
                      separators=sep).encode()


def jsonl_bytes(rows: Sequence[dict[str, Any]]) -> bytes:
    return b"".join(json_bytes(r) + b"\n" for r in rows)


# ---- OpenAI neuron_explainer ------------------------------------------------------------

def activation_record(tokens: list[str], activations: list[float]) -> dict[str, Any]:
    """An ActivationRecord: token strings and the neuron's activation on each."""
    return {"dataclass_name": "ActivationRecord", "tokens": list(tokens),
            "activations": [rounded(a) for a in activations]}


def neuron_record(layer: int, neuron: int, top: list[dict], random: list[dict],
                  moments: Sequence[float | None]) -> dict[str, Any]:
    """A NeuronRecord; `moments` are (mean, variance, skewness, kurtosis). Quantile samples
    are not tracked: random_sample_by_quantile and quantile_boundaries are null, as their
    dataclass documents for that case."""
    mean, variance, skewness, kurtosis = (None if m is None else rounded(m) for m in moments)
    return {"dataclass_name": "NeuronRecord",
            "neuron_id": {"dataclass_name": "NeuronId", "layer_index": int(layer),
                          "neuron_index": int(neuron)},
            "most_positive_activation_records": top, "random_sample": random,
            "random_sample_by_quantile": None, "quantile_boundaries": None,
            "mean": mean, "variance": variance, "skewness": skewness, "kurtosis": kurtosis}


# ---- Neuronpedia --------------------------------------------------------------------------

def model_row(model_id: str, name: str, n_layers: int, d_mlp: int, d_model: int,
              creator: str) -> dict[str, Any]:
    """The Model row (model.jsonl)."""
    return {"id": model_id, "displayName": name, "displayNameShort": model_id,
            "creatorId": creator, "owner": "", "layers": n_layers, "neuronsPerLayer": d_mlp,
            "dimension": d_model, "instruct": bool(re.search(r"(-it|instruct)$", model_id)),
            "inferenceEnabled": False, "visibility": "PUBLIC"}


def sourceset_row(model_id: str, creator: str, creator_name: str, description: str
                  ) -> dict[str, Any]:
    """The SourceSet row (sourceset.jsonl): the model's MLP neurons."""
    return {"modelId": model_id, "name": NEURONS_SET, "description": description,
            "creatorName": creator_name, "creatorId": creator, "urls": [],
            "hasDashboards": True, "visibility": "PUBLIC"}


def source_row(model_id: str, layer: int, creator: str, dataset: str, n_prompts: int,
               n_tokens: int, notes: str) -> dict[str, Any]:
    """The Source row (source.jsonl) of one layer's neurons."""
    return {"id": str(layer), "modelId": model_id, "setName": NEURONS_SET, "creatorId": creator,
            "hasDashboards": True, "visibility": "PUBLIC", "dataset": dataset,
            "num_prompts": n_prompts, "num_tokens_in_prompt": n_tokens, "notes": notes}


def feature_row(model_id: str, layer: int, neuron: int, creator: str, hook: str,
                max_act: float, frac_pos: float, pos: list[tuple[str, float]],
                neg: list[tuple[str, float]]) -> dict[str, Any]:
    """A Neuron row (features/): the decoded top (pos_*) and bottom (neg_*) tokens."""
    return {"modelId": model_id, "layer": str(layer), "index": str(neuron),
            "creatorId": creator, "sourceSetName": NEURONS_SET, "hookName": hook,
            "maxActApprox": rounded(max_act), "frac_nonzero": rounded(frac_pos),
            "hasVector": False,
            "pos_str": [s for s, _ in pos], "pos_values": [rounded(v) for _, v in pos],
            "neg_str": [s for s, _ in neg], "neg_values": [rounded(v) for _, v in neg]}


def activation_row(model_id: str, layer: int, neuron: int, rank: int, creator: str,
                   tokens: list[str], values: list[float], data_source: str, data_index: int
                   ) -> dict[str, Any]:
    """An Activation row (activations/): one top-activating window; its id is derived from
    (model, layer, neuron, rank), so a rerun writes the same rows."""
    vals = [rounded(v) for v in values]
    peak = max(vals)
    key = f"{model_id}/{layer}/{neuron}/{rank}".encode()
    return {"id": "interp" + hashlib.sha256(key).hexdigest()[:19], "modelId": model_id,
            "layer": str(layer), "index": str(neuron), "creatorId": creator,
            "tokens": list(tokens), "values": vals, "maxValue": peak,
            "maxValueTokenIndex": vals.index(peak), "minValue": min(vals),
            "dataSource": data_source, "dataIndex": str(data_index)}
