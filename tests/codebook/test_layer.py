"""The codebook layer: LayerNorm then top-k snap (against a hand-computed reference), the
straight-through gradient, the per-group reconstruction loss (the authors' per-head sum),
identity cases, k-means, dead-code replacement, bad input."""

from __future__ import annotations

import pytest
import torch

from interp.codebook import Codebook
from interp.codebook.kmeans import kmeans
from interp.errors import InterpError


def basis_book(dim: int, k: int, similarity: str = "inner") -> Codebook:
    book = Codebook(dim, dim, k, similarity=similarity, layer_norm=False)
    with torch.no_grad():
        book.codes[0] = torch.eye(dim)
    return book


@pytest.mark.parametrize("similarity", ["inner", "cosine"])
def test_basis_codes_are_identity_on_codes_and_k_all_is_the_mean(similarity):
    dim = 6
    # k = 1: every code (a basis vector, at any positive scale for cosine) snaps to itself
    book = basis_book(dim, 1, similarity)
    x = torch.eye(dim).view(dim, 1, dim)
    out, ids = book(x)
    assert torch.equal(out, x)
    assert ids.view(-1).tolist() == list(range(dim))
    # k = codebook size: every code is active, ranked by similarity; the output is their mean
    book = basis_book(dim, dim, similarity)
    x = torch.randn(3, 5, 1, dim)
    out, ids = book(x)
    assert torch.equal(ids.sort(-1).values, torch.arange(dim).expand(3, 5, 1, dim))
    assert torch.allclose(out, torch.full_like(out, 1 / dim))
    assert torch.equal(ids[..., 0], x.argmax(-1))  # most similar first


def reference_ln(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """The authors' per-codebook torch.nn.LayerNorm(dim, eps=1e-05), one per group, by hand:
    (x - mean) / sqrt(biased var + eps) * weight + bias."""
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + 1e-5) * weight + bias


@pytest.mark.parametrize("similarity", ["cosine", "inner"])
def test_default_layer_norm_then_top_k_matches_a_hand_computed_reference(similarity):
    torch.manual_seed(0)
    dim, n_codes, k, groups = 8, 32, 4, 3
    book = Codebook(dim, n_codes, k, groups=groups, similarity=similarity, seed=5)
    with torch.no_grad():  # a non-trivial affine, per group
        book.ln_weight.copy_(1 + 0.5 * torch.randn(groups, dim))
        book.ln_bias.copy_(0.3 * torch.randn(groups, dim))
    # inputs with a large shared offset: the layer norm removes it, plain cosine would not
    x = (torch.randn(5, 7, groups, dim) + 4.0).requires_grad_(True)
    out, ids = book(x)
    codes = book.codes.detach()
    for g in range(groups):
        h = torch.nn.functional.layer_norm(x[:, :, g].detach(), (dim,),
                                           book.ln_weight[g].detach(), book.ln_bias[g].detach(),
                                           eps=1e-5)
        torch.testing.assert_close(h, reference_ln(x[:, :, g].detach(), book.ln_weight[g],
                                                   book.ln_bias[g]).detach())
        sim = h @ codes[g].T / codes[g].norm(dim=-1)
        if similarity == "cosine":
            sim = sim / h.norm(dim=-1, keepdim=True)
        want = sim.topk(k, dim=-1).indices
        assert torch.equal(ids[:, :, g], want)
        torch.testing.assert_close(out[:, :, g].detach(), codes[g][want].mean(-2))
        torch.testing.assert_close(book.last_input[:, :, g], h)
        # without the layer norm the ids would differ (so this test sees whether it is on)
        raw = (x[:, :, g].detach() @ codes[g].T).topk(k, dim=-1).indices
        assert (raw != want).any(-1).float().mean() > 0.5
    # straight-through: the output's gradient reaches x through the layer norm's backward
    grad = torch.randn_like(out)
    (out * grad).sum().backward()
    xr = x.detach().clone().requires_grad_(True)
    ref = reference_ln(xr, book.ln_weight.detach(), book.ln_bias.detach())
    (ref * grad).sum().backward()
    torch.testing.assert_close(x.grad, xr.grad)


def test_the_layer_norm_affine_trains_only_for_groups_of_codebooks():
    """As the authors' optimiser: the LayerNorm of a per-head (group) codebook is among the
    codebook parameters, a single codebook's is not (only its embedding is)."""
    single, heads = Codebook(8, 4, 1), Codebook(8, 4, 1, groups=3)
    assert not single.ln_weight.requires_grad and not single.ln_bias.requires_grad
    assert heads.ln_weight.requires_grad and heads.ln_bias.requires_grad
    assert not hasattr(Codebook(8, 4, 1, layer_norm=False), "ln_weight")


def test_straight_through_gradient_is_identity_for_the_input_without_layer_norm():
    book = Codebook(8, 16, 3, seed=1, layer_norm=False)
    x = torch.randn(2, 4, 1, 8, requires_grad=True)
    out, _ = book(x)
    g = torch.randn_like(out)
    (out * g).sum().backward()
    assert torch.equal(x.grad, g)


def test_reconstruction_loss_is_the_sum_over_groups_of_each_groups_token_mean():
    """The authors' aeloss per codebook, mean over tokens of |out - LN(x)|^2, summed over the
    per-head codebooks: each head's codes get their own error's full gradient."""
    torch.manual_seed(1)
    book = Codebook(6, 10, 2, groups=4, seed=3)
    x = torch.randn(3, 5, 4, 6)
    _, ids = book(x)
    loss = book.reconstruction_loss()
    loss.backward()
    codes = book.codes.detach()
    want, grads = 0.0, []
    for g in range(4):
        c = codes[g].clone().requires_grad_(True)
        h = reference_ln(x[:, :, g], book.ln_weight[g], book.ln_bias[g]).detach()
        err = ((c[ids[:, :, g]].mean(-2) - h) ** 2).sum(-1).mean()
        err.backward()
        want += float(err.detach())
        grads.append(c.grad)
    assert float(loss.detach()) == pytest.approx(want, rel=1e-5)
    torch.testing.assert_close(book.codes.grad, torch.stack(grads))


def test_every_trainable_parameter_gets_a_gradient():
    book = Codebook(8, 4, 2, groups=3, seed=2)
    x = torch.randn(64, 3, 8, requires_grad=True)
    out, _ = book(x)
    loss = out.pow(2).sum() + book.reconstruction_loss()
    loss.backward()
    for name, p in book.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    # only the selected codes get the output's gradient; an unused code gets none of it
    book.zero_grad()
    used = torch.zeros(3, 4, dtype=torch.bool)
    out, ids = book(x[:1])
    out.sum().backward()
    used[torch.arange(3).view(-1, 1), ids[0]] = True
    assert (book.codes.grad.abs().sum(-1) > 0).eq(used).all()


def test_groups_are_independent_and_usage_is_counted():
    book = Codebook(4, 5, 1, groups=2, seed=3)
    x = torch.randn(10, 2, 4)
    _, ids = book(x)
    assert ids.shape == (10, 2, 1)
    for g in range(2):
        assert torch.equal(book.counts[g], torch.bincount(ids[:, g, 0], minlength=5))
        # each group is matched against its own codes only (hand-computed cosine)
        h = reference_ln(x[:, g], 1.0, 0.0)
        c = book.codes[g].detach()
        sim = (h @ c.T) / (h.norm(dim=-1, keepdim=True) * c.norm(dim=-1))
        assert torch.equal(ids[:, g, 0], sim.argmax(-1))
    with torch.no_grad():  # changing group 1's codes leaves group 0's ids alone
        book.codes[1] = torch.randn(5, 4)
    _, again = book(x)
    assert torch.equal(again[:, 0], ids[:, 0])


def test_hook_ids_can_replace_codes():
    book = basis_book(4, 1)
    handle = book.hook_ids.register_forward_hook(lambda m, a, ids: torch.full_like(ids, 2))
    try:
        out, ids = book(torch.randn(3, 1, 4))
    finally:
        handle.remove()
    assert (ids == 2).all() and torch.equal(out[:, 0], torch.eye(4)[2].expand(3, 4))


def nearest_error(codes: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """For each centre, the distance to the closest code."""
    return (codes.unsqueeze(1) - centres.unsqueeze(0)).norm(dim=-1).min(0).values


def test_kmeans_init_and_dead_code_replacement():
    torch.manual_seed(0)
    centres = torch.randn(4, 8) * 5
    data = (centres.repeat(50, 1) + 0.01 * torch.randn(200, 8)).view(200, 1, 8)
    book = Codebook(8, 4, 1, similarity="inner", layer_norm=False)
    book.kmeans_init(data)
    err = nearest_error(book.codes[0], centres)
    assert err.max() < 0.1, err
    # with the layer norm the codes are centroids of the normalised inputs
    book = Codebook(8, 4, 1, similarity="inner")
    book.kmeans_init(data)
    err = nearest_error(book.codes[0], reference_ln(centres, 1.0, 0.0))
    assert err.max() < 0.1, err
    # spherical k-means: each centroid is a direction at its members' mean norm
    directions = torch.nn.functional.normalize(torch.randn(4, 8), dim=-1) * 4
    norms = torch.tensor([1.0, 2.0, 3.0, 5.0]).repeat(50)
    points = directions.repeat(50, 1) * (norms / 4).unsqueeze(-1)
    got = kmeans(points + 0.01 * torch.randn(200, 8), 4, cosine=True)
    want = torch.nn.functional.normalize(directions, dim=-1) * norms[:4].unsqueeze(-1)
    assert nearest_error(got, want).max() < 0.1
    # dead codes: inputs whose normalised form is a narrow cone few random codes point into
    book = Codebook(8, 32, 1)
    base = reference_ln(torch.randn(8), 1.0, 0.0)
    data = (3 * base + 0.3 * torch.randn(200, 8)).view(200, 1, 8)
    book(data)
    dead = int((book.counts == 0).sum())
    assert dead > 16
    seen = book.last_input.reshape(200, 1, 8)
    assert book.replace_dead(seen) == dead and int(book.counts.sum()) == 0
    book(data)
    assert int((book.counts == 0).sum()) < dead / 2


def test_bad_input():
    with pytest.raises(InterpError, match="k=9 is larger than the codebook"):
        Codebook(4, 8, 9)
    with pytest.raises(InterpError, match="similarity"):
        Codebook(4, 8, 1, similarity="euclid")
    with pytest.raises(InterpError, match="expected"):
        Codebook(4, 8, 1)(torch.randn(2, 5))
