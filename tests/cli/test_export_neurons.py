"""`interp export-neurons`: writes the OpenAI and Neuronpedia files of the chosen neurons and a
cfg.json manifest; bad input is one `error:` line naming the flag, exit 2, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from interp_cli.main import main


@pytest.fixture(scope="module")
def tiny_map(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli-export") / "map"
    assert main(["map-neurons", "--model", "interp-tiny", "--layers", "2", "--top-k", "5",
                 "--bottom-k", "2", "--out", str(out)]) == 0
    return out


def _argv(tiny_map: Path, out: Path, *extra: str) -> list[str]:
    return ["export-neurons", "--model", "interp-tiny", "--map", str(tiny_map), "--max-docs",
            "4", "--top-k", "2", "--random", "3", "--max-length", "32", "--out", str(out),
            *extra]


def test_export_writes_both_formats(tiny_map, tmp_path, capsys):
    out = tmp_path / "export"
    assert main(_argv(tiny_map, out, "--neuron", "2:1,9", "--neuronpedia-model", "tiny")) == 0
    printed = capsys.readouterr()
    assert "2 neurons over 4 documents" in printed.out and str(out) in printed.out
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == ["cfg.json", "neuronpedia/tiny/2/activations/batch-0.jsonl.gz",
                     "neuronpedia/tiny/2/features/batch-0.jsonl.gz",
                     "neuronpedia/tiny/2/model.jsonl", "neuronpedia/tiny/2/source.jsonl",
                     "neuronpedia/tiny/2/sourceset.jsonl", "openai/2/1.json", "openai/2/9.json"]
    cfg = json.loads((out / "cfg.json").read_text())
    assert cfg["model"] == "interp-tiny" and cfg["options"]["top_k"] == 2
    record = json.loads((out / "openai/2/9.json").read_text())
    assert len(record["most_positive_activation_records"]) == 2
    assert len(record["random_sample"]) == 3


@pytest.mark.parametrize("extra, flag", [
    (["--top-k", "0"], "--top-k must be an integer >= 1"),
    (["--layers", "2", "--neuron", "2:1"], "not both"),
    (["--neuron", "2:x"], "bad neuron '2:x'"),
    (["--neuron", "3:1"], "layer 3 is not in the neuron map"),
    (["--neuronpedia-model", "A B"], "--neuronpedia-model 'A B' is not"),
])
def test_bad_input_exits_2(tiny_map, tmp_path, capsys, extra, flag):
    out = tmp_path / "export"
    assert main(_argv(tiny_map, out, *extra)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and flag in err[-1], err
    assert "Traceback" not in "\n".join(err) and not out.exists()


def test_missing_map_exits_2(tmp_path, capsys):
    assert main(_argv(tmp_path / "nowhere", tmp_path / "out")) == 2
    assert "nowhere" in capsys.readouterr().err
