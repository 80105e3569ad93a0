"""export_neurons (issue 23): OpenAI automated-interpretability NeuronRecords and Neuronpedia
import rows of interp-tiny's neurons, checked against the packaged JSON-Schemas and against
activations recomputed through a plain TransformerLens hook (top-k windows and their order,
random windows, moments); same inputs, same bytes; bad input refused before any file appears."""

from __future__ import annotations

import dataclasses
import gzip
import json
import math
from pathlib import Path

import jsonschema
import pytest
import torch

from interp.errors import InterpError
from interp.neurons import interop
from interp.neurons.export import SCHEMAS, ExportOptions, export_neurons, parse_neurons

SCHEMA_DIR = Path(interop.__file__).parent / "schemas"
CHOSEN = [(1, 3), (1, 700), (4, 17)]
OPTIONS = ExportOptions(top_k=4, random=5, before=6, after=3, max_length=64, batch_size=3)
N_DOCS = 8


@pytest.fixture(scope="module")
def tiny():
    from interp import load_model

    return load_model("interp-tiny", device="cpu")


@pytest.fixture(scope="module")
def nmap(tiny, tmp_path_factory):
    from interp.neurons import decode_neurons

    path = tmp_path_factory.mktemp("export-map") / "map"
    return decode_neurons(tiny, layers=[1, 4], top_k=5, bottom_k=3, out=path)


def _export(tiny, nmap, out: Path, **kw):
    kw = {"corpus": "bundled", "max_docs": N_DOCS, "neurons": CHOSEN, "options": OPTIONS} | kw
    return export_neurons(tiny, nmap, out, **kw)


@pytest.fixture(scope="module")
def exported(tiny, nmap, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "out"
    _export(tiny, nmap, out)
    return out


@pytest.fixture(scope="module")
def reference(tiny):
    """Per document: (token strings, {layer: [pos, d_mlp] activations}) through a plain hook
    on blocks.L.mlp.hook_post, BOS position dropped."""
    from interp.texts.corpora import open_corpus

    out = []
    for doc in open_corpus("bundled", max_docs=N_DOCS):
        tokens = tiny.to_tokens(doc)[:, :OPTIONS.max_length]
        seen = {}

        def keeper(layer, seen=seen):
            def keep(act, hook):
                seen[layer] = act[0].detach().float().clone()
            return keep

        hooks = [(f"blocks.{layer}.mlp.hook_post", keeper(layer)) for layer in (1, 4)]
        with torch.no_grad():
            tiny.bridge.run_with_hooks(tokens, fwd_hooks=hooks)
        assert int(tokens[0, 0]) == tiny.tokenizer.bos_token_id
        out.append((tokens[0, 1:].tolist(),
                    {layer: seen[layer][1:] for layer in (1, 4)}))
    return out


def _rows(path: Path) -> list[dict]:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return [json.loads(line) for line in data.decode().splitlines()]


def _validator(name: str, ref: str | None = None) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMA_DIR / SCHEMAS[name]).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    if ref:
        schema = {**schema, "$ref": f"#/$defs/{ref}"}
    return jsonschema.Draft202012Validator(schema)


def _close(a: list[float], b, what: str) -> None:
    b = [float(x) for x in b]
    assert len(a) == len(b), what
    for x, y in zip(a, b, strict=True):
        assert math.isclose(x, y, rel_tol=1e-5, abs_tol=1e-6), (what, x, y)


def test_files_follow_the_schemas(exported):
    cfg = json.loads((exported / "cfg.json").read_text())
    assert cfg["format"] == "interp-neuron-export" and cfg["model"] == "interp-tiny"
    assert cfg["neurons"] == {"1": [[3, 3], [700, 700]], "4": [[17, 17]]}
    openai = _validator("openai")
    files = sorted((exported / "openai").rglob("*.json"))
    assert [f.relative_to(exported / "openai").as_posix() for f in files] == \
        ["1/3.json", "1/700.json", "4/17.json"]
    for f in files:
        openai.validate(json.loads(f.read_text()))
    base = exported / "neuronpedia" / "interp-tiny"
    for layer in ("1", "4"):
        src = base / layer
        for name, ref in (("model.jsonl", "Model"), ("sourceset.jsonl", "SourceSet"),
                          ("source.jsonl", "Source"), ("features/batch-0.jsonl.gz", "Neuron"),
                          ("activations/batch-0.jsonl.gz", "Activation")):
            rows = _rows(src / name)
            assert rows, name
            assert len({tuple(sorted(r)) for r in rows}) == 1, name  # one column set per file
            for row in rows:
                _validator("neuronpedia", ref).validate(row)
    with pytest.raises(jsonschema.ValidationError):  # the schema can fail: an unknown key
        openai.validate({**json.loads(files[0].read_text()), "extra": 1})


def test_records_equal_recomputed_activations(exported, reference, nmap, tiny):
    vocab = nmap.vocab
    for layer, n in CHOSEN:
        rec = json.loads((exported / "openai" / str(layer) / f"{n}.json").read_text())
        assert rec["neuron_id"] == {"dataclass_name": "NeuronId", "layer_index": layer,
                                    "neuron_index": n}
        # top-k: each document's peak, the k highest, in order, ties to the earlier document
        peaks = sorted(((float(acts[layer][:, n].max()), -d) for d, (_, acts) in
                        enumerate(reference)), reverse=True)[:OPTIONS.top_k]
        tops = rec["most_positive_activation_records"]
        _close([max(r["activations"]) for r in tops], [p for p, _ in peaks], "top order")
        rows = [r for r in _rows(exported / "neuronpedia" / "interp-tiny" / str(layer) /
                                 "activations" / "batch-0.jsonl.gz") if r["index"] == str(n)]
        assert [int(r["dataIndex"]) for r in rows] == [-d for _, d in peaks]
        for top, row in zip(tops, rows, strict=True):
            ids, acts = reference[int(row["dataIndex"])]
            peak = int(acts[layer][:, n].argmax())
            lo = max(0, peak - OPTIONS.before)
            hi = min(len(ids), peak + OPTIONS.after + 1)
            assert top["tokens"] == row["tokens"] == [vocab[i] for i in ids[lo:hi]]
            _close(top["activations"], acts[layer][lo:hi, n], "top window")
            assert row["values"] == top["activations"] and row["maxValueTokenIndex"] == peak - lo
        # random windows: found in a document with the same activations
        assert len(rec["random_sample"]) == OPTIONS.random
        for r in rec["random_sample"]:
            width = len(r["tokens"])
            found = [(d, s) for d, (ids, _) in enumerate(reference)
                     for s in range(len(ids) - width + 1)
                     if [vocab[i] for i in ids[s:s + width]] == r["tokens"]]
            assert found, r["tokens"]
            d, s = found[0]
            _close(r["activations"], reference[d][1][layer][s:s + width, n], "random window")
        # moments over every non-BOS token
        x = torch.cat([acts[layer][:, n] for _, acts in reference]).double()
        mean, var = float(x.mean()), float(x.var(unbiased=False))
        z = (x - mean) / math.sqrt(var)
        _close([rec["mean"], rec["variance"], rec["skewness"], rec["kurtosis"]],
               [mean, var, float(z.pow(3).mean()), float(z.pow(4).mean()) - 3], "moments")
        feature = next(r for r in _rows(exported / "neuronpedia" / "interp-tiny" / str(layer) /
                                         "features" / "batch-0.jsonl.gz") if r["index"] == str(n))
        assert feature["pos_str"] == [s for s, _ in nmap.top_tokens(layer, n)]
        assert feature["neg_str"] == [s for s, _ in nmap.top_tokens(layer, n, bottom=True)]
        _close([feature["frac_nonzero"], feature["maxActApprox"]],
               [float((x > 0).double().mean()), peaks[0][0]], "feature")


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_same_inputs_same_bytes(exported, tiny, nmap, tmp_path):
    again = tmp_path / "again"
    _export(tiny, nmap, again)
    assert _tree(again) == _tree(exported)
    _export(tiny, nmap, again, neurons=[(4, 17)])  # a previous export is replaced whole
    assert sorted(_tree(again)) == sorted(
        k for k in _tree(exported) if "/1/" not in k and not k.startswith("openai/1"))


def _other_map(nmap):
    header = dataclasses.replace(nmap.header, fingerprint="0" * 16)
    return type(nmap)(header, nmap.vocab, nmap.data)


@pytest.mark.parametrize("kw, words", [
    ({"neurons": [(1, 768)]}, "neuron 768 out of range"),
    ({"neurons": [(2, 0)]}, "layer 2 is not in the neuron map"),
    ({"neurons": None, "layers": [9]}, "layer 9 out of range"),
    ({"layers": [1]}, "layers or neurons, not both"),
    ({"neuronpedia_model": "Bad Name"}, "neuronpedia_model 'Bad Name'"),
    ({"corpus": "missing.jsonl"}, "does not exist"),
    ({"corpus": []}, "at least one text"),
    ({"nmap": "other"}, "fingerprint 0000000000000000"),
])
def test_bad_input_is_refused_before_writing(tiny, nmap, tmp_path, kw, words):
    out = tmp_path / "out"
    the_map = _other_map(nmap) if kw.pop("nmap", None) else nmap
    with pytest.raises(InterpError, match=words):
        _export(tiny, the_map, out, **kw)
    assert not out.exists() and not list(tmp_path.iterdir())


@pytest.mark.parametrize("field, value", [("top_k", 0), ("random", -1), ("before", 1.5),
                                          ("batch_size", True), ("creator_id", " ")])
def test_bad_options(field, value):
    with pytest.raises(InterpError, match=field):
        dataclasses.replace(ExportOptions(), **{field: value})


def test_bad_neuron_text_and_occupied_output(tiny, nmap, tmp_path):
    assert parse_neurons(["5:1,2", "0:7"]) == [(5, 1), (5, 2), (0, 7)]
    with pytest.raises(InterpError, match="bad neuron '5'"):
        parse_neurons(["5"])
    (tmp_path / "other.txt").write_text("x")
    with pytest.raises(InterpError, match="not empty"):
        _export(tiny, nmap, tmp_path)


def test_failure_mid_write_leaves_nothing(tiny, nmap, tmp_path, monkeypatch):
    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    real = interop.neuron_record
    monkeypatch.setattr(interop, "neuron_record", broken)
    with pytest.raises(RuntimeError):
        _export(tiny, nmap, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []
