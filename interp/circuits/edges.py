"""Edge attribution patching (EAP; Syed, Rager & Conmy 2023, "Attribution Patching
Outperforms Automated Circuit Discovery"): the first-order effect of patching one edge, from
one corrupted forward, one clean forward and one backward pass.

An edge u -> d carries what upstream node u writes into the residual stream to what
downstream node d reads from it. Upstream nodes: the input (token + position embeddings),
each head's output (hook_z through its slice of W_O: hook_result) and each MLP's output.
Downstream inputs: each head's query, key and value input (the bridge's split-QKV fork:
the residual before the norm, one copy per head; under grouped-query attention the key and
value inputs belong to a KV head, labelled "L3KV1.k"), each MLP's input (hook_mlp_in) and
the final residual that the logits read. The score is the paper's,
(a_u(corrupted) - a_u(clean)) . d metric / d input_d, summed over positions and averaged
over prompts, at the clean activations.

Departures, all of convention: `raw` is the estimated *drop* of the metric (minus the
paper's score) and `scores` that drop over the clean - corrupted gap, as activation_patching
reports; the paper ranks by the absolute value, as `top` does. The metric is the task's
(interp.circuits.task_metric) averaged over prompts. Models whose attention or MLP output is
normalised before it joins the residual (Gemma's post-norms) are refused: the per-head
output is then not what the residual receives.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from jaxtyping import Bool, Float
from torch import Tensor

from interp.circuits.heads import head_label
from interp.circuits.patching import _last_logits, _padded_pair, _safe, task_metric
from interp.circuits.tasks.base import Task
from interp.errors import InterpError
from interp.hooks import attach

if TYPE_CHECKING:
    from interp.models.model import Model

FINAL = "ln_final.hook_in"
_FLAGS = ("use_split_qkv_input", "use_attn_result", "use_hook_mlp_in")


@dataclass(frozen=True)
class Graph:
    """Node names and hook points of a model's edge graph: upstream[i] is written at
    up_hooks[i] (head index or None), downstream[j] read at down_hooks[j]; allowed[i, j] when
    i runs before j."""

    upstream: list[str]
    downstream: list[str]
    up_hooks: list[tuple[str, int | None]]
    down_hooks: list[tuple[str, int | None]]
    allowed: Bool[Tensor, "n_up n_down"]


def head_input(model: Model, layer: int, head: int, which: str) -> str:
    """The edge-graph name of query head (layer, head)'s `which` input ("q", "k" or "v"):
    "L20H0.q"; under grouped-query attention its key and value are its KV head's, "L20KV0.k"."""
    f = model.facts
    if which == "q" or f.n_kv_heads == f.n_heads:
        return f"{head_label(layer, head)}.{which}"
    return f"L{layer}KV{head // (f.n_heads // f.n_kv_heads)}.{which}"


def edge_graph(model: Model) -> Graph:
    """The graph of `model`: input, heads and MLPs upstream; q/k/v, MLP and logits down."""
    f = model.facts
    group = f.n_heads // f.n_kv_heads
    up: list[tuple[str, tuple[str, int | None], int]] = [("input", ("blocks.0.hook_resid_pre",
                                                                    None), -1)]
    down: list[tuple[str, tuple[str, int | None], float]] = []
    for layer in range(f.n_layers):
        attn = f"blocks.{layer}.attn"
        for h in range(f.n_heads):
            down.append((f"{head_label(layer, h)}.q", (f"{attn}.hook_q_input", h), layer))
        for which in "kv":
            for h in range(f.n_kv_heads):
                down.append((head_input(model, layer, h * group, which),
                             (f"{attn}.hook_{which}_input", h), layer))
        mlp_at = layer if f.parallel_attn_mlp else layer + 0.5  # reads this layer's heads?
        down.append((f"MLP{layer}", (f"blocks.{layer}.hook_mlp_in", None), mlp_at))
        for h in range(f.n_heads):
            up.append((head_label(layer, h), (f"{attn}.hook_result", h), layer))
        up.append((f"MLP{layer}", (f"blocks.{layer}.hook_mlp_out", None), layer + 0.5))
    down.append(("logits", (FINAL, None), f.n_layers))
    at_up = torch.tensor([u[2] for u in up], dtype=torch.float)
    at_down = torch.tensor([d[2] for d in down], dtype=torch.float)
    return Graph([u[0] for u in up], [d[0] for d in down], [u[1] for u in up],
                 [d[1] for d in down], at_up[:, None] < at_down[None, :])


@dataclass
class EdgeResult:
    """raw[i, j]: estimated drop of the metric when edge upstream[i] -> downstream[j] alone
    is patched to its corrupted value (0 where i does not run before j); scores: raw / (clean
    - corrupted)."""

    upstream: list[str]
    downstream: list[str]
    scores: Float[Tensor, "n_up n_down"]
    raw: Float[Tensor, "n_up n_down"]
    allowed: Bool[Tensor, "n_up n_down"]
    clean: float
    corrupted: float
    seconds: float
    kv_group: int = 1  # query heads per key/value head

    def top(self, k: int = 20, nodes: Sequence[str] | None = None) -> list[tuple[str, str, float]]:
        """The k edges of largest |score|, (upstream, downstream, score); with `nodes` (e.g.
        ["L20H0", "MLP3", "logits"]) only edges between them (a downstream "L20H0.q" is node
        "L20H0"; a key/value input under GQA, "L20KV0.k", counts if any of its heads does)."""
        keep = self.allowed.clone()
        if nodes is not None:
            wanted = set(nodes)
            keep &= torch.tensor([u in wanted for u in self.upstream])[:, None]
            keep &= torch.tensor([bool(_owners(d, self.kv_group) & wanted)
                                  for d in self.downstream])[None]
        flat = torch.where(keep, self.scores.abs(), torch.tensor(-1.0)).flatten()
        order = flat.argsort(descending=True, stable=True)[:k]
        n = len(self.downstream)
        return [(self.upstream[int(i) // n], self.downstream[int(i) % n],
                 float(self.scores.flatten()[i])) for i in order if flat[i] >= 0]


def _owners(down: str, group: int) -> set[str]:
    """Nodes a downstream input belongs to: "L3H2.q" -> {"L3H2"}; "L3KV1.k" -> the query
    heads of KV head 1 ({"L3H2", "L3H3"} for 2 query heads per KV head)."""
    node = down.split(".")[0]
    if "KV" not in node:
        return {node}
    layer, kv = node[1:].split("KV")
    return {f"L{layer}H{h}" for h in range(int(kv) * group, (int(kv) + 1) * group)}


@contextmanager
def split_inputs(model: Model) -> Iterator[None]:
    """Turn on the bridge's per-head q/k/v input fork, per-head results and hook_mlp_in for
    the duration (restored after, even on errors)."""
    bridge = model.bridge
    blocks = list(bridge.blocks)
    if any(hasattr(b, "ln1_post") or hasattr(b, "ln2_post") for b in blocks):
        raise InterpError(f"edge attribution needs head and MLP outputs added to the residual "
                          f"as they are; this {model.facts.architecture} normalises them first")
    before = {flag: bool(getattr(bridge.cfg, flag, False)) for flag in _FLAGS}
    try:
        bridge.set_use_split_qkv_input(True)
        bridge.set_use_attn_result(True)
        bridge.set_use_hook_mlp_in(True)
        yield
    finally:
        bridge.set_use_split_qkv_input(before["use_split_qkv_input"])
        bridge.set_use_attn_result(before["use_attn_result"])
        bridge.set_use_hook_mlp_in(before["use_hook_mlp_in"])


def _select(x: Tensor, head: int | None) -> Tensor:
    return x if head is None else x[:, :, head]


def edge_attribution(model: Model, task: Task) -> EdgeResult:
    """EAP scores of every edge of edge_graph(model) on `task` (module docstring)."""
    start = time.perf_counter()
    graph = edge_graph(model)
    clean_tok, corrupt_tok, lengths = _padded_pair(model, task)
    up_names = sorted({h for h, _ in graph.up_hooks})
    down_names = sorted({h for h, _ in graph.down_hooks})
    corrupt: dict[str, Tensor] = {}
    clean_acts: dict[str, Tensor] = {}
    reads: dict[str, Tensor] = {}

    def recorder(store: dict[str, Tensor], name: str) -> Any:
        def record(x: Tensor, hook: Any = None) -> Tensor:
            if name == graph.up_hooks[0][0] and store is clean_acts and not x.requires_grad:
                x = x.detach().requires_grad_(True)  # put everything after it on the graph
            store[name] = x.detach()
            return x

        return record

    def reader(name: str) -> Any:
        def read(x: Tensor, hook: Any = None) -> Tensor:
            x = x.clone()  # a node of its own: hook_mlp_in's tensor also feeds the skip path
            reads[name] = x
            return x

        return read

    with split_inputs(model):
        with torch.no_grad(), attach(model, {n: recorder(corrupt, n) for n in up_names}):
            corrupted = task_metric(_last_logits(model, corrupt_tok, lengths), task)
        fns = [(n, recorder(clean_acts, n)) for n in up_names]
        fns += [(n, reader(n)) for n in down_names]
        with torch.enable_grad(), attach(model, fns):
            clean = task_metric(_last_logits(model, clean_tok, lengths), task)
            missing = [n for n in down_names if n not in reads or not reads[n].requires_grad]
            if missing:
                raise InterpError(f"hook {missing[0]} did not fire on the gradient path; this "
                                  f"{model.facts.architecture} bridge has no per-head q/k/v "
                                  "inputs")
            grads = torch.autograd.grad(clean.mean(), [reads[n] for n in down_names],
                                        allow_unused=True)
    grad = {n: (torch.zeros_like(reads[n]) if g is None else g).detach()
            for n, g in zip(down_names, grads)}
    reads.clear()
    keep = (torch.arange(clean_tok.shape[1])[None] < lengths[:, None]).to(model.device)
    deltas = torch.stack([_select(corrupt[n] - clean_acts[n], h).float() for n, h in
                          graph.up_hooks]) * keep[None, :, :, None]
    corrupt.clear()
    clean_acts.clear()
    raw = torch.zeros(len(graph.upstream), len(graph.downstream))
    for j, (name, head) in enumerate(graph.down_hooks):
        g = _select(grad[name], head).float()
        raw[:, j] = -torch.einsum("ubpd,bpd->u", deltas, g).cpu()  # grad of the mean
    raw = torch.where(graph.allowed, raw, torch.zeros(()))
    clean_mean, corrupt_mean = float(clean.detach().mean()), float(corrupted.mean())
    return EdgeResult(graph.upstream, graph.downstream, raw / _safe(clean_mean - corrupt_mean),
                      raw, graph.allowed, clean_mean, corrupt_mean, time.perf_counter() - start,
                      model.facts.n_heads // model.facts.n_kv_heads)


def _activations(model: Model, tokens: Tensor, names: list[str]) -> dict[str, Tensor]:
    out: dict[str, Tensor] = {}

    def keeper(name: str) -> Any:
        def keep(x: Tensor, hook: Any = None) -> None:
            out[name] = x.detach()

        return keep

    with torch.no_grad(), attach(model, {n: keeper(n) for n in names}):
        model.bridge(tokens.to(model.device), return_type=None)
    return out


@torch.no_grad()
def edge_patching(model: Model, task: Task, edges: Sequence[tuple[str, str]], *,
                  alpha: float = 1.0) -> Float[Tensor, " n_edges"]:
    """Exact drop of the metric when only edge (upstream, downstream) is patched: d's input
    gets alpha * (a_u(corrupted) - a_u(clean)) added, everything else stays clean; one
    forward pass per edge (names as in edge_graph, e.g. ("L16H0", "L20H0.q"))."""
    graph = edge_graph(model)
    ups, downs = dict(zip(graph.upstream, graph.up_hooks)), dict(zip(graph.downstream,
                                                                     graph.down_hooks))
    for u, d in edges:
        if u not in ups or d not in downs:
            bad, names = (u, graph.upstream) if u not in ups else (d, graph.downstream)
            raise InterpError(f"unknown edge node {bad!r}; valid: {', '.join(names[:4])}, ... "
                              f"{names[-1]} ({len(names)} in all)")
        if not bool(graph.allowed[graph.upstream.index(u), graph.downstream.index(d)]):
            raise InterpError(f"{u!r} does not run before {d!r}: ({u!r}, {d!r}) is not an edge")
    clean_tok, corrupt_tok, lengths = _padded_pair(model, task)
    names = sorted({ups[u][0] for u, _ in edges})
    out = torch.zeros(len(edges))
    with split_inputs(model):
        corrupt = _activations(model, corrupt_tok, names)
        clean_acts = _activations(model, clean_tok, names)
        clean = task_metric(_last_logits(model, clean_tok, lengths), task)
        for e, (u, d) in enumerate(edges):
            (up_name, up_head), (down_name, down_head) = ups[u], downs[d]
            delta = alpha * _select(corrupt[up_name] - clean_acts[up_name], up_head)

            def add(x: Tensor, hook: Any = None, _d: Tensor = delta, _h: Any = down_head
                    ) -> Tensor:
                x = x.clone()
                if _h is None:
                    return x + _d.to(x.dtype)
                x[:, :, _h] += _d.to(x.dtype)
                return x

            with attach(model, {down_name: add}):
                patched = task_metric(_last_logits(model, clean_tok, lengths), task)
            out[e] = float((clean - patched).mean())
    return out
