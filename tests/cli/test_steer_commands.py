"""`interp steer` and `interp dose-response` on a tiny model: output, files, exit 2 on bad input."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest
from interp_cli.main import main


def test_help_lists_the_commands():
    out = subprocess.run([sys.executable, "-m", "interp_cli.main", "--help"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    assert "steer" in out and "dose-response" in out


def test_steer_prints_both_arms_and_rates(tiny_model_dirs, capsys):
    code = main(["steer", "--model", str(tiny_model_dirs["llama"]), "--clamp", "1:7=20",
                 "--clamp", "0:2,3+=1", "--prompt", "The cat sat", "-n", "4", "--concept",
                 "the", "--max-new-tokens", "4", "--show", "2"])
    out = capsys.readouterr().out
    assert code == 0
    assert "clamps: 1:7=20 0:2,3+=1" in out and "--- baseline (4 samples)" in out
    assert "--- steered (4 samples)" in out and "95% CI" in out


def test_steer_json_with_x_units(tiny_model_dirs, capsys, tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("The cat sat on the mat.\n\nA dog ran in the park.\n")
    code = main(["steer", "--model", str(tiny_model_dirs["gpt2"]), "--clamp", "1:5=10x",
                 "--prompt", "A dog", "-n", "3", "--concept", "dog", "--max-new-tokens", "3",
                 "--scale-corpus", str(corpus), "--positions", "last", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["clamps"] == ["1:5=10x"] and len(data["steered"]) == 3
    assert data["steered_rate"]["n"] == 3 and data["meta"]["positions"] == ["last"]


def test_dose_response_writes_table_and_offline_figure(tiny_model_dirs, capsys, tmp_path):
    table, figure = tmp_path / "dr.csv", tmp_path / "dr.html"
    code = main(["dose-response", "--model", str(tiny_model_dirs["llama"]), "--neuron", "1:7",
                 "--prompt", "The cat sat on", "--prompt", "A dog ran", "--concept", "the",
                 "--values", "0,1,5", "--unit", "raw", "--controls", "2",
                 "--table", str(table), "--figure", str(figure)])
    out = capsys.readouterr().out
    assert code == 0 and "target" in out and "control" in out and str(table) in out
    rows = list(csv.DictReader(table.open()))
    assert len(rows) == 1 + 3 * 3 and rows[1]["curve"] == "1:7"
    html = figure.read_text()
    assert html.lstrip().lower().startswith("<!doctype html>") and "Plotly.newPlot" in html
    assert 'src="https://cdn' not in html and len(html) > 1_000_000  # plotly.js inline
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


def test_dose_response_json_table(tiny_model_dirs, capsys, tmp_path):
    table = tmp_path / "dr.json"
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("The cat sat on\n\nOne two\n")
    code = main(["dose-response", "--model", str(tiny_model_dirs["gpt2"]), "--neuron", "1:3",
                 "--prompts-file", str(prompts), "--concept", "the", "--values", "0,2x",
                 "--controls", "1", "--table", str(table), "--figure", "-"])
    capsys.readouterr()
    data = json.loads(table.read_text())
    assert code == 0 and data["rows"][0]["n_prompts"] == 2 and data["rows"][2]["unit"] == "max"


STEER = ["steer", "--prompt", "A dog", "-n", "2", "--max-new-tokens", "2"]
DOSE = ["dose-response", "--prompt", "A dog", "--concept", "the", "--values", "0,1",
        "--figure", "-"]


@pytest.mark.parametrize(("args", "message"), [
    (STEER + ["--clamp", "7:1=2"], "layer 7 out of range"),
    (STEER + ["--clamp", "0:500=2"], "neuron 500 out of range"),
    (STEER + ["--clamp", "0-1=2"], "malformed clamp '0-1=2'"),
    (STEER + ["--clamp", "0:1=inf"], "not finite"),
    (STEER + ["--clamp", "0:1=2", "--mode", "double"], "unknown clamp mode 'double'"),
    (STEER + ["--clamp", "0:1=2", "--positions", "first"], "bad positions 'first'"),
    (STEER + ["--clamp", "0:1=2", "--site", "attn_z"], "unknown clamp site"),
    (["steer", "--clamp", "0:1=2", "--prompt", " "], "prompt 0 is empty"),
    (DOSE + ["--neuron", "0:1", "--values", "0,x2"], "bad clamp value 'x2'"),
    (DOSE + ["--neuron", "3:1"], "layer 3 out of range"),
    (DOSE + ["--neuron", "0:1", "--unit", "furlongs"], "unknown unit 'furlongs'"),
    (DOSE + ["--neuron", "0:1", "--table", "out.xlsx"], "unknown table format"),
    (DOSE + ["--neuron", "0:1", "--concept", "hippopotamus"], "single token"),
])
def test_bad_input_is_one_line_exit_2(tiny_model_dirs, capsys, args, message, tmp_path,
                                      monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main([*args, "--model", str(tiny_model_dirs["gpt2"])])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [line for line in err.splitlines() if not line.startswith("interp: ")]  # progress
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], err


def test_bad_clamp_in_a_subprocess_is_one_line(tiny_model_dirs):
    result = subprocess.run(
        [sys.executable, "-m", "interp_cli.main", "steer", "--model",
         str(tiny_model_dirs["gpt2"]), "--clamp", "0:1=abc", "--prompt", "A"],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2 and result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
