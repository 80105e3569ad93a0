"""Circuit discovery on the bundled `interp-circuits` model, which does IOI: activation
patching on IOI pairs whose negatives switch the behaviour off finds a circuit, and the SAE
method runs end to end against it (its AUC is reported in the docs, not asserted)."""

from __future__ import annotations

import pytest

from interp.circuits import activation_patching, make_task, run_circuits


@pytest.fixture(scope="module")
def model():
    from interp import load_model

    return load_model("interp-circuits", device="cpu")


def test_ioi_patching_finds_the_duplicate_name_head(model):
    task = make_task("ioi", model, 20, seed=0, words="bundled", corrupt="s2")
    patch = activation_patching(model, task)
    assert patch.clean - patch.corrupted > 4  # the negatives switch IOI off
    layer, head = divmod(int(patch.scores.abs().argmax()), model.facts.n_heads)
    assert (layer, head) == (0, 2) and float(patch.scores[0, 2]) > 0.5


def test_paper_negatives_do_not_switch_this_model_off(model):
    task = make_task("ioi", model, 20, seed=0, words="bundled", corrupt="s1")
    patch = activation_patching(model, task)
    assert abs(patch.clean - patch.corrupted) < 0.25 * abs(patch.clean)


def test_greater_than_report_against_patching(model, tmp_path):
    task = make_task("greater-than", model, 20, seed=0)
    rep = run_circuits(model, task, ("sae", "attribution"), truth="patching")
    assert rep.evaluation["attribution"]["roc_auc"] > 0.9
    assert 0.0 <= rep.evaluation["sae"]["roc_auc"] <= 1.0
    assert {p.name for p in rep.write(tmp_path)} >= {"report.json", "heads.csv"}
