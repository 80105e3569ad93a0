"""The SAE-circuits study (experiments/sae_circuits.py) in its reduced CI form: the planted
model, one seed. The script must run, write its JSON in the committed shape, and find what the
planted wiring puts there (SAE node AUC 1.0 with shared fillers, plant B scored on its own
circuit); the committed full run must hold the seed measured here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "experiments" / "results" / "sae_circuits" / "planted.json"


def test_reduced_planted_run_matches_the_committed_study(tmp_path: Path):
    out = subprocess.run(
        [sys.executable, str(ROOT / "experiments" / "sae_circuits.py"), "--models", "planted",
         "--seeds", "0", "--out-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=600, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    run = json.loads((tmp_path / "planted.json").read_text())
    committed = json.loads(COMMITTED.read_text())
    assert run["seeds"] == [0]
    assert set(run["ranges"]) == set(committed["ranges"])
    shared = run["ranges"]["planted-sae-shared-fillers"]
    assert shared["sae_count.roc_auc"] == [1.0, 1.0]
    assert shared["edges_sum.pair_roc_auc"] == [1.0, 1.0]
    assert run["ranges"]["planted-b"]["own_roc_auc"] == [1.0, 1.0]
    # the committed full run (seeds 0 1 2) holds this seed's records exactly
    seed0 = [r for r in committed["records"] if r.get("seed") == 0]
    assert run["records"] == seed0
