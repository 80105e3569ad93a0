"""interp.progress: a bar when asked (a tty), lines otherwise, nothing when disabled."""

from __future__ import annotations

import io

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
    assert quiet.getvalue() == "" and p.seconds >= 0
    say("label", "text", quiet)
    assert quiet.getvalue() == "label: text\n"
