"""How well a trained classifier does on held-out data: accuracy, per-class precision, recall
and F1, and the confusion matrix, as in the lecture's RNN-versus-LSTM sentiment table.

``classification_report`` computes them from predicted and true class ids (plain numpy, so a
test can check them against numbers worked out by hand); ``evaluate_model`` runs a model over
a text task's held-out set (the test split of a file, a fixed generated set otherwise).
"""

from __future__ import annotations

import numpy as np
import torch

from gradviz.boundary import host_array
from gradviz.engine.text_reports import Evaluation
from gradviz.models import SequenceModel
from gradviz.tasks import Task


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


# ---- tasks solved to a tolerance (the adding problems): how many held-out sequences miss it ----


def has_tolerance(task: Task) -> bool:
    """Whether ``task`` calls one sequence right or wrong by a tolerance on its one output (the
    adding problems: |error| < 0.04), so that "solved" means every held-out sequence right."""
    return getattr(task, "tolerance", None) is not None and task.kind == "many-to-one"


@torch.no_grad()
def count_outside_tolerance(model: SequenceModel, task: Task, batches) -> int:
    """How many sequences of ``batches`` ((x, y) pairs on the model's device) the model gets
    wrong: |prediction - target| at or above ``task.tolerance``."""
    wrong = 0
    for x, y in batches:
        outputs, _, _ = model(x)
        prediction = model.head(task.readout(outputs))
        wrong += int(((prediction - y).abs() >= task.tolerance).sum())  # type: ignore[attr-defined]
    return wrong
