"""Circuit discovery on the bundled `interp-circuits` model, which does IOI: activation
patching on IOI pairs whose negatives switch the behaviour off finds a circuit, and the report
scores the SAE method and attribution patching against it (the seed ranges are in the docs,
from experiments/sae_circuits.py)."""

from __future__ import annotations

import json

import pytest
import torch

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


def test_first_mention_negatives_do_not_switch_this_model_off(model):
    """The model finds the receiver by excluding the giver: replacing the subject's first
    mention (s1) leaves it working, the paper's negatives (three distinct names, the giver
    named only in the second clause) switch it partly off, replacing the second mention
    (s2) most."""
    gaps = {}
    for corrupt in ("s1", "paper", "s2"):
        task = make_task("ioi", model, 20, seed=0, words="bundled", corrupt=corrupt)
        patch = activation_patching(model, task)
        gaps[corrupt] = patch.clean - patch.corrupted
    assert abs(gaps["s1"]) < 0.25 * abs(patch.clean)
    assert abs(gaps["s1"]) < gaps["paper"] < gaps["s2"]  # measured: 0.05, 3.6, 7.3


def test_greater_than_report_against_patching(model, tmp_path):
    from sklearn.metrics import roc_auc_score

    task = make_task("greater-than", model, 20, seed=0)
    rep = run_circuits(model, task, ("sae", "attribution"), truth="patching")
    # the truth is the patching circuit, recomputed here, and it is not scored
    patch = activation_patching(model, task)
    assert torch.equal(rep.truth_mask, patch.scores.abs() >= 0.1)
    assert set(rep.evaluation) == {"sae", "sae_edges", "attribution"}
    assert {p.name for p in rep.write(tmp_path)} >= {"report.json", "heads.csv"}
    # each reported AUC is scikit-learn's on the written scores against that truth
    written = json.loads((tmp_path / "report.json").read_text())
    truth = rep.truth_mask.flatten().numpy()
    for m in ("sae", "sae_edges", "attribution"):
        scores = torch.tensor(written["scores"][m]).flatten()
        scores = scores.abs() if m == "attribution" else scores
        assert written["evaluation"][m]["roc_auc"] == pytest.approx(
            roc_auc_score(truth, scores.numpy()), abs=1e-6)
    # measured: attribution patching ranks the patching circuit first; the SAE method does
    # not recover it on this model (0.41 here; 0.51-0.58 over the docs' seeds)
    assert rep.evaluation["attribution"]["roc_auc"] > 0.9
    assert rep.evaluation["sae"]["roc_auc"] < 0.7
