"""Plotly figures for the AST probe: F1 per layer against the baselines with the rank sweep,
and a gold tree beside the tree the probe rebuilt (constituents coloured by match)."""

from __future__ import annotations

from collections import Counter
from typing import Any

HIT, MISS, WRONG = "#2ca02c", "#ff7f0e", "#d62728"


def layer_figure(results: dict[str, Any]) -> Any:
    """Left: test F1 per layer (model, random-init copy; row 0 = embedding baseline).
    Right: test F1 against probe rank at the best layer."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, column_widths=[0.62, 0.38], subplot_titles=(
        "constituent F1 per layer (test)", f"rank sweep at layer {results['best_layer']}"))
    for key, name, color in (("per_layer", results["model"], "#1f77b4"),
                             ("random_init", "random init (same shape)", "#7f7f7f")):
        rows = results.get(key) or []
        if not rows:
            continue
        x = [r["row"] for r in rows]
        fig.add_trace(go.Scatter(x=x, y=[r["f1"] for r in rows], mode="lines+markers",
                                 name=f"{name}: F1 (mean per snippet)", line={"color": color}),
                      row=1, col=1)
        fig.add_trace(go.Scatter(x=x, y=[r["micro_f1"] for r in rows], mode="lines",
                                 name=f"{name}: micro F1", line={"color": color, "dash": "dot"}),
                      row=1, col=1)
    emb = results.get("embedding_baseline")
    if emb:
        fig.add_trace(go.Scatter(x=[0], y=[emb["f1"]], mode="markers", name="embedding layer",
                                 marker={"size": 13, "symbol": "star", "color": "#9467bd"}),
                      row=1, col=1)
    lex = results.get("lookup_table")
    if lex:
        fig.add_hline(y=lex["f1"], line={"color": "#8c564b", "dash": "dash"}, row=1, col=1,
                      annotation_text="adjacent-leaf lookup table", annotation_font_size=10)
    sweep = results.get("rank_sweep") or []
    if sweep:
        fig.add_trace(go.Scatter(x=[r["rank"] for r in sweep], y=[r["f1"] for r in sweep],
                                 mode="lines+markers", name="F1 by rank",
                                 line={"color": "#1f77b4"}), row=1, col=2)
    fig.update_xaxes(title_text="layer (0 = embeddings)", dtick=1, row=1, col=1)
    fig.update_xaxes(title_text="probe rank", type="log", row=1, col=2)
    fig.update_yaxes(title_text="F1", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(rangemode="tozero", row=1, col=2)
    fig.update_layout(title=f"AST probe on {results['model']} ({results['language']})",
                      height=430, width=1050, legend={"font": {"size": 10}})
    return fig


def _walk(node: dict[str, Any], depth: int, out: list[tuple[dict[str, Any], int, float]]) -> float:
    """Collect (node, height, x) in pre-order; returns x (leaves at their index)."""
    if not node["children"]:
        return float(node["start"])
    xs = [_walk(k, depth + 1, out) for k in node["children"]]
    x = sum(xs) / len(xs)
    out.append((node, _height(node), x))
    return x


def _height(node: dict[str, Any]) -> int:
    return 0 if not node["children"] else 1 + max(_height(k) for k in node["children"])


def _edges(node: dict[str, Any]) -> list[tuple[float, float, float, float]]:
    out = []

    def pos(n: dict[str, Any]) -> tuple[float, float]:
        if not n["children"]:
            return float(n["start"]), 0.0
        xs = [pos(k)[0] for k in n["children"]]
        return sum(xs) / len(xs), float(_height(n))

    def rec(n: dict[str, Any]) -> None:
        px, py = pos(n)
        for k in n["children"]:
            kx, ky = pos(k)
            out.append((px, py, kx, ky))
            rec(k)

    rec(node)
    return out


def _spans(node: dict[str, Any]) -> Counter:
    out: Counter = Counter()
    if node["children"]:
        out[(str(node["label"]), node["start"], node["end"])] += 1
        for k in node["children"]:
            out += _spans(k)
    return out


def tree_pair_figure(example: dict[str, Any]) -> Any:
    """Gold (left) and predicted (right) trees of one snippet; constituents green when the
    other tree has them, orange when gold ones are missed, red when predicted ones are wrong."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    gold, pred, leaves = example["gold_tree"], example["pred_tree"], example["leaves"]
    g_spans, p_spans = _spans(gold), _spans(pred)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.03,
                        subplot_titles=("gold tree", "predicted tree"))
    for col, tree, other, bad in ((1, gold, p_spans, MISS), (2, pred, g_spans, WRONG)):
        ex, ey = [], []
        for x0, y0, x1, y1 in _edges(tree):
            ex += [x0, x1, None]
            ey += [y0, y1, None]
        fig.add_trace(go.Scatter(x=ex, y=ey, mode="lines", line={"color": "#bbbbbb", "width": 1},
                                 hoverinfo="skip", showlegend=False), row=1, col=col)
        nodes: list[tuple[dict[str, Any], int, float]] = []
        _walk(tree, 0, nodes)
        fig.add_trace(go.Scatter(
            x=[x for _, _, x in nodes], y=[h for _, h, _ in nodes], mode="markers+text",
            text=[n["label"] for n, _, _ in nodes], textposition="top center",
            textfont={"size": 9},
            marker={"size": 8, "color": [HIT if (str(n["label"]), n["start"], n["end"]) in other
                                         else bad for n, _, _ in nodes]},
            hovertext=[f"{n['label']} [{n['start']}, {n['end']})" for n, _, _ in nodes],
            hoverinfo="text", showlegend=False), row=1, col=col)
        fig.add_trace(go.Scatter(x=list(range(len(leaves))), y=[0] * len(leaves),
                                 mode="text", text=leaves, textfont={"size": 9},
                                 textposition="bottom center", hoverinfo="skip",
                                 showlegend=False), row=1, col=col)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    width = min(2400, max(900, 2 * 22 * len(leaves)))
    fig.update_layout(height=520, width=width, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      title="green: constituent in both trees; orange: gold missed; red: wrong")
    return fig
