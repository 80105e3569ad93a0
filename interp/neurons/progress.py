"""Progress of a neuron-map run: one interp.progress.Progress stage per layer (a tqdm bar on a
terminal, one line per layer otherwise: logs, CI, notebooks piped to files)."""

from __future__ import annotations

import sys
from typing import TextIO

from interp.progress import Progress, say


class LayerProgress:
    """Reports layer starts, chunk progress and layer ends to `stream` (default stderr).
    `bar`: force the tqdm bar on/off (default: the stream is a tty)."""

    def __init__(self, stream: TextIO | None = None, bar: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.bar = self.stream.isatty() if bar is None else bar
        self._stage: Progress | None = None
        self._done = 0

    def start(self, layer: int, n_neurons: int, position: str) -> None:
        self.close()
        self._done = 0
        self._stage = Progress(f"layer {layer} ({position})", total=n_neurons, unit="neuron",
                               stream=self.stream, bar=self.bar)

    def advance(self, n_done: int) -> None:
        if self._stage is not None:
            self._stage.update(n_done - self._done)
        self._done = n_done

    def end(self, layer: int, n_neurons: int, position: str) -> float:
        stage = self._stage or Progress(f"layer {layer} ({position})", stream=self.stream,
                                        bar=False)
        seconds = stage.seconds
        stage.close()
        stage.note(f"{n_neurons} neurons in {seconds:.2f} s")
        self._stage = None
        return seconds

    def skip(self, layer: int, position: str) -> None:
        say(f"layer {layer} ({position})", "already done, kept", self.stream)

    def close(self) -> None:
        if self._stage is not None:
            self._stage.close()
            self._stage = None
