"""The copy (memory) task of Arjovsky, Shah and Bengio 2016.

Ten symbols, then a long stretch of blanks, then a delimiter: the model must reproduce the
ten symbols after the delimiter. Its memoryless baseline is 10 ln(8) / (T + 20).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from gradviz.tasks.base import MANY_TO_MANY, Baseline, ClassificationTask, accuracy

if TYPE_CHECKING:  # torch is imported where batches are made, not where a task is described
    import torch


class CopyTask(ClassificationTask):
    """Copy task: remember 10 symbols across T steps, then reproduce them.

    Symbols: 0 = blank, 1..8 = data, 9 = delimiter, fed one-hot (input_size 10). A sequence
    has T + 20 steps: 10 data symbols drawn uniformly from 1..8, T - 1 blanks, the
    delimiter, 10 blanks. The target (T + 20, B) is blank for the first T + 10 steps, then
    the 10 data symbols. Loss: cross-entropy over all steps; metric: accuracy over the last
    10 steps only.
    """

    name = "copy"
    title = "Copy task (Arjovsky et al. 2016)"
    description = (
        "Many-to-many: read 10 symbols drawn from 8, wait T blanks, and reproduce them after "
        "the delimiter; the memoryless baseline cross-entropy is 10 ln(8) / (T + 20)."
    )
    kind = MANY_TO_MANY
    metric_name = "recall accuracy"
    blank = 0
    data_symbols = 8
    delimiter = 9
    copy_length = 10
    input_size = 10
    output_size = 9  # blank and the data symbols; the delimiter is never a target

    @property
    def total_steps(self) -> int:
        """T + 20: the symbols, T - 1 blanks, the delimiter and 10 steps to answer in."""
        return self.seq_len + 2 * self.copy_length

    def generate(
        self, batch: int, generator: torch.Generator, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        import torch
        import torch.nn.functional as F

        from gradviz.boundary import to_device

        data = torch.randint(
            1, self.data_symbols + 1, (self.copy_length, batch), generator=generator
        )
        symbols = torch.full((self.total_steps, batch), self.blank, dtype=torch.long)
        symbols[: self.copy_length] = data
        symbols[-self.copy_length - 1] = self.delimiter
        x = F.one_hot(symbols, self.input_size).float()  # (T + 20, B, 10)
        y = torch.full((self.total_steps, batch), self.blank, dtype=torch.long)
        y[-self.copy_length :] = data  # (T + 20, B)
        return to_device(x, y, device=device)

    def decision_loss(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The answer steps' cross-entropy, summed over them and the batch: the blanks before
        them need no memory and would dominate the gradient of the whole loss."""
        import torch.nn.functional as F
        answer = slice(-self.copy_length, None)
        return F.cross_entropy(
            prediction[answer].reshape(-1, prediction.shape[-1]), target[answer].reshape(-1), reduction="sum"
        )

    def decision_steps(self) -> np.ndarray:
        steps = np.zeros(self.total_steps, dtype=bool)
        steps[-self.copy_length :] = True
        return steps

    def metric(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        answer = slice(-self.copy_length, None)
        return accuracy(prediction[answer], target[answer])

    def baseline(self) -> Baseline:
        # Without memory a position-aware predictor is sure of every blank and can only
        # guess uniformly among the data symbols in the answer steps.
        answer_loss = self.copy_length * math.log(self.data_symbols)
        return Baseline(
            loss=answer_loss / self.total_steps,
            metric=1.0 / self.data_symbols,
            explanation=(
                f"blank where the target is blank, uniform over the {self.data_symbols} "
                f"symbols in the last {self.copy_length} steps: "
                f"{self.copy_length} ln({self.data_symbols}) / (T + 20)"
            ),
        )
