"""Planted leaf vectors: a hidden isometry maps them onto a walk whose steps have squared
length d_i and direction v(c_i), plus a small code of u_i; every other coordinate is noise.
A probe that finds this `k_walk + k_u`-dimensional subspace recovers the trees exactly."""

from __future__ import annotations

import torch

from interp.astprobe.train import Vocab


def _units(n: int, k: int, g: torch.Generator) -> torch.Tensor:
    v = torch.randn(n, k, generator=g)
    return v / v.norm(dim=1, keepdim=True)


def planted_reps(samples, vocab: Vocab, dim: int = 96, k_walk: int = 24, k_u: int = 8,
                 noise: float = 1.0, seed: int = 0, label_seed: int = 123):
    """Leaf vectors [n_leaves, dim] per sample; labels unseen in `vocab` share one direction."""
    lg = torch.Generator().manual_seed(label_seed)  # the same label directions for every split
    basis, _ = torch.linalg.qr(torch.randn(dim, dim, generator=lg))
    v_c, v_u = _units(len(vocab.c) + 1, k_walk, lg), _units(len(vocab.u) + 1, k_u, lg)
    k = k_walk + k_u
    signal, rest = basis[:, :k].T, basis[:, k:].T
    g = torch.Generator().manual_seed(seed)
    out = []
    for s in samples:
        y = torch.zeros(s.n_leaves, k)
        for i, (dist, ci) in enumerate(zip(s.encoding.d, vocab.ids(s.encoding.c, "c"))):
            y[i + 1, :k_walk] = y[i, :k_walk] + float(dist) ** 0.5 * v_c[ci]
        y[:, k_walk:] = 0.3 * v_u[torch.tensor(vocab.ids(s.encoding.u, "u"))]
        z = noise * torch.randn(s.n_leaves, dim - k, generator=g)
        out.append(y @ signal + z @ rest)
    return out
