"""Circuit identification: per-head outputs, task generators, the SAE method (O'Neill & Bui
2024), activation / attribution patching baselines (per head and per head x position), edge
attribution patching, path patching (Wang et al. 2022), ground truths and metrics."""

from interp.circuits.discover import SAECircuitResult, SAESettings, sae_circuit, score_outputs
from interp.circuits.edges import EdgeResult, edge_attribution, edge_graph, edge_patching
from interp.circuits.ground_truth import Circuit, bundled_circuits, load_circuit
from interp.circuits.heads import POOLINGS, head_labels, head_outputs
from interp.circuits.metrics import Classification, classify, roc_auc, roc_points
from interp.circuits.patching import (
    PatchResult,
    activation_patching,
    attribution_patching,
    task_metric,
)
from interp.circuits.paths import PathResult, path_patching
from interp.circuits.positions import PositionPatchResult, position_patching
from interp.circuits.report import METHODS, CircuitReport, circuit_report, run_circuits
from interp.circuits.scores import (
    EDGE_DENOMINATORS,
    HEAD_SCORES,
    edge_scores,
    edge_truth,
    edges_to_heads,
    head_scores,
    top_pair_heads,
)
from interp.circuits.tasks import TASKS, Task, make_task, task_tokens
from interp.circuits.tasks.custom import task_from_file
from interp.circuits.tasks.ioi import IOI_POSITIONS, ioi_positions

__all__ = [
    "EDGE_DENOMINATORS", "HEAD_SCORES", "IOI_POSITIONS", "METHODS", "POOLINGS", "TASKS", "Circuit",
    "CircuitReport", "Classification", "EdgeResult", "PatchResult", "PathResult",
    "PositionPatchResult", "SAECircuitResult", "SAESettings", "Task", "activation_patching",
    "attribution_patching", "bundled_circuits", "circuit_report", "classify", "edge_attribution",
    "edge_graph", "edge_patching", "edge_scores", "edge_truth", "edges_to_heads", "head_labels",
    "head_outputs", "head_scores", "ioi_positions", "load_circuit", "make_task", "path_patching",
    "position_patching", "roc_auc", "roc_points", "run_circuits", "sae_circuit", "score_outputs",
    "task_from_file", "task_metric", "task_tokens", "top_pair_heads",
]
