"""The temporal order problem of Hochreiter and Schmidhuber 1997 (experiment 6a).

Two relevant symbols, each X or Y, hide among distractors in two early windows; the class
is their order (XX, XY, YX, YY). Without memory a model can only guess: 25%.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from gradviz.tasks.base import MANY_TO_ONE, Baseline, ClassificationTask

if TYPE_CHECKING:  # torch is imported where batches are made, not where a task is described
    import torch


class TemporalOrderTask(ClassificationTask):
    """Temporal order, experiment 6a: classify the order of two relevant symbols.

    Eight one-hot symbols: E (start), B (end), X, Y and the distractors a, b, c, d. A
    sequence starts with E and ends with B; every other step is a random distractor except
    t1, uniform in [T//10, T//5], and t2, uniform in [T//2, 3T//5] (for T = 100 the paper's
    [10, 20] and [50, 60]), which hold X or Y. The target (B,) is 0..3 for XX, XY, YX, YY.
    """

    name = "order"
    title = "Temporal order (Hochreiter & Schmidhuber 1997)"
    description = (
        "Many-to-one: two relevant symbols (X or Y) hide among distractors in two early "
        "windows; name their order (XX, XY, YX, YY); chance is 25%."
    )
    kind = MANY_TO_ONE
    symbols = ("E", "B", "X", "Y", "a", "b", "c", "d")
    classes = ("XX", "XY", "YX", "YY")
    input_size = len(symbols)
    output_size = len(classes)
    START, END, X, Y = 0, 1, 2, 3
    FIRST_DISTRACTOR = 4

    def __init__(self, seq_len: int) -> None:
        if seq_len < 10:
            raise ValueError(
                f"order needs seq_len of at least 10 (the first window starts at "
                f"seq_len // 10), got {seq_len}"
            )
        super().__init__(seq_len)

    @property
    def first_window(self) -> tuple[int, int]:
        """Inclusive range of t1: [T//10, T//5]."""
        return self.seq_len // 10, self.seq_len // 5

    @property
    def second_window(self) -> tuple[int, int]:
        """Inclusive range of t2: [T//2, 3T//5]."""
        return self.seq_len // 2, 3 * self.seq_len // 5

    def generate(
        self, batch: int, generator: torch.Generator, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        import torch
        import torch.nn.functional as F

        from gradviz.boundary import to_device

        steps = self.seq_len
        symbols = torch.randint(
            self.FIRST_DISTRACTOR, self.input_size, (steps, batch), generator=generator
        )
        symbols[0] = self.START
        symbols[-1] = self.END
        (lo1, hi1), (lo2, hi2) = self.first_window, self.second_window
        t1 = torch.randint(lo1, hi1 + 1, (batch,), generator=generator)
        t2 = torch.randint(lo2, hi2 + 1, (batch,), generator=generator)
        is_y = torch.randint(0, 2, (2, batch), generator=generator)  # 0 = X, 1 = Y
        columns = torch.arange(batch)
        symbols[t1, columns] = self.X + is_y[0]
        symbols[t2, columns] = self.X + is_y[1]
        x = F.one_hot(symbols, self.input_size).float()  # (T, B, 8)
        y = 2 * is_y[0] + is_y[1]  # (B,), index into ``classes``
        return to_device(x, y, device=device)

    def baseline(self) -> Baseline:
        # The four classes are equally likely and nothing visible at the end tells them
        # apart, so the best memoryless answer is uniform.
        n = len(self.classes)
        return Baseline(
            loss=math.log(n),
            metric=1.0 / n,
            explanation=f"uniform over the {n} classes: cross-entropy ln({n}), chance {1 / n:.0%}",
        )
