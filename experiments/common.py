"""What the study scripts share: where a result goes (<out>/<model>[.quick]<suffix>) and how
JSON is written (sorted keys, UTF-8, one trailing newline, atomically), so that a rerun with
the same inputs gives the same bytes."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any


def result_path(out: Path, model: str, quick: bool, suffix: str = ".json") -> Path:
    """<out>/<model>.json, or <model>.quick.json for a reduced (CI) run."""
    return Path(out) / f"{model}{'.quick' if quick else ''}{suffix}"


def rounded(x: Any, digits: int = 4) -> Any:
    """`x` with every float (in nested dicts and lists) rounded to `digits` decimals."""
    if isinstance(x, float):
        return round(x, digits)
    if isinstance(x, dict):
        return {k: rounded(v, digits) for k, v in x.items()}
    if isinstance(x, list):
        return [rounded(v, digits) for v in x]
    return x


def write_json(path: Path, data: Any, *, sort_keys: bool = True) -> Path:
    """Write `data` as indented JSON to `path` (parents made), atomically."""
    from interp.atomic import write_atomic

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, sort_keys=sort_keys, indent=1, ensure_ascii=False) + "\n"
    return Path(write_atomic(path, text))


def study_parser(doc: str, out: Path, *, inputs: Path | None = None,
                 quick_help: str = "the reduced CI form") -> argparse.ArgumentParser:
    """The arguments every study takes: --quick, --out (and --inputs when it has an inputs
    file); the description is the first paragraph of the script's docstring."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=quick_help)
    if inputs is not None:
        parser.add_argument("--inputs", type=Path, default=inputs)
    parser.add_argument("--out", type=Path, default=out)
    return parser
