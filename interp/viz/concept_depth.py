"""Concept-depth figures: probe accuracy by layer per dataset (95 % confidence bands, jumping
and converging points marked, shuffled-label control dotted, word-type control task
dash-dotted when run) and a summary table."""

from __future__ import annotations

import math
from typing import Any

#: Line colour per condition (datasets get their own panel).
CONDITION_COLOURS = {
    "base": "rgb(31,119,180)", "random-init": "rgb(127,127,127)", "noise": "rgb(255,127,14)",
    "bf16": "rgb(44,160,44)", "int8": "rgb(214,39,40)",
}
_EXTRA = ("rgb(148,103,189)", "rgb(140,86,75)", "rgb(227,119,194)", "rgb(188,189,34)")


def _colour(condition: str, i: int) -> str:
    return CONDITION_COLOURS.get(condition, _EXTRA[i % len(_EXTRA)])


def _rgba(rgb: str, alpha: float) -> str:
    return rgb.replace("rgb(", "rgba(").replace(")", f",{alpha})")


def concept_depth_figure(curves: Any, relative: bool = False, title: str | None = None,
                         show_control: bool = True) -> Any:
    """A plotly Figure (returned, never shown) for a ConceptDepthRun or a list of Curves.

    One panel per dataset; one line per condition with its 95 % CI band; a triangle marks the
    jumping point and a star the converging point; the dotted line is the shuffled-label
    control of the base condition; the dashed grey line is chance. x is depth in blocks
    (0 = embedding for resid_pre), or depth / n_layers with relative=True.
    """
    from plotly.subplots import make_subplots

    curves = list(getattr(curves, "curves", curves))
    datasets = list(dict.fromkeys(c.dataset for c in curves))
    conditions = list(dict.fromkeys(c.condition for c in curves))
    cols = 1 if len(datasets) == 1 else 2
    rows = math.ceil(len(datasets) / cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=datasets, shared_yaxes=True,
                        vertical_spacing=0.16 if rows > 1 else 0.08, horizontal_spacing=0.06)
    for c in curves:
        d = datasets.index(c.dataset)
        row, col = d // cols + 1, d % cols + 1
        r = c.result
        x = [v / r.n_layers for v in r.depths] if relative else list(r.depths)
        acc = r.accuracy
        lo = [a for a, _ in r.ci["accuracy"]]
        hi = [b for _, b in r.ci["accuracy"]]
        colour = _colour(c.condition, conditions.index(c.condition))
        first = d == 0
        fig.add_scatter(x=x + x[::-1], y=hi + lo[::-1], fill="toself", mode="none",
                        fillcolor=_rgba(colour, 0.15), hoverinfo="skip", showlegend=False,
                        legendgroup=c.condition, row=row, col=col)
        fig.add_scatter(x=x, y=acc, mode="lines+markers", name=c.condition,
                        legendgroup=c.condition, showlegend=first, line={"color": colour},
                        marker={"size": 5}, row=row, col=col,
                        hovertemplate="depth %{x}<br>accuracy %{y:.3f}<extra>"
                                      + c.condition + "</extra>")
        for point, symbol, label in ((r.jumping_point, "triangle-up", "jumping point"),
                                     (r.converging_point, "star", "converging point")):
            if point is not None:
                fig.add_scatter(x=[x[point]], y=[acc[point]], mode="markers",
                                marker={"symbol": symbol, "size": 14, "color": colour,
                                        "line": {"color": "black", "width": 1}},
                                name=label, legendgroup=label,
                                showlegend=first and c.condition == conditions[0],
                                hovertemplate=f"{label} ({c.condition})<br>depth %{{x}}"
                                              "<extra></extra>", row=row, col=col)
        control = r.metrics.get("control_accuracy")
        if show_control and control is not None and c.condition == conditions[0]:
            fig.add_scatter(x=x, y=control, mode="lines", name="shuffled-label control",
                            legendgroup="control", showlegend=first,
                            line={"color": colour, "dash": "dot", "width": 1},
                            row=row, col=col)
        task = r.metrics.get("control_task_accuracy")
        if show_control and task is not None and c.condition == conditions[0]:
            fig.add_scatter(x=x, y=task, mode="lines", name="word-type control task",
                            legendgroup="control-task", showlegend=first,
                            line={"color": colour, "dash": "dashdot", "width": 1},
                            row=row, col=col)
        if c.condition == conditions[0]:
            fig.add_scatter(x=[x[0], x[-1]], y=[r.chance, r.chance], mode="lines",
                            name="chance", legendgroup="chance", showlegend=first,
                            line={"color": "grey", "dash": "dash", "width": 1},
                            hoverinfo="skip", row=row, col=col)
    xt = "depth / n_layers" if relative else "depth (blocks; 0 = embedding)"
    fig.update_xaxes(title_text=xt)
    fig.update_yaxes(title_text="probe accuracy", col=1)
    fig.update_layout(title=title or "Concept depth: linear-probe accuracy by layer",
                      template="plotly_white", height=330 * rows + 120,
                      legend={"orientation": "h", "y": -0.12 if rows == 1 else -0.06})
    return fig


def summary_table_figure(run: Any, columns: tuple[str, ...] = (
        "dataset", "condition", "jump_depth", "jump_rel", "conv_depth", "conv_rel", "max_acc",
        "best_depth", "selectivity_at_best")) -> Any:
    """A plotly Table of a ConceptDepthRun's summary rows ('-' where a point is undefined)."""
    import plotly.graph_objects as go

    rows = run.rows()
    cells = [["-" if r[c] is None else r[c] for r in rows] for c in columns]
    fig = go.Figure(go.Table(header={"values": list(columns), "align": "left"},
                             cells={"values": cells, "align": "left"}))
    fig.update_layout(title="Concept depth summary", height=80 + 28 * (len(rows) + 1),
                      margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def report_html(run: Any, relative: bool = False) -> str:
    """A standalone HTML page (plotly.js inline once: opens offline) with the figure and table."""
    fig = concept_depth_figure(run, relative=relative)
    table = summary_table_figure(run)
    params = run.params
    head = (f"<h1>Concept depth: {params.get('model')} ({params.get('fingerprint')})</h1>"
            f"<p>site {params.get('site')}, pooling {params.get('pooling')}, "
            f"{params.get('folds')}-fold CV, seed {params.get('seed')}; thresholds "
            f"{params.get('thresholds')}</p>")
    from interp.viz.html import figure_html

    body = (figure_html(fig, full_html=False)
            + figure_html(table, full_html=False, include_plotlyjs=False, key="table"))
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>Concept depth</title>"
            f"</head><body>{head}{body}</body></html>")
