"""capture on tiny GPT-2 / NeoX / Llama: parity with run_with_cache, batching and padding,
positions, streamed shards (round trip, fingerprint, interruption), site errors."""

from __future__ import annotations

import json

import pytest
import torch

from interp.errors import InterpError
from interp.hooks import Activations, all_layers, capture, open_activations, resolve_sites
from interp.hooks.store import CFG_FILE

TEXTS = [
    "The cat sat on the mat.",
    "A dog",
    "Paris is the capital of France, and Rome is the capital of Italy.",
    "for i in range(10): print(i * i)",
    "One two",
]


def lengths(model, texts=TEXTS) -> list[int]:
    return [model.to_tokens(t).shape[1] for t in texts]


def sites_for(model) -> list[tuple[str, int]]:
    """Every site except attention patterns, at both layers."""
    return [(s, layer) for s in model.sites if s != "attn_pattern" for layer in (0, 1)]


def test_capture_equals_run_with_cache(arch, loaded):
    model = loaded(arch)
    acts = capture(model, sites_for(model), TEXTS, batch_size=2)
    assert isinstance(acts, Activations) and len(acts) == len(TEXTS)
    assert acts.mask.sum(1).tolist() == lengths(model)
    for i, text in enumerate(TEXTS):
        tokens = model.to_tokens(text)
        n = tokens.shape[1]
        _, cache = model.bridge.run_with_cache(tokens, names_filter=acts.names)
        assert torch.equal(acts.tokens[i, :n], tokens[0].cpu())
        for name in acts.names:
            torch.testing.assert_close(acts[name][i, :n], cache[name][0], atol=1e-5, rtol=0)
            assert not acts[name][i, n:].any(), f"padding of {name} not zero"
    assert acts[model.hook_name("attn_z", 0)].shape[2:] == (4, 8)
    for i, n in enumerate(lengths(model)):  # each real token's index in its own text
        assert acts.positions[i, :n].tolist() == list(range(n))
    assert (acts.positions[~acts.mask] == -1).all()


def test_batched_equals_unbatched(arch, loaded):
    model = loaded(arch)
    sites = [("resid_post", 1), ("mlp_post", 0), ("attn_z", 1)]
    one = capture(model, sites, TEXTS, batch_size=1)
    many = capture(model, sites, TEXTS, batch_size=4)
    assert torch.equal(one.mask, many.mask) and torch.equal(one.tokens, many.tokens)
    for name in one.names:
        torch.testing.assert_close(one[name], many[name], atol=1e-5, rtol=0)


def test_positions_last_and_index(loaded):
    model = loaded("llama")
    name = model.hook_name("resid_post", 1)
    full = capture(model, [("resid_post", 1)], TEXTS, batch_size=3)
    n = lengths(model)
    last = capture(model, [("resid_post", 1)], TEXTS, positions="last", batch_size=3)
    assert last[name].shape[:2] == (len(TEXTS), 1) and last.mask.all()
    assert last.positions[:, 0].tolist() == [k - 1 for k in n]
    for i, k in enumerate(n):
        torch.testing.assert_close(last[name][i, 0], full[name][i, k - 1], atol=1e-5, rtol=0)
        assert last.tokens[i, 0] == full.tokens[i, k - 1]
    picked = capture(model, [("resid_post", 1)], TEXTS, positions=[0, 8], batch_size=2)
    assert picked.mask.tolist() == [[True, k > 8] for k in n]
    torch.testing.assert_close(picked[name][:, 0], full[name][:, 0], atol=1e-5, rtol=0)
    short = n.index(min(n))
    assert not picked[name][short, 1].any()
    sliced = capture(model, [("resid_post", 1)], TEXTS, positions=slice(1, 6, 2))
    assert sliced.positions[0].tolist() == [1, 3, 5]


def test_attention_pattern_layout(loaded):
    model = loaded("gpt2")
    name = model.hook_name("attn_pattern", 0)
    full = capture(model, [("attn_pattern", 0)], TEXTS[:2], batch_size=1)
    last = capture(model, [("attn_pattern", 0)], TEXTS[:2], positions="last")
    _, cache = model.bridge.run_with_cache(model.to_tokens(TEXTS[1]), names_filter=[name])
    n = cache[name].shape[-1]
    assert full[name].shape[:2] == (2, 4) and full[name].shape[2] == full[name].shape[3]
    torch.testing.assert_close(full[name][1, :, :n, :n], cache[name][0], atol=1e-6, rtol=0)
    torch.testing.assert_close(last[name][1, :, 0, :n], cache[name][0, :, -1], atol=1e-6, rtol=0)


def test_token_inputs(loaded):
    model = loaded("gpt2")
    name = model.hook_name("mlp_post", 0)
    tokens = torch.tensor([[0, 5, 17, 99, 250, 3], [0, 7, 7, 120, 33, 280]])
    from_tensor = capture(model, [("mlp_post", 0)], tokens)
    assert from_tensor.mask.all() and torch.equal(from_tensor.tokens, tokens)
    from_lists = capture(model, [("mlp_post", 0)], (row.tolist() for row in tokens))
    assert torch.equal(from_lists[name], from_tensor[name])
    mask = torch.tensor([[1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1]])  # left padding is compacted
    masked = capture(model, [("mlp_post", 0)], tokens, attention_mask=mask)
    assert masked.mask.sum(1).tolist() == [6, 4]
    alone = capture(model, [("mlp_post", 0)], tokens[1:, 2:])
    torch.testing.assert_close(masked[name][1, :4], alone[name][0], atol=1e-5, rtol=0)


def test_stops_after_last_needed_layer(loaded):
    model = loaded("neox")
    fired = []
    point = model.bridge.hook_dict[model.hook_name("mlp_post", 1)]
    with model.bridge.hooks(fwd_hooks=[(point.name, lambda x, hook: fired.append(1))]):
        capture(model, [("resid_post", 0), ("mlp_out", 0)], TEXTS[:2])
        assert not fired
        capture(model, [("resid_pre", 1)], TEXTS[:2])
        assert fired


def test_stream_round_trip(loaded, tmp_path):
    model = loaded("llama")
    sites = [("mlp_post", None), ("attn_z", 0)]
    memory = capture(model, sites, TEXTS, batch_size=2, dtype="float32")
    store = capture(model, sites, iter(TEXTS), batch_size=2, to=tmp_path / "acts", shard_tokens=30)
    assert len(store) > 1
    files = sorted(p.name for p in (tmp_path / "acts").iterdir())
    assert files == [CFG_FILE] + [f"shard_{i:05d}.safetensors" for i in range(len(store))]
    cfg = json.loads((tmp_path / "acts" / CFG_FILE).read_text())
    assert cfg["fingerprint"] == model.fingerprint and cfg["n_sequences"] == len(TEXTS)
    assert cfg["sites"] == memory.names and cfg["n_shards"] == len(store)
    assert cfg["shapes"][model.hook_name("attn_z", 0)] == [4, 8] and cfg["dtype"] == "float32"
    assert cfg["n_tokens"] == memory.n_tokens == store.n_tokens
    loaded_back = open_activations(tmp_path / "acts", model=model).load()
    for key in ("tokens", "mask", "positions"):
        assert torch.equal(getattr(loaded_back, key), getattr(memory, key))
    for name in memory.names:
        assert torch.equal(loaded_back[name], memory[name])
    parts = list(store.iter_shards([memory.names[0]]))
    assert [p.names for p in parts] == [[memory.names[0]]] * len(store)
    flat = torch.cat(list(store.iter_flat(memory.names[1])))
    assert torch.equal(flat, memory.flat(memory.names[1]))


def test_stream_dtype_and_overwrite(loaded, tmp_path):
    model = loaded("gpt2")
    store = capture(model, [("resid_post", 0)], TEXTS[:2], to=tmp_path, dtype="bfloat16")
    assert store.shard(0)[store.names[0]].dtype == torch.bfloat16
    with pytest.raises(InterpError, match="overwrite=True"):
        capture(model, [("resid_post", 0)], TEXTS[:2], to=tmp_path)
    again = capture(model, [("mlp_post", 1)], TEXTS[:3], to=tmp_path, overwrite=True)
    assert again.names == [model.hook_name("mlp_post", 1)] and again.n_sequences == 3


def test_fingerprint_mismatch_refused(loaded, tmp_path):
    model, other = loaded("gpt2"), loaded("neox")
    capture(model, [("resid_post", 0)], TEXTS[:2], to=tmp_path)
    assert open_activations(tmp_path, model=model.fingerprint).n_sequences == 2
    with pytest.raises(InterpError, match="fingerprint"):
        open_activations(tmp_path, model=other)


def _stream_then_fail(n_good: int):
    yield from TEXTS[:n_good]
    raise RuntimeError("corpus reader died")


def test_interrupted_by_iterator_leaves_no_cfg(loaded, tmp_path):
    model = loaded("gpt2")
    with pytest.raises(RuntimeError, match="corpus reader died"):
        capture(model, [("mlp_post", 0)], _stream_then_fail(4), batch_size=1, to=tmp_path,
                shard_tokens=1)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert CFG_FILE not in names and names  # finished shards stay, temporaries do not
    assert all(n.startswith("shard_") and n.endswith(".safetensors") for n in names)
    with pytest.raises(InterpError, match="interrupted"):
        open_activations(tmp_path)


def test_interrupted_by_hook_leaves_no_cfg(loaded, tmp_path):
    model = loaded("neox")
    calls = []

    def boom(x, hook):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("hook failed")

    point = model.hook_name("resid_post", 0)
    with model.bridge.hooks(fwd_hooks=[(point, boom)]), pytest.raises(RuntimeError):
        capture(model, [("resid_post", 0)], TEXTS, batch_size=1, to=tmp_path, shard_tokens=1)
    assert not (tmp_path / CFG_FILE).exists()
    assert not list(tmp_path.glob(".*"))
    assert sum(len(hp.fwd_hooks) for hp in model.bridge.hook_points()) == 0


def test_site_errors(loaded):
    model = loaded("gpt2")
    assert all_layers(model, "mlp_post") == ["blocks.0.mlp.hook_post", "blocks.1.mlp.hook_post"]
    with pytest.raises(InterpError, match="blocks.0.mlp.hook_nope"):
        capture(model, ["blocks.0.mlp.hook_nope"], TEXTS[:1])
    with pytest.raises(InterpError, match="mlp_pre_linear"):
        capture(model, [("mlp_pre_linear", 0)], TEXTS[:1])
    with pytest.raises(InterpError, match=r"layer 7 out of range; valid: 0\.\.1"):
        capture(model, [("mlp_post", 7)], TEXTS[:1])
    with pytest.raises(InterpError, match="'first'"):
        capture(model, [("mlp_post", 0)], TEXTS[:1], positions="first")
    with pytest.raises(InterpError, match="no input"):
        capture(model, [("mlp_post", 0)], [])
    bare = capture(model, ["mlp_post"], TEXTS[:1])
    assert bare.names == all_layers(model, "mlp_post")
    assert resolve_sites(model, ("mlp_post", 1)) == ["blocks.1.mlp.hook_post"]
    names = ("blocks.0.hook_resid_post", "blocks.1.attn.hook_z")
    assert resolve_sites(model, names) == list(names)


def test_progress_lines_when_not_a_tty(loaded, capsys):
    capture(loaded("gpt2"), [("mlp_post", 0)], TEXTS, progress=True)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and err[-1].startswith("capture: 5 sequences")
