"""Circuit figures: the head-score heatmap (layer x head; a diverging scale centred on zero for
signed scores, ground-truth heads outlined), one method's scores against another's, and ROC
curves."""

from __future__ import annotations

from typing import Any

from torch import Tensor


def head_heatmap(
    scores: Tensor, *, title: str = "Head scores", truth: Tensor | None = None,
    colorbar: str = "score",
) -> Any:
    """A plotly Figure of [n_layers, n_heads] scores (returned, never shown); heads in
    `truth` (a boolean mask of the same shape) are marked with an open square. Signed scores
    (any below zero) get a diverging scale centred on zero (blue negative, red positive);
    non-negative ones a sequential scale."""
    import plotly.graph_objects as go

    z = scores.detach().float().cpu()
    n_layers, n_heads = z.shape
    signed = bool((z < 0).any())
    scale = {"colorscale": "RdBu", "reversescale": True, "zmid": 0.0} if signed else \
        {"colorscale": "Viridis"}
    fig = go.Figure(go.Heatmap(
        z=z.tolist(), x=list(range(n_heads)), y=list(range(n_layers)), **scale,
        colorbar={"title": colorbar},
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


def score_scatter(
    x: Tensor, y: Tensor, *, x_title: str, y_title: str, title: str,
    truth: Tensor | None = None,
) -> Any:
    """One point per head: method x's score against method y's ([n_layers, n_heads] each),
    labelled LxHy; heads in `truth` drawn apart."""
    import plotly.graph_objects as go

    n_layers, n_heads = x.shape
    labels = [f"L{layer}H{h}" for layer in range(n_layers) for h in range(n_heads)]
    xs, ys = x.detach().float().flatten().tolist(), y.detach().float().flatten().tolist()
    mask = [False] * len(xs) if truth is None else truth.bool().flatten().tolist()
    fig = go.Figure()
    for inside, name, colour in ((False, "other heads", "#7f7f7f"), (True, "ground truth",
                                                                      "#d62728")):
        idx = [i for i, m in enumerate(mask) if m == inside]
        if idx:
            fig.add_scatter(x=[xs[i] for i in idx], y=[ys[i] for i in idx], mode="markers",
                            text=[labels[i] for i in idx], name=name,
                            marker={"color": colour, "size": 7},
                            hovertemplate="%{text}: %{x:.3g}, %{y:.3g}<extra></extra>")
    fig.update_layout(title=title, xaxis_title=x_title, yaxis_title=y_title,
                      template="plotly_white", height=480, width=560)
    return fig


def roc_figure(curves: dict[str, tuple[list[float], list[float]]], *, title: str) -> Any:
    """ROC curves: {name: (false-positive rates, true-positive rates)}, with the diagonal."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance",
                    line={"dash": "dot", "color": "#999999"})
    for name, (fpr, tpr) in curves.items():
        fig.add_scatter(x=fpr, y=tpr, mode="lines", name=name, line={"shape": "hv"})
    fig.update_layout(title=title, xaxis_title="false-positive rate",
                      yaxis_title="true-positive rate", template="plotly_white", height=480,
                      width=560)
    return fig
