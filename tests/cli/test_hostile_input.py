"""Every verb against a table of bad input (issue 21): output paths, numbers, encodings,
damaged artifacts and artifacts of another model. For each case: exit status 2, exactly one
line on stderr, starting "error:" and naming the bad value, no traceback, and no new file
anywhere under the test's directory (outputs, caches, temporaries) or the working directory.

The model-dependent rows run on the bundled interp-tiny and again on each real model that is
installed (SmolLM2 in CI; Gemma where installed), with the bad numbers scaled to the model.
Damage of every artifact kind, tensor by tensor, is covered by tests/test_artifact_damage.py;
here each kind is damaged once through the verbs that read it.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from interp_cli.main import main

from interp.models.real import installed

REAL = [m for m in ("smollm2-135m-instruct", "gemma-3-270m") if installed(m)]
READ_ONLY = "/sys/interp-hostile-out"  # read-only even for root (sysfs)


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, str]:
    """Valid inputs to damage or misuse: a one-layer map and two-step codebooks of
    interp-tiny, a file, a non-UTF-8 file (as text, CSV, JSON, JSONL and a CodeSearchNet
    directory) and damaged copies of the map and the codebooks."""
    base = tmp_path_factory.mktemp("made")
    paths = {"base": str(base), "map": str(base / "map"), "books": str(base / "books"),
             "file": str(base / "afile")}
    assert main(["map-neurons", "--model", "interp-tiny", "--layers", "0", "--top-k", "5",
                 "--out", paths["map"]]) == 0
    assert main(["codebook", "train", "--model", "interp-tiny", "--site", "0:mlp_out",
                 "--steps", "2", "--codes", "16", "-k", "2", "--train-chars", "4000",
                 "--eval-rows", "2", "--out", paths["books"]]) == 0
    Path(paths["file"]).write_text("not a directory\n")
    bad = b"caf\xe9 \xff\xfe\n"
    for suffix in ("txt", "csv", "json", "jsonl"):
        (base / f"latin1.{suffix}").write_bytes(bad)
        paths[f"latin1_{suffix}"] = str(base / f"latin1.{suffix}")
    (base / "csn").mkdir()
    for split in ("train", "valid", "test"):
        (base / "csn" / f"{split}.jsonl").write_bytes(bad)
    paths["csn"] = str(base / "csn")
    # damaged copies: a codebook file cut in half, a map layer holding NaN
    shutil.copytree(paths["books"], base / "books_cut")
    cut = next((base / "books_cut").glob("*.safetensors"))
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])
    paths["books_cut"] = str(base / "books_cut")
    shutil.copytree(paths["map"], base / "map_nan")
    _put_nan(next((base / "map_nan").glob("layer_*.safetensors")))
    paths["map_nan"] = str(base / "map_nan")
    return paths


def _put_nan(file: Path) -> None:
    """Rewrite the first float tensor of a safetensors file with a NaN (same shapes)."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    with safe_open(str(file), framework="pt") as handle:
        metadata = handle.metadata()
    tensors = load_file(str(file))
    name = next(k for k, v in sorted(tensors.items()) if v.is_floating_point())
    tensors[name] = tensors[name].clone()
    tensors[name].view(-1)[0] = float("nan")
    save_file(tensors, str(file), metadata=metadata)


def _tree(*roots: Path) -> set[str]:
    return {str(p) for root in roots if root.exists() for p in root.rglob("*")} | {
        str(p) for p in Path(READ_ONLY).parent.glob("interp-hostile*")}


def _expect_refusal(argv: list[str], names: str, where: Path, capsys) -> None:
    before = _tree(where, Path.cwd())
    status = main(argv)
    err = capsys.readouterr().err
    # progress lines ("interp: loading ...") may come first when the check needs the model
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("interp: ")]
    assert status == 2, (argv, err)
    assert "Traceback" not in err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert names in lines[0], (names, lines[0])
    assert _tree(where, Path.cwd()) == before, "files appeared"


TINY = ["--model", "interp-tiny"]
STEER = ["steer", *TINY, "--clamp", "0:1=5", "--prompt", "Once"]
DOSE = ["dose-response", *TINY, "--neuron", "0:1", "--prompt", "Once", "--concept",
        "animals", "--values", "0,1", "--figure", "-"]
CODE_STEER = ["codebook", "steer", *TINY, "--codebooks", "{books}", "--code",
              "0:mlp_out#1", "--prompt", "Once"]
TRAIN = ["codebook", "train", *TINY, "--site", "0:mlp_out", "--steps", "2"]
CIRCUITS = ["circuits", *TINY, "--task", "ioi", "--method", "attribution"]
DEPTH = ["concept-depth", *TINY, "--dataset", "word_category"]
AST = ["ast-probe", *TINY, "--train", "20", "--val", "10", "--test", "10"]
ATLAS = ["atlas", "--map", "{map}"]
LENS = ["logit-lens", *TINY, "--prompt", "Once"]
EXPORT = ["export-neurons", *TINY, "--map", "{map}"]
ATTENTION = ["attention", *TINY, "--prompt", "Once"]

#: (id, argv, the text the error line must contain). {name} is a path of `made`; {tmp} the
#: test's own directory (where nothing may appear).
CASES = [
    # output locations: a file, a read-only parent, an empty name, a file on the way
    *[(f"{verb}-out-{case}", [*argv, flag, path], shown)
      for verb, argv, flag in (
          ("map-neurons", ["map-neurons", *TINY, "--layers", "0"], "--out"),
          ("merge-maps", ["merge-maps", "{map}"], "--out"),
          ("atlas", ATLAS, "--out"), ("circuits", CIRCUITS, "--out"),
          ("codebook-train", TRAIN, "--out"), ("concept-depth", DEPTH, "--out"),
          ("ast-probe", AST, "--out"), ("dose-table", DOSE, "--table"),
          ("dose-figure", [*DOSE[:-2], "--table", "{tmp}/t.csv"], "--figure"))
      for case, path, shown in (
          ("file", "{file}", "{file}"), ("readonly", READ_ONLY, "read-only"),
          ("empty", "", f"{flag} must name"), ("under-file", "{file}/sub", "{file}"))
      if not (verb.startswith("dose-") and case == "file")],  # a file may be replaced
    ("concept-depth-cache-file", [*DEPTH, "--out", "{tmp}/o", "--cache", "{file}"], "--cache"),
    ("ast-probe-cache-readonly", [*AST, "--out", "{tmp}/o", "--cache", READ_ONLY], "--cache"),
    # numbers
    ("steer-top-p", [*STEER, "--top-p", "2"], "--top-p"),
    ("steer-top-p-zero", [*STEER, "--top-p", "0"], "--top-p"),
    ("steer-top-k", [*STEER, "--top-k", "0"], "--top-k"),
    ("steer-temperature-nan", [*STEER, "--temperature", "nan"], "--temperature"),
    ("steer-temperature-inf", [*STEER, "--temperature", "inf"], "--temperature"),
    ("steer-clamp-nan", [*STEER[:-4], "--clamp", "0:1=nan", "--prompt", "Once"], "nan"),
    ("steer-n-zero", [*STEER, "-n", "0"], "--n-samples"),
    ("codebook-steer-strength-nan", [*CODE_STEER, "--strength", "nan"], "--strength"),
    ("codebook-steer-strength-inf", [*CODE_STEER, "--strength", "inf"], "--strength"),
    ("codebook-steer-slot", [*CODE_STEER, "--strength", "-3"], "--strength"),
    ("codebook-steer-temperature", [*CODE_STEER, "--temperature", "0"], "--temperature"),
    ("dose-controls-negative", [*DOSE, "--table", "{tmp}/t.csv", "--controls", "-1"],
     "--controls"),
    ("dose-values-nan", [*DOSE, "--table", "{tmp}/t.csv", "--values", "nan"], "nan"),
    ("map-top-k", ["map-neurons", *TINY, "--top-k", "0", "--out", "{tmp}/m"], "--top-k"),
    ("map-chunk", ["map-neurons", *TINY, "--chunk-size", "0", "--out", "{tmp}/m"],
     "--chunk-size"),
    ("find-limit", ["find-neurons", "--map", "{map}", "--limit", "0", "dog"], "--limit"),
    ("compare-k", ["compare-neurons", "--k", "0", "{map}", "{map}"], "--k"),
    ("atlas-max-docs", [*ATLAS, "--max-docs", "0", "--out", "{tmp}/s"], "--max-docs"),
    ("circuits-latents", [*CIRCUITS, "--latents", "0", "--out", "{tmp}/c"], "--latents"),
    ("circuits-truth-threshold", [*CIRCUITS, "--truth-threshold", "nan", "--out", "{tmp}/c"],
     "--truth-threshold"),
    ("depth-folds", [*DEPTH, "--folds", "1", "--out", "{tmp}/d"], "--folds"),
    ("depth-margin", [*DEPTH, "--margin", "nan", "--out", "{tmp}/d"], "--margin"),
    ("ast-rank", [*AST, "--rank", "0", "--out", "{tmp}/a"], "--rank"),
    ("ast-lr", [*AST, "--lr", "nan", "--out", "{tmp}/a"], "--lr"),
    ("train-lr", [*TRAIN, "--lr", "inf", "--out", "{tmp}/b"], "--lr"),
    ("train-codes", [*TRAIN, "--codes", "0", "--out", "{tmp}/b"], "--codes"),
    # encodings
    ("steer-scale-corpus-latin1", [*STEER, "--scale-corpus", "{latin1_txt}"], "UTF-8"),
    ("dose-prompts-latin1", [*DOSE[:-6], "--prompts-file", "{latin1_txt}", "--concept",
                             "animals", "--table", "{tmp}/t.csv"], "{latin1_txt}"),
    ("train-texts-latin1", [*TRAIN, "--texts", "{latin1_txt}", "--out", "{tmp}/b"],
     "{latin1_txt}"),
    ("depth-csv-latin1", ["concept-depth", *TINY, "--dataset", "{latin1_csv}", "--out",
                          "{tmp}/d"], "{latin1_csv}"),
    ("circuits-task-latin1", ["circuits", *TINY, "--task-file", "{latin1_json}", "--out",
                              "{tmp}/c"], "{latin1_json}"),
    ("circuits-truth-latin1", [*CIRCUITS, "--truth", "{latin1_json}", "--out", "{tmp}/c"],
     "{latin1_json}"),
    ("ast-jsonl-latin1", [*AST, "--data", "{csn}", "--out", "{tmp}/a"], "UTF-8"),
    ("atlas-corpus-latin1", [*ATLAS, *TINY, "--corpus", "{latin1_jsonl}", "--out", "{tmp}/s"],
     "{latin1_jsonl}"),
    # damaged artifacts
    ("codebook-steer-cut", [*CODE_STEER[:4], "--codebooks", "{books_cut}",
                            *CODE_STEER[6:]], "{books_cut}"),
    ("find-nan-map", ["find-neurons", "--map", "{map_nan}", "dog"], "{map_nan}"),
    ("atlas-nan-map", ["atlas", "--map", "{map_nan}", "--out", "{tmp}/s"], "{map_nan}"),
    ("compare-nan-map", ["compare-neurons", "{map}", "{map_nan}"], "{map_nan}"),
    ("merge-nan-map", ["merge-maps", "{map}", "{map_nan}", "--out", "{tmp}/m"], "{map_nan}"),
    ("codebook-search-not-artifact", ["codebook", "search", *TINY, "--codebooks", "{file}",
                                      "--regex", "a"], "{file}"),
    # logit lens, neuron export, attention page
    ("lens-figure-readonly", [*LENS, "--figure", READ_ONLY + "/l.html"], "read-only"),
    ("lens-json-under-file", [*LENS, "--json", "{file}/l.json"], "{file}"),
    ("lens-empty-prompt", ["logit-lens", *TINY, "--prompt", ""], "--prompt"),
    ("lens-top-k", [*LENS, "--top-k", "0"], "--top-k"),
    ("lens-tuned-file", [*LENS, "--tuned", "{file}"], "--tuned"),
    ("export-out-under-file", [*EXPORT, "--out", "{file}/e"], "{file}"),
    ("export-top-k", [*EXPORT, "--top-k", "0", "--out", "{tmp}/e"], "--top-k"),
    ("export-nan-map", ["export-neurons", *TINY, "--map", "{map_nan}", "--out", "{tmp}/e"],
     "{map_nan}"),
    ("attention-out-readonly", [*ATTENTION, "--out", READ_ONLY + "/a.html"], "read-only"),
    ("attention-out-under-file", [*ATTENTION, "--out", "{file}/a.html"], "{file}"),
    ("attention-empty-prompt", ["attention", *TINY, "--prompt", "", "--out", "{tmp}/a.html"],
     "--prompt"),
    ("attention-bad-layers", [*ATTENTION, "--layers", "x", "--out", "{tmp}/a.html"],
     "--layers"),
]


@pytest.mark.parametrize(("case", "argv", "names"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_cleanly(case, argv, names, made, tmp_path, capsys,
                                      monkeypatch):
    monkeypatch.chdir(tmp_path)
    fill = {**made, "tmp": str(tmp_path)}
    _expect_refusal([a.format(**fill) for a in argv], names.format(**fill),
                    Path(made["base"]).parent, capsys)


_FACTS: dict = {}


def _model_cases(model: str) -> dict[str, tuple[list[str], str]]:
    """Rows that depend on the model's size: numbers just past its limits, and interp-tiny's
    artifacts used with it (for the real models)."""
    from interp import load_model

    if model not in _FACTS:
        _FACTS[model] = load_model(model, device="cpu").facts
    f = _FACTS[model]
    m = ["--model", model]
    rows = {
        "info-layer": (["info", *m, "--layer", str(f.n_layers)], str(f.n_layers)),
        "map-layers": (["map-neurons", *m, "--layers", str(f.n_layers), "--out", "{tmp}/m"],
                       str(f.n_layers)),
        "steer-context": (["steer", *m, "--clamp", "0:1=5", "--prompt", "Once",
                           "--max-new-tokens", str(f.n_ctx)], "--max-new-tokens"),
        "steer-neuron": (["steer", *m, "--clamp", f"0:{f.d_mlp}=5", "--prompt", "Once"],
                         str(f.d_mlp)),
        "dose-controls": (["dose-response", *m, "--neuron", "0:1", "--prompt", "Once",
                           "--concept", "animals", "--values", "0,1", "--figure", "-",
                           "--table", "{tmp}/t.csv", "--controls", str(f.d_mlp)],
                          str(f.d_mlp)),
        "train-seq-len": (["codebook", "train", *m, "--site", "0:mlp_out", "--seq-len",
                           str(f.n_ctx + 1), "--out", "{tmp}/b"], "--seq-len"),
        "ast-layers": (["ast-probe", *m, "--layers", str(f.n_layers + 1), "--out", "{tmp}/a"],
                       str(f.n_layers + 1)),
        "circuits-threshold": (["circuits", *m, "--task", "ioi", "--threshold", "inf", "--out",
                                "{tmp}/c"], "--threshold"),
    }
    if model != "interp-tiny":
        rows |= {
            "atlas-other-model": (["atlas", "--map", "{map}", *m, "--out", "{tmp}/s"],
                                  "fingerprint"),
            "codebook-steer-other-model": (["codebook", "steer", *m, "--codebooks", "{books}",
                                            "--code", "0:mlp_out#1", "--prompt", "Once"],
                                           "fingerprint"),
            "codebook-search-other-model": (["codebook", "search", *m, "--codebooks",
                                             "{books}", "--regex", "a"], "fingerprint"),
        }
    return rows


MODEL_ROWS = ["info-layer", "map-layers", "steer-context", "steer-neuron", "dose-controls",
              "train-seq-len", "ast-layers", "circuits-threshold"]
OTHER_MODEL_ROWS = ["atlas-other-model", "codebook-steer-other-model",
                    "codebook-search-other-model"]
MODEL_CASES = [(model, row) for model in ["interp-tiny", *REAL]
               for row in MODEL_ROWS + (OTHER_MODEL_ROWS if model != "interp-tiny" else [])]


@pytest.mark.parametrize(("model", "case"), MODEL_CASES,
                         ids=[f"{m}-{c}" for m, c in MODEL_CASES])
def test_numbers_past_the_model_and_other_models_artifacts(model, case, made, tmp_path,
                                                           capsys, monkeypatch):
    argv, names = _model_cases(model)[case]
    monkeypatch.chdir(tmp_path)
    fill = {**made, "tmp": str(tmp_path)}
    _expect_refusal([a.format(**fill) for a in argv], names.format(**fill),
                    Path(made["base"]).parent, capsys)


def test_the_read_only_location_is_read_only():
    """The table's read-only parent must refuse writes even to root, or those rows test
    nothing."""
    with pytest.raises(OSError):
        os.mkdir(READ_ONLY)


def test_the_table_covers_every_verb():
    from interp_cli.main import SUBCOMMANDS

    tiny = _model_cases("interp-tiny").values()
    verbs = {row[1][0] for row in CASES} | {argv[0] for argv, _ in tiny}
    assert verbs == {name.replace("_", "-") for name in SUBCOMMANDS}
    assert len(CASES) + len(MODEL_CASES) >= 80
    json.dumps(CASES)  # plain data
