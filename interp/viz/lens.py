"""Logit-lens figures: the top token of every row (residual after each block) at every position
of the prompt, shaded by its probability (a sequential 0..1 scale: probabilities are unsigned),
and each target token's probability by row at one position."""

from __future__ import annotations

import html
from typing import Any


def logit_lens_figure(lens: Any, title: str | None = None) -> Any:
    """A plotly heatmap (returned, never shown) of a LogitLens: rows bottom (embeddings) to top
    (the model's output), one column per prompt token; each cell writes its top-1 token and
    shades by that token's probability; hover shows the top 5."""
    import plotly.graph_objects as go

    n_rows, n_pos = len(lens.rows), len(lens.tokens)
    probs = lens.top_probs[..., 0].tolist()
    text = [[_short(lens.top_tokens[r][p][0]) for p in range(n_pos)] for r in range(n_rows)]
    hover = [[_hover(lens, r, p) for p in range(n_pos)] for r in range(n_rows)]
    columns = [f"{p}: {_short(tok)}" for p, tok in enumerate(lens.tokens)]
    fig = go.Figure(go.Heatmap(
        z=probs, x=columns, y=lens.rows, text=text, texttemplate="%{text}",
        textfont={"size": 10}, customdata=hover, hovertemplate="%{customdata}<extra></extra>",
        colorscale="Blues", zmin=0, zmax=1, colorbar={"title": {"text": "p(top-1)"}}))
    fig.update_layout(
        title=title or f"{lens.kind.capitalize()} of {lens.prompt!r} ({lens.model})",
        xaxis={"title": {"text": "prompt token (position: token)"}, "side": "bottom"},
        yaxis={"title": {"text": "residual stream after"}, "type": "category"},
        height=max(360, 22 * n_rows + 160), width=max(520, 90 * n_pos + 220),
        margin={"l": 90, "r": 40, "t": 60, "b": 80})
    return fig


def target_figure(lens: Any, position: int = -1, title: str | None = None) -> Any:
    """A plotly line chart (returned) of each target token's probability by row at
    `position` (default the last token), with its rank on hover."""
    import plotly.graph_objects as go

    pos = position % len(lens.tokens)
    fig = go.Figure()
    for text, target in lens.targets.items():
        fig.add_scatter(
            x=lens.rows, y=target.probs[:, pos].tolist(), mode="lines+markers", name=repr(text),
            customdata=target.ranks[:, pos].tolist(),
            hovertemplate="%{x}<br>p %{y:.4f}<br>rank %{customdata}<extra>" +
            html.escape(repr(text)) + "</extra>")
    fig.update_layout(
        title=title or f"Target tokens after {lens.tokens[pos]!r} (position {pos})",
        xaxis={"title": {"text": "residual stream after"}, "type": "category"},
        yaxis={"title": {"text": "probability"}, "range": [0, 1]},
        height=360, margin={"l": 60, "r": 30, "t": 60, "b": 80})
    return fig


def _short(token: str, width: int = 8) -> str:
    shown = repr(token)[1:-1]
    return shown if len(shown) <= width else shown[: width - 1] + "…"


def _hover(lens: Any, row: int, pos: int) -> str:
    lines = [f"{lens.rows[row]}, position {pos} ({html.escape(repr(lens.tokens[pos]))})"]
    for token, p in zip(lens.top_tokens[row][pos][:5], lens.top_probs[row, pos, :5].tolist()):
        lines.append(f"{html.escape(repr(token))} {p:.3f}")
    return "<br>".join(lines)
