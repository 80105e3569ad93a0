"""Concept-depth probes (issue 6): per-layer representations of texts and per-layer linear
probes with cross-validation, confidence intervals, a shuffled-label control and jumping /
converging points."""

from interp.probes.depth import (
    DepthResult,
    converging_point,
    jumping_point,
    probe_layers,
    t_interval,
)
from interp.probes.representations import (
    compute_representations,
    representations,
    site_depths,
    texts_hash,
)

__all__ = [
    "DepthResult", "compute_representations", "converging_point", "jumping_point",
    "probe_layers", "representations", "site_depths", "t_interval", "texts_hash",
]
