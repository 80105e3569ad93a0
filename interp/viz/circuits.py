"""Head-score heatmap (layer x head), with ground-truth heads outlined."""

from __future__ import annotations

from typing import Any

from torch import Tensor


def head_heatmap(
    scores: Tensor, *, title: str = "Head scores", truth: Tensor | None = None,
    colorbar: str = "score",
) -> Any:
    """A plotly Figure of [n_layers, n_heads] scores (returned, never shown); heads in
    `truth` (a boolean mask of the same shape) are marked with an open square."""
    import plotly.graph_objects as go

    z = scores.detach().float().cpu()
    n_layers, n_heads = z.shape
    fig = go.Figure(go.Heatmap(
        z=z.tolist(), x=list(range(n_heads)), y=list(range(n_layers)),
        colorscale="Viridis", colorbar={"title": colorbar},
        hovertemplate="L%{y}H%{x}: %{z:.4g}<extra></extra>",
    ))
    if truth is not None:
        cells = truth.bool().nonzero().tolist()
        fig.add_scatter(x=[h for _, h in cells], y=[layer for layer, _ in cells], mode="markers",
                        marker={"symbol": "square-open", "size": 18, "color": "red",
                                "line": {"width": 2}},
                        name="ground truth", hoverinfo="skip")
    fig.update_layout(title=title, xaxis_title="head", yaxis_title="layer",
                      template="plotly_white", height=140 + 32 * n_layers,
                      width=220 + 40 * n_heads, legend={"orientation": "h", "y": -0.2})
    fig.update_xaxes(dtick=1)
    fig.update_yaxes(dtick=1, autorange="reversed")
    return fig
