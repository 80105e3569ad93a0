"""ModuleHooks: torch module hooks registered together, removed together, even on errors."""

from __future__ import annotations

import pytest
import torch

from interp.hooks.modules import ModuleHooks


class Block(torch.nn.Module):
    def forward(self, x: torch.Tensor, *, scale: float = 1.0) -> torch.Tensor:
        if scale < 0:
            raise ValueError("negative scale")
        return x * scale


def n_hooks(module: torch.nn.Module) -> int:
    return len(module._forward_pre_hooks) + len(module._forward_hooks)


def test_pre_hooks_see_kwargs_and_are_removed_on_exit():
    block, seen = Block(), []
    with ModuleHooks() as hooks:
        hooks.pre(block, lambda m, args, kwargs: seen.append(kwargs["scale"]))
        assert hooks and n_hooks(block) == 1
        block(torch.ones(2), scale=3.0)
    assert seen == [3.0]
    assert not hooks and n_hooks(block) == 0


def test_post_hooks_run_even_when_forward_raises_and_hooks_go_with_the_error():
    block, calls = Block(), []
    with pytest.raises(ValueError), ModuleHooks() as hooks:
        hooks.pre(block, lambda m, a, kw: None).post(block, lambda m, a, out: calls.append(1))
        block(torch.ones(2), scale=-1.0)
    assert calls == [1]
    assert n_hooks(block) == 0


def test_remove_is_idempotent():
    block = Block()
    hooks = ModuleHooks().pre(block, lambda m, a, kw: None)
    hooks.remove()
    hooks.remove()
    assert n_hooks(block) == 0
