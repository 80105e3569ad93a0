"""Concept depth in a real model (Jin et al. 2024 on SmolLM2-135M-Instruct): at which layer
each bundled dataset's concept becomes linearly decodable, beside the Hewitt & Liang control
task, the randomly initialised model, the paper's noise prefix and the weights rounded to fewer
bits.

Inputs: experiments/inputs/concept_depth_real.json (the datasets and their families, the
probe's settings, the controls and robustness conditions, the reduced CI form); the datasets
are the bundled ones (data/datasets/, written by `python -m tools.make_probe_datasets`).

One `run_concept_depth` over every dataset: per layer, the probe's cross-validated accuracy
with its 95 % interval over folds, the shuffled-label control, the control task and the
selectivity (task minus control task), the jumping and converging points; the same for each
condition. The representation cache lives in a temporary folder (every run recomputes), or in
`--cache DIR`: then a rerun (after a kill, say) reuses the representations already there
(entries are keyed by site, pooling, texts and model variant, and refuse another model).

Writes experiments/results/concept_depth_real/<model>.json (the run's results.json content:
params, summary rows, per-layer curves; sorted keys, rounded) and <model>.figure.json (the
plotly figure); `--quick` (CI) writes <model>.quick.*: two datasets, 20 texts per class,
2 folds, the control task and 2 bits only.

    .venv/bin/python experiments/concept_depth_real.py             # the study of the docs
    .venv/bin/python experiments/concept_depth_real.py --quick     # reduced form (CI)
    .venv/bin/python experiments/concept_depth_real.py --markdown  # the docs' table
    .venv/bin/python experiments/concept_depth_real.py --cache runs/cdr-cache  # resumable
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

INPUTS_PATH = ROOT / "experiments" / "inputs" / "concept_depth_real.json"
OUT_DIR = ROOT / "experiments" / "results" / "concept_depth_real"
DIGITS = 4
#: The summary columns the docs' table shows.
COLUMNS = ("dataset", "family", "condition", "n", "jump_depth", "conv_depth", "max_acc",
           "best_depth", "control_task_at_best", "control_task_selectivity_at_best")


def load_inputs(path: Path = INPUTS_PATH, quick: bool = False) -> dict[str, Any]:
    inputs = json.loads(Path(path).read_text(encoding="utf-8"))
    if quick:
        inputs.update(inputs["quick"])
    return inputs


def run_study(inputs: dict[str, Any], log: bool = True, cache: Path | None = None
              ) -> tuple[dict[str, Any], Any]:
    """The run's results (JSON-ready, rounded) and its plotly figure; `cache`: a folder of
    representations to reuse and fill (default: a temporary one)."""
    from experiments.common import rounded
    from interp import load_model
    from interp.probes.datasets import load_dataset
    from interp.probes.results import json_safe
    from interp.probes.runner import run_concept_depth
    from interp.viz.concept_depth import concept_depth_figure

    datasets = [load_dataset(name, max_per_class=inputs["max_per_class"], seed=inputs["seed"])
                for name in inputs["datasets"]]
    model = load_model(inputs["model"], device="cpu")
    with tempfile.TemporaryDirectory(prefix="concept-depth-") as tmp:
        run = run_concept_depth(
            model, datasets, site=inputs["site"], pooling=inputs["pooling"],
            folds=inputs["folds"], seed=inputs["seed"], cache_dir=cache or tmp,
            controls=inputs["controls"], noise=inputs["noise"], quantize=inputs["quantize"],
            batch_size=inputs["batch_size"],
            log=(lambda text: print(f"concept-depth: {text}", file=sys.stderr, flush=True))
            if log else None)
    data = json_safe(run.to_dict())
    for row in data["summary"]:
        row["family"] = inputs["families"].get(row["dataset"])
    data["inputs"] = inputs
    return rounded(data, DIGITS), concept_depth_figure(run)


def markdown_table(result: dict[str, Any]) -> str:
    """One line per dataset and condition: the docs' table."""
    def cell(value: Any) -> str:
        return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in result["summary"]:
        lines.append("| " + " | ".join(cell(row.get(c)) for c in COLUMNS) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    from experiments.common import result_path, study_parser, write_json

    parser = study_parser(__doc__, OUT_DIR, inputs=INPUTS_PATH)
    parser.add_argument("--markdown", action="store_true",
                        help="only print the docs' table from the result JSON already in --out")
    parser.add_argument("--cache", type=Path, metavar="DIR",
                        help="keep the representations here and reuse them on a rerun")
    args = parser.parse_args(argv)
    inputs = load_inputs(args.inputs, args.quick)
    path = result_path(args.out, inputs["model"], args.quick)
    if args.markdown:
        print(markdown_table(json.loads(path.read_text(encoding="utf-8"))))
        return 0
    t0 = time.perf_counter()
    result, figure = run_study(inputs, cache=args.cache)
    write_json(path, result)
    write_json(result_path(args.out, inputs["model"], args.quick, ".figure.json"),
               json.loads(figure.to_json()))
    print(markdown_table(result))
    print(f"{inputs['model']}: {time.perf_counter() - t0:.1f} s; wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
