"""Training pieces: learning-rate schedule, deterministic batches, resumable checkpoints."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import torch

from tools.bundled.checkpoint import load_checkpoint, save_checkpoint
from tools.bundled.train import TrainConfig, batch_at, lr_at


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
    batch = batch_at(tokens, 0, cfg)
    assert batch.shape == (4, 9)
    # each row is a window of n_ctx + 1 consecutive corpus tokens (here tokens[i] == i)
    for row in batch.tolist():
        assert row == list(range(row[0], row[0] + 9)) and 0 <= row[0] <= 1000 - 9


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


def test_task_share_mixes_generated_task_windows_deterministically():
    from transformers import AutoTokenizer

    from interp.models.load import bundled_dir

    tok = AutoTokenizer.from_pretrained(str(bundled_dir("interp-tiny")))
    tokens = np.zeros(1000, dtype=np.uint16)  # corpus rows are all zeros; task rows are not
    plain = TrainConfig(n_ctx=32, batch_size=8)
    mixed = TrainConfig(n_ctx=32, batch_size=8, task_share=0.5)
    assert torch.equal(batch_at(tokens, 3, plain, tok), batch_at(tokens, 3, plain))
    rows = batch_at(tokens, 3, mixed, tok)
    assert torch.equal(rows, batch_at(tokens, 3, mixed, tok))
    task_rows = [r for r in rows if r.any()]
    assert 0 < len(task_rows) < 8 and all(r.shape == (33,) for r in task_rows)
    assert task_rows[0][0] == tok.eos_token_id
    text = tok.decode(task_rows[0])
    assert any(name in text for name in (" to ", " Again: ", " year "))


def test_ioi_sentences_put_either_name_first_and_give_to_the_unrepeated_one():
    import random

    from interp.bundled.stories import ioi_either_order

    rng = random.Random(0)
    first_is_receiver = []
    for _ in range(200):
        words = ioi_either_order(rng).replace(",", " ").replace(".", " ").split()
        receiver = words[-1]
        assert words.count(receiver) == 2
        names = [w for w in words if w[0].isupper() and w not in ("Then", "After", "When",
                                                                  "While")]
        giver = next(n for n in names if n != receiver)
        assert names.count(giver) == 2
        first_is_receiver.append(names[0] == receiver)
    assert 0.4 < sum(first_is_receiver) / 200 < 0.6
