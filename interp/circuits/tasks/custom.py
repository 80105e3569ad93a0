"""A task from a JSON file: {"name", "positives", "negatives", "answers", "wrong"[, "metric"]}
with one answer and one wrong continuation (strings, single tokens) per positive."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from interp.circuits.tasks.base import Task, single_token
from interp.errors import InterpError


def task_from_file(model: Any, path: str | Path) -> Task:
    """Read a custom task; InterpError for an unreadable or malformed file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except OSError as err:
        raise InterpError(f"cannot read task file '{path}': {err.strerror}") from None
    except json.JSONDecodeError as err:
        raise InterpError(f"task file '{path}' is not valid JSON: {err.msg}") from None
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
