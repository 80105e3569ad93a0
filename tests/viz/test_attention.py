"""Attention page: the embedded patterns equal transformers' own `output_attentions` (rows sum to
1, nothing above the diagonal), the per-head summaries equal loops written out, hostile tokens
stay text, the same inputs give the same bytes, and bad input is one error line before the
model loads where it can be."""

from __future__ import annotations

import json
import math
import re

import pytest
import torch
from interp_cli.main import main

from interp.atlas.text import visible
from interp.errors import InterpError
from interp.options import AttentionOptions, ModelOptions
from interp.viz.attention import AttentionPatterns, attention_patterns, attention_view
from interp.viz.attention_page import attention_page

TEXT = "the cat sat on the mat. the cat sat on the"
NASTY = ["<script>alert(1)</script>", "\"'><img src=x onerror=alert(1)>", "</script>", "&amp;",
         "<!--", "\u2028", "\x00", "\u202eevil", "\ud800", " \t\n", "${alert(1)}", "\\u003c"]


def page_json(page: str) -> dict:
    """The data the page embeds (its `window.ATTN = ...;` script)."""
    found = re.findall(r"<script>window\.ATTN=(.*?);</script>", page, flags=re.DOTALL)
    assert len(found) == 1
    return json.loads(found[0])


def embedded(data: dict) -> torch.Tensor:
    """[layer, head, query, key] rebuilt from the page's lower triangles."""
    n = len(data["labels"])
    out = torch.zeros(len(data["layers"]), data["heads"], n, n, dtype=torch.float64)
    rows, cols = torch.tril_indices(n, n)
    out[..., rows, cols] = torch.tensor(data["p"], dtype=torch.float64) / data["scale"]
    return out


def test_page_equals_transformers_output_attentions(arch, loaded, hf_reference):
    model, hf = loaded(arch), hf_reference(arch)
    tokens = model.to_tokens(TEXT)
    with torch.no_grad():
        want = torch.stack(hf(tokens, output_attentions=True).attentions)[:, 0].double()
    found = attention_patterns(model, TEXT)
    torch.testing.assert_close(found.patterns.double(), want, atol=2e-6, rtol=0)
    data = page_json(attention_page(found))
    shown = embedded(data)
    assert data["layers"] == list(range(model.facts.n_layers)) and data["heads"] == want.shape[1]
    assert (shown - want).abs().max() <= 0.5 / data["scale"] + 1e-6
    n = tokens.shape[-1]
    assert torch.equal(torch.triu(shown, 1), torch.zeros_like(shown))  # causal
    sums = shown.sum(-1)  # each row sums to 1, up to the rounding of its q + 1 entries
    bound = (torch.arange(n, dtype=torch.float64) + 1) * 0.5 / data["scale"] + 1e-9
    assert ((sums - 1).abs() <= bound).all()
    assert data["labels"] == [visible(model.tokenizer.decode([i])) for i in tokens[0].tolist()]


def _by_loops(p: torch.Tensor, ids: list[int]) -> dict[str, float | None]:
    """One head's [query, key] summaries, written out query by query."""
    n = len(ids)
    ent = [-sum(float(x) * math.log2(float(x)) for x in p[q, : q + 1] if x > 0)
           for q in range(1, n)]
    ind = [sum(float(p[q, k]) for k in range(1, q + 1) if ids[k - 1] == ids[q])
           for q in range(n) if any(ids[k - 1] == ids[q] for k in range(1, q + 1))]
    return {"entropy": sum(ent) / len(ent),
            "first": sum(float(p[q, 0]) for q in range(1, n)) / (n - 1),
            "previous": sum(float(p[q, q - 1]) for q in range(1, n)) / (n - 1),
            "induction": sum(ind) / len(ind) if ind else None}


def test_summaries_equal_loops(loaded):
    model = loaded("llama")
    found = attention_patterns(model, TEXT)
    data = page_json(attention_page(found))
    for li in range(len(found.layers)):
        for h in range(found.patterns.shape[1]):
            want = _by_loops(found.patterns[li, h].double(), found.token_ids)
            for name, value in want.items():
                assert data["summary"][name][li][h] == pytest.approx(value, abs=1e-4), name
    assert data["summary"]["induction"][0][0] is not None  # TEXT repeats its tokens
    lone = attention_patterns(model, "the cat")  # no repeated token: no induction score
    assert all(v is None for row in page_json(attention_page(lone))["summary"]["induction"]
               for v in row)
    assert "n/a (no repeated token)" in lone.report()


def test_a_previous_token_head_is_found():
    n = 6
    p = torch.zeros(1, 2, n, n)
    p[0, 0] = torch.eye(n).roll(-1, dims=1).tril()  # head 0 attends to the previous token
    p[0, 0, 0, 0] = 1.0
    p[0, 1, :, 0] = 1.0  # head 1 to the first
    found = AttentionPatterns("m", "f" * 16, "x", list("abcdef"), list(range(n)), [3], p)
    summary = found.summary()
    assert summary["previous"].tolist() == [[1.0, pytest.approx(0.2)]]
    assert summary["first"].tolist() == [[pytest.approx(0.2), 1.0]]
    assert summary["entropy"].tolist() == [[0.0, 0.0]]
    report = found.report()
    assert "previous  L3H0 1.00" in report and "first     L3H1 1.00" in report


def test_hostile_tokens_stay_text():
    n = len(NASTY)
    p = torch.rand(2, 3, n, n, generator=torch.Generator().manual_seed(0)).tril()
    p = p / p.sum(-1, keepdim=True)
    found = AttentionPatterns("<b>model</b>\"'", "0" * 16, "".join(NASTY), NASTY,
                              list(range(n)), [0, 1], p)
    page = attention_page(found)
    assert page.count("<script>") == 2 and page.count("</script>") == 2
    assert "<img" not in page and "<b>" not in page and "<!--" not in page
    assert page_json(page)["labels"] == [visible(t) for t in NASTY]
    assert page_json(page)["text"] == [visible(t, keep_spaces=True) for t in NASTY]
    page.encode("utf-8")  # no lone surrogate reached the file


def test_same_inputs_give_the_same_bytes(loaded, tmp_path):
    model = loaded("gpt2")
    options = AttentionOptions(out=str(tmp_path / "a" / "one.html"), layers=("1",))
    found, path = attention_view(model, TEXT, options)
    _, second = attention_view(model, TEXT, AttentionOptions(
        out=str(tmp_path / "two.html"), layers=(1,)))
    assert path.read_bytes() == second.read_bytes()
    assert found.layers == [1] and page_json(path.read_text())["layers"] == [1]
    full = attention_patterns(model, TEXT)
    assert torch.equal(found.patterns[0], full.patterns[1])
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "one.html", "two.html"]


@pytest.mark.parametrize(("prompt", "options", "message"), [
    ("", {}, "prompt must be a non-empty string"),
    (TEXT, {"out": "/proc/attention.html"}, "out must name a file that can be written"),
    (TEXT, {"out": ""}, "out must name a file"),
    (TEXT, {"layers": ("1-x",)}, "layers must be layer numbers such as 3, 0,2 or 1-4"),
    (TEXT, {"max_tokens": 0}, "max_tokens must be an integer >= 1"),
])
def test_bad_input_is_refused_before_the_model_loads(prompt, options, message):
    with pytest.raises(InterpError, match=message):  # the model named does not exist
        attention_view(ModelOptions("no-such-model"), prompt, AttentionOptions(**options))


def test_bad_input_once_the_model_is_known(loaded, tmp_path):
    model = loaded("llama")
    out = str(tmp_path / "a.html")
    with pytest.raises(InterpError, match=r"layers must be in 0..1 \(the model has 2 layers\), "
                       "got 2"):
        attention_view(model, TEXT, AttentionOptions(out=out, layers=(0, 2)))
    with pytest.raises(InterpError, match="prompt must fit the model's context of 64 tokens"):
        attention_view(model, "cat " * 80, AttentionOptions(out=out))
    with pytest.raises(InterpError, match=r"prompt must be at most 5 tokens .*got \d+ tokens"):
        attention_view(model, TEXT, AttentionOptions(out=out, max_tokens=5))
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a temporary


def test_cli_writes_the_page_and_names_flags_in_errors(tiny_model_dirs, tmp_path, capsys):
    model = str(tiny_model_dirs["neox"])
    out = tmp_path / "attention.html"
    base = ["attention", "--model", model, "--device", "cpu", "--prompt", TEXT]
    assert main([*base, "--out", str(out), "--layers", "0,1"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"attention of {TEXT!r}") and f"wrote {out}" in printed
    assert page_json(out.read_text())["layers"] == [0, 1]
    for extra, message in [
        (["--layers", "7"], "error: --layers must be in 0..1 (the model has 2 layers), got 7"),
        (["--layers", "x"], "error: --layers must be layer numbers"),
        (["--out", "/proc/a.html"], "error: --out must name a file that can be written"),
        (["--max-tokens", "3"], "error: --prompt must be at most 3 tokens for the page"),
    ]:
        assert main([*base, "--out", str(tmp_path / "b.html"), *extra]) == 2
        err = [line for line in capsys.readouterr().err.splitlines()
               if not line.startswith("interp: ")]
        assert len(err) == 1 and err[0].startswith(message), err
    assert main(["attention", "--model", model, "--prompt", ""]) == 2
    assert capsys.readouterr().err.splitlines()[-1].startswith("error: --prompt must be a "
                                                               "non-empty string")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["attention.html"]
