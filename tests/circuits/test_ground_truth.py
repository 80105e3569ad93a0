"""Ground-truth circuits as data, with their sources and the noted disagreements."""

from __future__ import annotations

import json

import pytest

from interp.circuits import bundled_circuits, load_circuit
from interp.errors import InterpError


def test_bundled_circuits():
    assert bundled_circuits() == ["docstring-attn-only-4l", "greater-than-gpt2-small",
                                  "ioi-gpt2-small"]
    ioi = load_circuit("ioi-gpt2-small")
    assert len(ioi.heads) == 26 and (9, 9) in ioi.heads and (9, 0) in ioi.heads
    assert ioi.groups["negative name mover"] == [(10, 7), (11, 10)]
    assert int(ioi.mask(12, 12).sum()) == 26
    paper = {tuple(h) for h in ioi.extra["oneill_bui_heads"]}  # the disagreement, as data
    assert paper ^ set(ioi.heads) == {(9, 0), (11, 3)}
    gt = load_circuit("greater-than-gpt2-small")
    assert gt.heads == [(0, 1), (0, 3), (0, 5), (5, 5), (6, 1), (6, 9), (7, 10), (8, 11), (9, 1)]
    ds = load_circuit("docstring-attn-only-4l")
    assert (1, 2) in ds.heads and (1, 0) not in ds.heads and "(1, 0)" in ds.notes
    assert {tuple(h) for h in ds.extra["oneill_bui_heads"]} ^ set(ds.heads) == {(1, 0), (1, 2)}
    assert all(c.source for c in map(load_circuit, bundled_circuits()))


def test_file_and_errors(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"task": "x", "groups": {"a": [[0, 1], [1, 2]]}}))
    assert load_circuit(path).heads == [(0, 1), (1, 2)]
    with pytest.raises(InterpError, match=r"head \(1, 2\) of 'x' is out of range"):
        load_circuit(path).mask(1, 4)
    with pytest.raises(InterpError, match="unknown ground-truth circuit"):
        load_circuit("nope")
    (tmp_path / "bad.json").write_text("{]")
    with pytest.raises(InterpError, match="not valid JSON"):
        load_circuit(tmp_path / "bad.json")
    (tmp_path / "shape.json").write_text("[1, 2]")
    with pytest.raises(InterpError, match="not a circuit file"):
        load_circuit(tmp_path / "shape.json")
