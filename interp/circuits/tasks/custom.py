"""A task from a JSON file: {"name", "positives", "negatives", "answers", "wrong"[, "metric"]}
with one answer and one wrong continuation (strings, single tokens) per positive."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from interp.circuits.tasks.base import Task, read_json_file, single_token
from interp.errors import InterpError

if TYPE_CHECKING:
    from interp.models.model import Model


def task_from_file(model: Model, path: str | Path) -> Task:
    """Read a custom task; InterpError for an unreadable or malformed file."""
    path = Path(path)
    data = read_json_file(path, "task file")
    try:
        pos, neg = list(data["positives"]), list(data["negatives"])
        answers, wrong = list(data["answers"]), list(data["wrong"])
    except (KeyError, TypeError):
        raise InterpError(f"task file '{path}' needs lists 'positives', 'negatives', 'answers' "
                          "and 'wrong'") from None
    if not len(pos) == len(neg) == len(answers) == len(wrong):
        raise InterpError(f"task file '{path}': positives, negatives, answers and wrong must "
                          f"have equal lengths, got {len(pos)}, {len(neg)}, {len(answers)}, "
                          f"{len(wrong)}")
    tok = model.tokenizer
    good = [[single_token(tok, a, "answer")] for a in answers]
    bad = [[single_token(tok, w, "wrong answer")] for w in wrong]
    return Task(str(data.get("name", path.stem)), pos, neg, good, bad,
                str(data.get("metric", "logit_diff")))
