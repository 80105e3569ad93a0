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
(the final residual: then step 1's logits are the answer). Receivers may sit at different
depths: a sender must run before at least one of them, and one that runs before the sender
keeps its clean input for that sender (there is no path). The score is the drop of the metric
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

from interp.circuits.edges import FINAL, Graph, edge_graph, split_inputs
from interp.circuits.heads import head_labels, z_hook_names
from interp.circuits.patching import _last_logits, _padded_pair, _safe, task_metric
from interp.circuits.tasks.base import Task
from interp.errors import InterpError
from interp.hooks import attach
from interp.models.resume import BlockInputs, logits_at, record_block_inputs, run_from

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
    """InterpError naming the first unknown name or the first sender that runs before none of
    the receivers (a receiver that runs before a sender keeps its clean input: no path)."""
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
        if not any(bool(graph.allowed[graph.upstream.index(s), graph.downstream.index(r)])
                   for r in receivers):
            raise InterpError(f"sender {s!r} does not run before any receiver "
                              f"({', '.join(receivers)})")


@torch.no_grad()
def path_patching(model: Model, task: Task, senders: Sequence[str],
                  receivers: Sequence[str], *, batch_prompts: int = 512) -> PathResult:
    """Path patching of each head in `senders` (e.g. ["L16H0", "L17H4"]) to the `receivers`
    (e.g. ["L20H0.q", "L24H4.q"] or ["logits"]); see the module docstring. Batched and
    resumed as activation_patching is: the senders of one layer run together, one copy of the
    prompts each (at most `batch_prompts` prompt copies per pass), step 1 from the sender's
    layer on and step 2 from the first receiver's layer on (interp.models.resume), with only
    the last positions unembedded. Step 2 is skipped when the receivers are only "logits"."""
    start = time.perf_counter()
    graph = edge_graph(model)
    _check(model, graph, senders, receivers)
    hooks = dict(zip(graph.downstream, graph.down_hooks))
    wanted: dict[str, list[int | None]] = {}
    for r in receivers:
        name, head = hooks[r]
        wanted.setdefault(name, []).append(head)
    n_layers = model.facts.n_layers
    step2_from = min(n_layers if name == FINAL else int(name.split(".")[1]) for name in wanted)
    heads = head_labels(model)
    where = [divmod(heads.index(s), model.facts.n_heads) for s in senders]  # (layer, head)
    clean_tok, corrupt_tok, lengths = _padded_pair(model, task)
    n = len(lengths)
    per_pass = max(batch_prompts // n, 1)  # senders (prompt copies) per pass
    groups: list[list[int]] = []  # senders of one layer together
    for i in sorted(range(len(senders)), key=lambda i: where[i]):
        if groups and where[groups[-1][0]][0] == where[i][0] and len(groups[-1]) < per_pass:
            groups[-1].append(i)
        else:
            groups.append([i])
    z_names = z_hook_names(model)
    corrupt_z: dict[str, Tensor] = {}
    clean_z: dict[str, Tensor] = {}
    with split_inputs(model):
        with attach(model, {name: _keeper(corrupt_z, name) for name in z_names}):
            corrupted = task_metric(_last_logits(model, corrupt_tok, lengths), task)
        with attach(model, {name: _keeper(clean_z, name) for name in z_names}):
            inputs, logits = record_block_inputs(model, clean_tok)
        last = lengths.to(logits.device) - 1
        clean = task_metric(logits[torch.arange(n, device=logits.device), last], task)
        del logits
        raw = torch.zeros(len(senders))
        for group in groups:
            patched = _group_metric(model, task, inputs, last, (clean_z, corrupt_z),
                                    (where[group[0]][0], [where[i][1] for i in group]),
                                    wanted, step2_from)
            for c, i in enumerate(group):
                raw[i] = float((clean - patched[c * n:(c + 1) * n]).mean())
    clean_mean, corrupt_mean = float(clean.mean()), float(corrupted.mean())
    return PathResult(list(senders), list(receivers), raw / _safe(clean_mean - corrupt_mean), raw,
                      clean_mean, corrupt_mean, time.perf_counter() - start)


def _keeper(store: dict[str, Tensor], name: str) -> Any:
    def keep(x: Tensor, hook: Any = None) -> None:
        store[name] = x.detach().clone()

    return keep


def _group_metric(model: Model, task: Task, inputs: BlockInputs, last: Tensor,
                  z: tuple[dict[str, Tensor], dict[str, Tensor]],
                  senders: tuple[int, list[int]], wanted: dict[str, list[int | None]],
                  step2_from: int) -> Tensor:
    """The metric of every prompt copy [copies x n] after path patching the heads `senders`
    = (layer, [head per copy]) of one layer, copy c patching head c (steps 1 and 2)."""
    clean_z, corrupt_z = z
    layer, group = senders
    k, n = len(group), inputs.batch
    last = last.repeat(k)
    recorded: dict[str, Tensor] = {}

    def freeze(name: str, at: int) -> Any:
        def hold(x: Tensor, hook: Any = None) -> Tensor:
            new = clean_z[name].repeat(k, 1, 1, 1)
            if at == layer:
                for c, head in enumerate(group):
                    new[c * n:(c + 1) * n, :, head] = corrupt_z[name][:, :, head]
            return new.to(x.dtype)

        return hold

    def put(name: str) -> Any:
        def set_inputs(x: Tensor, hook: Any = None) -> Tensor:
            if name not in recorded:  # read before the senders' layer: clean, no path to it
                return x
            x = x.clone()
            for h in wanted[name]:
                if h is None:  # the whole input is the receiver
                    x = recorded[name].to(x.dtype).clone()
                else:
                    x[:, :, h] = recorded[name][:, :, h].to(x.dtype)
            return x

        return set_inputs

    z_names = z_hook_names(model)
    fns = [(z_names[at], freeze(z_names[at], at)) for at in range(layer, len(z_names))]
    with attach(model, fns + [(name, _keeper(recorded, name)) for name in wanted]):
        resid = run_from(model, inputs, layer, inputs.hidden[layer].repeat(k, 1, 1))
        logits = logits_at(model, resid, last)
    if set(wanted) != {FINAL}:
        with attach(model, [(name, put(name)) for name in wanted]):  # step2_from < n_layers
            resid = run_from(model, inputs, step2_from,
                             inputs.hidden[step2_from].repeat(k, 1, 1))
            logits = logits_at(model, resid, last)
    return torch.cat([task_metric(logits[c * n:(c + 1) * n], task) for c in range(k)])
