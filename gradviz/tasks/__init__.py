"""Synthetic long-range tasks: generators of (x, y) batches, each with its memoryless baseline.

``TASKS`` maps each task's ``name`` to its class, in menu order; ``make_task`` builds one
from the names the config and the command line use.
"""

from __future__ import annotations

from gradviz.tasks.adding import Adding1997Task, AddingTask
from gradviz.tasks.base import MANY_TO_MANY, MANY_TO_ONE, Baseline, Task
from gradviz.tasks.copy import CopyTask
from gradviz.tasks.names import NamesTask
from gradviz.tasks.temporal_order import TemporalOrderTask

TASKS: dict[str, type[Task]] = {
    cls.name: cls for cls in (AddingTask, Adding1997Task, CopyTask, TemporalOrderTask, NamesTask)
}


def make_task(name: str, seq_len: int, distance: int = 10) -> Task:
    """The task called ``name`` with sequence length ``seq_len``.

    ``distance`` only concerns the names task (how many words after the title word the name
    comes); the other tasks ignore it.
    """
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}")
    if name == NamesTask.name:
        return NamesTask(seq_len, distance=distance)
    return TASKS[name](seq_len)


__all__ = [
    "MANY_TO_MANY",
    "MANY_TO_ONE",
    "TASKS",
    "Adding1997Task",
    "AddingTask",
    "Baseline",
    "CopyTask",
    "NamesTask",
    "Task",
    "TemporalOrderTask",
    "make_task",
]
