"""map-neurons / merge-maps / find-neurons / compare-neurons: tables, resumable runs, shards,
and bad input as one `error:` line with exit 2 and nothing written."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from interp_cli.main import main

from interp.neurons import NeuronMap
from interp.neurons.compare import same_maps


def run_cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "interp_cli.main", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False)


def _full_logits(nmap: NeuronMap, layer: int) -> torch.Tensor:
    """The [d_mlp, d_vocab] logit matrix of a map made with --top-k d_vocab."""
    data = nmap.layer(layer)
    assert data.top_ids.shape[1] == nmap.header.d_vocab
    full = torch.full(data.top_ids.shape, float("nan"), dtype=torch.float64)
    return full.scatter_(1, data.top_ids.long(), data.top_logits.double())


def _data_rows(table: str) -> list[list[str]]:
    return [line.split() for line in table.splitlines() if line.split()
            and (line.split()[0].isdigit() or line.split()[0] == "all")]


def test_map_find_compare(tiny_model_dirs, loaded, tmp_path, capsys):
    from interp.neurons import decode_neurons, find_neurons

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
    # the command's map is the library's decode of the same neurons with the default options
    lib = decode_neurons(loaded("llama"), top_k=5)
    assert nmap.options == lib.options and nmap.layers == lib.layers
    for layer in lib.layers:
        got, want = nmap.layer(layer), lib.layer(layer)
        assert torch.equal(got.top_ids, want.top_ids) and torch.equal(got.bottom_ids,
                                                                      want.bottom_ids)
        for name in ("top_logits", "top_probs", "margin", "entropy"):
            torch.testing.assert_close(getattr(got, name), getattr(want, name))
    word = nmap.vocab[int(nmap.layer(0).top_ids[0, 0])]
    assert main(["find-neurons", word, "--map", str(out), "--exact", "--limit", "3"]) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split()[:3] == ["layer", "neuron", "mass"]
    assert len(table.splitlines()) <= 2 + 3
    # the rows are the neurons whose top-5 holds the word, by the mass they give it
    ids = [i for i, s in enumerate(nmap.vocab) if s == word]
    expected = []
    for layer in nmap.layers:
        data = nmap.layer(layer)
        match = torch.isin(data.top_ids.long(), torch.tensor(ids))
        mass = (data.top_probs * match).sum(1)
        expected += [(float(mass[n]), layer, n) for n in match.any(1).nonzero().squeeze(1)
                     .tolist()]
    expected.sort(key=lambda t: -t[0])
    rows = _data_rows(table)
    assert [(int(r[0]), int(r[1])) for r in rows] == [(t[1], t[2]) for t in expected[:3]]
    assert [float(r[2]) for r in rows] == pytest.approx([t[0] for t in expected[:3]], abs=1e-3)
    assert [(h.layer, h.neuron) for h in find_neurons(nmap, word, variants=False, limit=3)] == [
        (int(r[0]), int(r[1])) for r in rows]
    # against a map made without centring: agreement counted by hand
    other = tmp_path / "paper"
    assert main(["map-neurons", "--model", src, "--top-k", "5", "--center", "none",
                 "--scale", "norm", "--out", str(other)]) == 0
    capsys.readouterr()
    b = NeuronMap.load(other)
    assert main(["compare-neurons", str(out), str(other)]) == 0
    rows = _data_rows(capsys.readouterr().out)
    a_top = torch.cat([nmap.layer(layer).top_ids for layer in nmap.layers])
    b_top = torch.cat([b.layer(layer).top_ids for layer in b.layers])
    top1 = float((a_top[:, 0] == b_top[:, 0]).double().mean())
    overlap = sum(len(set(x.tolist()) & set(y.tolist())) for x, y in zip(a_top, b_top))
    overlap /= 5 * len(a_top)
    assert rows[-1][:2] == ["all", str(len(a_top))]
    assert float(rows[-1][2]) == pytest.approx(top1, abs=1e-3)
    assert float(rows[-1][3]) == pytest.approx(overlap, abs=1e-3)
    assert 0.2 < top1 < 1.0  # centring changes some decodes, not all


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
def test_paper_options_decode_the_raw_row(tiny_model_dirs, hf_reference, tmp_path, capsys,
                                          arch):
    """--center none --scale norm is the paper's decode (Davies 2025): each raw up row through
    the final norm (its gain; a LayerNorm also centres the coordinates; no bias, no eps) and the
    LM head, computed here with copies of the HF modules. The default (--center mean) decodes
    the row minus the layer's mean row, at the calibrated scale: other logits."""
    import copy

    hf = hf_reference(arch)
    head = hf.get_output_embeddings().weight.detach().double()  # [d_vocab, d_model]
    n_vocab = head.shape[0]
    common = ["--model", str(tiny_model_dirs[arch]), "--top-k", str(n_vocab), "--bottom-k",
              "0", "--compute-dtype", "float64"]
    assert main(["map-neurons", *common, "--center", "none", "--scale", "norm",
                 "--out", str(tmp_path / "paper")]) == 0
    assert main(["map-neurons", *common, "--out", str(tmp_path / "default")]) == 0
    capsys.readouterr()
    paper, default = NeuronMap.load(tmp_path / "paper"), NeuronMap.load(tmp_path / "default")
    assert default.options.center == "mean" and default.options.scale == "calibrated"
    factor = default.header.extras["calibration"]["factor"]
    if arch == "gpt2":
        norm, blocks = hf.transformer.ln_f, hf.transformer.h
        up_rows = [block.mlp.c_fc.weight.detach().T for block in blocks]  # Conv1D: [in, out]
    else:
        norm, blocks = hf.model.norm, hf.model.layers
        up_rows = [block.mlp.up_proj.weight.detach() for block in blocks]
    norm = copy.deepcopy(norm).double()
    with torch.no_grad():
        if getattr(norm, "bias", None) is not None:
            norm.bias.zero_()
    for name in ("eps", "variance_epsilon"):
        if hasattr(norm, name):
            setattr(norm, name, 0.0)
    changed = 0
    for layer, rows in enumerate(up_rows):
        rows = rows.double()
        with torch.no_grad():
            by_hand = norm(rows) @ head.T
            centred = norm(rows - rows.mean(0)) @ head.T
        torch.testing.assert_close(_full_logits(paper, layer), by_hand, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(_full_logits(default, layer) / factor, centred, rtol=1e-5,
                                   atol=1e-6)
        assert (by_hand - centred).abs().max() > 0.05
        changed += int((paper.layer(layer).top_ids[:, 0] != default.layer(layer).top_ids[:, 0])
                       .sum())
    assert changed > 0  # centring changes which token some neurons decode to


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
    lines = [line for line in err.splitlines() if not line.startswith("interp: ")]  # progress
    assert len(lines) == 1 and lines[0].startswith("error: "), err
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
