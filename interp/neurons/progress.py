"""Progress of a neuron-map run: a tqdm bar per layer on a terminal, one line per layer
otherwise (logs, CI, notebooks piped to files)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class LayerProgress:
    """Reports layer starts, chunk progress and layer ends to `stream` (default stderr)."""

    def __init__(self, stream: TextIO | None = None, bar: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.bar = self.stream.isatty() if bar is None else bar
        self._tqdm = None
        self._t0 = 0.0
        self._done = 0

    def start(self, layer: int, n_neurons: int, position: str) -> None:
        self._t0 = time.perf_counter()
        self._done = 0
        if self.bar:
            from tqdm import tqdm

            self._tqdm = tqdm(total=n_neurons, desc=f"layer {layer} ({position})", unit="neuron",
                              file=self.stream, leave=True, dynamic_ncols=True)

    def advance(self, n_done: int) -> None:
        if self._tqdm is not None:
            self._tqdm.update(n_done - self._done)
        self._done = n_done

    def end(self, layer: int, n_neurons: int, position: str) -> float:
        seconds = time.perf_counter() - self._t0
        if self._tqdm is not None:
            self._tqdm.close()
            self._tqdm = None
        else:
            print(f"layer {layer} ({position}): {n_neurons} neurons in {seconds:.2f} s",
                  file=self.stream, flush=True)
        return seconds

    def skip(self, layer: int, position: str) -> None:
        print(f"layer {layer} ({position}): already done, kept", file=self.stream, flush=True)

    def close(self) -> None:
        if self._tqdm is not None:
            self._tqdm.close()
            self._tqdm = None
