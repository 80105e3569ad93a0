"""Labelled text datasets for concept-depth probes: bundled ones by name, and files in the
formats that Jin et al. (2024, github.com/Luckfort/CD) publish, plus generic CSV/TSV/JSON/JSONL.

`load_dataset(spec)` takes a bundled name (`BUNDLED`, files in data/datasets/) or a path. A
file is read by its name and extension (see `interp.probes.formats` for every format and
column) into texts and labels; labels become class indices 0..k-1, with `label_names`
holding the original values (no/false/negative/0 first for the usual binary pairs). Rows
may carry a group id (column/key `group`, or `group_column`): near-duplicates that share one
are kept on one side of every cross-validation split (`interp.probes.depth`).
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interp.errors import InterpError, choices_error

#: Bundled datasets (written by `python -m tools.make_probe_datasets`): four in interp-tiny's
#: vocabulary, then five in plain English for real models, each group in rising complexity.
BUNDLED = ("word_category", "capital_fact", "sentiment", "coin_flip", "animal_word",
           "capital_world", "sentiment_varied", "number_compare", "syllogism")
#: Binary label pairs whose order is fixed (the first value becomes class 0).
_ORDERED = ({"no", "yes"}, {"false", "true"}, {"negative", "positive"}, {"0", "1"},
            {"not_sarcastic", "sarcastic"})


@dataclass
class ProbeDataset:
    """Texts with one class label each. `labels[i]` indexes `label_names`."""

    name: str
    texts: list[str]
    labels: list[int]
    label_names: list[str]
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    groups: list[str] | None = None

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.labels):
            raise InterpError(f"dataset {self.name!r} has {len(self.texts)} texts but "
                              f"{len(self.labels)} labels; they must pair one to one")
        if self.groups is not None and len(self.groups) != len(self.texts):
            raise InterpError(f"dataset {self.name!r} has {len(self.texts)} texts but "
                              f"{len(self.groups)} groups; they must pair one to one")
        if not self.texts:
            raise InterpError(f"dataset {self.name!r} has no examples")
        for i, t in enumerate(self.texts):
            if not isinstance(t, str) or not t.strip():
                raise InterpError(f"dataset {self.name!r}: text {i} is empty or not a string")
        present = sorted(set(self.labels))
        if len(present) < 2:
            only = self.label_names[present[0]] if present else None
            raise InterpError(f"dataset {self.name!r} has a single class {only!r}; a probe "
                              "needs at least 2")

    def __len__(self) -> int:
        return len(self.texts)

    def counts(self) -> dict[str, int]:
        """Examples per class name."""
        out = {n: 0 for n in self.label_names}
        for y in self.labels:
            out[self.label_names[y]] += 1
        return out

    def with_texts(self, texts: Sequence[str], suffix: str) -> ProbeDataset:
        """The same labels with other texts (e.g. a noise prefix); name gets `suffix`."""
        return ProbeDataset(f"{self.name}{suffix}", list(texts), list(self.labels),
                            list(self.label_names), self.source, dict(self.meta),
                            None if self.groups is None else list(self.groups))

    def balanced(self, max_per_class: int | None, seed: int = 0) -> ProbeDataset:
        """At most `max_per_class` examples per class, sampled with a fixed seed, order kept."""
        if max_per_class is None:
            return self
        if isinstance(max_per_class, bool) or not isinstance(max_per_class, int) or \
                max_per_class < 2:
            raise InterpError(f"max_per_class must be an integer >= 2, got {max_per_class!r}")
        rng = random.Random(seed)
        keep: list[int] = []
        for c in range(len(self.label_names)):
            idx = [i for i, y in enumerate(self.labels) if y == c]
            keep += rng.sample(idx, max_per_class) if len(idx) > max_per_class else idx
        keep.sort()
        return ProbeDataset(self.name, [self.texts[i] for i in keep],
                            [self.labels[i] for i in keep], list(self.label_names),
                            self.source, dict(self.meta),
                            None if self.groups is None else [self.groups[i] for i in keep])


def encode_labels(values: Sequence[Any], where: str) -> tuple[list[int], list[str]]:
    """Raw label values -> (class indices, class names). Binary pairs such as no/yes and
    false/true keep their natural order; otherwise names are sorted."""
    names = []
    for i, v in enumerate(values):
        if v is None or (isinstance(v, str) and not v.strip()):
            raise InterpError(f"{where}: example {i} has no label")
        if isinstance(v, bool):
            v = str(v).lower()
        elif isinstance(v, float) and v.is_integer():
            v = int(v)
        names.append(str(v).strip())
    unique = sorted(set(names))
    lower = {u.lower() for u in unique}
    if len(unique) == 2 and lower in _ORDERED:
        unique.sort(key=lambda u: u.lower() in ("yes", "true", "positive", "1", "sarcastic"))
    elif all(u.lstrip("-").isdigit() for u in unique):
        unique.sort(key=int)
    index = {u: i for i, u in enumerate(unique)}
    return [index[n] for n in names], unique


def bundled_datasets_dir() -> Path:
    """data/datasets (package data interp.data/datasets)."""
    try:
        from importlib.resources import files

        return Path(str(files("interp.data"))) / "datasets"
    except (ModuleNotFoundError, TypeError):
        return Path(__file__).resolve().parents[2] / "data" / "datasets"


def load_dataset(
    spec: str | os.PathLike, *, text_column: str | None = None, label_column: str | None = None,
    max_per_class: int | None = None, seed: int = 0, name: str | None = None,
    group_column: str | None = None, use_groups: bool = True,
) -> ProbeDataset:
    """A bundled dataset by name (`BUNDLED`) or a file (see interp.probes.formats).

    text_column / label_column override the column guess for tabular and JSON files.
    max_per_class: cap each class (sampled with `seed`), as the paper caps its datasets.
    group_column: the column of group ids (default: `group` when every row has one).
    use_groups: False drops the group ids (ungrouped cross-validation).
    """
    from interp.probes.formats import read_file

    if isinstance(spec, str) and spec in BUNDLED:
        path = bundled_datasets_dir() / f"{spec}.jsonl"
        if not path.is_file():
            raise InterpError(f"bundled dataset {spec!r} is missing (expected {path}); run "
                              "python -m tools.make_probe_datasets from a source checkout")
    else:
        path = Path(spec).expanduser()
        if not path.exists():
            if isinstance(spec, str) and os.sep not in spec and "." not in spec:
                raise choices_error("dataset", spec, BUNDLED)
            raise InterpError(f"dataset file '{path}' does not exist; pass a file or one of "
                              f"{', '.join(BUNDLED)}")
        if not path.is_file():
            raise InterpError(f"dataset '{path}' is not a file")
    texts, raw, fmt, groups = read_file(path, text_column, label_column, group_column)
    labels, names = encode_labels(raw, str(path))
    # a bundled dataset is named as shipped, not by where this installation keeps it, so
    # results are the same bytes on every machine
    source = (f"interp.data/datasets/{spec}.jsonl" if isinstance(spec, str) and spec in BUNDLED
              else str(path))
    ds = ProbeDataset(name or _stem(path), texts, labels, names, source, {"format": fmt},
                      groups if use_groups else None)
    return ds.balanced(max_per_class, seed)


def _stem(path: Path) -> str:
    name = path.name
    for ext in (".jsonl", ".json", ".csv", ".tsv", ".txt"):
        if name.endswith(ext):
            return name[: -len(ext)]
    return name
