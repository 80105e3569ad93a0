"""interp.hooks.attach, the one hook attach/detach: order kept, exactly its own hooks removed
(also when the body raises, or when a name is bad halfway through)."""

from __future__ import annotations

import pytest
import torch

from interp.hooks import apply, attach, set_neurons


def n_hooks(model) -> int:
    return sum(len(hp.fwd_hooks) for hp in set(model.bridge.hook_dict.values()))


def test_order_and_exact_removal(loaded):
    model = loaded("gpt2")
    name = model.hook_name("mlp_post", 0)
    seen: list[str] = []
    tokens = model.to_tokens("The cat sat")
    other = apply(model, set_neurons(0, 1, 0.0))  # another hook on the same point
    before = n_hooks(model)
    with attach(model, [(name, lambda x, hook=None: seen.append("a")),
                        (name, lambda x, hook=None: seen.append("b"))]) as hooks:
        assert n_hooks(model) == before + 2
        with torch.no_grad():
            model.bridge(tokens, return_type=None)
    assert seen == ["a", "b"] and n_hooks(model) == before
    hooks.remove()  # idempotent
    with pytest.raises(RuntimeError), attach(model, {name: lambda x, hook=None: None}):
        raise RuntimeError("body failed")
    assert n_hooks(model) == before and other.active
    with pytest.raises(KeyError):
        attach(model, {name: lambda x, hook=None: None, "no.such.hook": lambda x: None})
    assert n_hooks(model) == before
    other.remove()
