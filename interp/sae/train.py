"""Train an SAE on any source of activation batches: one tensor (full-batch epochs), a list,
a callable returning a fresh iterator per epoch, or a single iterator (streamed, one pass).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import torch
from jaxtyping import Float
from torch import Tensor

from interp.errors import InterpError
from interp.progress import Progress
from interp.sae.model import SparseAutoencoder

Batches = (
    Float[Tensor, "batch d"] | Iterable[Float[Tensor, "batch d"]]
    | Callable[[], Iterable[Float[Tensor, "batch d"]]]
)


@dataclass
class TrainLog:
    """Per-step losses and throughput of one training run."""

    loss: list[float] = field(default_factory=list)
    mse: list[float] = field(default_factory=list)
    l1: list[float] = field(default_factory=list)
    steps: int = 0
    activations: int = 0
    seconds: float = 0.0

    @property
    def activations_per_s(self) -> float:
        return self.activations / self.seconds if self.seconds > 0 else float("nan")


def _epochs(data: Batches, epochs: int) -> Iterator[Iterable[Tensor]]:
    if isinstance(data, Tensor):
        for _ in range(epochs):
            yield [data]
    elif callable(data):
        for _ in range(epochs):
            yield data()
    elif isinstance(data, Iterator):
        if epochs != 1:
            raise InterpError(f"a one-shot iterator of batches gives one epoch, not {epochs}; "
                              "pass a list or a callable returning a fresh iterator")
        yield data
    else:
        for _ in range(epochs):
            yield data


def _check(batch: object, d_in: int, step: int) -> Tensor:
    if not isinstance(batch, Tensor) or batch.dim() != 2 or batch.shape[1] != d_in:
        shape = tuple(batch.shape) if isinstance(batch, Tensor) else type(batch).__name__
        raise InterpError(f"batch {step} has shape {shape}; expected [batch, {d_in}]")
    if batch.shape[0] == 0:
        raise InterpError(f"batch {step} is empty")
    return batch


def train_sae(
    sae: SparseAutoencoder,
    data: Batches,
    *,
    epochs: int = 1,
    lr: float = 1e-3,
    seed: int = 0,
    init_bias: bool = True,
    progress: bool = False,
) -> TrainLog:
    """Adam on the SAE's loss, one step per batch; returns the TrainLog. In place.

    data: a [batch, d_in] tensor (one full-batch step per epoch, as in O'Neill & Bui), a list
    of tensors or a callable giving a fresh iterable each epoch, or one iterator (epochs=1;
    activations streamed from a large model). init_bias: set the pre-bias b_dec to the first
    batch's mean before training. The decoder stays unit-norm: the gradient component parallel
    to each row is removed before each step and rows are renormalised after it.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise InterpError(f"epochs must be a positive integer, got {epochs!r}")
    torch.manual_seed(seed)
    device = sae.W_enc.device
    opt = torch.optim.Adam(sae.parameters(), lr=lr)
    log = TrainLog()
    bar = Progress("train SAE", total=epochs, unit="epoch", enabled=progress)
    bar.note(f"{epochs} epoch(s) ...")
    start = time.perf_counter()
    with bar:
        for epoch_data in _epochs(data, epochs):
            for batch in epoch_data:
                x = _check(batch, sae.cfg.d_in, log.steps).to(device=device, dtype=sae.W_enc.dtype)
                if init_bias and log.steps == 0:
                    with torch.no_grad():
                        sae.b_dec.copy_(x.mean(0))
                out = sae.loss(x)
                opt.zero_grad(set_to_none=True)
                out["loss"].backward()
                sae.remove_parallel_grads_()
                opt.step()
                sae.normalize_decoder_()
                log.loss.append(float(out["loss"].detach()))
                log.mse.append(float(out["mse"].detach()))
                log.l1.append(float(out["l1"].detach()))
                log.steps += 1
                log.activations += x.shape[0]
            bar.update(1)
    log.seconds = time.perf_counter() - start
    if log.steps == 0:
        raise InterpError("no batches to train the SAE on")
    bar.note(f"{log.steps} steps, loss {log.loss[-1]:.4g}, "
             f"{log.activations_per_s:,.0f} activations/s")
    return log
