"""Dose-response figure: P(concept) against clamp value, target neurons vs controls."""

from __future__ import annotations

from typing import Any


def dose_response_figure(result: Any, title: str | None = None) -> Any:
    """A plotly Figure for an interp.steer.DoseResponse (returned, never shown).

    The target curve is drawn with a band of +-1 standard deviation over prompts; each control
    is a thin grey line; the dotted line is the unclamped baseline.
    """
    import plotly.graph_objects as go

    x = list(result.values)
    unit = {"max": "multiples of max |activation|", "raw": "activation"}.get(result.unit, "value")
    fig = go.Figure()
    for c, (curve, kind) in enumerate(zip(result.curves, result.kinds)):
        p = result.probs[c]
        # one prompt: no spread (std over a single prompt is undefined)
        mean, std = p.mean(-1).tolist(), (p.std(-1) if p.shape[-1] > 1 else p[..., 0] * 0).tolist()
        if kind == "target":
            upper = [m + s for m, s in zip(mean, std)]
            lower = [max(0.0, m - s) for m, s in zip(mean, std)]
            fig.add_scatter(x=x + x[::-1], y=upper + lower[::-1], fill="toself", mode="none",
                            fillcolor="rgba(31,119,180,0.18)", hoverinfo="skip",
                            name="target ±1 sd", showlegend=True)
            fig.add_scatter(x=x, y=mean, mode="lines+markers", name=f"target {curve}",
                            line={"color": "rgb(31,119,180)", "width": 3})
        else:
            fig.add_scatter(x=x, y=mean, mode="lines+markers", name=f"control {curve}",
                            line={"color": "rgba(120,120,120,0.7)", "width": 1},
                            marker={"size": 4}, legendgroup="controls")
    fig.add_hline(y=float(result.baseline.mean()), line_dash="dot",
                  annotation_text="no clamp", line_color="black")
    fig.update_layout(
        title=title or f"Dose-response ({result.mode}): P(concept) at the next token",
        xaxis_title=f"clamp value ({unit})", yaxis_title="P(concept), mean over prompts",
        template="plotly_white", height=440, legend={"orientation": "v"},
    )
    return fig


def figure_html(fig: Any) -> str:
    """A standalone HTML page with plotly.js inline (no CDN: opens offline from disk)."""
    from interp.viz.html import figure_html

    return figure_html(fig)
