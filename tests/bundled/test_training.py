"""Training pieces: learning-rate schedule, deterministic batches, resumable checkpoints."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import torch

from interp.bundled.checkpoint import load_checkpoint, save_checkpoint
from interp.bundled.train import TrainConfig, batch_at, lr_at


def test_lr_schedule_warms_up_then_decays_to_floor():
    cfg = TrainConfig(steps=100, warmup=10, lr=1.0, min_lr_fraction=0.1)
    assert lr_at(0, cfg) == 0.1 and lr_at(9, cfg) == 1.0
    values = [lr_at(s, cfg) for s in range(10, 101)]
    assert all(a >= b for a, b in pairwise(values))
    assert abs(lr_at(100, cfg) - 0.1) < 1e-9


def test_extension_rewarms_then_decays():
    cfg = TrainConfig(steps=200, warmup=10, lr=1.0, extend_from=100, extend_lr=0.5,
                      extend_warmup=10, min_lr_fraction=0.1)
    first_phase = TrainConfig(steps=100, warmup=10, lr=1.0, min_lr_fraction=0.1)
    assert all(lr_at(s, cfg) == lr_at(s, first_phase) for s in range(100))
    assert lr_at(100, cfg) == 0.05 and lr_at(109, cfg) == 0.5
    assert abs(lr_at(200, cfg) - 0.05) < 1e-9


def test_batches_are_deterministic_per_step():
    cfg = TrainConfig(n_ctx=8, batch_size=4)
    tokens = np.arange(1000, dtype=np.uint16)
    assert torch.equal(batch_at(tokens, 7, cfg), batch_at(tokens, 7, cfg))
    assert not torch.equal(batch_at(tokens, 7, cfg), batch_at(tokens, 8, cfg))
    assert batch_at(tokens, 0, cfg).shape == (4, 9)


def test_checkpoint_round_trip_resumes_identically(tmp_path):
    def make():
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Linear(8, 2))
        return model, torch.optim.AdamW(model.parameters(), lr=0.1)

    def step(model, opt, seed):
        torch.manual_seed(seed)
        model(torch.randn(3, 4)).pow(2).sum().backward()
        opt.step()
        opt.zero_grad()

    model, opt = make()
    step(model, opt, 1)
    save_checkpoint(tmp_path / "ckpt", model, opt, {"step": 1})
    step(model, opt, 2)
    resumed, resumed_opt = make()
    assert load_checkpoint(tmp_path / "ckpt", resumed, resumed_opt) == {"step": 1}
    step(resumed, resumed_opt, 2)
    for a, b in zip(model.parameters(), resumed.parameters()):
        assert torch.equal(a, b)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]
