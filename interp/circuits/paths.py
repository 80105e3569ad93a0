"""Path patching (Wang et al. 2022, "Interpretability in the Wild", section 3.1 and appendix B):
how much of the task metric flows from one sender head to a set of receivers, along every path
that does not pass through another attention head.

For each sender head s, on the clean prompts:

1. Run the model with every head's output (hook_z) frozen to its clean value, except s, whose
   output takes its value on the paired corrupted prompt; MLPs are recomputed, so paths
   s -> MLP -> ... -> receiver count. Record the receivers' inputs.
2. Run the clean prompts again with only the receivers' inputs set to those recorded values
   (everything else recomputed) and read the metric.

Receivers are named as edge_graph's downstream inputs: a head's query, key or value input
("L20H0.q", under grouped-query attention "L20KV0.k"), an MLP's input ("MLP12") or "logits"
(the final residual: then step 1's logits are the answer). The score is the drop of the metric
over the clean - corrupted gap, as activation_patching reports. Models that normalise a head's
output before it joins the residual (Gemma's post-norms) are refused, as by edge attribution.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from jaxtyping import Float
from torch import Tensor

from interp.circuits.edges import Graph, _activations, edge_graph, split_inputs
from interp.circuits.heads import head_labels, z_hook_names
from interp.circuits.patching import _last_logits, _padded_pair, _safe, task_metric
from interp.circuits.tasks.base import Task
from interp.errors import InterpError
from interp.hooks import attach

if TYPE_CHECKING:
    from interp.models.model import Model


@dataclass
class PathResult:
    """scores[i]: drop of the metric over (clean - corrupted) when sender i's paths to the
    receivers are patched; raw: the drop itself."""

    senders: list[str]
    receivers: list[str]
    scores: Float[Tensor, " n_senders"]
    raw: Float[Tensor, " n_senders"]
    clean: float
    corrupted: float
    seconds: float


def _check(model: Model, graph: Graph, senders: Sequence[str], receivers: Sequence[str]
           ) -> None:
    """InterpError naming the first unknown name or the first sender that does not run before
    a receiver."""
    heads = head_labels(model)
    if not senders or not receivers:
        raise InterpError("path patching needs at least one sender head and one receiver")
    for s in senders:
        if s not in heads:
            raise InterpError(f"unknown sender {s!r}; valid: heads {heads[0]} ... {heads[-1]}")
    for r in receivers:
        if r not in graph.downstream:
            names = graph.downstream
            raise InterpError(f"unknown receiver {r!r}; valid: {', '.join(names[:4])}, ... "
                              f"{names[-1]} ({len(names)} in all)")
    for s in senders:
        for r in receivers:
            if not bool(graph.allowed[graph.upstream.index(s), graph.downstream.index(r)]):
                raise InterpError(f"sender {s!r} does not run before receiver {r!r}")


@torch.no_grad()
def path_patching(model: Model, task: Task, senders: Sequence[str],
                  receivers: Sequence[str]) -> PathResult:
    """Path patching of each head in `senders` (e.g. ["L16H0", "L17H4"]) to the `receivers`
    (e.g. ["L20H0.q", "L24H4.q"] or ["logits"]); two forward passes per sender (one when the
    receivers are only "logits"). See the module docstring."""
    start = time.perf_counter()
    graph = edge_graph(model)
    _check(model, graph, senders, receivers)
    hooks = dict(zip(graph.downstream, graph.down_hooks))
    wanted: dict[str, list[int | None]] = {}
    for r in receivers:
        name, head = hooks[r]
        wanted.setdefault(name, []).append(head)
    n_heads, heads = model.facts.n_heads, head_labels(model)
    clean_tok, corrupt_tok, lengths = _padded_pair(model, task)
    z_names = z_hook_names(model)
    with split_inputs(model):
        clean_z = _activations(model, clean_tok, z_names)
        corrupt_z = _activations(model, corrupt_tok, z_names)
        clean = task_metric(_last_logits(model, clean_tok, lengths), task)
        corrupted = task_metric(_last_logits(model, corrupt_tok, lengths), task)
        raw = torch.zeros(len(senders))
        for i, sender in enumerate(senders):
            layer, head = divmod(heads.index(sender), n_heads)
            patched = _sender_metric(model, task, clean_tok, lengths, (clean_z, corrupt_z),
                                     (layer, head), wanted, set(receivers) == {"logits"})
            raw[i] = float((clean - patched).mean())
    clean_mean, corrupt_mean = float(clean.mean()), float(corrupted.mean())
    return PathResult(list(senders), list(receivers), raw / _safe(clean_mean - corrupt_mean), raw,
                      clean_mean, corrupt_mean, time.perf_counter() - start)


def _sender_metric(model: Model, task: Task, tokens: Tensor, lengths: Tensor,
                   z: tuple[dict[str, Tensor], dict[str, Tensor]], sender: tuple[int, int],
                   wanted: dict[str, list[int | None]], only_logits: bool) -> Tensor:
    """The per-prompt metric after path patching one sender (steps 1 and 2)."""
    clean_z, corrupt_z = z
    layer, head = sender
    recorded: dict[str, Tensor] = {}

    def freeze(name: str, at: int) -> Any:
        def hold(x: Tensor, hook: Any = None) -> Tensor:
            new = clean_z[name].clone()
            if at == layer:
                new[:, :, head] = corrupt_z[name][:, :, head]
            return new.to(x.dtype)

        return hold

    def record(name: str) -> Any:
        def keep(x: Tensor, hook: Any = None) -> None:
            recorded[name] = x.detach().clone()

        return keep

    def put(name: str) -> Any:
        def set_inputs(x: Tensor, hook: Any = None) -> Tensor:
            x = x.clone()
            for h in wanted[name]:
                if h is None:  # the whole input is the receiver
                    x = recorded[name].to(x.dtype).clone()
                else:
                    x[:, :, h] = recorded[name][:, :, h].to(x.dtype)
            return x

        return set_inputs

    fns = [(n, freeze(n, at)) for at, n in enumerate(z_hook_names(model))]
    with attach(model, fns + [(n, record(n)) for n in wanted]):
        logits = _last_logits(model, tokens, lengths)
    if only_logits:
        return task_metric(logits, task)
    with attach(model, [(n, put(n)) for n in wanted]):
        return task_metric(_last_logits(model, tokens, lengths), task)
