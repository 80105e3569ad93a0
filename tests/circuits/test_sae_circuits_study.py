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


def test_docs_quote_the_markdown_of_the_committed_results(experiment, capsys):
    """docs/sae-circuits.md holds every line `sae_circuits.py --markdown` prints from the
    committed JSON (so every range and number in its tables), and the tables mark the rows
    whose gap changes sign as noise."""
    study = experiment("sae_circuits")
    docs = (ROOT / "docs" / "sae-circuits.md").read_text(encoding="utf-8")
    assert study.main(["--markdown"]) == 0
    printed = capsys.readouterr().out
    lines = [line for line in printed.splitlines() if line.strip()]
    assert len(lines) >= 2 * 3 + 20 + 8  # three tables: planted (20 rows), 4 + 4 task rows
    missing = [line for line in lines if line not in docs.splitlines()]
    assert not missing, "docs/sae-circuits.md lacks, from sae_circuits.py --markdown:\n" + \
        "\n".join(missing)
    results = {p.stem: json.loads(p.read_text()) for p in COMMITTED.parent.glob("*.json")}
    assert printed.strip() == "\n\n".join(study.markdown_tables(results[m])
                                          for m in ("planted", "interp-circuits", "interp-tiny"))
    # a number the table prints is the committed one: greater-than's sae_edges minimum
    # 0.4349 prints as 0.43, and the noise rows are the ones whose gap changes sign
    low, high = results["interp-circuits"]["ranges"]["greater-than"]["sae_edges.roc_auc"]
    assert round(low, 2) == 0.43 and f"| 0.51-0.58 | 0.43-{high:.2f} |" in printed
    noise = [line.split(" | ")[0] for line in lines if "changes sign: noise" in line]
    assert noise == ["| IOI, the subject's *first* mention replaced (`s1`)",
                     "| IOI, interp-tiny's templates (`--ioi-words bundled`)"]
