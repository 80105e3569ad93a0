"""`interp concept-depth`: bad input gives one `error:` line and exit 2 (before any model
loads); a small run on a tiny model writes the table, JSON, CSV and offline HTML."""

from __future__ import annotations

import csv
import json

import pytest
from interp_cli.main import main


def put(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


@pytest.fixture
def good(tmp_path):
    words = ["cat", "dog", "red", "blue", "one", "two", "park", "ball"]
    rows = [{"text": f"the {words[i % 8]} and the {words[(i * 3) % 8]}", "label": i % 2,
             "group": i // 2} for i in range(24)]
    return jsonl(tmp_path / "good.jsonl", rows)


@pytest.mark.parametrize("make, extra, match", [
    (lambda d: jsonl(d / "one.jsonl", [{"text": f"t{i}", "label": "x"} for i in range(6)]), [],
     "single class 'x'"),
    (lambda d: put(d / "pairs.json", json.dumps({"texts": ["a", "b"], "labels": [1]})), [],
     "2 texts but 1 labels"),
    (lambda d: put(d / "data.parquet", "x"), [], "unknown dataset format"),
    (lambda d: "word_category", ["--site", "resid_final"], "unknown site 'resid_final'"),
    (lambda d: "word_category", ["--pooling", "max"], "unknown pooling 'max'"),
    (lambda d: "word_category", ["--quantize", "int5"], "unknown quantization 'int5'"),
    (lambda d: "word_category", ["--control", "shuffled"], "unknown control 'shuffled'"),
    (lambda d: "word_category", ["--folds", "1"], "folds must be an integer >= 2"),
    (lambda d: "no_such_set", [], "unknown dataset 'no_such_set'"),
    (lambda d: jsonl(d / "g.jsonl", [{"text": f"t{i}", "label": i % 2, "group": i % 4}
                                     for i in range(20)]), [], "only 4 groups for 5-fold"),
])
def test_bad_input_exit_2(tmp_path, capsys, make, extra, match):
    spec = make(tmp_path)
    code = main(["concept-depth", "--model", str(tmp_path / "never-loaded"), "--dataset", spec,
                 "--out", str(tmp_path / "out"), *extra])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and match in err
    assert not (tmp_path / "out").exists()


def test_small_run(tiny_model_dirs, good, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["concept-depth", "--model", str(tiny_model_dirs["gpt2"]), "--device", "cpu",
                 "--dataset", good, "--site", "mid_norm", "--folds", "3", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "jump_depth" in printed and "fingerprint" in printed
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert len(rows) == 1 and rows[0]["site"] == "mid_norm" and rows[0]["dataset"] == "good"
    assert rows[0]["grouped"] == "True"
    data = json.loads((out / "results.json").read_text())
    assert data["params"]["datasets"]["good"]["n_groups"] == 12
    assert data["format"] == "interp-concept-depth"
    assert len(data["curves"][0]["result"]["metrics"]["accuracy"]) == 2
    assert (out / "concept_depth.html").stat().st_size > 1_000_000  # plotly.js inline
    assert list((out / "cache").glob("*.safetensors"))
