"""NeuronMap artifact: round trip, resumability, refusing other models / options, corrupt
files, find (variants), agreement, and shards merged == a single run."""

from __future__ import annotations

import json

import pytest
import torch

from interp.errors import InterpError
from interp.neurons import NeuronMap, decode_neurons, merge_maps, token_variants
from interp.neurons.compare import same_maps, topk_overlap
from interp.neurons.progress import LayerProgress


def test_save_load_round_trip(loaded, tmp_path):
    model = loaded("neox")
    nmap = decode_neurons(model, "down", top_k=7, bottom_k=3, center="none", temperature=2.0)
    nmap.save(tmp_path / "m")
    again = NeuronMap.load(tmp_path / "m")
    assert same_maps(nmap, again) and again.complete
    cfg = json.loads((tmp_path / "m" / "cfg.json").read_text())
    assert cfg["fingerprint"] == model.fingerprint and cfg["format_version"] == 1
    assert cfg["options"]["center"] == "none" and cfg["options"]["temperature"] == 2.0
    assert cfg["shapes_per_layer"]["top_ids"] == [model.facts.d_mlp, 7]
    assert "probs" in cfg["definitions"]
    assert len(json.loads((tmp_path / "m" / "vocab.json").read_text())) == model.facts.d_vocab
    top = again.top_tokens(1, 4, 3)
    assert [s for _, s in top] == sorted((s for _, s in top), reverse=True)
    assert top[0][0] == again.vocab[int(again.layer(1).top_ids[4, 0])]
    low = again.top_tokens(1, 4, 2, bottom=True, value="prob")
    assert low[0][1] <= low[1][1]
    for bad in [(5, 0, 1), (0, 999, 1), (0, 0, 8)]:
        with pytest.raises(InterpError):
            again.top_tokens(*bad)
    for layer in nmap.layers:  # bit-identical tensors, checked without same_maps
        for name, tensor in nmap.layer(layer).tensors().items():
            assert torch.equal(again.layer(layer).tensors()[name], tensor), (layer, name)
    tampered = NeuronMap.load(tmp_path / "m")
    tampered.layer(1).top_probs[4, 0] += 1e-3
    assert not same_maps(nmap, tampered)  # one changed value is a different map


class Interrupt(LayerProgress):
    """Raises KeyboardInterrupt inside the given layer (after its first chunk)."""

    def __init__(self, layer: int) -> None:
        super().__init__(bar=False)
        self.layer, self.current, self.skipped = layer, None, []

    def start(self, layer, n, position):
        self.current = layer
        super().start(layer, n, position)

    def advance(self, n_done):
        if self.current == self.layer:
            raise KeyboardInterrupt

    def skip(self, layer, position):
        self.skipped.append(layer)


def test_interrupted_run_resumes(loaded, tmp_path):
    model = loaded("llama")
    out = tmp_path / "m"
    with pytest.raises(KeyboardInterrupt):
        decode_neurons(model, top_k=5, out=out, chunk_size=16, progress=Interrupt(1))
    assert sorted(p.name for p in out.iterdir()) == ["cfg.json", "layer_00000.safetensors",
                                                     "vocab.json"]
    (out / ".tmp-leftover").write_bytes(b"half")  # as if killed mid-write
    stamp = (out / "layer_00000.safetensors").stat().st_mtime_ns
    watcher = Interrupt(-1)
    resumed = decode_neurons(model, top_k=5, out=out, progress=watcher)
    assert watcher.skipped == [0] and resumed.complete
    assert (out / "layer_00000.safetensors").stat().st_mtime_ns == stamp
    assert not (out / ".tmp-leftover").exists()
    assert same_maps(resumed, decode_neurons(model, top_k=5))


def test_out_dir_of_another_model_or_options_is_refused(loaded, tmp_path):
    out = tmp_path / "m"
    decode_neurons(loaded("gpt2"), top_k=5, layers=[0], out=out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(InterpError, match="another model"):
        decode_neurons(loaded("llama"), top_k=5, out=out)
    with pytest.raises(InterpError, match="top_k"):
        decode_neurons(loaded("gpt2"), top_k=6, out=out)
    with pytest.raises(InterpError, match="not empty"):
        decode_neurons(loaded("gpt2"), top_k=5, out=tmp_path)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@pytest.mark.parametrize("damage", ["truncate_layer", "cfg_garbage", "vocab_edit",
                                    "cfg_version", "swap_layer", "ids_out_of_range"])
def test_corrupt_artifacts_raise_one_line(loaded, tmp_path, damage):
    out = tmp_path / "m"
    decode_neurons(loaded("gpt2"), top_k=5, out=out)
    layer0, cfg = out / "layer_00000.safetensors", out / "cfg.json"
    if damage == "truncate_layer":
        layer0.write_bytes(layer0.read_bytes()[:100])
    elif damage == "cfg_garbage":
        cfg.write_text("{not json")
    elif damage == "vocab_edit":
        vocab = json.loads((out / "vocab.json").read_text())
        (out / "vocab.json").write_text(json.dumps(["x", *vocab[1:]]))
    elif damage == "cfg_version":
        data = json.loads(cfg.read_text())
        data["format_version"] = 99
        cfg.write_text(json.dumps(data))
    elif damage == "swap_layer":
        layer0.write_bytes((out / "layer_00001.safetensors").read_bytes())
    else:
        from safetensors.torch import load_file, save_file

        tensors = load_file(layer0)
        tensors["top_ids"][0, 0] = 10**6
        save_file(tensors, layer0, metadata={"layer": "0", "fingerprint":
                  json.loads(cfg.read_text())["fingerprint"],
                  "options_digest": json.loads(cfg.read_text())["options_digest"]})
    with pytest.raises(InterpError) as err:
        NeuronMap.load(out)
    assert "\n" not in str(err.value) and "not a valid neuron map" in str(err.value)


def test_token_variants_and_find(planted):
    assert token_variants("cat") == ["cat", " cat", "Cat", " Cat", "CAT", " CAT"]
    assert token_variants(" Cat")[:2] == ["Cat", " Cat"]
    p = planted("llama")
    nmap = decode_neurons(p.model, layers=[p.layer], top_k=5)
    word = nmap.vocab[p.a].strip()
    hits = nmap.find(word.upper(), limit=None)
    assert any((h.layer, h.neuron) == (p.layer, p.neuron) for h in hits)
    assert all(nmap.vocab[p.a] in h.matched for h in hits)
    assert [h.mass for h in hits] == sorted((h.mass for h in hits), reverse=True)
    with pytest.raises(InterpError):
        nmap.find(word.upper(), variants=False)
    two = nmap.find([word, nmap.vocab[p.b].strip()], limit=None)
    assert len(two) >= len(hits)
    with pytest.raises(InterpError):
        nmap.find([])


def test_agreement(loaded):
    model = loaded("llama")
    a = decode_neurons(model, top_k=8)
    same = a.agreement(a)
    assert same.top1 == 1.0 and same.topk_overlap == 1.0 and same.n_neurons == 2 * 80
    b = decode_neurons(model, top_k=6, center="none")
    result = a.agreement(b)
    assert result.k == 6 and 0 <= result.top1 < 1 and set(result.top1_per_layer) == {0, 1}
    ia, ib = a.layer(0).top_ids.long(), b.layer(0).top_ids.long()
    expected_top1 = float((ia[:, 0] == ib[:, 0]).float().mean())
    assert result.top1_per_layer[0] == pytest.approx(expected_top1)
    manual = sum(len(set(x[:6].tolist()) & set(y.tolist())) for x, y in zip(ia, ib, strict=True))
    assert result.topk_overlap_per_layer[0] == pytest.approx(manual / (80 * 6))
    assert topk_overlap(torch.tensor([[1, 2, 3]]), torch.tensor([[3, 9, 1]])).item() == 2
    with pytest.raises(InterpError):
        a.agreement(decode_neurons(loaded("gpt2"), top_k=8))


def test_shards_merged_equal_a_single_run(loaded, tmp_path):
    model = loaded("gpt2")
    single = decode_neurons(model, "down", top_k=6)
    for i in range(2):
        decode_neurons(model, "down", layers=[i], top_k=6, out=tmp_path / f"s{i}")
    merged = merge_maps([tmp_path / "s0", tmp_path / "s1"], tmp_path / "all")
    assert same_maps(merged, single)
    decode_neurons(model, "up", layers=[1], top_k=6, out=tmp_path / "up")
    with pytest.raises(InterpError, match="other options"):
        merge_maps([tmp_path / "s0", tmp_path / "up"], tmp_path / "bad")
    assert not (tmp_path / "bad").exists()


def test_count_coherent(planted):
    from interp.neurons import count_coherent

    p = planted("gpt2")
    nmap = decode_neurons(p.model, layers=[p.layer], top_k=5)
    words = [nmap.vocab[p.a].strip(), nmap.vocab[p.b].strip()]
    ids = {p.a, p.b}
    expected = sum(len(ids & set(row.tolist())) >= 2 for row in nmap.layer(p.layer).top_ids)
    assert count_coherent(nmap, words, min_hits=2, variants=False) == {p.layer: 0}
    assert count_coherent(nmap, [" " + w for w in words], 2, variants=False) == {
        p.layer: expected}
    assert count_coherent(nmap, words, 1)[p.layer] >= 1
