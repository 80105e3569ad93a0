"""Show a plotly figure in a notebook so that it also renders offline in the built docs.

`fig.show()` relies on require.js or a CDN in exported HTML; `show` instead emits HTML that
carries plotly.js inline the first time in a kernel session and reuses it afterwards.
"""

from __future__ import annotations

from typing import Any

_plotly_js_sent = False


def show(fig: Any) -> None:
    """Display `fig` (a plotly Figure) as self-contained HTML. Returns None, so a `show(...)`
    ending a cell is displayed once, not again as the cell's value."""
    global _plotly_js_sent
    from IPython.display import HTML, display

    # plotly's random div id: the same figure shown twice in a notebook stays two figures
    html = fig.to_html(full_html=False, include_plotlyjs=not _plotly_js_sent)
    _plotly_js_sent = True
    display(HTML(html))
