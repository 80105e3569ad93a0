"""Dose-response summaries for the atlas, read from the JSON tables that `interp
dose-response --table FILE.json` (or DoseResponse.save) writes: per target neuron, the mean
P(concept) per clamp value for the target and for the mean of its control neurons.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from interp.errors import InterpError

_NEURON = re.compile(r"^(\d+):(\d+)$")
#: What a table's means are, unless its meta says otherwise ("measure").
NEXT_TOKEN = "P(concept) at the next token"


def dose_files(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """The tables named by `paths`: files as given, folders as their *.json files (sorted)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(p.glob("*.json"))
            if not found:
                raise InterpError(f"dose-response folder '{p}' holds no .json tables")
            out += found
        else:
            out.append(p)
    return out


def read_dose(path: str | os.PathLike, fingerprint: str) -> dict[tuple[int, int], dict[str, Any]]:
    """{(layer, neuron): summary} for every target neuron of the table in `path`.

    The table must be JSON (its "meta" records the model fingerprint; CSV does not) and of
    the model with `fingerprint`; otherwise InterpError. Its means are P(concept) at the next
    token unless meta["measure"] names another quantity (e.g. a concept rate in generations).
    """
    path = Path(path)
    if path.suffix.lower() != ".json":
        raise InterpError(f"dose-response file '{path}' must be the .json table (CSV carries no "
                          "model fingerprint); save the dose-response table as NAME.json")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        meta, rows = data["meta"], data["rows"]
        if not isinstance(rows, list):
            raise TypeError
    except FileNotFoundError:
        raise InterpError(f"dose-response file '{path}' does not exist") from None
    except (OSError, ValueError, KeyError, TypeError):
        raise InterpError(f"'{path}' is not a dose-response table (JSON with meta and rows)"
                          ) from None
    if meta.get("fingerprint") != fingerprint:
        raise InterpError(f"dose-response table '{path}' is of another model (fingerprint "
                          f"{meta.get('fingerprint')}, the map's is {fingerprint})")
    try:
        baseline = next(float(r["mean"]) for r in rows if r.get("kind") == "baseline")
        targets = [r for r in rows if r.get("kind") == "target"]
        controls = [r for r in rows if r.get("kind") == "control"]
        values = [float(r["value"]) for r in targets]
        label = targets[0]["curve"]
        target = [float(r["mean"]) for r in targets]
        control_curves: dict[str, list[float]] = {}
        for r in controls:
            control_curves.setdefault(str(r["curve"]), []).append(float(r["mean"]))
        n_prompts = int(targets[0]["n_prompts"])
        unit = str(targets[0]["unit"])
    except (StopIteration, IndexError, KeyError, TypeError, ValueError):
        raise InterpError(f"'{path}' is not a dose-response table: it lacks a baseline or "
                          "target rows") from None
    n = len(values)
    curves = [c for c in control_curves.values() if len(c) == n]
    control_mean = [sum(c[i] for c in curves) / len(curves) for i in range(n)] if curves else []
    summary = {
        "file": path.name, "curve": str(label), "unit": unit, "values": values,
        "target": target, "controls": control_mean, "n_controls": len(curves),
        "baseline": baseline, "n_prompts": n_prompts, "site": str(meta.get("site", "")),
        "measure": str(meta.get("measure", NEXT_TOKEN)),
    }
    out = {}
    for part in str(label).split():
        m = _NEURON.match(part)
        if not m:
            raise InterpError(f"'{path}': target curve {label!r} is not 'LAYER:NEURON ...'")
        out[(int(m.group(1)), int(m.group(2)))] = summary
    return out
