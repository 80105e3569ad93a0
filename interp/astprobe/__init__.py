"""AST-Probe (issue 7, Hernandez Lopez et al. 2022, arXiv 2206.11719): recover the syntax
tree of code from hidden states with an orthogonal-subspace probe and the (d, c, u) encoding.

Imports here are light (no torch): the heavy modules load on first use."""

from __future__ import annotations

from typing import Any

from interp.astprobe.parse import LANGUAGES, Node, Parsed, ParseError, parse, preprocess
from interp.astprobe.tree import Encoding, Tree, constituents, decode, encode, from_node

_LAZY = {
    "ASTProbe": "interp.astprobe.probe",
    "ProbeConfig": "interp.astprobe.experiment",
    "run_experiment": "interp.astprobe.experiment",
    "prepare_samples": "interp.astprobe.experiment",
    "write_report": "interp.astprobe.report",
    "train_probe": "interp.astprobe.train",
    "predict_trees": "interp.astprobe.train",
    "Vocab": "interp.astprobe.train",
    "leaf_representations": "interp.astprobe.reps",
    "tree_scores": "interp.astprobe.metrics",
    "stdlib_snippets": "interp.astprobe.data",
    "read_jsonl": "interp.astprobe.data",
    "random_init_model": "interp.astprobe.baseline",
    "LookupTable": "interp.astprobe.lexical",
    "lookup_table_scores": "interp.astprobe.lexical",
}

__all__ = [
    "LANGUAGES",
    "ASTProbe",
    "Encoding",
    "LookupTable",
    "Node",
    "ParseError",
    "Parsed",
    "ProbeConfig",
    "Tree",
    "Vocab",
    "constituents",
    "decode",
    "encode",
    "from_node",
    "leaf_representations",
    "lookup_table_scores",
    "parse",
    "predict_trees",
    "prepare_samples",
    "preprocess",
    "random_init_model",
    "read_jsonl",
    "run_experiment",
    "stdlib_snippets",
    "train_probe",
    "tree_scores",
    "write_report",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'interp.astprobe' has no attribute {name!r}")
