"""Logit lens: each row equals an independent decode of transformers' own hidden states (the
final norm and LM head applied by hand), the last row is the model's output, targets' ranks and
probabilities, the report, the figure, and the CLI's files and one-line errors."""

from __future__ import annotations

import json

import pytest
import torch
from interp_cli.main import main

from interp.errors import InterpError
from interp.lens import logit_lens
from interp.lens.workflow import lens_page

TEXT = "the cat sat on the mat"


def _final_norm(hf):
    base = getattr(hf, "model", None) or getattr(hf, "transformer", None) or hf.gpt_neox
    return getattr(base, "norm", None) or getattr(base, "ln_f", None) or base.final_layer_norm


def test_rows_equal_transformers_hidden_states_decoded_by_hand(arch, loaded, hf_reference):
    model, hf = loaded(arch), hf_reference(arch)
    tokens = model.to_tokens(TEXT)
    lens = logit_lens(model, TEXT, top_k=4)
    with torch.no_grad():
        states = hf(tokens, output_hidden_states=True).hidden_states
        n = len(states) - 1
        for row, h in enumerate(states):  # transformers' last state is already normed
            normed = h if row == n else _final_norm(hf)(h)
            probs = hf.lm_head(normed)[0].float().softmax(-1)
            top = probs.topk(4, -1)
            assert torch.equal(lens.top_ids[row], top.indices), f"row {row}"
            torch.testing.assert_close(lens.top_probs[row], top.values, atol=2e-5, rtol=1e-4)
    assert len(lens.rows) == model.facts.n_layers + 1 == n + 1
    assert lens.rows[0] == "embed" and lens.rows[-1] == f"block {n - 1}"


def test_the_last_row_is_the_models_own_output(loaded):
    model = loaded("llama")
    lens = logit_lens(model, TEXT, top_k=3)
    probs = model.logits(model.to_tokens(TEXT))[0].float().softmax(-1)
    assert torch.equal(lens.top_ids[-1], probs.topk(3, -1).indices)


def test_targets_probability_and_rank(loaded):
    model = loaded("llama")
    word = model.tokenizer.decode([57])
    lens = logit_lens(model, TEXT, top_k=300, targets=[word])
    target = lens.targets[word]
    assert target.token_id == 57
    for row in range(len(lens.rows)):
        for pos in range(len(lens.tokens)):
            rank = int(target.ranks[row, pos])  # top_k covers the whole vocabulary:
            at = int((lens.top_ids[row, pos] == 57).nonzero())  # after any tokens tied with it
            assert at >= rank and lens.top_probs[row, pos, at] == lens.top_probs[row, pos, rank]
            assert rank == 0 or lens.top_probs[row, pos, rank - 1] > lens.top_probs[row, pos, at]
            torch.testing.assert_close(target.probs[row, pos], lens.top_probs[row, pos, at])


def test_first_top_row_is_where_the_target_stays_on_top():
    from interp.lens.logit_lens import LensTarget

    ranks = torch.tensor([[3], [0], [2], [0], [0]])
    target = LensTarget("x", 1, torch.zeros(5, 1), ranks)
    assert target.first_top_row() == 3
    assert target.first_top_row(rank=2) == 1
    assert LensTarget("x", 1, torch.zeros(2, 1), torch.tensor([[0], [1]])).first_top_row() is None


def test_bad_inputs_are_one_line_errors(loaded):
    model = loaded("llama")
    with pytest.raises(InterpError, match="top_k must be an integer >= 1, got 0"):
        logit_lens(model, TEXT, top_k=0)
    with pytest.raises(InterpError, match="prompt must be a non-empty string"):
        logit_lens(model, "")
    with pytest.raises(InterpError, match=r"target 'the cat' is 4 tokens \["):
        logit_lens(model, TEXT, targets=["the cat"])


def test_report_json_and_page(loaded):
    model = loaded("llama")
    word = model.tokenizer.decode([57])
    lens = logit_lens(model, TEXT, targets=[word])
    report = lens.report()
    assert report.splitlines()[0].startswith("logit lens of 'the cat sat on the mat'")
    assert len(report.splitlines()) == 2 + len(lens.rows) + 1
    data = json.loads(json.dumps(lens.to_dict()))
    assert data["fingerprint"] == model.fingerprint
    assert len(data["top_tokens"]) == len(lens.rows)
    assert len(data["targets"][word]["ranks"][0]) == len(lens.tokens)
    page = lens_page(lens)
    assert page.count("Plotly.newPlot") == 2 and '<script src="http' not in page
    assert lens_page(lens) == page


def test_cli_writes_figure_and_json_the_same_each_time(tmp_path, capsys):
    args = ["logit-lens", "--model", "interp-tiny", "--device", "cpu", "--prompt",
            "Once upon a time there was a", "--target", " little", "--figure",
            str(tmp_path / "lens.html"), "--json", str(tmp_path / "lens.json")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "' little' is the top token from row" in out
    first = (tmp_path / "lens.json").read_bytes(), (tmp_path / "lens.html").read_bytes()
    assert main(args) == 0
    assert ((tmp_path / "lens.json").read_bytes(), (tmp_path / "lens.html").read_bytes()) == first
    data = json.loads(first[0])
    assert data["targets"][" little"]["first_top1_row"] is not None


@pytest.mark.parametrize(("extra", "message"), [
    (["--top-k", "0"], "error: --top-k must be an integer >= 1, got 0"),
    (["--position", "40"], "error: --position 40 is outside the prompt's"),
    (["--target", " little dog"], "error: target ' little dog' is 2 tokens"),
    (["--figure", "/proc/lens.html"], "error: --figure"),
])
def test_cli_bad_input_is_one_error_line(extra, message, capsys):
    args = ["logit-lens", "--model", "interp-tiny", "--device", "cpu", "--prompt", "Once"]
    assert main(args + extra) == 2
    err = [line for line in capsys.readouterr().err.splitlines()
           if not line.startswith("interp: ")]
    assert len(err) == 1 and err[0].startswith(message), err


def test_a_prompt_past_the_context_is_refused_not_cut(loaded):
    model = loaded("llama")
    with pytest.raises(InterpError, match=r"prompt: \d+ tokens, more than the model's context"):
        logit_lens(model, "a " * (model.facts.n_ctx + 1))
