"""`interp dose-response`: sweep a clamp on neurons and write P(concept) at the next token
per value, for the neurons and for random control neurons of the same layer, as a table
(CSV or JSON) and a self-contained HTML figure."""

from __future__ import annotations

import argparse

from interp_cli.options import add_model_options, load_model_from
from interp_cli.steer import add_clamp_options, read_lines, scales_from


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("dose-response", help="concept probability vs clamp value, "
                              "neurons vs controls (table + figure)", description=__doc__)
    add_model_options(p)
    p.add_argument("--neuron", action="append", required=True, metavar="LAYER:NEURON",
                   help="neuron(s) to clamp together, e.g. 5:123 or 5:123,140; repeatable")
    p.add_argument("--prompt", action="append", default=None,
                   help="a prompt (repeatable); the concept is measured at its next token")
    p.add_argument("--prompts-file", default=None, metavar="FILE",
                   help="more prompts, one per line")
    p.add_argument("--concept", required=True,
                   help="a named list (animals, colours, months, ...), dog,cat,... words")
    p.add_argument("--values", default="0,1,2,5,10,20",
                   help="clamp values, comma-separated; bare numbers are in --unit, '10x' is "
                        "always 10 x max activation (default 0,1,2,5,10,20)")
    p.add_argument("--unit", default="max",
                   help="max (default: multiples of each neuron's max |activation|) or raw")
    add_clamp_options(p)
    p.add_argument("--controls", type=int, default=5,
                   help="random control neurons of the same layer (default 5)")
    p.add_argument("--seed", type=int, default=0, help="seed for the controls (0)")
    p.add_argument("--table", default="dose_response.csv", metavar="PATH",
                   help="table to write: .csv or .json (default dose_response.csv)")
    p.add_argument("--figure", default="dose_response.html", metavar="PATH",
                   help="figure to write, self-contained HTML (default dose_response.html); "
                        "'-' for none")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from interp.errors import InterpError
    from interp.steer import Clamp, dose_response, parse_value
    from interp.steer.clamps import parse_positions_text
    from interp.steer.dose import check_prompts
    from interp.steer.table import table_format, write_atomic
    from interp.viz.dose_response import figure_html

    prompts = list(args.prompt or []) + (read_lines(args.prompts_file)
                                         if args.prompts_file else [])
    if not prompts:
        raise InterpError("no prompts given; pass --prompt TEXT (repeatable) or --prompts-file")
    check_prompts(prompts)
    table_format(args.table)
    values = [v.strip() for v in args.values.split(",") if v.strip()]
    if not values:
        raise InterpError(f"no clamp values in --values {args.values!r}; e.g. 0,1,5,10")
    if args.unit not in ("max", "raw"):
        raise InterpError(f"unknown unit {args.unit!r}; expected 'max' or 'raw'")
    sweep = [v if v[-1:] in ("x", "X") else parse_value(v)[0] for v in values]
    positions = parse_positions_text(args.positions)
    if args.mode is not None:
        Clamp(0, 0, 0.0, mode=args.mode)  # an unknown mode fails before the model loads
    model = load_model_from(args)
    scales = scales_from(args, model)
    result = dose_response(model, args.neuron, prompts, args.concept, sweep, unit=args.unit,
                           mode=args.mode or "set", positions=positions, site=args.site,
                           n_controls=args.controls, seed=args.seed, scales=scales)
    written = [result.save(args.table)]
    if args.figure != "-":
        written.append(write_atomic(args.figure, figure_html(result.figure())))
    rises = result.rise()
    print(f"P(concept) baseline {float(result.baseline.mean()):.4f} over {len(prompts)} prompts")
    for curve, kind, rise in zip(result.curves, result.kinds, rises):
        top = result.probs[result.curves.index(curve)].mean(-1)
        print(f"  {kind:<7} {curve:<14} " + " ".join(f"{float(p):.4f}" for p in top)
              + f"   rise {rise:+.4f}")
    print("values: " + ", ".join(f"{v:g}" for v in result.values) + f" ({result.unit})")
    print("wrote " + ", ".join(written))
    return 0
