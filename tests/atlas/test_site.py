"""build_atlas and `interp atlas` on the tiny random Llama: files, determinism, page budget,
records round trip, and bad input (one line, exit 2, nothing written)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from interp_cli.main import main

from interp.atlas import ActivationRecords, build_atlas, visible
from interp.atlas.synthetic import synthetic_map
from interp.errors import InterpError


def tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def load_js(path: Path) -> object:
    """The JSON argument of an ATLAS.put("key", ...) / ATLAS.meta(...) data script."""
    text = path.read_text(encoding="ascii")
    m = re.fullmatch(r'ATLAS\.(?:put\("[^"]*",|meta\()(.*)\);\n', text, re.DOTALL)
    assert m, path
    return json.loads(m.group(1))


def test_site_layout_determinism_and_records(tiny_map, tiny_records, tmp_path):
    records, rec_dir = tiny_records
    loaded = ActivationRecords.load(rec_dir)
    assert loaded.fingerprint == records.fingerprint and sorted(loaded.layers) == [0, 1]
    out = tmp_path / "site"
    summary = build_atlas(tiny_map, out, records=rec_dir, shard_size=32)
    first = tree_digest(out)
    assert {"index.html", "neuron.html", "layer.html", "assets/atlas.js", "assets/atlas.css",
            "assets/search.js", "assets/browse.js", "data/meta.js", "atlas.json",
            "data/L001/00002.js", "data/P001/00000.js"} <= set(first)
    assert summary.n_neurons == 2 * 80 and summary.n_files == len(first)
    build_atlas(tiny_map, out, records=rec_dir, shard_size=32)  # rebuild over the old atlas
    assert tree_digest(out) == first
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site.")]  # no leftovers
    # data files are pure ASCII scripts; the pages load nothing from the web
    for page in ("index.html", "neuron.html", "layer.html"):
        html = (out / page).read_text()
        assert "http" not in html.replace("http-equiv", "")
        assert "Content-Security-Policy" in html and "innerHTML" not in html
    js = "".join((out / f"assets/{name}.js").read_text() for name in ("atlas", "search", "browse"))
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                 "fetch(", "XMLHttpRequest"):
        assert sink not in js, sink
    assert re.findall(r"https?://[^\"]*", js) == ["http://www.w3.org/2000/svg"]  # a namespace
    meta = load_js(out / "data/meta.js")
    assert meta["fingerprint"] == records.fingerprint
    assert "--records" in meta["provenance"]["command"]
    shard = load_js(out / "data/L001/00001.js")  # neurons 32..63 of layer 1
    neuron = shard["neurons"][5]  # neuron 37
    ids = records.layers[1]["window_ids"][37, 0]
    assert len(neuron["examples"]) == records.layers[1]["top_values"].shape[1]
    assert neuron["examples"][0][0] == pytest.approx(float(records.layers[1]["top_values"][37, 0]),
                                                     abs=1e-3)
    assert len(neuron["examples"][0][3]) == int((ids >= 0).sum())
    assert sum(neuron["hist"]) == records.header["n_tokens"]
    from interp.neurons import NeuronMap

    nmap = NeuronMap.load(tiny_map)
    preview = load_js(out / "data/P001/00000.js")  # neurons 0..79: act, snippet, per side
    act, snippet, (side,) = preview["neurons"][37]
    assert act == pytest.approx(float(records.layers[1]["act_max"][37]), abs=1e-3)
    assert snippet[1] == visible(nmap.vocab[int(ids[records.header["window"][0]])],
                                 keep_spaces=True)
    assert side[0] == round(float(nmap.layer(1).top_probs[37, 0]) * 10_000)
    assert [preview["strings"][i] for i in side[1]] == [
        visible(nmap.vocab[t]) for t in nmap.layer(1).top_ids[37, :5].tolist()]


def test_budget_on_page_weight(tmp_path):
    """A neuron page loads one shard: keep every data file under 512 KiB."""
    nmap = synthetic_map(2, 256, 5000, seed=2)
    summary = build_atlas(nmap, tmp_path / "s")
    assert summary.largest_bytes < 512 * 1024, summary


def test_bad_input_one_line_exit_2_nothing_written(tiny_map, tiny_model_dirs, tmp_path, capsys):
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    assert main(["atlas", "--map", str(tiny_map), "--out", str(other)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: output folder") and "\n" not in err
    assert [p.name for p in other.iterdir()] == ["notes.txt"]

    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    out = tmp_path / "site"
    assert main(["atlas", "--map", str(tiny_map), "--model", str(tiny_model_dirs["llama"]),
                 "--corpus", str(empty), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "empty" in err and "\n" not in err

    assert main(["atlas", "--map", str(tiny_map), "--model", str(tiny_model_dirs["gpt2"]),
                 "--corpus", "bundled", "--corpus-chars", "300", "--out", str(out)]) == 2
    err = [line for line in capsys.readouterr().err.splitlines()
           if not line.startswith("interp: ")]  # after the load's progress lines
    assert len(err) == 1 and "not of --model" in err[0]
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.txt", "other"]


def test_records_of_another_model_are_refused(tiny_records, tmp_path):
    nmap = synthetic_map(2, 80, 300, seed=3)
    with pytest.raises(InterpError, match="activation records are of model"):
        build_atlas(nmap, tmp_path / "s", records=tiny_records[0])
    assert not (tmp_path / "s").exists()


def test_cli_collects_records_and_adds_dose(tiny_map, tiny_model_dirs, tmp_path, capsys):
    from interp.neurons import NeuronMap

    fingerprint = NeuronMap.load(tiny_map).fingerprint
    rows = [{"curve": "baseline", "kind": "baseline", "value": "", "mean": 0.01, "n_prompts": 1},
            {"curve": "1:7", "kind": "target", "value": 0, "unit": "max", "mean": 0.01,
             "n_prompts": 1},
            {"curve": "1:7", "kind": "target", "value": 10, "unit": "max", "mean": 0.3,
             "n_prompts": 1}]
    dose = tmp_path / "dose" / "tables"  # a folder of tables
    dose.mkdir(parents=True)
    (dose / "t.json").write_text(json.dumps({"meta": {"fingerprint": fingerprint}, "rows": rows}))
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("".join(json.dumps({"text": t}) + "\n" for t in
                              ["The cat sat on the mat.", "A dog ran in the park."]))
    out, rec = tmp_path / "site", tmp_path / "rec"
    code = main(["atlas", "--map", str(tiny_map), "--model", str(tiny_model_dirs["llama"]),
                 "--corpus", str(corpus), "--top-examples", "2", "--records", str(rec),
                 "--dose", str(dose), "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    assert "index.html" in capsys.readouterr().out
    assert ActivationRecords.load(rec).header["n_docs"] == 2
    neuron = load_js(out / "data/L001/00000.js")["neurons"][7]
    assert neuron["dose"][0]["target"] == [0.01, 0.3]
    assert len(neuron["examples"]) == 2
    command = load_js(out / "data/meta.js")["provenance"]["command"]
    assert command.startswith("interp atlas --map ") and "--top-examples 2" in command
    assert f"--dose {dose} " in command  # the folder as given, not its files


def test_several_sides_on_one_page(tmp_path):
    up = synthetic_map(2, 10, 400, side="up", seed=4, fingerprint="f1")
    down = synthetic_map(2, 10, 400, side="down", seed=4, fingerprint="f1")
    build_atlas([down, up], tmp_path / "s")
    assert load_js(tmp_path / "s/data/meta.js")["sides"] == ["up", "down"]
    neuron = load_js(tmp_path / "s/data/L001/00000.js")["neurons"][3]
    assert len(neuron["sides"]) == 2 and len(neuron["sides"][1]["top"]) == 20
    other = synthetic_map(2, 10, 400, side="down", seed=4, fingerprint="f2")
    with pytest.raises(InterpError, match="different models"):
        build_atlas([up, other], tmp_path / "t")
    with pytest.raises(InterpError, match="same side"):
        build_atlas([up, up], tmp_path / "t")
    assert not (tmp_path / "t").exists()


def test_failure_mid_render_leaves_nothing(tmp_path, monkeypatch):
    from interp.atlas import site

    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return {"neurons": []}

    nmap = synthetic_map(2, 200, 300, seed=6)
    build_atlas(nmap, tmp_path / "s")  # a previous atlas survives a failed rebuild
    before = tree_digest(tmp_path / "s")
    monkeypatch.setattr(site, "shard", broken)
    for out in (tmp_path / "new", tmp_path / "s"):
        with pytest.raises(RuntimeError, match="disk full"):
            calls.clear()
            build_atlas(nmap, out)
    assert not (tmp_path / "new").exists() and tree_digest(tmp_path / "s") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]
