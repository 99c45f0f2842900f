"""The contract every synthetic task fulfils.

A task generates (x, y) batches on the fly, time-major like torch.nn's recurrent layers:
x is (T, B, input_size), or, for a task over words (``vocab_size`` set), (T, B) token ids that
the model's embedding turns into (T, B, input_size). It declares the lecture's RNN kind (many-to-one or many-to-many),
how the model's per-step outputs are read out, its loss, its metric, and the scores of a
predictor with no memory (the baseline every loss plot draws). Baselines are computed from
the task's definition, never typed in; tests check them against a simulation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch is imported where batches are made, not where a task is described
    import torch

MANY_TO_ONE = "many-to-one"
MANY_TO_MANY = "many-to-many"


@dataclass(frozen=True)
class Baseline:
    """What a memoryless predictor scores, with a sentence saying which predictor that is."""

    loss: float
    metric: float
    explanation: str


class Task(ABC):
    """A synthetic long-range task of sequence length ``seq_len``.

    Subclasses set the class attributes and implement ``generate``, ``loss``, ``metric`` and
    ``baseline``. ``output_size`` is the width of the model's linear readout; ``title`` and
    the one-sentence ``description`` are what the app shows (menus, tooltips).
    """

    name: str = ""
    title: str = ""
    description: str = ""
    kind: str = MANY_TO_ONE
    loss_name: str = ""
    metric_name: str = ""
    higher_metric_is_better: bool = True
    input_size: int = 1
    output_size: int = 1
    vocab_size: int | None = None
    """Tasks over words: how many token ids x holds (the model embeds them); None: x is numeric.
    A task whose vocabulary comes from a file sets it on the instance."""

    def __init__(self, seq_len: int) -> None:
        if seq_len < 2:
            raise ValueError(f"seq_len must be at least 2, got {seq_len}")
        self.seq_len = seq_len

    @property
    def total_steps(self) -> int:
        """Length of the generated sequences (the copy task adds 20 steps to T)."""
        return self.seq_len

    def mask(self, x: torch.Tensor) -> torch.Tensor | None:
        """(T, B) bool, False where x is padding that plots should leave out; None: no padding."""
        return None

    def loss_terms(self, target: torch.Tensor) -> int:
        """How many terms the training loss averages over (every task's loss is a mean over the
        target's elements): the loss times this is the sum over the batch of each sequence's
        own loss, the lecture's Loss = sum over t of Cost(y^_t, y_t). A fused step split over
        the batch (engine/batchsplit.py) weights each part's loss by its share of these terms:
        a task whose loss is not such a mean (a masked one) must say its own count here."""
        return target.numel()

    def decision_loss(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor | None:
        """The sum over the batch of each sequence's *decision loss*: the loss terms whose
        targets need memory. The gradient plots show its gradient.

        None where it is the whole loss (a task with one output per sequence); a task with an
        output at every step (copy, names) keeps only the outputs that depend on the past.
        """
        return None

    def decision_steps(self) -> np.ndarray:
        """(total_steps,) bool: the timesteps where the decision loss may have a term (for
        truncated BPTT: which steps a loss can still reach). One output: the last step."""
        steps = np.zeros(self.total_steps, dtype=bool)
        steps[-1] = True
        return steps

    def readout(self, outputs: torch.Tensor) -> torch.Tensor:
        """Select the hidden states the loss sees: (T, B, H) -> (B, H) or (T, B, H)."""
        return outputs[-1] if self.kind == MANY_TO_ONE else outputs

    @property
    def batch_dim(self) -> int:
        """Where the batch is in a prediction (``readout``'s) and in the target: (B, ...) for one
        output per sequence, (T, B, ...) for an output at every step. Inputs are (T, B, ...)."""
        return 0 if self.kind == MANY_TO_ONE else 1

    @abstractmethod
    def generate(
        self, batch: int, generator: torch.Generator, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One batch: x (T, B, input_size) float32 and the targets, on ``device``.

        Randomness comes only from ``generator`` (a CPU generator; tensors are moved to the
        device afterwards), so the same seed gives the same batches on every device.
        """

    @abstractmethod
    def loss(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Scalar training loss of the readout prediction against the target."""

    @abstractmethod
    def metric(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The task's human-facing score (accuracy-like), a 0-d float tensor on the prediction's
        device: the trainer copies it to the host with the loss, in the step's one transfer."""

    @abstractmethod
    def baseline(self) -> Baseline:
        """Loss and metric of the best predictor that has no memory of earlier inputs."""


def cross_entropy(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over every position: logits (..., C) against class ids (...)."""
    import torch.nn.functional as F
    return F.cross_entropy(prediction.reshape(-1, prediction.shape[-1]), target.reshape(-1))


def accuracy(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Fraction of positions whose arg-max logit (..., C) is the target class (...), 0-d."""
    return (prediction.argmax(dim=-1) == target).float().mean()


class ClassificationTask(Task):
    """A task scored by cross-entropy against class ids, and by accuracy."""

    loss_name = "cross-entropy"
    metric_name = "accuracy"

    def loss(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return cross_entropy(prediction, target)

    def metric(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return accuracy(prediction, target)
