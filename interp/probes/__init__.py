"""Concept-depth probes (Jin et al. 2024): per-layer representations of labelled texts,
per-layer linear probes with cross-validation, confidence intervals, a shuffled-label control,
jumping / converging points, datasets, controls and robustness runs.

The per-layer representation function is `interp.probes.representations` (module
`interp.probes.layer_reps`)."""

from interp.models.random_init import random_init_model
from interp.probes.datasets import BUNDLED, ProbeDataset, load_dataset
from interp.probes.depth import (
    DepthResult,
    converging_point,
    jumping_point,
    probe_layers,
    t_interval,
)
from interp.probes.layer_reps import (
    SITES,
    compute_representations,
    representations,
    site_depths,
    texts_hash,
)
from interp.probes.results import ConceptDepthRun, Curve
from interp.probes.robustness import noisy_texts, quantized_model
from interp.probes.runner import concept_depth, concept_depth_report, run_concept_depth

__all__ = [
    "BUNDLED", "SITES", "ConceptDepthRun", "Curve", "DepthResult", "ProbeDataset",
    "compute_representations", "concept_depth", "concept_depth_report", "converging_point",
    "jumping_point", "load_dataset", "noisy_texts", "probe_layers", "quantized_model",
    "random_init_model", "representations", "run_concept_depth", "site_depths", "t_interval",
    "texts_hash",
]
