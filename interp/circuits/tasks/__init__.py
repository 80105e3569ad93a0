"""Task generators: positive/negative prompt pairs for IOI, greater-than and docstring."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from interp.circuits.tasks.base import Task, task_tokens
from interp.circuits.tasks.docstring import docstring_task
from interp.circuits.tasks.greater_than import greater_than_task
from interp.circuits.tasks.ioi import ioi_task
from interp.errors import choices_error

if TYPE_CHECKING:
    from interp.models.model import Model

TASKS = {"ioi": ioi_task, "greater-than": greater_than_task, "docstring": docstring_task}


def make_task(name: str, model: Model, n: int = 50, seed: int = 0, **kwargs: Any) -> Task:
    """Build task `name` ("ioi", "greater-than", "docstring") for `model`'s tokenizer."""
    if name not in TASKS:
        raise choices_error("task", name, TASKS)
    return TASKS[name](model, n, seed, **kwargs)


__all__ = ["TASKS", "Task", "docstring_task", "greater_than_task", "ioi_task", "make_task",
           "task_tokens"]
