"""`interp circuits`: ranked table, JSON report, heatmaps, wall times; bad input exits 2 with
one line."""

from __future__ import annotations

import csv
import json

import pytest
from interp_cli.main import main

from interp.circuits.planted import planted_task


def _task_file(tmp_path, **changes):
    task = planted_task(30)
    data = {"name": "planted", "positives": task.positives, "negatives": task.negatives,
            "answers": [" " + m["answer"] for m in task.meta],
            "wrong": [" " + m["contrast"] for m in task.meta], **changes}
    path = tmp_path / "task.json"
    path.write_text(json.dumps(data))
    return path


def _truth_file(tmp_path, heads):
    path = tmp_path / "truth.json"
    path.write_text(json.dumps({"task": "planted", "groups": {"circuit": heads}}))
    return path


def test_cli_writes_table_report_and_heatmaps(planted_dirs, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["circuits", "--model", str(planted_dirs("a")), "--task-file",
                 str(_task_file(tmp_path)), "--method", "all", "--epochs", "200", "--truth",
                 str(_truth_file(tmp_path, [[0, 1], [0, 3], [1, 2]])), "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0
    assert "wall time: sae" in text and "patching" in text and "ROC-AUC" in text
    with open(out / "heads.csv") as f:
        rows = list(csv.DictReader(f))
    assert {r["label"] for r in rows[:3]} == {"L0H1", "L0H3", "L1H2"}
    report = json.loads((out / "report.json").read_text())
    assert report["evaluation"]["sae"]["roc_auc"] >= 0.95
    assert report["evaluation"]["patching"]["top_n"]["f1"] == 1.0
    assert "seconds" not in report  # wall times differ per run: timings.json holds them
    timings = json.loads((out / "timings.json").read_text())
    assert set(timings["seconds"]) == {"sae", "patching", "attribution"}
    # the paper's node scores from edges: 4 heads per layer -> the top 4 ** 2 // 2 = 8 slots
    edge_heads = report["scores"]["sae_edges"]
    assert sum(map(sum, edge_heads)) == 8 and "sae_edges" in report["evaluation"]
    html = (out / "heatmap_sae.html").read_text()  # plotly.js: one copy beside the pages
    assert 'src="plotly.min.js"' in html and 'src="http' not in html
    assert len(html) < 100_000 < (out / "plotly.min.js").stat().st_size


def test_cli_truth_by_patching(planted_dirs, tmp_path, capsys):
    code = main(["circuits", "--model", str(planted_dirs("a")), "--task-file",
                 str(_task_file(tmp_path)), "--method", "attribution,patching", "--truth",
                 "patching", "--out", str(tmp_path / "o")])
    assert code == 0
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert sorted(map(tuple, report["truth"]["groups"]["circuit"])) == [(0, 1), (0, 3), (1, 2)]
    assert report["evaluation"]["attribution"]["roc_auc"] == 1.0
    # the truth is never scored against itself (it would print ROC-AUC 1.000)
    assert set(report["evaluation"]) == {"attribution"}
    text = capsys.readouterr().out
    assert "patching: ROC-AUC" not in text and "patching: is the ground truth" in text


@pytest.mark.parametrize("case,message", [
    ("length", "positive 0 is 8 tokens but its negative is 9"),
    ("head", "ground-truth head (5, 1) of 'planted' is out of range"),
    ("task", "unknown task 'sva'"),
    ("method", "unknown method 'acdc'"),
    ("small", "model too small for task 'ioi'"),
])
def test_cli_bad_input_exits_2(planted_dirs, tiny_model_dirs, tmp_path, capsys, case, message):
    model = str(planted_dirs("a"))
    args = ["circuits", "--model", model, "--out", str(tmp_path / "o")]
    if case == "length":
        task = planted_task(30)
        negs = [task.negatives[0] + " a", *task.negatives[1:]]
        args += ["--task-file", str(_task_file(tmp_path, negatives=negs))]
    elif case == "head":
        args += ["--task-file", str(_task_file(tmp_path)),
                 "--truth", str(_truth_file(tmp_path, [[0, 1], [5, 1]]))]
    elif case == "task":
        args += ["--task", "sva"]
    elif case == "method":
        args += ["--task", "ioi", "--method", "sae,acdc"]
    else:
        args = ["circuits", "--model", str(tiny_model_dirs["gpt2"]), "--task", "ioi",
                "--out", str(tmp_path / "o")]
    assert main(args) == 2
    err = capsys.readouterr().err
    # progress lines of the load may come first
    lines = [line for line in err.splitlines()
             if line.strip() and not line.startswith("interp: ")]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], err
    assert not (tmp_path / "o").exists()
