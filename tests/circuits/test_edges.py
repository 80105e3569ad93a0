"""Edge attribution patching (interp.circuits.edges) against brute force: on tiny GPT-2, NeoX
(parallel attention + MLP) and Llama (GQA) models every EAP score equals the derivative of
the metric with respect to alpha when alpha * (a_u(corrupted) - a_u(clean)) is added to one
downstream input only (autograd per edge, a forward and backward pass each; the upstream
outputs recomputed from hook_z and W_O, not hook_result); the fork hooks feed one node each;
the planted circuit's edges rank on top and match exact edge patching."""

from __future__ import annotations

import pytest
import torch

from interp.circuits.edges import edge_attribution, edge_graph, edge_patching, split_inputs
from interp.circuits.patching import _last_logits, _padded_pair, task_metric
from interp.errors import InterpError
from interp.hooks import attach


def _outputs(model, tokens) -> dict[str, torch.Tensor]:
    """Input, per-head outputs (hook_z @ W_O) and MLP outputs, on the plain model."""
    acts: dict[str, torch.Tensor] = {}
    names = {"input": "blocks.0.hook_resid_pre"}
    for layer in range(model.facts.n_layers):
        names[f"z{layer}"] = f"blocks.{layer}.attn.hook_z"
        names[f"MLP{layer}"] = f"blocks.{layer}.hook_mlp_out"

    def grab(key):
        def keep(x, hook=None):
            acts[key] = x.detach()
        return keep

    with torch.no_grad(), attach(model, {v: grab(k) for k, v in names.items()}):
        model.bridge(tokens)
    for layer in range(model.facts.n_layers):
        w_o = model.bridge.blocks[layer].attn.W_O.detach()
        z = acts.pop(f"z{layer}")
        for h in range(model.facts.n_heads):
            acts[f"L{layer}H{h}"] = z[:, :, h] @ w_o[h]
    return acts


@pytest.mark.parametrize("arch", ["gpt2", "neox", "llama"])
def test_eap_equals_the_derivative_of_each_patched_edge(loaded, arch, tiny_task):
    model = loaded(arch)
    task = tiny_task
    result = edge_attribution(model, task)
    graph = edge_graph(model)
    assert result.upstream == graph.upstream and result.downstream == graph.downstream
    f = model.facts
    assert len(graph.upstream) == 1 + f.n_layers * (f.n_heads + 1)
    assert len(graph.downstream) == f.n_layers * (f.n_heads + 2 * f.n_kv_heads + 1) + 1
    clean_tok, corrupt_tok, lengths = _padded_pair(model, task)
    clean, corrupt = _outputs(model, clean_tok), _outputs(model, corrupt_tok)
    checked = 0
    with split_inputs(model):
        for i, u in enumerate(graph.upstream):
            delta = corrupt[u] - clean[u]
            for j, d in enumerate(graph.downstream):
                if not graph.allowed[i, j]:
                    assert result.raw[i, j] == 0
                    continue
                name, head = graph.down_hooks[j]
                alpha = torch.zeros((), requires_grad=True)

                def inject(x, hook=None, _h=head, _d=delta, _a=alpha):
                    x = x.clone()
                    if _h is None:
                        return x + _a * _d
                    x[:, :, _h] = x[:, :, _h] + _a * _d
                    return x

                with torch.enable_grad(), attach(model, {name: inject}):
                    metric = task_metric(_last_logits(model, clean_tok, lengths), task).mean()
                    (slope,) = torch.autograd.grad(metric, alpha)
                assert float(result.raw[i, j]) == pytest.approx(-float(slope), abs=2e-5), (u, d)
                checked += 1
    assert checked == int(graph.allowed.sum()) > 80
    assert float(result.raw.abs().max()) > 0.1  # the comparison is not between zeros
    # same-layer edges: a head feeds its layer's MLP only where the MLP runs after attention
    assert bool(graph.allowed[graph.upstream.index("L0H0"), graph.downstream.index("MLP0")]) \
        == (not f.parallel_attn_mlp)
    gap = result.clean - result.corrupted
    assert torch.allclose(result.scores * gap, result.raw, atol=1e-6)


def test_eap_matches_finite_differences(loaded, tiny_task):
    """Central differences (alpha = +-0.01) of the top edges agree with the scores."""
    model = loaded("llama")
    task = tiny_task
    result = edge_attribution(model, task)
    for u, d, _ in result.top(3):
        plus = edge_patching(model, task, [(u, d)], alpha=0.01)
        minus = edge_patching(model, task, [(u, d)], alpha=-0.01)
        slope = float(plus - minus) / 0.02
        raw = float(result.raw[result.upstream.index(u), result.downstream.index(d)])
        assert raw == pytest.approx(slope, rel=1e-2, abs=1e-4), (u, d)


@pytest.mark.parametrize("arch", ["neox", "llama"])
def test_fork_inputs_feed_one_node_each(loaded, arch):
    """Adding a vector at a head's q (or a KV head's k) input moves that head's q (k) only;
    at an MLP's input, that MLP's output and no head of its layer; logits are unchanged by
    turning the forks on, and the bridge's flags are restored afterwards."""
    model = loaded(arch)
    tokens = model.to_tokens("The cat sat on the mat.")
    seen: dict[str, torch.Tensor] = {}
    watch = ["blocks.1.attn.hook_q", "blocks.1.attn.hook_k", "blocks.1.attn.hook_v",
             "blocks.1.attn.hook_z", "blocks.1.hook_mlp_out"]

    def run(extra=None):
        def keep(name):
            def k(x, hook=None):
                seen[name] = x.detach().clone()
            return k
        fns = [(n, keep(n)) for n in watch] + ([extra] if extra else [])
        with torch.no_grad(), attach(model, fns):
            logits = model.bridge(tokens)
        return logits, dict(seen)

    plain, _ = run()
    flags = (model.bridge.cfg.use_split_qkv_input, model.bridge.cfg.use_attn_result)
    with split_inputs(model):
        logits, base = run()
        assert torch.allclose(logits, plain, atol=1e-4)
        bump = torch.randn(model.facts.d_model)

        def at(head):
            def add(x, hook=None):
                x = x.clone()
                if head is None:
                    return x + bump
                x[:, :, head] += bump
                return x
            return add

        _, q = run(("blocks.1.attn.hook_q_input", at(1)))
        moved = (q["blocks.1.attn.hook_q"] - base["blocks.1.attn.hook_q"]).abs().amax((0, 1, 3))
        assert moved[1] > 1e-3 and moved[[0, 2, 3]].max() == 0
        assert torch.equal(q["blocks.1.attn.hook_k"], base["blocks.1.attn.hook_k"])
        _, k = run(("blocks.1.attn.hook_k_input", at(0)))
        moved = (k["blocks.1.attn.hook_k"] - base["blocks.1.attn.hook_k"]).abs().amax((0, 1, 3))
        assert moved[0] > 1e-3 and moved[1:].max() == 0
        assert torch.equal(k["blocks.1.attn.hook_q"], base["blocks.1.attn.hook_q"])
        _, mlp = run(("blocks.1.hook_mlp_in", at(None)))
        assert not torch.allclose(mlp["blocks.1.hook_mlp_out"], base["blocks.1.hook_mlp_out"])
        assert torch.equal(mlp["blocks.1.attn.hook_z"], base["blocks.1.attn.hook_z"])
    assert (model.bridge.cfg.use_split_qkv_input, model.bridge.cfg.use_attn_result) == flags


def test_planted_edges_rank_on_top_and_match_exact_patching(planted):
    """The planted circuit's 7 edges (the task token's embedding into both copy heads'
    values, the copy heads into the mover's value and into the logits, the mover into the
    logits) are EAP's top 7, far above the rest, and within 0.05 of the gap of exact edge
    patching."""
    from interp.circuits.planted import planted_task

    model = planted("a")
    task = planted_task(20)
    result = edge_attribution(model, task)
    want = {("input", "L0H1.v"), ("input", "L0H3.v"), ("L0H1", "L1H2.v"), ("L0H3", "L1H2.v"),
            ("L0H1", "logits"), ("L0H3", "logits"), ("L1H2", "logits")}
    top = result.top(8)
    assert {(u, d) for u, d, _ in top[:7]} == want
    assert min(s for *_, s in top[:7]) > 0.15 and abs(top[7][2]) < 0.01
    exact = edge_patching(model, task, [(u, d) for u, d, _ in top[:7]])
    gap = result.clean - result.corrupted
    for (u, d, s), e in zip(top, exact.tolist()):
        assert s == pytest.approx(e / gap, abs=0.05), (u, d)
    among = result.top(3, nodes=["L0H1", "L1H2", "logits"])
    assert {(u, d) for u, d, _ in among} == {("L0H1", "L1H2.v"), ("L0H1", "logits"),
                                             ("L1H2", "logits")}


def test_gqa_key_inputs_belong_to_their_query_heads(loaded, tiny_task):
    result = edge_attribution(loaded("llama"), tiny_task)  # 4 query heads, 2 KV heads
    assert "L1KV1.k" in result.downstream and result.kv_group == 2
    ups = {(u, d) for u, d, _ in result.top(200, nodes=["L0H0", "L1H2"])}
    assert ("L0H0", "L1KV1.k") in ups and ("L0H0", "L1KV0.k") not in ups


def test_edge_patching_refuses_unknown_nodes_and_non_edges(loaded, tiny_task):
    model, task = loaded("gpt2"), tiny_task
    with pytest.raises(InterpError, match="unknown edge node 'L9H0'"):
        edge_patching(model, task, [("L9H0", "logits")])
    with pytest.raises(InterpError, match="is not an edge"):
        edge_patching(model, task, [("L1H0", "L0H1.q")])
