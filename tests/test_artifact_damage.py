"""Damaged artifacts (issue 21): every artifact kind, made on interp-tiny, then truncated,
with a flipped header byte, an edited cfg.json or a tensor of the wrong shape, dtype or
values, loads as one InterpError line naming the directory, the file and what is wrong (never
a traceback, never a later crash); through the CLI, exit 2 and one `error:` line."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from interp_cli.main import main

from interp.artifact import CFG_FILE, load_tensors, tensor_bytes
from interp.errors import InterpError

TEXTS = ["The cat sat on the mat.", "One two three four five."]


@pytest.fixture(scope="module")
def tiny():
    from interp import load_model

    return load_model("interp-tiny", device="cpu")


@pytest.fixture(scope="module")
def made(tiny, tmp_path_factory) -> dict[str, Path]:
    """{kind: directory} of one small artifact of each kind."""
    from interp.atlas import collect_records
    from interp.codebook import Codebooks, save_codebooks
    from interp.hooks.capture import capture
    from interp.neurons import decode_neurons
    from interp.sae import SAEConfig, SparseAutoencoder, save_sae

    root = tmp_path_factory.mktemp("made")
    decode_neurons(tiny, layers=[0, 1], top_k=3, bottom_k=2, out=root / "map")
    save_codebooks(Codebooks.create(tiny, ["0:mlp_out", "1:attn_z"], n_codes=8, k=2),
                   root / "books")
    # top_k 3 over 2 documents: one slot per neuron stays empty (-inf), which is allowed
    collect_records(tiny, TEXTS, layers=[0], top_k=3, before=1, after=1).save(root / "records")
    save_sae(SparseAutoencoder(SAEConfig(d_in=16, n_latents=8)), root / "sae", model=tiny)
    capture(tiny, [("mlp_out", 0)], TEXTS, to=root / "acts")
    return {kind: root / kind for kind in ("map", "books", "records", "sae", "acts")}


def _loaders(tiny) -> dict[str, Callable[[Path], object]]:
    from interp.atlas.records import ActivationRecords
    from interp.codebook import load_codebooks
    from interp.hooks.store import open_activations
    from interp.neurons import NeuronMap
    from interp.sae import load_sae

    return {"map": NeuronMap.load, "books": lambda p: load_codebooks(p, tiny),
            "records": ActivationRecords.load, "sae": lambda p: load_sae(p, model=tiny),
            "acts": lambda p: open_activations(p, tiny).load()}


#: kind -> (damaged tensor file, a float tensor in it, an int tensor and a value out of range)
TARGETS = {"map": ("layer_00001.safetensors", "top_probs", ("top_ids", 8192)),
           "books": ("codebooks.safetensors", "L1_attn_z.codes", ("L1_attn_z.counts", -1)),
           "records": ("layer_00000.safetensors", "window_acts", ("related_ids", 768)),
           "sae": ("sae.safetensors", "W_enc", None),
           "acts": ("shard_00000.safetensors", "blocks.0.hook_mlp_out", None)}


def _rewrite(file: Path, change: Callable[[dict], None]) -> None:
    """Save the tensors of `file` again, with its metadata, after `change(tensors)`."""
    tensors, meta = load_tensors(file)
    change(tensors)
    file.write_bytes(tensor_bytes(tensors, **meta))


def _set(name: str, value) -> Callable[[dict], None]:
    def change(tensors: dict) -> None:
        tensors[name] = tensors[name].clone()
        tensors[name].view(-1)[0] = value
    return change


def _apply(kind: str, name: str, file: Path) -> str:
    """Damage `file` (the tensors of `kind`) the way `name` says; returns what the error must
    mention besides the file."""
    _, floats, ints = TARGETS[kind]
    data = file.read_bytes()
    n = int.from_bytes(data[:8], "little")
    header = data[8:8 + n]
    if name == "truncated":
        file.write_bytes(data[:len(data) // 2])
        return "unreadable"
    if name == "header dtype":
        at = header.index(b'"F32"')
        file.write_bytes(data[:8 + at + 3] + b"X" + data[8 + at + 4:])
        return "unreadable"
    if name == "header shape":
        at = header.index(b'"shape":[') + len(b'"shape":[')
        digit = b"2" if header[at:at + 1] == b"1" else b"1"
        file.write_bytes(data[:8 + at] + digit + data[8 + at + 1:])
        return "unreadable"
    if name == "header length":
        file.write_bytes((n + 7).to_bytes(8, "little") + data[8:])
        return "unreadable"
    changes = {"shape": lambda t: t.update({floats: t[floats][:-1]}),
               "dtype": lambda t: t.update({floats: t[floats].double()}),
               "missing": lambda t: t.pop(floats),
               "nan": _set(floats, float("nan")), "inf": _set(floats, float("inf"))}
    if ints is not None:
        changes["range"] = _set(*ints)
    _rewrite(file, changes[name])
    return {"shape": "has shape", "dtype": "is float64", "missing": "is missing",
            "nan": "holds NaN", "inf": "holds infinity", "range": "holds values"}[name]


DAMAGES = ["truncated", "header dtype", "header shape", "header length", "shape", "dtype",
           "missing", "nan", "inf", "range"]
CASES = [(kind, damage) for kind in TARGETS for damage in DAMAGES
         if not (damage == "range" and TARGETS[kind][2] is None)
         and not (kind == "acts" and damage in ("nan", "inf"))]  # activations: data as captured


def _refused(load: Callable[[Path], object], path: Path) -> str:
    with pytest.raises(InterpError) as err:
        load(path)
    message = str(err.value)
    assert "\n" not in message and f"'{path}'" in message, message
    return message


@pytest.mark.parametrize(("kind", "damage"), CASES)
def test_a_damaged_tensor_file_is_one_line_naming_it(made, tiny, tmp_path, kind, damage):
    path = shutil.copytree(made[kind], tmp_path / kind)
    file, floats, ints = TARGETS[kind]
    expected = _apply(kind, damage, path / file)
    message = _refused(_loaders(tiny)[kind], path)
    assert file in message and expected in message, message
    if not expected.startswith("unreadable"):
        tensor = ints[0] if damage == "range" else floats
        assert f"tensor {tensor!r}" in message, message


#: kind -> [(edit of cfg.json, what the error says)]
CFG_EDITS = {
    "map": [(lambda c: c.update(d_mlp="x"), "'d_mlp' is \"x\", not a positive integer"),
            (lambda c: c.pop("options"), "'options' is missing"),
            (lambda c: c.update(d_mlp=c["d_mlp"] + 1), "not a valid neuron map")],
    "books": [(lambda c: c.pop("sites"), "'sites' is missing"),
              (lambda c: c.update(sites="x"), "'sites' is \"x\", not a list"),
              (lambda c: c["sites"][0].update(dim="x"), "'sites'[0]['dim'] is \"x\""),
              (lambda c: c["sites"][0].pop("k"), "'sites'[0]['k'] is missing"),
              (lambda c: c["sites"].__setitem__(0, 3), "'sites'[0] is 3, not a JSON object"),
              (lambda c: c["sites"][0].update(dim=10**9), "not [1, 8, 1000000000]"),
              (lambda c: c["sites"][0].update(site="zz"), "unknown codebook site 'zz'"),
              (lambda c: c["sites"][0].update(k=99), "larger than the codebook"),
              (lambda c: c.update(sites=[]), "at least one site")],
    "records": [(lambda c: c.pop("top_k"), "'top_k' is missing"),
                (lambda c: c.update(top_k=4), "not [768, 4]"),
                (lambda c: c.update(window=[1]), "'window' is [1], not a list of 2"),
                (lambda c: c.update(hist_edges=[0.0, "x"]), "'hist_edges'[1] is \"x\""),
                (lambda c: c.update(n_layers=0), "'n_layers' is 0, not a positive integer")],
    "sae": [(lambda c: c.pop("sae"), "'sae' is missing"),
            (lambda c: c["sae"].pop("d_in"), "'d_in'"),
            (lambda c: c["sae"].update(d_in=17), "not [8, 17]"),
            (lambda c: c["sae"].update(activation="nope"), "unknown SAE activation")],
    "acts": [(lambda c: c.update(shapes={}), "'shapes'['blocks.0.hook_mlp_out'] is missing"),
             (lambda c: c.update(n_shards=5), "'n_shards' is not the length of 'shards'"),
             (lambda c: c.update(dtype="float16"), "is float32, not float16"),
             (lambda c: c.update(sites=3), "'sites' is 3, not a list")],
}


@pytest.mark.parametrize(("kind", "i"), [(k, i) for k, edits in CFG_EDITS.items()
                                         for i in range(len(edits))])
def test_an_edited_config_is_one_line_naming_it(made, tiny, tmp_path, kind, i):
    edit, expected = CFG_EDITS[kind][i]
    path = shutil.copytree(made[kind], tmp_path / kind)
    cfg = json.loads((path / CFG_FILE).read_text())
    edit(cfg)
    (path / CFG_FILE).write_text(json.dumps(cfg))
    message = _refused(_loaders(tiny)[kind], path)
    assert expected in message, message


@pytest.mark.parametrize("kind", list(TARGETS))
def test_a_garbled_config_is_one_line(made, tiny, tmp_path, kind):
    path = shutil.copytree(made[kind], tmp_path / kind)
    (path / CFG_FILE).write_bytes((path / CFG_FILE).read_bytes()[:40])
    assert f"{CFG_FILE} is unreadable" in _refused(_loaders(tiny)[kind], path)


def _one_error(capsys, argv: list[str]) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err, err
    # progress lines of a load may come first
    lines = [line for line in err.splitlines()
             if line.strip() and not line.startswith("interp: ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def test_cli_refuses_a_damaged_codebook_and_neuron_map(made, tiny, tmp_path, capsys):
    books = shutil.copytree(made["books"], tmp_path / "books")
    _apply("books", "truncated", books / TARGETS["books"][0])
    err = _one_error(capsys, ["codebook", "search", "--model", "interp-tiny", "--codebooks",
                              str(books), "--words", "cat"])
    assert "codebooks.safetensors is unreadable" in err

    nmap = shutil.copytree(made["map"], tmp_path / "map")
    _apply("map", "nan", nmap / TARGETS["map"][0])
    err = _one_error(capsys, ["find-neurons", "cat", "--map", str(nmap)])
    assert "layer_00001.safetensors: tensor 'top_probs' holds NaN" in err
    out = tmp_path / "atlas"
    err = _one_error(capsys, ["atlas", "--map", str(nmap), "--out", str(out)])
    assert "holds NaN" in err and not out.exists()


def test_cli_refuses_damaged_records_before_writing_an_atlas(made, tmp_path, capsys):
    records = shutil.copytree(made["records"], tmp_path / "records")
    _apply("records", "range", records / TARGETS["records"][0])
    out = tmp_path / "atlas"
    err = _one_error(capsys, ["atlas", "--map", str(made["map"]), "--records", str(records),
                              "--out", str(out)])
    assert "tensor 'related_ids' holds values" in err and not out.exists()


def test_undamaged_artifacts_still_load(made, tiny):
    for kind, load in _loaders(tiny).items():
        assert load(made[kind]) is not None, kind
    records = _loaders(tiny)["records"](made["records"])
    assert torch.isneginf(records.layers[0]["top_values"]).any()  # empty slots load
