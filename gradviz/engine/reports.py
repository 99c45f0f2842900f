"""What the text tasks report about a run between two training steps: one held-out review
through every model (gradients over its words), and every model scored on the held-out set.

Both read the models without changing them; the GUI's worker calls them between steps, the
CLI after training. Plain data, no Qt.
"""

from __future__ import annotations

from gradviz.engine.evaluate import evaluate_model
from gradviz.engine.run import Run
from gradviz.engine.text_reports import EvaluationReport, WordReport
from gradviz.engine.words import word_gradients
from gradviz.tasks import WORD_TASKS, Task


def is_text_task(task: Task) -> bool:
    """Whether ``task`` is over words (it has held-out reviews to show and score)."""
    return task.name in WORD_TASKS


def example_count(task: Task) -> int:
    """How many held-out reviews a text task can show (the file's test split, or the synthetic set)."""
    return task.example_count  # type: ignore[attr-defined]


def word_report(run: Run, example: int) -> WordReport:
    """Held-out review number ``example`` (wrapped into range) through every model of ``run``."""
    task = run.task
    example = example % max(1, example_count(task))
    ids, label = task.example(example)  # type: ignore[attr-defined]
    words = [word_gradients(learner.model, task, ids, label) for learner in run.learners]
    decisive = getattr(task, "decisive_position", None)  # synthetic reviews (unpadded): the word's index
    return WordReport(run.step, example, run.labels, words, tuple(task.classes), decisive)  # type: ignore[attr-defined]


def evaluation_report(run: Run) -> EvaluationReport:
    """Every model of ``run`` on its task's held-out set."""
    evaluations = [evaluate_model(learner.model, run.task) for learner in run.learners]
    return EvaluationReport(run.step, run.labels, evaluations)
