"""Hooks: capture activations (in memory or streamed to disk) and intervene on them
(context managers that always restore, persistent handles, KV-cache aware positions)."""

from interp.hooks.activations import Activations
from interp.hooks.apply import Handle, active_interventions, apply, intervene, remove_all
from interp.hooks.attach import Attached, attach
from interp.hooks.capture import capture
from interp.hooks.interventions import (
    INTERVENABLE,
    Intervention,
    ablate_heads,
    ablate_neurons,
    heads,
    neurons,
    set_neurons,
    steer,
)
from interp.hooks.names import all_layers, resolve_sites
from interp.hooks.ops import Op, add, mean_ablate, scale, set_to, zero_ablate
from interp.hooks.positions import parse_positions
from interp.hooks.store import ActivationStore, open_activations

__all__ = [
    "INTERVENABLE", "ActivationStore", "Activations", "Attached", "Handle", "Intervention",
    "Op", "ablate_heads", "ablate_neurons", "active_interventions", "add", "all_layers",
    "apply", "attach", "capture", "heads", "intervene", "mean_ablate", "neurons",
    "open_activations", "parse_positions", "remove_all", "resolve_sites", "scale",
    "set_neurons", "set_to", "steer", "zero_ablate",
]
