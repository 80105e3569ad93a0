"""The TokFSM task and its metrics, checked with an oracle model that knows the machine."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from interp.codebook import fsm as task
from interp.errors import InterpError


class Oracle:
    """Stands in for a Model: `bridge(tokens)` returns the FSM's true next-token log-probs
    (uniform over states after BOS), or uniform digits when `uniform`."""

    def __init__(self, fsm: task.FSM, uniform: bool = False) -> None:
        self.fsm, self.uniform, self.device = fsm, uniform, torch.device("cpu")
        self.bridge = self

    def __call__(self, tokens: torch.Tensor, return_type: str = "logits") -> torch.Tensor:
        out = torch.full((*tokens.shape, 11), -1e9)
        for b, row in enumerate(tokens.tolist()):
            for p in range(len(row)):
                digits = [t - 1 for t in row[1: p + 1]]
                done, part = divmod(len(digits), 2)
                if self.uniform or done == 0:
                    allowed = list(range(100))
                else:
                    s = digits[2 * done - 2] * 10 + digits[2 * done - 1]
                    allowed = self.fsm.successors[s].tolist()
                if part:
                    allowed = [a for a in allowed if a // 10 == digits[-1]]
                    nxt = [a % 10 for a in allowed]
                else:
                    nxt = [a // 10 for a in allowed]
                counts = np.bincount(nxt, minlength=10) if nxt else np.ones(10)
                out[b, p, 1:] = torch.log(torch.tensor(counts / counts.sum()).clamp_min(1e-12))
        return out


def test_fsm_structure_encoding_and_transition_accuracy():
    fsm = task.FSM(100, 10, seed=3)
    assert fsm.successors.shape == (100, 10) and fsm.valid.sum(1).tolist() == [10] * 100
    rows = fsm.trajectories(20, 6, seed=1)
    assert rows.shape == (20, 13) and (rows[:, 0] == task.BOS).all()
    trajs = [fsm.decode(r) for r in rows]
    assert fsm.transition_accuracy(trajs) == 1.0
    assert fsm.encode(torch.tensor([trajs[0]]))[0].tolist() == rows[0].tolist()
    bad = [t[:2] + [(t[2] + 1) % 100 if not fsm.valid[t[1], (t[2] + 1) % 100] else t[2]]
           for t in trajs]
    assert fsm.transition_accuracy(bad) < 1.0
    assert fsm.decode(torch.tensor([0, 1, 2, 3])) == [1]  # trailing half state dropped
    with pytest.raises(InterpError, match="n_edges"):
        task.FSM(5, 6)


def test_next_state_and_sampled_accuracy_of_an_oracle_and_a_guesser():
    fsm = task.FSM(100, 10, seed=0)
    assert task.next_state_accuracy(Oracle(fsm), fsm) == 1.0
    assert task.next_state_accuracy(Oracle(fsm, uniform=True), fsm) < 0.3
    assert task.sampled_transition_accuracy(Oracle(fsm), fsm, n=8, new_states=3) == 1.0
    guess = task.sampled_transition_accuracy(Oracle(fsm, uniform=True), fsm, n=16, new_states=3)
    assert guess < 0.4


def test_purity_and_one_to_one():
    by_unit = {0: {1}, 1: {2, 3}, 2: {4}, 3: set()}
    by_state = {1: {0}, 2: {1}, 3: {1}, 4: {2, 1}}
    assert task.purity(by_unit) == pytest.approx(2 / 3)
    assert task.one_to_one(by_state, by_unit) == pytest.approx(2 / 4)


def test_the_experiment_runs_end_to_end_at_toy_scale(tmp_path):
    import json

    from experiments.codebook_fsm import run
    from interp import load_model

    result = run(tmp_path, n_states=20, n_edges=3, d_model=16, layers=1, base_steps=3,
                 cb_steps=2, batch=4, states=3, n_codes=8)
    assert json.loads((tmp_path / "fsm_result.json").read_text()) == result
    # the baseline's numbers are those of the saved base model, recomputed here
    fsm = task.FSM(20, 3, 0)
    base = load_model(tmp_path / "base-model", device="cpu")
    plain = result["without_codebooks"]
    assert plain["next_state_accuracy"] == task.next_state_accuracy(base, fsm)
    assert plain["sampled_transition_accuracy"] == task.sampled_transition_accuracy(
        base, fsm, seed=0)
    codes = result["with_codebooks"]["codes"]
    assert set(codes) == {"0:attn_z", "0:mlp_out"}
    # k = 1: each of the 20 states adds at most one code per head (4) or one code (MLP)
    assert 1 <= codes["0:attn_z"]["units_used"] <= min(20, 8) * 4
    assert 1 <= codes["0:mlp_out"]["units_used"] <= 8
    assert set(plain["neurons"]) == {"0:mlp_post"}
