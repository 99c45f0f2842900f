"""Synthetic long-range tasks: generators of (x, y) batches, each with its memoryless baseline.

``TASKS`` maps each task's ``name`` to its class, in menu order; ``make_task`` builds one
from the names the config and the command line use, ``task_from_config`` from a TaskConfig
(the only way to build the ``text`` task, which reads the file the config names).

Describing a task (its title, metric, length, baseline) needs no torch: the window does that
and never imports torch (tests/core/test_imports.py). Only making batches and losses does,
so the task modules import torch inside the methods that make them.
"""

from __future__ import annotations

from gradviz.config import TaskConfig
from gradviz.tasks.adding import Adding1997Task, AddingTask
from gradviz.tasks.base import MANY_TO_MANY, MANY_TO_ONE, Baseline, Task
from gradviz.tasks.copy import CopyTask
from gradviz.tasks.names import NamesTask
from gradviz.tasks.temporal_order import TemporalOrderTask
from gradviz.tasks.text import SyntheticReviewsTask, TextFileTask
from gradviz.tasks.textdata import Progress

TASKS: dict[str, type[Task]] = {
    cls.name: cls
    for cls in (
        AddingTask, Adding1997Task, CopyTask, TemporalOrderTask, NamesTask, SyntheticReviewsTask, TextFileTask
    )
}
GENERATED_TASKS = tuple(name for name in TASKS if name != TextFileTask.name)
"""The tasks ``make_task`` builds from a name and a length alone (``text`` needs a file)."""


def make_task(name: str, seq_len: int, distance: int = 10) -> Task:
    """The task called ``name`` with sequence length ``seq_len``.

    ``distance`` only concerns the names task (how many words after the title word the name
    comes) and the reviews task (how many words after the decisive word the review ends); the
    other tasks ignore it.
    """
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}")
    if name == TextFileTask.name:
        raise ValueError("the text task reads a file: build it with task_from_config (task.data names the file)")
    if name in (NamesTask.name, SyntheticReviewsTask.name):
        return TASKS[name](seq_len, distance=distance)
    return TASKS[name](seq_len)


def task_from_config(config: TaskConfig, seed: int = 0, progress: Progress | None = None) -> Task:
    """The task a run's TaskConfig describes; ``seed`` splits a text file into train and test.

    The text task loads ``config.data`` (the last file loaded is kept, so building the same
    run twice reads it once), reporting ``progress(bytes read, file size)`` as it reads; a bad
    file raises ``TextDataError`` naming the problem.
    """
    if config.name == TextFileTask.name:
        from gradviz.tasks.textdata import load_text_dataset_cached

        dataset = load_text_dataset_cached(
            config.data,
            text_column=config.text_column,
            label_column=config.label_column,
            vocab_size=config.vocab_size,
            max_len=config.max_len,
            test_fraction=config.test_fraction,
            seed=seed,
            progress=progress,
        )
        return TextFileTask(dataset)
    return make_task(config.name, config.seq_len, config.distance)


WORD_TASKS = (SyntheticReviewsTask.name, TextFileTask.name)  # tasks over words: reviews to show, scores


def metric_and_steps(config: TaskConfig) -> tuple[str, int]:
    """The task's metric name and how many timesteps a model sees, without building it: a
    text file is not read for these (its T is ``max_len``), so a window can lay out at once."""
    if config.name == TextFileTask.name:
        return TextFileTask.metric_name, config.max_len
    task = make_task(config.name, config.seq_len, config.distance)
    return task.metric_name, task.total_steps


__all__ = [
    "WORD_TASKS",
    "metric_and_steps",
    "GENERATED_TASKS",
    "MANY_TO_MANY",
    "MANY_TO_ONE",
    "TASKS",
    "Adding1997Task",
    "AddingTask",
    "Baseline",
    "CopyTask",
    "NamesTask",
    "SyntheticReviewsTask",
    "Task",
    "TemporalOrderTask",
    "TextFileTask",
    "make_task",
    "task_from_config",
]
