"""Train an AST probe with early stopping and predict trees with it.

Training follows the reference: Adam (lr 1e-3), minibatches of snippets, the learning rate cut
tenfold when the validation loss does not improve (ReduceLROnPlateau, patience 0), stopping
after `patience` epochs without improvement, and the best-validation-loss weights kept.
Minibatches group snippets of similar length (less padding), in a seeded random order.

The training step minimises the task loss (ranking hinge + CE(c) + CE(u)) plus the
orthogonality penalty; the validation loss that drives the learning-rate cuts, early stopping
and the choice of weights is by default the **task loss alone**, as in the reference (its
`run_probing_eval` applies the criterion without the penalty); `select_on="total"` adds the
penalty (orth * ||B^T B - I||_F^2), which a run with very few minibatches per epoch needs (on
the task loss alone the first epoch, before the penalty has settled, can look best and the
patience-0 learning-rate cuts then stop training). The history reports the parts
separately: `train_loss` (what was minimised), `train_task_loss`, `val_task_loss`,
`orth_penalty` (||B^T B - I||_F^2 at the end of the epoch, before the factor `orth`) and
`val_loss` (the one selected on).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from interp.astprobe.dataset import Sample
from interp.astprobe.probe import ASTProbe, probe_loss
from interp.astprobe.tree import Tree, decode
from interp.errors import InterpError, choices_error

#: What the validation loss that picks the weights, cuts the learning rate and stops training
#: is: the task loss alone ("task", the reference) or task loss + orth * penalty ("total").
SELECT_ON = ("task", "total")


@dataclass
class Vocab:
    """Label ids for c (ancestor labels) and u (unary labels), from the training samples."""

    c: list[str]
    u: list[str]

    @classmethod
    def from_samples(cls, samples: Sequence[Sample]) -> Vocab:
        cc = Counter(label for s in samples for label in s.encoding.c)
        uc = Counter(label for s in samples for label in s.encoding.u)
        order = lambda cnt: sorted(cnt, key=lambda k: (-cnt[k], k))
        return cls(order(cc), order(uc))

    def ids(self, labels: Sequence[str], which: str) -> list[int]:
        table = {k: i for i, k in enumerate(self.c if which == "c" else self.u)}
        return [table.get(label, -1) for label in labels]


@dataclass
class Batch:
    x: Tensor
    d: Tensor
    c: Tensor
    u: Tensor
    lengths: Tensor
    index: list[int]

    def to(self, device: Any) -> Batch:
        return Batch(self.x.to(device), self.d.to(device), self.c.to(device), self.u.to(device),
                     self.lengths.to(device), self.index)


def make_batches(xs: Sequence[Tensor], samples: Sequence[Sample], vocab: Vocab,
                 batch_size: int) -> list[Batch]:
    """Padded batches of snippets of similar length (d padded with 0, c / u with -1)."""
    order = sorted(range(len(samples)), key=lambda i: samples[i].n_leaves)
    out = []
    for b0 in range(0, len(order), batch_size):
        idx = order[b0:b0 + batch_size]
        n = max(samples[i].n_leaves for i in idx)
        dim = xs[idx[0]].shape[-1]
        x = torch.zeros(len(idx), n, dim)
        d = torch.zeros(len(idx), n - 1)
        c = torch.full((len(idx), n - 1), -1, dtype=torch.long)
        u = torch.full((len(idx), n), -1, dtype=torch.long)
        for r, i in enumerate(idx):
            s, k = samples[i], samples[i].n_leaves
            x[r, :k] = xs[i]
            d[r, :k - 1] = torch.tensor(s.encoding.d, dtype=torch.float)
            c[r, :k - 1] = torch.tensor(vocab.ids(s.encoding.c, "c"))
            u[r, :k] = torch.tensor(vocab.ids(s.encoding.u, "u"))
        lengths = torch.tensor([samples[i].n_leaves for i in idx])
        out.append(Batch(x, d, c, u, lengths, idx))
    return out


@dataclass
class TrainResult:
    probe: ASTProbe
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    #: the validation loss selected on (history's `val_loss`) of the kept weights
    best_val_loss: float = float("inf")

    @property
    def best(self) -> dict[str, float]:
        """The history entry of the kept (best-validation) epoch ({} before training)."""
        return self.history[self.best_epoch - 1] if self.best_epoch else {}


def task_loss(parts: dict[str, float]) -> float:
    """The task part of `probe_loss`'s parts: ranking hinge + CE(c) + CE(u)."""
    return parts["rank"] + parts["c"] + parts["u"]


def eval_task_loss(probe: ASTProbe, batches: list[Batch], device: Any = "cpu") -> float:
    """Mean task loss over the snippets of `batches` (each batch weighted by its size), without
    the orthogonality penalty: the validation loss of training."""
    total, weight = 0.0, 0
    with torch.no_grad():
        for b in batches:
            _, parts = probe_loss(probe, *_args(b.to(device)), orth=0.0)
            total += task_loss(parts) * len(b.index)
            weight += len(b.index)
    return total / max(1, weight)


def _args(b: Batch) -> tuple[Tensor, ...]:
    return b.x, b.d, b.c, b.u, b.lengths


def train_probe(
    train_x: Sequence[Tensor], train_samples: Sequence[Sample],
    val_x: Sequence[Tensor], val_samples: Sequence[Sample], vocab: Vocab, *,
    rank: int = 64, orth: float = 5.0, lr: float = 1e-3, epochs: int = 20, patience: int = 5,
    batch_size: int = 32, seed: int = 0, device: str | torch.device = "cpu",
    lr_patience: int = 0, select_on: str = "task",
) -> TrainResult:
    """Fit an ASTProbe on leaf vectors `train_x[i]` ([n_leaves_i, d]) of the samples."""
    if select_on not in SELECT_ON:
        raise choices_error("select_on", select_on, SELECT_ON)
    if not train_samples or not val_samples:
        raise InterpError("the AST probe needs at least one training and one validation snippet")
    d_model = train_x[0].shape[-1]
    if not 1 <= rank <= d_model:
        raise InterpError(f"rank {rank} out of range; valid: 1..{d_model} (the vector width)")
    threads = torch.get_num_threads()
    if torch.device(device).type == "cpu":
        torch.set_num_threads(1)  # tiny matmuls: extra threads only contend (10x slower here)
    try:
        return _train(train_x, train_samples, val_x, val_samples, vocab, rank, orth, lr, epochs,
                      patience, batch_size, seed, device, lr_patience, select_on)
    finally:
        torch.set_num_threads(threads)


def _train(train_x: Sequence[Tensor], train_samples: Sequence[Sample], val_x: Sequence[Tensor],
           val_samples: Sequence[Sample], vocab: Vocab, rank: int, orth: float, lr: float,
           epochs: int, patience: int, batch_size: int, seed: int, device: Any,
           lr_patience: int, select_on: str) -> TrainResult:
    d_model = train_x[0].shape[-1]
    torch.manual_seed(seed)
    probe = ASTProbe(d_model, rank, max(1, len(vocab.c)), max(1, len(vocab.u))).to(device)
    train_b = make_batches(train_x, train_samples, vocab, batch_size)
    val_b = make_batches(val_x, val_samples, vocab, batch_size)
    opt = torch.optim.Adam(probe.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.1,
                                                       patience=lr_patience)
    rng = random.Random(seed)
    result = TrainResult(probe)
    best_state, bad = None, 0
    for epoch in range(1, epochs + 1):
        probe.train()
        rng.shuffle(train_b)
        run, run_task = 0.0, 0.0
        for b in train_b:
            loss, parts = probe_loss(probe, *_args(b.to(device)), orth=orth)
            opt.zero_grad()
            loss.backward()
            opt.step()
            run += float(loss.detach())
            run_task += task_loss(parts)
        probe.eval()
        val_task = eval_task_loss(probe, val_b, device)
        with torch.no_grad():
            pen = float(probe.orthogonality())
        val = val_task if select_on == "task" else val_task + orth * pen
        sched.step(val)
        result.history.append({"epoch": epoch, "train_loss": run / len(train_b),
                               "train_task_loss": run_task / len(train_b),
                               "val_task_loss": val_task, "orth_penalty": pen,
                               "val_loss": val, "lr": opt.param_groups[0]["lr"]})
        if val < result.best_val_loss:
            result.best_val_loss, result.best_epoch, bad = val, epoch, 0
            best_state = {k: v.detach().clone() for k, v in probe.state_dict().items()}
        else:
            bad += 1
            if bad >= patience:
                break
    if best_state is not None:
        probe.load_state_dict(best_state)
    probe.eval()
    return result


def predict_trees(probe: ASTProbe, xs: Sequence[Tensor], samples: Sequence[Sample], vocab: Vocab,
                  batch_size: int = 64) -> list[Tree]:
    """Decode each snippet's predicted (d, c, u) into a tree (same order as `samples`)."""
    device = probe.proj.device
    out: list[Tree | None] = [None] * len(samples)
    with torch.no_grad():
        for b in make_batches(xs, samples, vocab, batch_size):
            pred_d, s_c, s_u = probe(b.x.to(device))
            c_ids, u_ids = s_c.argmax(-1).cpu(), s_u.argmax(-1).cpu()
            pred_d = pred_d.cpu()
            for r, i in enumerate(b.index):
                n = samples[i].n_leaves
                out[i] = decode(pred_d[r, :n - 1].tolist(),
                                [vocab.c[k] for k in c_ids[r, :n - 1].tolist()],
                                [vocab.u[k] for k in u_ids[r, :n].tolist()])
    return out  # type: ignore[return-value]
