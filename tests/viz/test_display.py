"""`interp.viz.show` embeds plotly.js once, so figures render offline without a CDN."""

from __future__ import annotations

import re

import plotly.graph_objects as go
import pytest

pytest.importorskip("IPython")


def test_show_inlines_plotly_js_once(monkeypatch):
    import IPython.display

    from interp.viz import display

    shown = []
    monkeypatch.setattr(IPython.display, "display", shown.append)
    monkeypatch.setattr(display, "_plotly_js_sent", False)
    fig = go.Figure(go.Scatter(x=[0, 1], y=[1, 2]))
    assert display.show(fig) is None and display.show(fig) is None  # shown once per call
    first, second = (html.data for html in shown)
    assert "Plotly.newPlot" in first and "Plotly.newPlot" in second
    assert len(first) > 1_000_000 > len(second)  # plotly.js itself only in the first
    assert not re.search(r"<script[^>]*\bsrc=", first + second)  # nothing fetched
