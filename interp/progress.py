"""The one progress reporter: a tqdm bar on a terminal (the stream, default stderr, is a tty),
one line per stage otherwise (logs, CI, notebooks piped to files).

    with Progress("capture", total=n_batches, unit="batch", enabled=progress) as bar:
        bar.note("3 hooks ...")      # a line when there is no bar
        for batch in batches:
            bar.update(1)            # moves the bar; no line
    bar.note("5 sequences")          # a line when there was no bar; also after close
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from typing_extensions import Self


def say(label: str, text: str, stream: TextIO | None = None, *, enabled: bool = True) -> None:
    """Print one `label: text` progress line (default stream: stderr), flushed; nothing when
    not `enabled`."""
    if enabled:
        print(f"{label}: {text}", file=stream or sys.stderr, flush=True)


class Progress:
    """Progress of one stage. `label` prefixes the lines; `desc` (default `label`) names the
    bar; `total` may be None (unknown). `bar`: force the bar on/off (default: stream is a
    tty). Disabled (`enabled=False`), every method does nothing."""

    def __init__(self, label: str, *, total: int | None = None, unit: str = "it",
                 desc: str | None = None, enabled: bool = True, stream: TextIO | None = None,
                 bar: bool | None = None) -> None:
        self.label, self.enabled = label, enabled
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()
        self._tqdm = None
        self.lines = enabled and not (self.stream.isatty() if bar is None else bar)
        if enabled and not self.lines:
            from tqdm import tqdm

            self._tqdm = tqdm(total=total, desc=desc or label, unit=unit, file=self.stream,
                              leave=True, dynamic_ncols=True)

    @property
    def seconds(self) -> float:
        """Seconds since this stage started."""
        return time.perf_counter() - self.start

    def update(self, n: int = 1) -> None:
        """Advance the bar by `n` (no line is printed without a bar)."""
        if self._tqdm is not None:
            self._tqdm.update(n)

    def note(self, text: str) -> None:
        """A `label: text` line, in line mode only (a bar shows progress by itself)."""
        if self.lines:
            say(self.label, text, self.stream)

    def close(self) -> None:
        """Close the bar (idempotent); `note` still works afterwards."""
        if self._tqdm is not None:
            self._tqdm.close()
            self._tqdm = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def quiet_widgetless_notebook_bars() -> None:
    """In a Jupyter kernel without ipywidgets, importing `tqdm.auto` (transformers does, on
    import) warns in red that IProgress is missing, then falls back to text bars, which is what
    interp wants there anyway. Import it first with that one warning ignored; elsewhere do
    nothing."""
    if "tqdm.auto" in sys.modules or "ipykernel" not in sys.modules:
        return
    import warnings

    from tqdm import TqdmWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found", category=TqdmWarning)
        import tqdm.auto  # noqa: F401
