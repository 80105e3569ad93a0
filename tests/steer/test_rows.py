"""Row clamps: each batch row gets exactly what its own Clamp would give it alone (logits and
cached greedy generation), hooks detach even when the body raises, bad rows fail early."""

from __future__ import annotations

import pytest
import torch

from interp.errors import InterpError
from interp.steer import Clamp, clamp
from interp.steer.rows import row_clamps

PROMPT = "The cat sat on the mat"
ROWS = [[], [(1, 7, 4.0)], [(0, 3, -2.0), (1, 7, 1.5)], [(1, 9, 6.0)]]


def _alone(model, row):
    """The row's clamps as one Clamp each (a zero-add clamp for the unclamped row)."""
    return [Clamp(layer, neuron, value) for layer, neuron, value in row] or [Clamp(0, 0, 0, "add")]


def test_each_row_matches_its_own_clamp_in_logits_and_cached_generation(loaded):
    model = loaded("llama")
    tokens = model.to_tokens(PROMPT)
    batch = tokens.expand(len(ROWS), -1)
    with row_clamps(model, ROWS):
        logits = model.logits(batch)
        generated = model.generate(batch, max_new_tokens=6, stop_at_eos=False)
    for r, row in enumerate(ROWS):
        with clamp(model, *_alone(model, row)):
            alone = model.logits(tokens)
            alone_gen = model.generate(tokens, max_new_tokens=6, stop_at_eos=False)
        torch.testing.assert_close(logits[r], alone[0], rtol=1e-4, atol=1e-4)
        assert generated[r].tolist() == alone_gen[0].tolist()
    # the clamps did something: rows differ from the unclamped row
    assert not torch.allclose(logits[1], logits[0])
    assert sum(len(hp.fwd_hooks) for hp in model.bridge.hook_points()) == 0


def test_hooks_detach_when_the_body_raises_and_a_short_batch_is_an_error(loaded):
    model = loaded("llama")
    with pytest.raises(InterpError, match="cover 4 rows"), row_clamps(model, ROWS):
        model.logits(model.to_tokens(PROMPT))  # a batch of 1
    assert sum(len(hp.fwd_hooks) for hp in model.bridge.hook_points()) == 0


@pytest.mark.parametrize("row, match", [
    ([(99, 0, 1.0)], "layer 99 out of range"),
    ([(0, 10**6, 1.0)], "neuron 1000000 out of range"),
    ([(0, 1, float("nan"))], "not a finite number"),
])
def test_bad_rows_fail_before_any_hook(loaded, row, match):
    model = loaded("llama")
    with pytest.raises(InterpError, match=match):
        row_clamps(model, [[], row])
    assert sum(len(hp.fwd_hooks) for hp in model.bridge.hook_points()) == 0
