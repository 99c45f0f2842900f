"""The 1997 adding problem's lengths (Hochreiter and Schmidhuber 1997, Experiment 4): each
sequence between T and T + T/10 steps, the marks among the first T/2 - 1 pairs whatever the
length, and the first and final pairs marked -1."""

from __future__ import annotations

import pytest
import torch

from gradviz.tasks.adding import Adding1997Task


def test_lengths_are_drawn_from_t_to_t_plus_a_tenth() -> None:
    task = Adding1997Task(100)
    generator = torch.Generator().manual_seed(0)
    lengths = {task.draw_length(generator) for _ in range(2000)}
    assert lengths == set(range(100, 111))


def test_a_longer_sequence_keeps_the_marks_early_and_the_last_pair_marked() -> None:
    task = Adding1997Task(20)
    x, y = task.generate_length(4096, torch.Generator().manual_seed(1), 22)
    markers = x[..., 1]
    assert x.shape == (22, 4096, 2)
    marked = (markers == 1).nonzero()[:, 0]
    assert marked.max() < 20 // 2 - 1 + 1  # X2 among the first T/2 - 1 unmarked pairs (X1 skipped)
    assert torch.all(markers[-1] == -1) and torch.all((markers == 1).sum(0) == 2)
    torch.testing.assert_close(y.reshape(-1), 0.5 + (x[..., 0] * (markers == 1)).sum(0) / 4)
    with pytest.raises(ValueError, match="at least T = 20 long, got 19"):
        task.generate_length(2, torch.Generator(), 19)
