"""Codebook figures: code usage (sorted counts per site, log scale) and search cards."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def code_usage_figure(codebooks: Any, title: str | None = None) -> Any:
    """Usage counts of every code, sorted high to low, one line per site (plotly Figure).

    Reads each codebook's `counts` (accumulated while it was spliced in); a long flat tail
    at zero is the dead codes."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for site, book in codebooks.items():
        counts = book.counts.reshape(-1).sort(descending=True).values.float()
        share = (counts / counts.sum().clamp_min(1)).tolist()
        fig.add_scatter(x=list(range(1, len(share) + 1)), y=share, mode="lines", name=str(site))
    fig.update_layout(title=title or "Code usage (sorted)", xaxis_title="code rank",
                      yaxis_title="share of activations", yaxis_type="log",
                      template="plotly_white", height=400)
    return fig


def cards_figure(cards: Sequence[Any], title: str | None = None) -> Any:
    """Precision and recall of search cards (codes and/or neurons) as a scatter."""
    import plotly.graph_objects as go

    fig = go.Figure()
    kinds = {"codes": [c for c in cards if "mlp_post" not in c.unit],
             "neurons": [c for c in cards if "mlp_post" in c.unit]}
    for kind, group in kinds.items():
        if group:
            fig.add_scatter(x=[c.recall for c in group], y=[c.precision for c in group],
                            mode="markers", name=kind, text=[c.unit for c in group],
                            marker={"size": 9})
    fig.update_layout(title=title or "Search: precision vs recall", xaxis_title="recall",
                      yaxis_title="precision", xaxis_range=[0, 1.02], yaxis_range=[0, 1.02],
                      template="plotly_white", height=400)
    return fig
