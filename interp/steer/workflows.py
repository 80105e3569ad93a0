"""The steering workflows of `interp steer` and `interp dose-response`: clamps, positions and
prompts given as text, checked before the model loads; the activation scale behind "x" values
from a text file when one is given."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from interp.errors import InterpError
from interp.options import ClampOptions, DoseResponseOptions, ModelOptions, SteerOptions, as_model

if TYPE_CHECKING:
    from interp.models.model import Model
    from interp.steer.dose import DoseResponse
    from interp.steer.sampling import SteerResult
    from interp.steer.scale import ActivationScale


def scale_corpus_scales(model: Model, options: ClampOptions) -> ActivationScale | None:
    """The activation scale over the options' scale corpus (a text file, one document per
    line), or None: the default corpus, computed when a clamp needs it."""
    from interp.steer.scale import activation_scale
    from interp.texts.corpora import read_lines

    if options.scale_corpus is None:
        return None
    return activation_scale(model, site=options.site, corpus=read_lines(options.scale_corpus))


def steer_prompt(
    model: Model | ModelOptions | str, prompt: str, clamps: Sequence[str],
    options: SteerOptions | None = None,
) -> SteerResult:
    """Sample continuations of `prompt` without and with `clamps` ("5:123=10x", "5:1,7=4.5",
    "5:123+=3", ...); the rate of samples mentioning the options' concept in each arm."""
    from interp.steer.clamps import Clamp, parse_positions_text
    from interp.steer.dose import check_prompts
    from interp.steer.sampling import check_sampling, steer

    o = options or SteerOptions()
    check_prompts(prompt)
    positions = parse_positions_text(o.positions)
    parsed = [Clamp.parse(text, mode=o.mode, positions=positions, site=o.site)
              for text in clamps]  # malformed input fails before the model loads
    model = as_model(model)
    check_sampling(model, prompt, o.n_samples, o.max_new_tokens, 64, o.temperature, o.top_k,
                   o.top_p)  # before the scale corpus is read
    return steer(model, prompt, parsed, o.n_samples, concept=o.concept,
                 max_new_tokens=o.max_new_tokens, temperature=o.temperature, top_k=o.top_k,
                 top_p=o.top_p, seed=o.seed, scales=scale_corpus_scales(model, o))


def dose_response_report(
    model: Model | ModelOptions | str, neurons: Sequence[str], concept: str,
    prompts: Sequence[str] = (), options: DoseResponseOptions | None = None, *,
    prompts_file: str | os.PathLike | None = None,
) -> tuple[DoseResponse, list[str]]:
    """Sweep a clamp on `neurons` ("5:123" or "5:123,140", clamped together) over the
    options' values and measure P(concept) at the next token of each prompt (`prompts` and
    the lines of `prompts_file`), against random control neurons; write the table (and the
    figure unless it is "-"). Returns the result and the files written."""
    from interp.outputs import output_file
    from interp.steer.clamps import Clamp, parse_positions_text, parse_value
    from interp.steer.dose import check_prompts, dose_response
    from interp.steer.table import table_format, write_atomic
    from interp.texts.corpora import read_lines
    from interp.viz.dose_response import figure_html

    o = options or DoseResponseOptions()
    prompts = list(prompts) + (read_lines(prompts_file) if prompts_file else [])
    if not prompts:
        raise InterpError("no prompts given; give prompts or a prompts_file")
    check_prompts(prompts)
    output_file(o.table, "table")
    table_format(o.table)
    if o.figure != "-":
        output_file(o.figure, "figure")
    sweep: list[Any] = [v if v[-1:] in ("x", "X") else parse_value(v)[0] for v in o.values]
    positions = parse_positions_text(o.positions)
    if o.mode is not None:
        Clamp(0, 0, 0.0, mode=o.mode)  # an unknown mode fails before the model loads
    model = as_model(model)
    result = dose_response(model, list(neurons), prompts, concept, sweep, unit=o.unit,
                           mode=o.mode or "set", positions=positions, site=o.site,
                           n_controls=o.controls, seed=o.seed,
                           scales=scale_corpus_scales(model, o))
    written = [result.save(o.table)]
    if o.figure != "-":
        written.append(write_atomic(o.figure, figure_html(result.figure())))
    return result, written
