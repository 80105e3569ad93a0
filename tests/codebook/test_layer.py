"""The codebook layer: top-k snap, straight-through gradient, identity cases, k-means,
dead-code replacement, bad input."""

from __future__ import annotations

import pytest
import torch

from interp.codebook import Codebook
from interp.codebook.kmeans import kmeans
from interp.errors import InterpError


def basis_book(dim: int, k: int, similarity: str = "inner") -> Codebook:
    book = Codebook(dim, dim, k, similarity=similarity)
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


def test_straight_through_gradient_is_identity_for_the_input():
    book = Codebook(8, 16, 3, seed=1)
    x = torch.randn(2, 4, 1, 8, requires_grad=True)
    out, _ = book(x)
    g = torch.randn_like(out)
    (out * g).sum().backward()
    assert torch.equal(x.grad, g)


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
    s = book.scores(x)
    assert torch.equal(ids[..., 0], s.argmax(-1))


def test_hook_ids_can_replace_codes():
    book = basis_book(4, 1)
    handle = book.hook_ids.register_forward_hook(lambda m, a, ids: torch.full_like(ids, 2))
    try:
        out, ids = book(torch.randn(3, 1, 4))
    finally:
        handle.remove()
    assert (ids == 2).all() and torch.equal(out[:, 0], torch.eye(4)[2].expand(3, 4))


def test_kmeans_init_and_dead_code_replacement():
    torch.manual_seed(0)
    centres = torch.randn(4, 8) * 5
    data = (centres.repeat(50, 1) + 0.01 * torch.randn(200, 8)).view(200, 1, 8)
    book = Codebook(8, 4, 1, similarity="inner")
    book.kmeans_init(data)
    err = (book.codes[0].unsqueeze(1) - centres.unsqueeze(0)).norm(dim=-1).min(0).values
    assert err.max() < 0.1, err
    got = kmeans(data[:, 0], 4, cosine=True)
    assert got.shape == (4, 8)
    book = Codebook(8, 32, 1)
    data = (3 + torch.randn(200, 8)).view(200, 1, 8)  # a cone few random codes point into
    book(data)
    dead = int((book.counts == 0).sum())
    assert dead > 0
    assert book.replace_dead(data) == dead and int(book.counts.sum()) == 0
    book(data)
    assert int((book.counts == 0).sum()) < dead / 2


def test_bad_input():
    with pytest.raises(InterpError, match="k=9 is larger than the codebook"):
        Codebook(4, 8, 9)
    with pytest.raises(InterpError, match="similarity"):
        Codebook(4, 8, 1, similarity="euclid")
    with pytest.raises(InterpError, match="expected"):
        Codebook(4, 8, 1)(torch.randn(2, 5))
