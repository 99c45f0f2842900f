"""The lecture's many-to-many synced example: "is this word a name?".

Every step is a word; a title word such as "Mr." makes the word ``distance`` steps later a
name, and the model labels every word. Only memory of the title word can beat the baseline.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from gradviz.tasks.base import MANY_TO_MANY, Baseline, ClassificationTask

if TYPE_CHECKING:  # torch is imported where batches are made, not where a task is described
    import torch


class NamesTask(ClassificationTask):
    """Label every word: is it a name?

    A vocabulary of 8 one-hot word ids. At each step id 0, the title word ("Mr."), appears
    with probability ``title_probability``, independently; otherwise a uniformly random id
    among 1..7. The label at step t (T, B) is 1 iff the word at step t - ``distance`` is the
    title word (0 for t < distance).

    ``distance`` is how many words after the title word the name comes (the gap the
    gradient must cross); ``title_probability`` is p, the chance of a title word per step.
    """

    name = "names"
    title = 'Names ("is this word a name?")'
    description = (
        'Many-to-many synced: label every word "is this word a name?", where a title word '
        'such as "Mr." makes the word a set distance later a name.'
    )
    kind = MANY_TO_MANY
    vocabulary = 8
    title_word = 0
    input_size = vocabulary
    output_size = 2  # not a name, a name

    def __init__(self, seq_len: int, distance: int = 10, title_probability: float = 0.1) -> None:
        super().__init__(seq_len)
        if not 1 <= distance < seq_len:
            raise ValueError(
                f"distance must be at least 1 and smaller than seq_len ({seq_len}), got {distance}"
            )
        if not 0.0 < title_probability < 1.0:
            raise ValueError(
                f"title_probability must lie strictly between 0 and 1, got {title_probability}"
            )
        self.distance = distance
        self.title_probability = title_probability

    def generate(
        self, batch: int, generator: torch.Generator, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        import torch
        import torch.nn.functional as F

        from gradviz.boundary import to_device

        steps = self.seq_len
        is_title = torch.rand(steps, batch, generator=generator) < self.title_probability
        other = torch.randint(1, self.vocabulary, (steps, batch), generator=generator)
        words = torch.where(is_title, self.title_word, other)
        x = F.one_hot(words, self.vocabulary).float()  # (T, B, 8)
        y = torch.zeros(steps, batch, dtype=torch.long)
        y[self.distance :] = is_title[: -self.distance].long()  # (T, B)
        return to_device(x, y, device=device)

    def decision_loss(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Cross-entropy at the name positions, summed over them and the batch: a name's label
        depends on the title word ``distance`` steps back; the other labels are mostly 0 for a
        predictor that only looks at the current word. (Weighted by the mask, not indexed by
        it: indexing by a mask waits for the device to count the names.)"""
        import torch.nn.functional as F
        names = (target == 1).to(prediction.dtype)
        per_word = F.cross_entropy(prediction.reshape(-1, prediction.shape[-1]), target.reshape(-1), reduction="none")
        return (per_word * names.reshape(-1)).sum()

    def decision_steps(self) -> np.ndarray:
        steps = np.zeros(self.total_steps, dtype=bool)
        steps[self.distance :] = True
        return steps

    def baseline(self) -> Baseline:
        # A memoryless but position-aware predictor knows the first `distance` labels are 0;
        # after that each label is 1 with probability p, independent of the current word.
        p, steps, d = self.title_probability, self.seq_len, self.distance
        entropy = -(p * math.log(p) + (1.0 - p) * math.log(1.0 - p))
        guessed = (steps - d) / steps
        return Baseline(
            loss=guessed * entropy,
            metric=(d + (steps - d) * max(p, 1.0 - p)) / steps,
            explanation=(
                f"label 0 for the first {d} words, then P(name) = {p:g} without looking back: "
                f"(T - {d}) / T * H({p:g})"
            ),
        )
