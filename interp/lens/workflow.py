"""`interp logit-lens` as one library call: check the options and outputs, load the model,
run the lens, write the figure page and the numbers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from interp.errors import InterpError
from interp.lens.logit_lens import LogitLens, logit_lens
from interp.options import LogitLensOptions, ModelOptions, as_model

if TYPE_CHECKING:
    from interp.models.model import Model


def logit_lens_report(model: Model | ModelOptions | str, prompt: str,
                      options: LogitLensOptions | None = None) -> tuple[LogitLens, list[Path]]:
    """The lens of `prompt` and the files written: the figure page (the top-token heatmap,
    then the targets' probability by row, plotly.js inline so it opens offline) and the JSON,
    where the options name them. Outputs and the position are checked before the model loads."""
    from interp.atomic import write_atomic
    from interp.outputs import output_file

    o = options or LogitLensOptions()
    if not isinstance(prompt, str) or not prompt:
        raise InterpError(f"prompt must be a non-empty string, got {prompt!r}")
    for path, what in ((o.figure, "figure"), (o.json, "json")):
        if path is not None:
            output_file(path, what)
    if o.tuned is not None and not Path(o.tuned).is_dir():
        raise InterpError(f"tuned {o.tuned} is not a folder; give the folder tuned-lens "
                          "saved (config.json + params.pt)")
    model = as_model(model)
    tuned = None
    if o.tuned is not None:
        from interp.lens.tuned_lens import load_tuned_lens

        tuned = load_tuned_lens(o.tuned, model)
    lens = logit_lens(model, prompt, top_k=o.top_k, targets=o.targets, tuned=tuned)
    if not -len(lens.tokens) <= o.position < len(lens.tokens):
        raise InterpError(f"position {o.position} is outside the prompt's {len(lens.tokens)} "
                          f"tokens; valid: {-len(lens.tokens)}..{len(lens.tokens) - 1}")
    written = []
    if o.figure is not None:
        written.append(write_atomic(o.figure, lens_page(lens, o.position)))
    if o.json is not None:
        text = json.dumps(lens.to_dict(), sort_keys=True, ensure_ascii=False)
        written.append(write_atomic(o.json, text + "\n"))
    return lens, written


def lens_page(lens: LogitLens, position: int = -1) -> str:
    """One offline HTML page: the lens heatmap and, with targets, their curves."""
    from interp.viz.html import figure_html
    from interp.viz.lens import logit_lens_figure, target_figure

    body = figure_html(logit_lens_figure(lens), full_html=False, key="lens")
    if lens.targets:
        body += figure_html(target_figure(lens, position), full_html=False,
                            include_plotlyjs=False, key="targets")
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{lens.kind}</title>"
            f"</head><body>\n{body}\n</body></html>\n")
