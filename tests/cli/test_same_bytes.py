"""Same inputs, same bytes (issue 21), for the verbs whose outputs are reports rather than
artifacts: circuits, concept-depth, ast-probe and dose-response each run twice, in processes
with different hash seeds, writing to the same path; every file is byte-identical except
circuits' timings.json (wall times, kept apart for that reason). map-neurons, atlas and codebook
train are compared the same way by tests/test_kill_resume.py, and every artifact kind by
tests/test_artifact_determinism.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TINY = ["--model", "interp-tiny"]
VERBS = {
    "circuits": ["circuits", *TINY, "--task", "ioi", "--method", "sae,attribution",
                 "--epochs", "20", "--n-prompts", "6", "--out", "{out}"],
    "concept-depth": ["concept-depth", *TINY, "--dataset", "word_category",
                      "--max-per-class", "10", "--folds", "2", "--out", "{out}"],
    "ast-probe": ["ast-probe", *TINY, "--train", "20", "--val", "10", "--test", "10",
                  "--layers", "1", "--epochs", "2", "--ranks", "8", "--no-random-baseline",
                  "--out", "{out}"],
    "dose-response": ["dose-response", *TINY, "--neuron", "0:1", "--prompt", "a b",
                      "--prompt", "c d", "--concept", "animals", "--values", "0,1",
                      "--controls", "1", "--table", "{out}/t.json", "--figure", "{out}/f.html"],
}
APART = {"timings.json"}


#: Runs every verb of VERBS (argv as JSON in argv[1]) in one process, each into its folder.
RUN_ALL = """
import json, sys
from interp_cli.main import main
for argv in json.loads(sys.argv[1]):
    assert main(argv) == 0, argv
"""


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> list[dict[str, dict[str, bytes]]]:
    """Every verb run twice, each time in one fresh process (hash seeds 1 and 2), writing to
    the same paths: the files of each verb per run."""
    base = tmp_path_factory.mktemp("same-bytes")
    runs = []
    for seed in ("1", "2"):
        argvs = []
        for verb, argv in VERBS.items():
            out = base / verb
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            argvs.append([a.format(out=out) for a in argv])
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", RUN_ALL, json.dumps(argvs)], env=env,
                              capture_output=True, text=True, timeout=900, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        runs.append({verb: _files(base / verb) for verb in VERBS})
    return runs


@pytest.mark.parametrize("verb", list(VERBS))
def test_two_runs_write_the_same_bytes(verb, two_runs):
    first, second = (run[verb] for run in two_runs)
    assert sorted(first) == sorted(second) and len(first) >= 2
    differ = [name for name in first if first[name] != second[name] and name not in APART]
    assert differ == []
