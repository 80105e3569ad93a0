"""Decoding maths: planted neurons (folding decides the winner), every top-k against a
brute-force reference, probabilities/entropy, and the decoded logits against a measured
logit change in the model itself."""

from __future__ import annotations

import math

import pytest
import torch

from interp.errors import InterpError
from interp.neurons import DecodeOptions, decode_neurons

SIDES = {"gpt2": ("up", "down"), "neox": ("up", "down"), "llama": ("up", "gate", "down")}


# ---- planted neurons --------------------------------------------------------------------
@pytest.mark.parametrize("score", ["logit", "cosine"])
@pytest.mark.parametrize("arch", ["gpt2", "neox", "llama"])
def test_planted_neuron_decodes_to_its_token_only_with_folding(planted, arch, score):
    p = planted(arch)
    model, a, b, layer, neuron = p.model, p.a, p.b, p.layer, p.neuron
    for side in SIDES[arch]:
        for center, scale in (("mean", "calibrated"), ("none", "norm")):
            folded = decode_neurons(model, side, layers=[layer], top_k=3, center=center,
                                    scale=scale, score=score)
            assert int(folded.layer(layer).top_ids[neuron, 0]) == a, (side, center)
        naive = decode_neurons(model, side, layers=[layer], top_k=3, fold_norm=False,
                               score=score)
        assert int(naive.layer(layer).top_ids[neuron, 0]) == b, side
        hits = folded.find(folded.vocab[a].strip().capitalize(), limit=None)
        hit = next(h for h in hits if (h.layer, h.neuron) == (layer, neuron))
        assert hit.best_rank == 1 and hit.mass == hits[0].mass
        # by logit the planted column (norm ~70) dwarfs the random ones (~0.2): p ~ 1; by
        # cosine every column has the median norm, so only the ranking is planted
        assert hit.mass > 0.99 if score == "logit" else hit.mass > 1 / model.facts.d_vocab


def test_layernorm_bias_is_an_explicit_option(loaded):
    model = loaded("gpt2")
    _w_u, b_u = model.folded_unembedding(torch.float32)
    assert b_u.abs().max() > 0  # the fixture's ln_f has a bias
    k = model.facts.d_vocab
    off = decode_neurons(model, "down", layers=[0], top_k=k, bottom_k=0, scale="raw")
    on = decode_neurons(model, "down", layers=[0], top_k=k, bottom_k=0, scale="raw",
                        bias="include")
    full_off = _scatter(off.layer(0).top_ids, off.layer(0).top_logits, k)
    full_on = _scatter(on.layer(0).top_ids, on.layer(0).top_logits, k)
    torch.testing.assert_close(full_on - full_off, b_u.expand_as(full_on), atol=1e-4, rtol=1e-4)
    assert off.options.bias == "exclude" and on.options.to_dict()["bias"] == "include"


# ---- brute-force reference ----------------------------------------------------------------
def _scatter(ids: torch.Tensor, values: torch.Tensor, n_vocab: int) -> torch.Tensor:
    full = torch.full((ids.shape[0], n_vocab), float("nan"), dtype=values.dtype)
    return full.scatter_(1, ids.long(), values)


def reference_logits(model, hf, arch: str, layer: int, side: str, opts: DecodeOptions,
                     factor: float = 1.0):
    """The whole logit matrix in float64, computed from the HF modules directly; `factor` is
    the map's recorded calibration factor (scale="calibrated")."""
    norm = {"gpt2": lambda: hf.transformer.ln_f, "neox": lambda: hf.gpt_neox.final_layer_norm,
            "llama": lambda: hf.model.norm}[arch]()
    head = hf.get_output_embeddings()
    v = model.neuron_vectors(layer, side).double()
    if opts.center == "mean":
        v = v - v.mean(0)
    if opts.fold_norm and arch != "llama":
        v = v - v.mean(1, keepdim=True)
    if opts.scale in ("norm", "calibrated"):
        v = v / v.pow(2).mean(1, keepdim=True).sqrt()
    if opts.scale == "calibrated":
        v = v * factor
    w = head.weight.detach().double().T
    if opts.fold_norm:
        w = norm.weight.detach().double()[:, None] * w
    if opts.score == "cosine":
        norms = w.norm(dim=0)
        w = w / norms.clamp_min(1e-30) * norms.median()
    logits = v @ w
    if opts.bias == "include":
        logits = logits + norm.bias.detach().double() @ head.weight.detach().double().T
    keep = torch.ones(logits.shape[1], dtype=torch.bool)
    keep[list(opts.exclude_tokens)] = False
    return logits, keep


CASES = [
    {"center": "none", "scale": "norm"},
    {"center": "mean", "temperature": 0.5},
    {"scale": "raw", "exclude_tokens": (0, 3, 17, 250)},
    {"fold_norm": False, "bottom_k": 0},
    {"score": "cosine", "exclude_tokens": (5, 9)},
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_every_top_k_equals_brute_force(arch, loaded, hf_reference, case):
    model, hf = loaded(arch), hf_reference(arch)
    extra = dict(CASES[case])
    if arch == "gpt2" and case == 2:
        extra["bias"] = "include"
    for side in SIDES[arch]:
        nmap = decode_neurons(model, side, top_k=15, dtype="float64", chunk_size=7, **extra)
        opts = nmap.options
        factor = nmap.header.extras.get("calibration", {}).get("factor", 1.0)
        assert ("calibration" in nmap.header.extras) == (opts.scale == "calibrated")
        for layer in range(model.facts.n_layers):
            logits, keep = reference_logits(model, hf, arch, layer, side, opts, factor)
            kept_ids = keep.nonzero().squeeze(1)
            sub = logits[:, keep]
            order = sub.argsort(dim=1, descending=True, stable=True)
            got = nmap.layer(layer)
            assert torch.equal(got.top_ids.long(), kept_ids[order[:, :15]]), (side, layer)
            low = sub.argsort(dim=1, stable=True)[:, :opts.bottom_k]
            assert torch.equal(got.bottom_ids.long(), kept_ids[low]), (side, layer)
            logp = torch.log_softmax(sub / opts.temperature, 1)
            top_logp = logp.gather(1, order[:, :15])
            torch.testing.assert_close(got.top_probs.double(), top_logp.exp(), rtol=1e-5,
                                       atol=1e-7)
            torch.testing.assert_close(got.top_logits.double(), sub.gather(1, order[:, :15]),
                                       rtol=1e-5, atol=1e-5)
            entropy = -(logp.exp() * logp).sum(1)
            torch.testing.assert_close(got.entropy.double(), entropy, rtol=1e-5, atol=1e-5)
            ranked = sub.gather(1, order[:, :2])
            torch.testing.assert_close(got.margin.double(), ranked[:, 0] - ranked[:, 1],
                                       rtol=1e-5, atol=1e-5)


def test_float32_and_chunking_match_float64(loaded):
    model = loaded("llama")
    ref = decode_neurons(model, "up", top_k=10, dtype="float64")
    for chunk in (1, 13, None):
        got = decode_neurons(model, "up", top_k=10, chunk_size=chunk)
        for layer in ref.layers:
            a, b = got.layer(layer), ref.layer(layer)
            torch.testing.assert_close(a.top_logits.double(), b.top_logits.double(),
                                       rtol=1e-4, atol=1e-4)
            # ids agree wherever the reference has no near-tie
            gaps = (b.top_logits[:, :-1] - b.top_logits[:, 1:]).abs().min(1).values
            clear = gaps > 1e-3
            assert clear.float().mean() > 0.5
            assert torch.equal(a.top_ids[clear], b.top_ids[clear])


def test_flat_and_peaked_scores():
    from interp.neurons.decode import Unembedding, decode_vectors

    d, vocab = 4, 6
    weight = torch.zeros(d, vocab)
    weight[0, 2] = 10.0
    unembed = Unembedding(weight=weight, bias=None, token_ids=None, center_rows=False)
    opts = DecodeOptions(top_k=2, bottom_k=1, scale="raw", center="none")
    out = decode_vectors(torch.tensor([[0.0, 1, 0, 0], [1.0, 0, 0, 0]]), unembed, opts)
    assert math.isclose(float(out.entropy[0]), math.log(vocab), rel_tol=1e-6)
    assert float(out.margin[0]) == 0.0 and float(out.margin[1]) == 10.0
    assert int(out.top_ids[1, 0]) == 2 and out.top1_prob[1] > 0.99


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_blocks_and_bfloat16_rerank_match_a_float64_reference(monkeypatch, dtype):
    """Cache-sized blocks (forced to 3 rows) and the bfloat16 matmul give float64's ids, and
    probabilities and entropy within tolerance, on near-ties that bfloat16 alone cannot order:
    token 1 is token 0 scaled by 1.002, below bfloat16's resolution of the weights."""
    from interp.neurons import decode

    monkeypatch.setattr(decode, "CACHE_BLOCK_BYTES", 3 * 3000 * 4)
    g = torch.Generator().manual_seed(0)
    d, vocab = 64, 3000
    weight = torch.randn(d, vocab, generator=g)
    weight[:, 1] = weight[:, 0] * 1.002
    v = torch.cat([0.4 * weight[:, 0] + 0.1 * torch.randn(20, d, generator=g),
                   0.3 * torch.randn(20, d, generator=g)])
    opts = DecodeOptions(top_k=5, bottom_k=5, scale="raw", center="none", dtype=dtype)
    unembed = decode.Unembedding(
        weight=weight.to(getattr(torch, dtype)), bias=None, token_ids=None, center_rows=False,
        exact=weight.T.contiguous() if dtype == "bfloat16" else None)
    out = decode.decode_vectors(v, unembed, opts, chunk_size=16)
    ref = v.double() @ weight.double()
    logp = ref.log_softmax(1)
    top = ref.topk(5, dim=1).indices
    assert torch.equal(out.top_ids.long(), top)
    assert torch.equal(out.bottom_ids.long(), ref.topk(5, dim=1, largest=False).indices)
    assert bool((out.top_ids[:20, 0] == 1).all())  # the near-tie, ordered
    torch.testing.assert_close(out.top_probs.double(), logp.gather(1, top).exp(),
                               rtol=1e-2 if dtype == "bfloat16" else 1e-5, atol=0)
    entropy = -(logp.exp() * logp).sum(1)
    torch.testing.assert_close(out.entropy.double(), entropy, rtol=0,
                               atol=2e-2 if dtype == "bfloat16" else 1e-4)


# ---- independent check: decoded logits == measured logit change -------------------------
@pytest.mark.parametrize("arch", ["gpt2", "llama"])
def test_down_vector_decode_matches_measured_logit_change(tiny_model_dirs, arch):
    from interp import load_model
    from interp.hooks import add, intervene, neurons

    model = load_model(tiny_model_dirs[arch], device="cpu", dtype=torch.float64)
    # HF's LlamaRMSNorm computes in float32 even in a float64 model: a larger step there
    delta = {"gpt2": 1e-4, "llama": 3e-2}[arch]
    layer, neuron = model.facts.n_layers - 1, 11
    tokens = torch.tensor([[0, 5, 17, 99, 250, 3]])
    resid = model.hook_name("resid_post", layer)
    _, cache = model.bridge.run_with_cache(tokens, names_filter=[resid])
    x = cache[resid][0, -1].double()
    base = model.logits(tokens)[0, -1]
    with intervene(model, neurons(layer, [neuron], add(delta), positions="last")):
        plus = model.logits(tokens)[0, -1]
    with intervene(model, neurons(layer, [neuron], add(-delta), positions="last")):
        minus = model.logits(tokens)[0, -1]
    measured = (plus - minus) / (2 * delta)
    # first-order change of lm_head(final_norm(x + t w)) at t = 0
    k = model.facts.d_vocab
    nmap = decode_neurons(model, "down", layers=[layer], top_k=k, bottom_k=0, scale="raw",
                          dtype="float64", center="none")
    decoded = _scatter(nmap.layer(layer).top_ids, nmap.layer(layer).top_logits, k)[neuron]
    w = model.neuron_vectors(layer, "down")[neuron].double()
    if model.facts.norm == "layernorm":
        x, w = x - x.mean(), w - w.mean()
    eps = model.hf_model.config.to_dict().get("rms_norm_eps") or 1e-5  # gpt2: 1e-5
    r = (x.pow(2).mean() + eps).sqrt()
    w_u, _ = model.folded_unembedding(torch.float64)
    predicted = decoded.double() / r - (x @ w) / (x.numel() * r**3) * (x @ w_u)
    assert not torch.allclose(base, plus)
    torch.testing.assert_close(measured, predicted, rtol=1e-4, atol=2e-5)
    unfolded = model.hf_model.get_output_embeddings().weight.double() @ w / r
    assert (measured - unfolded).abs().max() > 100 * 2e-5  # the gain matters: a real check


# ---- bad input ---------------------------------------------------------------------------
def test_bad_input_raises_before_anything_is_written(loaded, tmp_path):
    gpt2 = loaded("gpt2")
    out = tmp_path / "never"
    bad = [{"side": "gate"}, {"side": "sideways"}, {"layers": [2]}, {"layers": [-1]},
           {"top_k": 0}, {"top_k": 301}, {"bottom_k": -1}, {"center": "median"},
           {"temperature": 0.0}, {"exclude_tokens": [400]}, {"chunk_size": 0},
           {"bias": "include", "fold_norm": False}, {"layers": []}, {"dtype": "int8"}]
    for kwargs in bad:
        with pytest.raises(InterpError) as err:
            decode_neurons(gpt2, out=out, **kwargs)
        assert "\n" not in str(err.value)
        assert not out.exists(), kwargs


def test_bfloat16_matmul_agrees_on_clear_winners(loaded):
    model = loaded("neox")
    ref = decode_neurons(model, "down", top_k=3)
    low = decode_neurons(model, "down", top_k=3, dtype="bfloat16")
    assert low.options.dtype == "bfloat16" and low.layer(0).top_logits.dtype == torch.float32
    for layer in ref.layers:
        a, b = ref.layer(layer), low.layer(layer)
        clear = (a.top_logits[:, 0] - a.top_logits[:, 1]) > 0.1
        assert torch.equal(a.top_ids[clear, 0], b.top_ids[clear, 0])
