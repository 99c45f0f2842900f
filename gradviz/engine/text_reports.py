"""What the text tasks report between two training steps, as plain numpy data: a held-out
review's gradients over its words (``words.py``) and the models' scores on the held-out set
(``evaluate.py``), gathered per run by ``reports.py``.

The trainer process pickles these to the window, which unpickles them by importing this
module: it must not import torch (the window's process never does).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0 (as scikit-learn's zero_division=0)."""
    out = np.zeros(len(numerator), dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Scores of one model on one held-out set.

    ``confusion[i, j]`` counts samples of true class i predicted as class j. A class never
    predicted has precision 0; a class absent from the set has recall 0 (and support 0).
    """

    classes: tuple[str, ...]
    confusion: np.ndarray  # (C, C) int64: rows true class, columns predicted class

    @property
    def support(self) -> np.ndarray:
        """(C,) samples of each true class."""
        return self.confusion.sum(axis=1)

    @property
    def total(self) -> int:
        return int(self.confusion.sum())

    @property
    def accuracy(self) -> float:
        return float(np.trace(self.confusion) / self.total) if self.total else 0.0

    @property
    def precision(self) -> np.ndarray:
        """(C,) of the samples predicted as class c, the share that are c."""
        return _ratio(np.diag(self.confusion), self.confusion.sum(axis=0))

    @property
    def recall(self) -> np.ndarray:
        """(C,) of the samples of class c, the share predicted as c."""
        return _ratio(np.diag(self.confusion), self.support)

    @property
    def f1(self) -> np.ndarray:
        """(C,) harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return _ratio(2 * p * r, p + r)

    @property
    def macro_f1(self) -> float:
        return float(self.f1.mean())

    def table(self) -> str:
        """A plain-text table: per-class scores, accuracy, macro average, confusion matrix."""
        width = max(12, *(len(name) for name in self.classes)) + 2
        lines = [f"{'':<{width}}{'precision':>10}{'recall':>10}{'F1':>10}{'support':>10}"]
        for i, name in enumerate(self.classes):
            lines.append(
                f"{name:<{width}}{self.precision[i]:>10.3f}{self.recall[i]:>10.3f}{self.f1[i]:>10.3f}"
                f"{int(self.support[i]):>10d}"
            )
        lines.append(f"{'accuracy':<{width}}{'':>20}{self.accuracy:>10.3f}{self.total:>10d}")
        lines.append(
            f"{'macro avg':<{width}}{self.precision.mean():>10.3f}{self.recall.mean():>10.3f}"
            f"{self.macro_f1:>10.3f}{self.total:>10d}"
        )
        column = max(10, *(len(name) + 2 for name in self.classes))
        lines.append("confusion (rows: true class, columns: predicted)")
        lines.append(f"{'':<{width}}" + "".join(f"{name:>{column}}" for name in self.classes))
        for i, name in enumerate(self.classes):
            lines.append(f"{name:<{width}}" + "".join(f"{int(n):>{column}d}" for n in self.confusion[i]))
        return "\n".join(lines)


@dataclass(frozen=True)
class WordGradients:
    """One review through one model: per-word gradient norms, gates and the prediction."""

    tokens: list[str]  # the real words, in order (padding removed)
    grad_norms: np.ndarray  # (n,) |dL/dh_t| of the top layer at each word
    grad_c: np.ndarray | None  # (n,) LSTM: |dL/dC_t| of the top layer
    gates: dict[str, np.ndarray]  # gate name -> (n,) mean activation over the top layer's units
    label: int  # the true class
    probabilities: np.ndarray  # (C,) the model's softmax output

    @property
    def predicted(self) -> int:
        return int(np.argmax(self.probabilities))


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
