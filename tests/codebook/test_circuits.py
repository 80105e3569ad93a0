"""Per-head codebook ids scored by the circuits issue's head scoring find the planted circuit
(two wirings, so a method that always names the same heads fails one of them)."""

from __future__ import annotations

import pytest
import torch

from interp.errors import InterpError

WIRINGS = {"a": {}, "b": {"layer0": (0, 2), "mover": 1, "seed": 1}}


@pytest.mark.parametrize("which", ["a", "b"])
def test_codebook_head_scores_recover_the_planted_circuit(which, tmp_path):
    from interp import load_model
    from interp.circuits import classify, roc_auc
    from interp.circuits.planted import build_planted_model, planted_circuit, planted_task
    from interp.codebook.circuits import codebook_circuit

    wiring = WIRINGS[which]
    path = build_planted_model(tmp_path / which, **wiring)
    model = load_model(path, device="cpu")
    task = planted_task(30)
    truth = planted_circuit(wiring.get("layer0", (1, 3)), wiring.get("mover", 2)).mask(2, 4)
    result = codebook_circuit(model, task, n_codes=32)
    assert result.codes.shape == (60, 8) and result.is_positive.sum() == 30
    assert roc_auc(result.scores, truth) == 1.0
    assert classify(result.scores, truth, top_n=3).f1 == 1.0
    # the scores are the head scoring applied to the codes, head by head
    pos, neg = result.codes[result.is_positive], result.codes[~result.is_positive]
    h = int(truth.flatten().nonzero()[0])
    only = set(pos[:, h].tolist()) - set(neg[:, h].tolist())
    assert result.scores.flatten()[h] == len(only)
    with pytest.raises(InterpError, match="n_train"):
        codebook_circuit(model, task, n_train=0)
    torch.testing.assert_close(result.scores, codebook_circuit(model, task, n_codes=32).scores)
