"""Plain-text tables for the CLI and notebooks: a per-layer summary of a NeuronMap."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from interp.neurons.neuron_map import NeuronMap


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Left-aligned text columns; floats with 3 decimals."""
    def cell(x: Any) -> str:
        return f"{x:.3f}" if isinstance(x, float) else str(x)

    cells = [[cell(x) for x in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
              for r in cells]
    return "\n".join(lines)


SUMMARY_HEADERS = ("layer", "neurons", "median top1 p", "median entropy", "distinct top1",
                   "commonest top1 (share)")


def summary_rows(nmap: NeuronMap) -> list[tuple[Any, ...]]:
    """Per layer: neurons, median top-1 probability and entropy, how many distinct top-1
    tokens, and the commonest top-1 token with its share of neurons (a high share means many
    neurons decode alike: a shared direction; try center="mean")."""
    rows = []
    for layer, data in nmap.data.items():
        top1 = Counter(data.top_ids[:, 0].tolist())
        token, count = top1.most_common(1)[0]
        rows.append((layer, data.n_neurons, float(data.top1_prob.median()),
                     float(data.entropy.median()), len(top1),
                     f"{nmap.vocab[token]!r} ({count / data.n_neurons:.0%})"))
    return rows


def summary_table(nmap: NeuronMap) -> str:
    return format_table(SUMMARY_HEADERS, summary_rows(nmap))


HIT_HEADERS = ("layer", "neuron", "mass", "hits", "best rank", "matched", "top tokens")


def hits_table(hits: Sequence[Any]) -> str:
    """find_neurons' hits as a table: the first matched tokens and the top tokens."""
    return format_table(HIT_HEADERS, [
        (h.layer, h.neuron, h.mass, h.hits, h.best_rank,
         " ".join(repr(t) for t in h.matched[:4]), " ".join(repr(t) for t in h.top))
        for h in hits])
