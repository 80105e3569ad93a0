"""Plotly figure helpers: builders return figures; `show` displays one offline in a notebook."""

from interp.viz.display import show

__all__ = ["show"]
