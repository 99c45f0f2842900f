"""What the text tasks report about a run between two training steps: one held-out review
through every model (gradients over its words), and every model scored on the held-out set.

Both read the models without changing them; the GUI's worker calls them between steps, the
CLI after training. Plain data, no Qt.
"""

from __future__ import annotations

from dataclasses import dataclass

from gradviz.engine.evaluate import Evaluation, evaluate_model
from gradviz.engine.run import Run
from gradviz.engine.words import WordGradients, word_gradients
from gradviz.tasks import WORD_TASKS, Task


def is_text_task(task: Task) -> bool:
    """Whether ``task`` is over words (it has held-out reviews to show and score)."""
    return task.name in WORD_TASKS


def example_count(task: Task) -> int:
    """How many held-out reviews a text task can show (the file's test split, or the synthetic set)."""
    return task.example_count  # type: ignore[attr-defined]


@dataclass(frozen=True)
class WordReport:
    """Review ``example`` of the held-out set through every model, after ``step`` steps."""

    step: int
    example: int
    labels: list[str]  # the models' names
    words: list[WordGradients]  # per model
    classes: tuple[str, ...]
    decisive: int | None  # synthetic reviews: index of the deciding word among the words


@dataclass(frozen=True)
class EvaluationReport:
    """Every model scored on the held-out set after ``step`` steps."""

    step: int
    labels: list[str]
    evaluations: list[Evaluation]

    def table(self) -> str:
        steps = f"{self.step} step{'s' if self.step != 1 else ''}"
        blocks = [f"{label} after {steps}\n{evaluation.table()}"
                  for label, evaluation in zip(self.labels, self.evaluations, strict=True)]
        return "\n\n".join(blocks)


def word_report(run: Run, example: int) -> WordReport:
    """Held-out review number ``example`` (wrapped into range) through every model of ``run``."""
    task = run.task
    example = example % max(1, example_count(task))
    ids, label = task.example(example)  # type: ignore[attr-defined]
    words = [word_gradients(trainer.model, task, ids, label) for trainer in run.trainers]
    decisive = getattr(task, "decisive_position", None)  # synthetic reviews (unpadded): the word's index
    return WordReport(run.step, example, run.labels, words, tuple(task.classes), decisive)  # type: ignore[attr-defined]


def evaluation_report(run: Run) -> EvaluationReport:
    """Every model of ``run`` on its task's held-out set."""
    evaluations = [evaluate_model(trainer.model, run.task) for trainer in run.trainers]
    return EvaluationReport(run.step, run.labels, evaluations)
