"""Path patching (interp.circuits.paths) on tiny GPT-2, NeoX (parallel attention + MLP) and
Llama (GQA) models: a last-layer head's paths to the logits are all of its effect (equal to
activation patching); any sender's result equals a reference built another way (the sender's
change added at its layer's attention output as z_delta @ W_O, every head's hook_z held at its
clean value, and each receiver's input moved by the difference it saw, or set to it when the
receiver reads the whole residual, as the paper's step 3 replaces receiver inputs); bad names
are refused; a receiver that runs before a sender is left clean for it; batching the senders of
a layer (one copy of the prompts each) changes nothing."""

from __future__ import annotations

import pytest
import torch

from interp.circuits import activation_patching
from interp.circuits.edges import edge_graph, split_inputs
from interp.circuits.patching import _last_logits, _padded_pair, task_metric
from interp.circuits.paths import path_patching
from interp.errors import InterpError
from interp.hooks import attach


@pytest.mark.parametrize("arch", ["gpt2", "neox", "llama"])
def test_last_layer_heads_to_logits_equal_activation_patching(loaded, arch, tiny_task):
    model = loaded(arch)
    last = model.facts.n_layers - 1
    senders = [f"L{last}H{h}" for h in range(model.facts.n_heads)]
    result = path_patching(model, tiny_task, senders, ["logits"])
    patch = activation_patching(model, tiny_task)
    torch.testing.assert_close(result.raw, patch.raw[last], atol=1e-5, rtol=1e-4)
    assert result.clean == pytest.approx(patch.clean, rel=1e-5) and result.senders == senders


def _reference(model, task, sender: str, receivers: list[str]) -> float:
    """Mean drop of the metric, built from attention outputs instead of hook_z swaps."""
    layer, head = (int(x) for x in sender[1:].split("H"))
    graph = edge_graph(model)
    hooks = dict(zip(graph.downstream, graph.down_hooks))
    clean_tok, corrupt_tok, lengths = _padded_pair(model, task)
    z_name = lambda i: f"blocks.{i}.attn.hook_z"
    zs: dict[str, dict[int, torch.Tensor]] = {"clean": {}, "corrupt": {}}
    for key, tok in (("clean", clean_tok), ("corrupt", corrupt_tok)):
        def keep(z, hook=None, _k=key):
            zs[_k][int(hook.name.split(".")[1])] = z.detach().clone()
        with torch.no_grad(), attach(model, [(z_name(i), keep)
                                             for i in range(model.facts.n_layers)]):
            model.bridge(tok)
    w_o = model.bridge.blocks[layer].attn.W_O.detach()  # [n_heads, d_head, d_model]
    delta = (zs["corrupt"][layer][:, :, head] - zs["clean"][layer][:, :, head]) @ w_o[head]
    seen: dict[str, torch.Tensor] = {}
    base: dict[str, torch.Tensor] = {}

    def hold(z, hook=None):
        return zs["clean"][int(hook.name.split(".")[1])].to(z.dtype)

    def add(x, hook=None):
        return x + delta.to(x.dtype)

    def grab(store):
        def keep(x, hook=None):
            store[hook.name] = x.detach().clone()
        return keep

    names = sorted({hooks[r][0] for r in receivers})
    with torch.no_grad(), split_inputs(model):
        clean = task_metric(_last_logits(model, clean_tok, lengths), task)
        with attach(model, [(n, grab(base)) for n in names]):
            model.bridge(clean_tok)
        fns = [(z_name(i), hold) for i in range(model.facts.n_layers)]
        fns += [(f"blocks.{layer}.hook_attn_out", add)] + [(n, grab(seen)) for n in names]
        with attach(model, fns):
            logits = _last_logits(model, clean_tok, lengths)
        if receivers == ["logits"]:
            return float((clean - task_metric(logits, task)).mean())

        def move(x, hook=None):
            x = x.clone()
            for r in receivers:
                name, h = hooks[r]
                if name != hook.name:
                    continue
                if h is None:  # the whole input is the receiver: it takes the value it saw
                    x = seen[name].to(x.dtype).clone()
                else:  # one head's slice: moved by the difference it saw
                    x[:, :, h] += (seen[name] - base[name])[:, :, h].to(x.dtype)
            return x

        with attach(model, [(n, move) for n in names]):
            patched = task_metric(_last_logits(model, clean_tok, lengths), task)
    return float((clean - patched).mean())


@pytest.mark.parametrize("arch", ["gpt2", "neox", "llama"])
def test_each_sender_equals_an_independent_reference(loaded, arch, tiny_task):
    model = loaded(arch)
    kv = "H" if model.facts.n_kv_heads == model.facts.n_heads else "KV"
    cases = [(["L0H0", "L0H1"], ["L1H0.q", f"L1{kv}0.k"]), (["L0H1"], [f"L1{kv}0.v", "MLP1"]),
             (["L0H0"], ["logits"])]
    if not model.facts.parallel_attn_mlp:
        cases.append((["L0H1"], ["MLP0"]))
    for senders, receivers in cases:
        result = path_patching(model, tiny_task, senders, receivers)
        want = torch.tensor([_reference(model, tiny_task, s, receivers) for s in senders])
        torch.testing.assert_close(result.raw, want, atol=2e-5, rtol=1e-4)
        assert result.raw.abs().sum() > 0  # the tiny models' random heads do move the metric
        one_by_one = path_patching(model, tiny_task, senders, receivers, batch_prompts=1)
        torch.testing.assert_close(one_by_one.raw, result.raw, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
def test_a_receiver_before_the_sender_is_left_clean(loaded, arch, tiny_task):
    model = loaded(arch)
    both = path_patching(model, tiny_task, ["L0H0", "L1H0"], ["L1H1.q", "logits"])
    alone = [path_patching(model, tiny_task, ["L0H0"], ["L1H1.q", "logits"]).raw[0],
             path_patching(model, tiny_task, ["L1H0"], ["logits"]).raw[0]]
    torch.testing.assert_close(both.raw, torch.stack(alone), atol=1e-6, rtol=1e-5)
    assert float(both.raw[1]) == pytest.approx(_reference(model, tiny_task, "L1H0", ["logits"]),
                                               abs=2e-5)


def test_bad_names_and_orders_are_refused(loaded, tiny_task):
    model = loaded("gpt2")
    with pytest.raises(InterpError, match="unknown sender 'L9H0'"):
        path_patching(model, tiny_task, ["L9H0"], ["logits"])
    with pytest.raises(InterpError, match="unknown receiver 'L1H0.x'"):
        path_patching(model, tiny_task, ["L0H0"], ["L1H0.x"])
    with pytest.raises(InterpError, match="'L1H0' does not run before any receiver .L1H1.q."):
        path_patching(model, tiny_task, ["L1H0"], ["L1H1.q"])
    with pytest.raises(InterpError, match="at least one sender"):
        path_patching(model, tiny_task, [], ["logits"])
