"""A plotly figure as HTML, the same bytes for the same figure: plotly names each figure's
<div> with a random UUID, so every written page would differ between runs; here the id is
derived from the figure itself. The one way interp turns a figure into HTML."""

from __future__ import annotations

import hashlib
from typing import Any

#: File name of the one plotly.js a folder of figures shares (`plotly_js`).
PLOTLY_JS = "plotly.min.js"


def plotly_js() -> str:
    """plotly.js itself (the copy bundled with the plotly package: offline), to write beside
    pages whose figures load it as `<script src="plotly.min.js">` (include_plotlyjs=PLOTLY_JS):
    one copy per folder instead of 4.8 MB inlined in every page."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def figure_html(fig: Any, *, full_html: bool = True, include_plotlyjs: bool | str = True,
                key: str = "") -> str:
    """`fig.to_html` with a div id from the figure's JSON and `key` (deterministic; give
    figures on one page distinct keys, or two equal figures would share an id); plotly.js
    inline when `include_plotlyjs` is True (the page opens offline), loaded from a file beside
    the page when it is PLOTLY_JS (write `plotly_js()` there)."""
    digest = hashlib.sha256((key + fig.to_json()).encode()).hexdigest()[:16]
    return fig.to_html(full_html=full_html, include_plotlyjs=include_plotlyjs,
                       div_id=f"figure-{digest}")
