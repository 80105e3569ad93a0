"""interp.progress: a bar when asked (a tty), lines otherwise, nothing when disabled."""

from __future__ import annotations

import io

from interp import progress
from interp.progress import Progress, say


def test_lines_bar_and_disabled():
    lines = io.StringIO()
    with Progress("stage", total=None, stream=lines, bar=False) as p:
        p.note("start ...")
        p.update(3)
    p.note("done")
    assert lines.getvalue() == "stage: start ...\nstage: done\n"

    bar = io.StringIO()
    with Progress("stage", desc="a bar", total=4, unit="doc", stream=bar, bar=True) as p:
        p.note("not a line")
        p.update(4)
    p.note("still not a line")
    assert "a bar" in bar.getvalue() and "4/4" in bar.getvalue() and "stage:" not in bar.getvalue()

    quiet = io.StringIO()
    with Progress("stage", stream=quiet, enabled=False) as p:
        p.note("x")
        p.update()
    assert quiet.getvalue() == ""
    say("label", "text", quiet)
    assert quiet.getvalue() == "label: text\n"


def test_seconds_since_the_stage_started(monkeypatch):
    now = [100.0]  # a clock that moves only when told to
    monkeypatch.setattr(progress.time, "perf_counter", lambda: now[0])
    p = Progress("stage", stream=io.StringIO(), enabled=False)
    now[0] = 102.5
    assert p.seconds == 2.5
    now[0] = 107.0
    assert p.seconds == 7.0
