"""How well a trained classifier does on held-out data: accuracy, per-class precision, recall
and F1, and the confusion matrix, as in the lecture's RNN-versus-LSTM sentiment table.

``classification_report`` computes them from predicted and true class ids (plain numpy, so a
test can check them against numbers worked out by hand); ``evaluate_model`` runs a model over
a text task's held-out set (the test split of a file, a fixed generated set otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from gradviz.boundary import host_array
from gradviz.models import SequenceModel
from gradviz.tasks import Task


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


def classification_report(target, predicted, classes: tuple[str, ...] | list[str]) -> Evaluation:
    """Scores of ``predicted`` class ids against ``target`` ids (both length N, ids < C)."""
    target = np.asarray(target, dtype=np.int64).ravel()
    predicted = np.asarray(predicted, dtype=np.int64).ravel()
    if target.shape != predicted.shape:
        raise ValueError(f"{len(target)} targets but {len(predicted)} predictions")
    count = len(classes)
    for name, ids in (("target", target), ("predicted", predicted)):
        if len(ids) and (ids.min() < 0 or ids.max() >= count):
            raise ValueError(f"{name} class ids must lie in 0..{count - 1}")
    confusion = np.bincount(target * count + predicted, minlength=count * count).reshape(count, count)
    return Evaluation(tuple(classes), confusion.astype(np.int64))


@torch.no_grad()
def predict(model: SequenceModel, task: Task, x: torch.Tensor) -> torch.Tensor:
    """(B,) predicted class ids of a many-to-one classifier for a batch x."""
    outputs, _, _ = model(x)
    return model.head(task.readout(outputs)).argmax(dim=-1)


def evaluate_model(model: SequenceModel, task: Task, batch: int = 256) -> Evaluation:
    """Scores of ``model`` on ``task``'s held-out set (``task.evaluation_batches``)."""
    device = next(model.parameters()).device
    targets, predictions = [], []
    for x, y in task.evaluation_batches(batch):  # type: ignore[attr-defined]
        predictions.append(predict(model, task, x.to(device)))  # kept on the device: one copy at the end
        targets.append(y)
    predicted = host_array(torch.cat(predictions))
    return classification_report(host_array(torch.cat(targets)), predicted, task.classes)  # type: ignore[attr-defined]
