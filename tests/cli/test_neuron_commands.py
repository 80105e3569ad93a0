"""map-neurons / merge-maps / find-neurons / compare-neurons: tables, resumable runs, shards,
and bad input as one `error:` line with exit 2 and nothing written."""

from __future__ import annotations

import subprocess
import sys

import pytest
from interp_cli.main import main

from interp.neurons import NeuronMap
from interp.neurons.compare import same_maps


def run_cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "interp_cli.main", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False)


def test_map_find_compare(tiny_model_dirs, tmp_path, capsys):
    src = str(tiny_model_dirs["llama"])
    out = tmp_path / "map"
    assert main(["map-neurons", "--model", src, "--top-k", "5", "--out", str(out),
                 "--device", "cpu"]) == 0
    captured = capsys.readouterr()
    assert "median top1 p" in captured.out and "complete" in captured.out
    assert captured.err.count("neurons in") == 2  # one line per layer when not a tty
    assert NeuronMap.load(out).complete
    # rerun: both layers kept, nothing recomputed
    assert main(["map-neurons", "--model", src, "--top-k", "5", "--out", str(out)]) == 0
    assert capsys.readouterr().err.count("already done") == 2
    nmap = NeuronMap.load(out)
    word = nmap.vocab[int(nmap.layer(0).top_ids[0, 0])]
    assert main(["find-neurons", word, "--map", str(out), "--exact", "--limit", "3"]) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split()[:3] == ["layer", "neuron", "mass"]
    assert len(table.splitlines()) <= 2 + 3
    assert main(["compare-neurons", str(out), str(out)]) == 0
    assert "all    160      1.000            1.000" in capsys.readouterr().out


def test_shards_then_merge_equal_single_run(tiny_model_dirs, tmp_path, capsys):
    src = str(tiny_model_dirs["neox"])
    common = ["--model", src, "--top-k", "4", "--side", "down"]
    assert main(["map-neurons", *common, "--out", str(tmp_path / "single")]) == 0
    for i in range(3):  # 3 shards over 2 layers: the last one has nothing to do
        assert main(["map-neurons", *common, "--shard", f"{i}/3",
                     "--out", str(tmp_path / f"s{i}")]) == 0
    assert "no layers" in capsys.readouterr().out
    assert not (tmp_path / "s2").exists()
    assert main(["merge-maps", str(tmp_path / "s0"), str(tmp_path / "s1"),
                 "--out", str(tmp_path / "merged")]) == 0
    assert same_maps(NeuronMap.load(tmp_path / "merged"), NeuronMap.load(tmp_path / "single"))


@pytest.mark.parametrize("args", [
    ["--layers", "7"],
    ["--layers", "x"],
    ["--side", "gate"],
    ["--side", "left"],
    ["--top-k", "0"],
    ["--top-k", "100000"],
    ["--shard", "2/2"],
    ["--center", "median"],
    ["--temperature", "-1"],
])
def test_map_neurons_bad_input_exit_2(tiny_model_dirs, tmp_path, capsys, args):
    out = tmp_path / "out"
    code = main(["map-neurons", "--model", str(tiny_model_dirs["gpt2"]), *args,
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert not out.exists()


def test_other_models_map_and_corrupt_artifacts_exit_2(tiny_model_dirs, tmp_path):
    out = tmp_path / "map"
    assert main(["map-neurons", "--model", str(tiny_model_dirs["gpt2"]), "--top-k", "3",
                 "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    other = run_cli("map-neurons", "--model", str(tiny_model_dirs["llama"]), "--top-k", "3",
                    "--out", str(out))
    assert other.returncode == 2 and "another model" in other.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    layer = out / "layer_00001.safetensors"
    layer.write_bytes(layer.read_bytes()[:-10])
    for args in (["find-neurons", "the", "--map", str(out)],
                 ["compare-neurons", str(out), str(out)],
                 ["merge-maps", str(out), "--out", str(tmp_path / "m")],
                 ["find-neurons", "the", "--map", str(tmp_path / "nowhere")]):
        result = run_cli(*args)
        assert result.returncode == 2, args
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "m").exists()


def test_layer_and_shard_parsing_and_progress_bar(loaded):
    import io

    from interp.errors import InterpError
    from interp.neurons import decode_neurons
    from interp.neurons.mapper import default_out, parse_layers, parse_shard
    from interp.neurons.progress import LayerProgress

    assert parse_layers(["0,2", "4-5", "3"]) == [0, 2, 4, 5, 3] and parse_layers(None) is None
    assert parse_shard("1/4") == (1, 4) and parse_shard(None) is None
    for bad in (["a"], ["3-1"], ["-2"]):
        with pytest.raises(InterpError):
            parse_layers(bad)
    for bad in ("4/4", "1", "x/2"):
        with pytest.raises(InterpError):
            parse_shard(bad)
    assert default_out("/some/dir/my model/", "up") == "neuron-maps/my-model-up"
    stream = io.StringIO()
    decode_neurons(loaded("gpt2"), top_k=2, chunk_size=50, progress=LayerProgress(stream, True))
    assert "layer 1 (2/2)" in stream.getvalue() and "128/128" in stream.getvalue()
