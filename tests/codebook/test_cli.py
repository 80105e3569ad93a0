"""`interp codebook train|search|steer` on a tiny Llama: training changes the codebooks and
lowers their LM loss; bad input exits 2 with one line."""

from __future__ import annotations

import json

import pytest
from interp_cli.main import main

TEXTS = ["The cat sat on the mat. A dog ran in the park with a red ball.",
         "Paris is the capital of France, and Rome is the capital of Italy.",
         "The cat and the dog ran to the park.", "for i in range(10): print(i * i)"] * 5
SITES = ["1:mlp_out", "0:attn_z"]
STEPS, BATCH, SEQ, K = 20, 2, 16, 2


@pytest.fixture(scope="module")
def trained(tiny_model_dirs, tmp_path_factory):
    root = tmp_path_factory.mktemp("cb-cli")
    texts = root / "texts.txt"
    texts.write_text("\n".join(TEXTS) + "\n")
    out = root / "books"
    code = main(["codebook", "train", "--model", str(tiny_model_dirs["llama"]), "--site",
                 SITES[0], "--site", SITES[1], "--codes", "16", "-k", str(K), "--steps",
                 str(STEPS), "--batch-size", str(BATCH), "--seq-len", str(SEQ), "--lr", "1e-2",
                 "--eval-rows", "2", "--texts", str(texts), "--out", str(out)])
    assert code == 0
    return tiny_model_dirs["llama"], out, texts


def test_train_saves_codebooks_with_health(trained, capsys):
    _, out, _ = trained
    cfg = json.loads((out / "cfg.json").read_text())
    assert [s["site"] for s in cfg["sites"]] == ["mlp_out", "attn_z"]
    assert cfg["meta"]["steps"] == STEPS and "loss_increase" in cfg["meta"]["health"]
    # the paper's defaults reach the saved codebooks and the recorded settings
    assert all(s["layer_norm"] for s in cfg["sites"])
    assert cfg["meta"]["kmeans"] is False and cfg["meta"]["replace_dead_every"] == 0


def test_training_changes_the_codebooks_and_lowers_their_loss(trained):
    """Against the codebooks the command starts from (Codebooks.create, same seed, no k-means
    by default): every training step went through the codebooks (usage counts), the codes
    moved, and the LM loss with the codebooks spliced in fell on the same rows."""
    from interp import load_model
    from interp.codebook import Codebooks, health, load_codebooks, pack_tokens

    model_dir, out, _ = trained
    model = load_model(model_dir, device="cpu")
    books = load_codebooks(out, model)
    start = Codebooks.create(model, SITES, n_codes=16, k=K, seed=0)
    for (site, book), (_, first) in zip(books.items(), start.items()):
        assert int(book.counts.sum()) == STEPS * BATCH * SEQ * K * book.groups, site
        assert (book.codes - first.codes).abs().max() > 1e-3, site
    rows = pack_tokens(model, TEXTS, SEQ)[:8]
    before, after = health(model, start, rows), health(model, books, rows)
    assert after.loss_codebooks < before.loss_codebooks - 0.05, (before, after)
    for first, last in zip(before.sites, after.sites):
        assert last.relative_error < first.relative_error - 0.02, (first, last)
    assert after.loss_original == pytest.approx(before.loss_original)


def test_search_and_steer(trained, capsys):
    model, out, texts = trained
    capsys.readouterr()
    code = main(["codebook", "search", "--model", str(model), "--codebooks", str(out),
                 "--regex", r"\bcat\b", "--texts", str(texts), "--min-active", "1",
                 "--neurons", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["n_marked"] > 0 and data["codes"] and data["neurons"]
    unit = data["codes"][0]["unit"]
    code = main(["codebook", "steer", "--model", str(model), "--codebooks", str(out),
                 "--code", unit, "--mode", "add", "--strength", "3", "--prompt", "The cat",
                 "-n", "3", "--concept", "cat", "--max-new-tokens", "3", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and len(result["steered"]) == 3 and result["clamps"][0].startswith(
        unit.split("#")[0])


@pytest.mark.parametrize("argv, message", [
    (["train", "--site", "1:resid_post"], "unknown codebook site 'resid_post'"),
    (["train", "--site", "1:mlp_out", "--codes", "4", "-k", "5"], "larger than the codebook"),
    (["steer", "--code", "1:mlp_out", "--prompt", "x"], "bad code '1:mlp_out'"),
])
def test_bad_input_exits_2(trained, capsys, tmp_path, argv, message):
    model, out, _ = trained
    extra = ["--out", str(tmp_path / "x")] if argv[0] == "train" else ["--codebooks", str(out)]
    code = main(["codebook", argv[0], "--model", str(model), *argv[1:], *extra])
    err = capsys.readouterr().err
    # progress lines of the load may come first
    lines = [line for line in err.splitlines()
             if line.strip() and not line.startswith("interp: ")]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and message in err


def test_codebooks_for_another_model_exit_2(trained, tiny_model_dirs, capsys):
    _, out, _ = trained
    code = main(["codebook", "search", "--model", str(tiny_model_dirs["gpt2"]), "--codebooks",
                 str(out), "--words", "cat"])
    err = capsys.readouterr().err
    assert code == 2 and "made for model" in err
