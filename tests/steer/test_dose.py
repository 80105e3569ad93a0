"""dose_response: rises monotonically for a planted neuron, stays flat for controls; table,
files and figure."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch

from interp.errors import InterpError
from interp.steer import activation_scale, dose_response, next_token_probs

PROMPTS = ["The cat sat on", "A dog ran in the park", "for i in range", "One two three"]
VALUES = [0, 1, 2, 5, 10, 20]
TARGET, LAYER, NEURON, WORD = "1:7", 1, 7, "the"  # the planted neuron (conftest.py)


@pytest.fixture(scope="module")
def result(planted):
    model = planted.model
    return dose_response(model, TARGET, PROMPTS, WORD, VALUES, unit="raw",
                         n_controls=4, seed=3)


def test_planted_neuron_rises_monotonically_controls_stay_flat(result):
    means = result.probs.mean(-1)  # [curves, values]
    target = means[0]
    assert (target[1:] >= target[:-1]).all(), target
    rises = result.rise()
    assert rises[0] > 0.1
    assert all(abs(r) < 0.1 * rises[0] for r in rises[1:]), rises
    assert result.kinds == ["target"] + ["control"] * 4
    layers = {curve.split(":")[0] for curve in result.curves}
    assert layers == {str(LAYER)} and len(set(result.curves)) == 5


def test_controls_are_seeded_and_exclude_the_target(planted):
    model = planted.model
    a = dose_response(model, TARGET, PROMPTS[:1], WORD, [0], n_controls=6, seed=1,
                      unit="raw")
    b = dose_response(model, TARGET, PROMPTS[:1], WORD, [0], n_controls=6, seed=1,
                      unit="raw")
    assert a.curves == b.curves and TARGET not in a.curves[1:]
    controls = a.curves[1:]
    assert len(set(controls)) == 6 and all(c.split(":")[0] == str(LAYER) for c in controls)
    other = dose_response(model, TARGET, PROMPTS[:1], WORD, [0], n_controls=6, seed=2,
                          unit="raw")
    assert other.curves[1:] != controls  # the seed picks them


def test_probabilities_match_a_direct_computation(planted, result):
    model, token_id = planted.model, planted.token_id
    ids = result.concept
    assert token_id in ids
    for i, prompt in enumerate(PROMPTS):
        probs = model.logits(prompt)[0, -1].softmax(-1)
        assert float(probs[ids].sum()) == pytest.approx(float(result.baseline[i]), abs=1e-5)
    batched = next_token_probs(model, PROMPTS, batch_size=3)
    single = torch.cat([next_token_probs(model, [p]) for p in PROMPTS])
    torch.testing.assert_close(batched, single, atol=1e-5, rtol=1e-4)


def test_max_units_and_groups(planted):
    model = planted.model
    scales = activation_scale(model, corpus=PROMPTS)
    res = dose_response(model, [TARGET, "1:3"], PROMPTS[:2], WORD, [0, "2x", 4],
                        n_controls=1, scales=scales)
    unit = scales.unit(1, [NEURON, 3])
    torch.testing.assert_close(res.raw_values[1], 2 * unit)
    torch.testing.assert_close(res.raw_values[2], 4 * unit)
    assert res.curves[0] == f"{TARGET} 1:3" and len(res.curves[1].split()) == 2


def test_table_files_and_figure(result, tmp_path):
    rows = result.rows()
    assert rows[0]["kind"] == "baseline" and len(rows) == 1 + 5 * len(VALUES)
    path = result.save(str(tmp_path / "dose.csv"))
    with open(path, newline="") as f:
        read = list(csv.DictReader(f))
    assert len(read) == len(rows) and float(read[3]["mean"]) == pytest.approx(rows[3]["mean"])
    data = json.loads(Path(result.save(str(tmp_path / "dose.json"))).read_text())
    assert data["rows"][1]["curve"] == TARGET and data["meta"]["site"] == "mlp_post"
    assert not list(tmp_path.glob(".*tmp"))
    fig = result.figure()
    assert len(fig.data) == 2 + 4  # band + target line + 4 controls
    assert list(fig.data[1].x) == VALUES


def test_one_prompt_gives_a_table_and_a_figure_without_a_band(planted, tmp_path):
    """A single prompt has no spread: the band collapses onto the mean (it crashed before)."""
    one = dose_response(planted.model, TARGET, PROMPTS[:1], WORD, VALUES[:3], unit="raw",
                        n_controls=1, seed=3)
    assert one.probs.shape == (2, 3, 1)
    fig = one.figure()
    mean = one.probs[0].mean(-1).tolist()
    assert list(fig.data[0].y) == pytest.approx(mean + mean[::-1])
    assert Path(one.save(str(tmp_path / "one.json"))).is_file()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"prompts": []}, "no prompts"),
    ({"prompts": ["ok", "  "]}, "prompt 1 is empty"),
    ({"values": []}, "no clamp values"),
    ({"values": [1, "nan"]}, "not finite"),
    ({"neurons": "1:999"}, "neuron 999 out of range"),
    ({"neurons": "9:1"}, "layer 9 out of range"),
    ({"neurons": "1-2"}, "malformed clamp"),
    ({"concept_tokens": ["hippopotamus"]}, "single token"),
    ({"n_controls": -1}, "n_controls"),
    ({"mode": "double"}, "unknown clamp mode"),
])
def test_bad_input(planted, kwargs, message):
    model = planted.model
    args = {"neurons": TARGET, "prompts": PROMPTS[:1], "concept_tokens": WORD,
            "values": [0, 1]} | kwargs
    with pytest.raises(InterpError, match=message):
        dose_response(model, **args, unit="raw")
