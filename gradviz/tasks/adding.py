"""The adding problem, in its two published forms (Le et al. 2015 and Hochreiter 1997).

A sequence of (value, marker) pairs; at the end the network must output a sum of the two
marked values. Both forms are many-to-one regressions scored by MSE, with a memoryless
baseline (always predict the mean target) computed from the value distribution.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gradviz.tasks.base import MANY_TO_ONE, Baseline, Task

if TYPE_CHECKING:  # torch is imported where batches are made, not where a task is described
    import torch


def _uniform_variance(low: float, high: float) -> float:
    return (high - low) ** 2 / 12.0


def _p_uniform_near_mean(width: float, eps: float) -> float:
    """P(|U - E[U]| < eps) for U uniform on an interval of ``width``."""
    return min(1.0, 2.0 * eps / width)


def _p_sum_near_mean(width: float, eps: float) -> float:
    """P(|S - E[S]| < eps) for S the sum of two i.i.d. uniforms on an interval of ``width``.

    S has a triangular density of half-width ``width``, so the mass outside (-eps, eps) is
    two corner triangles of total area (1 - eps / width)^2.
    """
    return 1.0 - max(0.0, 1.0 - eps / width) ** 2


def _fraction_within(prediction: torch.Tensor, target: torch.Tensor, tolerance: float) -> torch.Tensor:
    return ((prediction - target).abs() < tolerance).float().mean()


class AddingTask(Task):
    """Adding problem as in Le et al. 2015 and Arjovsky et al. 2016.

    Input pairs (value ~ U[0, 1], marker in {0, 1}); exactly two markers, one uniformly in
    the first half [0, T//2) and one uniformly in the second half [T//2, T). The target
    (B, 1) is the sum of the two marked values.
    """

    name = "adding"
    title = "Adding problem (Le et al. 2015)"
    description = (
        "Many-to-one: output the sum of the two marked values among T random numbers in "
        "[0, 1], one marker in each half; predicting the mean 1.0 gives MSE = 1/6."
    )
    kind = MANY_TO_ONE
    loss_name = "MSE"
    metric_name = "accuracy (|error| < 0.04)"
    input_size = 2
    output_size = 1
    value_low = 0.0
    value_high = 1.0
    tolerance = 0.04

    def generate(
        self, batch: int, generator: torch.Generator, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        import torch

        from gradviz.boundary import to_device

        steps, half = self.seq_len, self.seq_len // 2
        width = self.value_high - self.value_low
        values = self.value_low + width * torch.rand(steps, batch, generator=generator)
        first = torch.randint(0, half, (batch,), generator=generator)
        second = torch.randint(half, steps, (batch,), generator=generator)
        columns = torch.arange(batch)
        markers = torch.zeros(steps, batch)
        markers[first, columns] = 1.0
        markers[second, columns] = 1.0
        x = torch.stack([values, markers], dim=-1)  # (T, B, 2)
        y = (values[first, columns] + values[second, columns]).unsqueeze(1)  # (B, 1)
        return to_device(x, y, device=device)

    def loss(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        import torch.nn.functional as F
        return F.mse_loss(prediction, target)

    def metric(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return _fraction_within(prediction, target, self.tolerance)

    def baseline(self) -> Baseline:
        # Without memory the best constant is E[y]; its MSE is Var(y) = 2 Var(value).
        mean = self.value_low + self.value_high
        variance = 2.0 * _uniform_variance(self.value_low, self.value_high)
        hit = _p_sum_near_mean(self.value_high - self.value_low, self.tolerance)
        return Baseline(
            loss=variance,
            metric=hit,
            explanation=f"always predict the mean sum {mean:g}: MSE = Var(y) = {variance:.4f}",
        )


class Adding1997Task(Task):
    """Adding problem as in Hochreiter and Schmidhuber 1997, experiment 4.

    Values ~ U[-1, 1]; the marker is 1.0 on the two marked pairs, -1.0 on the first and the
    final pair (unless marked) and 0 elsewhere. X1 is one of the first min(10, T) pairs, X2
    one of the first T//2 - 1 pairs that are still unmarked. When the first pair is marked
    its value is set to 0, as in the paper (we do so whichever of the two marks it carries).
    Target 0.5 + (X1 + X2) / 4, solved when |error| < 0.04.

    The paper draws each sequence's length from [T, T + T/10]; here every sequence has
    length exactly T, because a batch shares one length.
    """

    name = "adding1997"
    title = "Adding problem (Hochreiter & Schmidhuber 1997)"
    description = (
        "Many-to-one: output 0.5 + (X1 + X2)/4 for the two marked values in [-1, 1]; "
        "solved when |error| < 0.04 (LSTM needed ~74,000 sequences at T=100)."
    )
    kind = MANY_TO_ONE
    loss_name = "MSE"
    metric_name = "solved (|error| < 0.04)"
    input_size = 2
    output_size = 1
    value_low = -1.0
    value_high = 1.0
    first_window = 10
    tolerance = 0.04
    target_offset = 0.5
    target_scale = 0.25

    def __init__(self, seq_len: int) -> None:
        if seq_len < 4:
            raise ValueError(
                f"adding1997 needs seq_len of at least 4 (X2 is drawn from the first "
                f"seq_len // 2 - 1 unmarked pairs), got {seq_len}"
            )
        super().__init__(seq_len)

    @property
    def first_choices(self) -> int:
        """How many pairs X1 is drawn from: the first min(10, T)."""
        return min(self.first_window, self.seq_len)

    @property
    def second_choices(self) -> int:
        """How many still-unmarked pairs X2 is drawn from: the first T//2 - 1."""
        return self.seq_len // 2 - 1

    @property
    def longest(self) -> int:
        """The longest sequence the paper draws: T + T/10 (integer division)."""
        return self.seq_len + self.seq_len // 10

    def draw_length(self, generator: torch.Generator) -> int:
        """A length uniform in [T, T + T/10], as the paper draws each sequence's."""
        import torch

        return int(torch.randint(self.seq_len, self.longest + 1, (1,), generator=generator))

    def generate(
        self, batch: int, generator: torch.Generator, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.generate_length(batch, generator, self.seq_len, device)

    def generate_length(
        self, batch: int, generator: torch.Generator, steps: int, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """A batch of ``steps`` pairs per sequence (``steps`` >= T; the marks still come from
        the first T//2 - 1 pairs, as the paper's T is the minimal length)."""
        import torch

        from gradviz.boundary import to_device

        if steps < self.seq_len:
            raise ValueError(f"adding1997 sequences are at least T = {self.seq_len} long, got {steps}")
        width = self.value_high - self.value_low
        values = self.value_low + width * torch.rand(steps, batch, generator=generator)
        first = torch.randint(0, self.first_choices, (batch,), generator=generator)
        # X2 is the rank-th unmarked pair: ranks at or past X1's index skip over it.
        rank = torch.randint(0, self.second_choices, (batch,), generator=generator)
        second = rank + (rank >= first).long()
        columns = torch.arange(batch)
        markers = torch.zeros(steps, batch)
        markers[0] = -1.0
        markers[-1] = -1.0
        markers[first, columns] = 1.0
        markers[second, columns] = 1.0
        values[0] = torch.where(markers[0] == 1.0, 0.0, values[0])
        x = torch.stack([values, markers], dim=-1)  # (T, B, 2)
        marked_sum = values[first, columns] + values[second, columns]
        y = (self.target_offset + self.target_scale * marked_sum).unsqueeze(1)  # (B, 1)
        return to_device(x, y, device=device)

    def first_pair_marked_probability(self) -> float:
        """P(the first pair carries a mark, so one summand is 0)."""
        p_first = 1.0 / self.first_choices
        # When X1 is elsewhere, X2 lands on pair 0 exactly when its rank is 0.
        return p_first + (1.0 - p_first) / self.second_choices

    def loss(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        import torch.nn.functional as F
        return F.mse_loss(prediction, target)

    def metric(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return _fraction_within(prediction, target, self.tolerance)

    def baseline(self) -> Baseline:
        # Both summands have mean 0 (a zeroed one too), so E[y] is the offset whatever the
        # case; the cases differ in how many random summands y has: one or two.
        p_zeroed = self.first_pair_marked_probability()
        width = self.value_high - self.value_low
        summand_variance = _uniform_variance(self.value_low, self.value_high)
        mean_summands = 2.0 - p_zeroed
        variance = self.target_scale**2 * summand_variance * mean_summands
        eps = self.tolerance / self.target_scale  # the tolerance on X1 + X2
        hit = p_zeroed * _p_uniform_near_mean(width, eps) + (1.0 - p_zeroed) * _p_sum_near_mean(
            width, eps
        )
        mean = self.target_offset + self.target_scale * (self.value_low + self.value_high)
        return Baseline(
            loss=variance,
            metric=hit,
            explanation=f"always predict the mean target {mean:g}: MSE = Var(y) = {variance:.4f}",
        )
