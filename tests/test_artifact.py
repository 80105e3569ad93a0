"""interp.artifact: one cfg.json convention, atomic directories, one fingerprint check."""

from __future__ import annotations

import json

import pytest
import torch

from interp.artifact import CFG_FILE, Kind, layer_files, load_tensors, tensor_bytes
from interp.errors import InterpError

DEMO = Kind("demo", 2, "demo", made="was made for")


def saved(tmp_path):
    tensors = {"layer_00003.safetensors": tensor_bytes({"x": torch.ones(2)}, "f1", layer="3")}
    return DEMO.save(tmp_path / "a", {"model": "m", "fingerprint": "f1"}, tensors)


def test_round_trip_stamps_the_format(tmp_path):
    path = saved(tmp_path)
    assert sorted(p.name for p in path.iterdir()) == [CFG_FILE, "layer_00003.safetensors"]
    cfg = DEMO.read(path, "f1")
    assert (cfg["format"], cfg["format_version"], cfg["model"]) == ("interp-demo", 2, "m")
    assert layer_files(path) == [3]
    tensors, meta = load_tensors(path / "layer_00003.safetensors", "f1")
    assert torch.equal(tensors["x"], torch.ones(2)) and meta == {"fingerprint": "f1", "layer": "3"}
    # the convention: sorted keys, indent 1, a final newline; saved again, the same bytes
    text = ('{\n "fingerprint": "f1",\n "format": "interp-demo",\n "format_version": 2,\n'
            ' "model": "m"\n}\n')
    assert (path / CFG_FILE).read_text() == text
    assert saved(tmp_path).joinpath(CFG_FILE).read_text() == text


def test_another_model_is_refused_naming_both_fingerprints(tmp_path):
    path = saved(tmp_path)
    with pytest.raises(InterpError) as err:
        DEMO.read(path, "f2")
    assert "model 'm' (fingerprint f1)" in str(err.value) and "fingerprint f2" in str(err.value)
    with pytest.raises(InterpError, match="another model"):
        load_tensors(path / "layer_00003.safetensors", "f2")


@pytest.mark.parametrize(("change", "match"), [
    ({"format_version": 3}, "newer than this interp reads"),
    ({"format_version": 1}, "make it again"),
    ({"format": "interp-other"}, "its format is 'interp-other'"),
])
def test_unknown_kind_or_version_is_one_line(tmp_path, change, match):
    path = saved(tmp_path)
    cfg = json.loads((path / CFG_FILE).read_text())
    (path / CFG_FILE).write_text(json.dumps(cfg | change))
    with pytest.raises(InterpError, match=match) as err:
        DEMO.read(path)
    assert "\n" not in str(err.value) and "not a valid demo" in str(err.value)
    assert DEMO.cached(path / CFG_FILE) is None


def test_writes_are_whole_or_nothing_and_spare_other_files(tmp_path):
    saved(tmp_path)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "notes.txt").write_text("keep me")
    with pytest.raises(InterpError, match="not empty"):
        DEMO.save(tmp_path / "b", {}, {})

    def failing():
        yield "part", b"1"
        raise RuntimeError("disk full")

    for out in (tmp_path / "c", tmp_path / "a"):
        with pytest.raises(RuntimeError, match="disk full"):
            DEMO.save(out, {}, failing())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]
    assert DEMO.read(tmp_path / "a")["model"] == "m"
    with pytest.raises(InterpError, match="not a demo directory"):
        DEMO.read(tmp_path / "c")
