"""SAE: gradients, unit-norm decoder, loss decrease, dictionary recovery, codes, artifacts."""

from __future__ import annotations

import json

import pytest
import torch

from interp.errors import InterpError
from interp.sae import (
    NO_CODE,
    SAEConfig,
    SparseAutoencoder,
    load_sae,
    sae_codes,
    save_sae,
    train_sae,
)


def sparse_data(n: int, d: int = 32, n_atoms: int = 16, seed: int = 0):
    """x = codes @ atoms with 1-2 active atoms per sample (positive magnitudes)."""
    gen = torch.Generator().manual_seed(seed)
    atoms = torch.randn(n_atoms, d, generator=gen)
    atoms = atoms / atoms.norm(dim=-1, keepdim=True)
    codes = torch.zeros(n, n_atoms)
    for i in range(n):
        k = int(torch.randint(1, 3, (1,), generator=gen))
        idx = torch.randperm(n_atoms, generator=gen)[:k]
        codes[i, idx] = 1.0 + torch.rand(k, generator=gen)
    return codes @ atoms, atoms


@pytest.mark.parametrize("activation,k", [("relu", None), ("topk", 3)])
def test_every_parameter_gets_a_gradient(activation, k):
    sae = SparseAutoencoder(SAEConfig(d_in=8, n_latents=16, activation=activation, k=k))
    x = torch.randn(32, 8)
    sae.loss(x)["loss"].backward()
    for name, p in sae.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_decoder_stays_unit_norm_and_loss_decreases():
    x, _ = sparse_data(256)
    sae = SparseAutoencoder(SAEConfig(d_in=32, n_latents=64, l1=0.01))
    log = train_sae(sae, x, epochs=50, lr=1e-2)
    norms = sae.W_dec.norm(dim=-1)
    assert torch.allclose(norms, torch.ones_like(norms), atol=1e-5)
    assert log.loss[-1] < 0.5 * log.loss[0]
    assert log.steps == 50 and log.activations == 50 * 256


def test_paper_layout_unit_norm_axes_and_init():
    """O'Neill & Bui's ConstrainedUnitNormLinear: the encoder's weight [n_latents, d_in] and
    the decoder's weight [d_in, n_latents] each have unit-norm rows (their dim=-1), before
    and after training; encoder and decoder are drawn independently, the encoder bias as
    torch.nn.Linear's, the tied pre-bias from 0."""
    cfg = SAEConfig(d_in=8, n_latents=16, unit_norm="oneill-bui", init="oneill-bui", l1=0.05)
    sae = SparseAutoencoder(cfg, seed=0)
    enc, dec = sae.W_enc.detach().T, sae.W_dec.detach().T  # in the paper's nn.Linear layout
    ones = torch.ones(16)
    torch.testing.assert_close(enc.pow(2).sum(1), ones)
    torch.testing.assert_close(dec.pow(2).sum(1), torch.ones(8))
    assert not torch.allclose(sae.W_enc, sae.W_dec.T)  # not tied
    assert (sae.b_dec == 0).all()
    # the documented draw, written out: W_enc [d_in, n_latents] then W_dec [n_latents, d_in]
    # from N(0, 1), b_enc ~ U(-1/sqrt(d_in), 1/sqrt(d_in)), one generator seeded with `seed`;
    # both weights normalised along the paper's axes (W_enc's and W_dec's columns)
    gen = torch.Generator().manual_seed(0)
    w_enc, w_dec = torch.randn(8, 16, generator=gen), torch.randn(16, 8, generator=gen)
    b_enc = (torch.rand(16, generator=gen) * 2 - 1) / 8 ** 0.5
    torch.testing.assert_close(sae.W_enc.detach(), w_enc / w_enc.norm(dim=0))
    torch.testing.assert_close(sae.W_dec.detach(), w_dec / w_dec.norm(dim=0))
    torch.testing.assert_close(sae.b_enc.detach(), b_enc)
    x, _ = sparse_data(64, d=8, n_atoms=4)
    train_sae(sae, x, epochs=30, lr=1e-2, init_bias=False)
    torch.testing.assert_close(sae.W_enc.detach().T.pow(2).sum(1), ones)
    torch.testing.assert_close(sae.W_dec.detach().T.pow(2).sum(1), torch.ones(8))
    # the dictionary convention keeps W_dec's rows (latent directions) at unit norm instead
    atoms = SparseAutoencoder(SAEConfig(d_in=8, n_latents=16))
    torch.testing.assert_close(atoms.W_dec.detach().pow(2).sum(1), ones)
    assert torch.equal(atoms.W_enc, atoms.W_dec.T)
    with pytest.raises(InterpError, match="SAE unit norm"):
        SAEConfig(d_in=4, unit_norm="rows")
    with pytest.raises(InterpError, match="SAE init"):
        SAEConfig(d_in=4, init="xavier")


def test_paper_init_distributions():
    """Whatever the order of the draws: the paper's encoder and decoder weights are normalised
    N(0, 1) draws (both signs, mean 0, Gaussian tails: an entry of a random unit vector in d
    dimensions has kurtosis 3d / (d + 2), a normalised uniform draw about 1.8) and the encoder
    bias is uniform on the symmetric interval +-1/sqrt(d_in) (mean 0, variance bound^2 / 3)."""
    d, n = 64, 2048
    sae = SparseAutoencoder(SAEConfig(d_in=d, n_latents=n, unit_norm="oneill-bui",
                                      init="oneill-bui"), seed=3)
    # unit columns: W_enc [d, n] one per latent (length d), W_dec [n, d] one per input
    # dimension (length n)
    for w in (sae.W_enc.detach(), sae.W_dec.detach()):
        length = w.shape[0]
        torch.testing.assert_close(w.norm(dim=0), torch.ones(w.shape[1]))
        x = (w * length ** 0.5).flatten().double()
        assert abs(float(x.mean())) < 0.02 and 0.45 < float((x > 0).double().mean()) < 0.55
        kurtosis = float((x - x.mean()).pow(4).mean() / x.var().pow(2))
        assert abs(kurtosis - 3 * length / (length + 2)) < 0.15, kurtosis
    b, bound = sae.b_enc.detach().double(), d ** -0.5
    assert float(b.abs().max()) <= bound
    assert float(b.min()) < -0.95 * bound and float(b.max()) > 0.95 * bound
    assert abs(float(b.mean())) < 0.05 * bound
    assert float(b.var()) == pytest.approx(bound ** 2 / 3, rel=0.1)
    assert 0.45 < float((b > 0).double().mean()) < 0.55


def test_parallel_gradient_is_removed_along_the_paper_axes():
    sae = SparseAutoencoder(SAEConfig(d_in=8, n_latents=16, unit_norm="oneill-bui",
                                      init="oneill-bui"))
    sae.loss(torch.randn(32, 8))["loss"].backward()
    sae.remove_parallel_grads_()
    assert (sae.W_enc.grad * sae.W_enc).sum(0).abs().max() < 1e-6
    assert (sae.W_dec.grad * sae.W_dec).sum(0).abs().max() < 1e-6
    assert (sae.W_dec.grad * sae.W_dec).sum(1).abs().max() > 1e-4  # not the other axis


def test_parallel_gradient_is_removed():
    sae = SparseAutoencoder(SAEConfig(d_in=8, n_latents=16))
    sae.loss(torch.randn(32, 8))["loss"].backward()
    sae.remove_parallel_grads_()
    assert (sae.W_dec.grad * sae.W_dec).sum(-1).abs().max() < 1e-6


@pytest.mark.parametrize("activation,k", [("relu", None), ("topk", 2)])
def test_recovers_planted_dictionary(activation, k):
    x, atoms = sparse_data(2048)
    sae = SparseAutoencoder(SAEConfig(d_in=32, n_latents=32, activation=activation, k=k,
                                      l1=0.003 if activation == "relu" else 0.0), seed=1)
    batches = list(x.split(256))
    train_sae(sae, batches, epochs=60, lr=5e-3, init_bias=False)
    cos = atoms @ sae.W_dec.detach().T  # [true atom, latent]
    best = cos.max(dim=1).values
    assert best.min() > 0.9, best


def test_random_dictionary_does_not_match():
    """The recovery check can fail: an untrained SAE's decoder does not match the atoms."""
    _, atoms = sparse_data(8)
    sae = SparseAutoencoder(SAEConfig(d_in=32, n_latents=32), seed=1)
    assert (atoms @ sae.W_dec.detach().T).max(dim=1).values.min() < 0.9


def test_streamed_iterator_and_errors():
    x, _ = sparse_data(64)
    sae = SparseAutoencoder(SAEConfig(d_in=32, n_latents=16))
    log = train_sae(sae, iter(x.split(16)))
    assert log.steps == 4
    with pytest.raises(InterpError, match="one epoch"):
        train_sae(sae, iter(x.split(16)), epochs=2)
    with pytest.raises(InterpError, match=r"expected \[batch, 32\]"):
        train_sae(sae, [torch.randn(4, 7)])
    with pytest.raises(InterpError, match="activation"):
        SAEConfig(d_in=4, activation="gelu")
    with pytest.raises(InterpError, match="k in 1..8"):
        SAEConfig(d_in=4, n_latents=8, activation="topk", k=9)


def test_codes_argmax_topk_and_no_code():
    sae = SparseAutoencoder(SAEConfig(d_in=4, n_latents=6))
    x = torch.randn(10, 4)
    z = sae.encode(x)
    c = sae_codes(sae, x)
    fired = z.max(-1).values > 0
    assert torch.equal(c[fired], z.argmax(-1)[fired])
    assert (c[~fired] == NO_CODE).all()
    top = sae_codes(sae, x, k=3)
    assert top.shape == (10, 3)
    # the paper's np.argmax: an input on which nothing fires gets latent 0's code
    plain = sae_codes(sae, x, silent="argmax")
    assert torch.equal(plain[fired], c[fired]) and (plain[~fired] == 0).all()
    with torch.no_grad():
        sae.b_enc.fill_(-1e3)
    assert (sae_codes(sae, x) == NO_CODE).all()
    assert (sae_codes(sae, x, silent="argmax") == 0).all()
    with pytest.raises(InterpError, match="silent-input code"):
        sae_codes(sae, x, silent="skip")
    with pytest.raises(InterpError, match="k=1"):
        sae_codes(sae, x, k=2, silent="argmax")


def test_save_load_round_trip_and_refuses_other_model(tmp_path):
    sae = SparseAutoencoder(SAEConfig(d_in=8, n_latents=16, activation="topk", k=2), seed=3)
    out = save_sae(sae, tmp_path / "sae", model_name="m", fingerprint="abc", hook="heads.mean")
    meta = json.loads((out / "cfg.json").read_text())
    assert meta["fingerprint"] == "abc" and meta["hook"] == "heads.mean"
    back, meta = load_sae(out, fingerprint="abc")
    x = torch.randn(5, 8)
    assert torch.equal(back.encode(x), sae.encode(x))
    assert back.cfg == sae.cfg and meta["model_name"] == "m"
    with pytest.raises(InterpError, match="not this one"):
        load_sae(out, fingerprint="other")
    with pytest.raises(InterpError, match="not an SAE directory"):
        load_sae(tmp_path / "missing")
    assert not [p for p in out.iterdir() if p.name.startswith(".tmp")]
