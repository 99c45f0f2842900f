"""When a model first solves its task: ``solved_at_sequences``.

For a task with a per-sequence tolerance (the adding problems: |error| < 0.04, see
``evaluate.has_tolerance``) a model counts as *solved* once every one of 2560 held-out
sequences is within it, the test of Hochreiter and Schmidhuber's (1997) Table 7. The number
reported is the training sequences seen by then (steps times batch).

The held-out check costs a forward pass over 2560 sequences, so it runs every
``check_every`` steps (about every 1024 sequences: the number is at most that late), and only
for a model whose training batches since the last check reached 90% within tolerance somewhere
(a model that gets all 2560 held-out sequences right gets nearly all of a training batch right
too; far from solved, the check is skipped). The held-out set is the same for every seed and
run (its own generator, seeded with ``HELD_OUT_SEED``), apart from the training batches.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch

from gradviz.engine.evaluate import count_outside_tolerance, has_tolerance
from gradviz.probes.records import StepRecord
from gradviz.tasks import Task

HELD_OUT_SEQUENCES = 2560
HELD_OUT_SEED = 25_601_997
CHECK_SEQUENCES = 1024  # check about this often, in training sequences
GATE_METRIC = 0.9  # check only once some training batch since the last check was this good
MADE = 512  # held-out sequences made at a time (which sequences they are depends on it: keep it)
CHUNK_VALUES = 2**22  # at most T x sequences x H activations per forward pass (16 MB in float32)


def check_every(batch: int) -> int:
    """Steps between held-out checks: about ``CHECK_SEQUENCES`` sequences, at least one step."""
    return max(1, round(CHECK_SEQUENCES / batch))


def held_out_batches(task: Task, device: torch.device, hidden: int = 64) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """The 2560 held-out sequences, made afresh from their own seed at each check (the same
    sequences every time, and on every device: made on the CPU), in chunks small enough that a
    long T or a wide model holds no more than ``CHUNK_VALUES`` activations at once."""
    generator = torch.Generator().manual_seed(HELD_OUT_SEED)
    chunk = max(1, min(MADE, CHUNK_VALUES // (task.total_steps * hidden)))
    for start in range(0, HELD_OUT_SEQUENCES, MADE):
        x, y = task.generate(min(MADE, HELD_OUT_SEQUENCES - start), generator)  # x: (T, B, I)
        for part in range(0, y.shape[0], chunk):
            yield x[:, part : part + chunk].to(device), y[part : part + chunk].to(device)


class SolvedTracker:
    """Per model, the training sequences seen when it first solved the task (NaN: not yet,
    or the task has no tolerance). ``after_step`` is called once per training step."""

    def __init__(self, task: Task, batch: int, models: int, device: torch.device) -> None:
        self.task = task
        self.batch = batch
        self.device = device
        self.enabled = has_tolerance(task)
        self.every = check_every(batch)
        self.solved_at: list[float] = [math.nan] * models
        self._best = [0.0] * models  # best training-batch metric since the last check

    def reported(self) -> list[float] | None:
        """What a run file stores: the numbers, or None for a task without a tolerance."""
        return list(self.solved_at) if self.enabled else None

    def restore(self, solved_at) -> None:
        """Continue a saved run: its models keep the numbers they had."""
        values = [float(value) for value in solved_at]
        if len(values) == len(self.solved_at):
            self.solved_at = values

    def after_step(self, record: StepRecord, learners) -> None:
        """Note the step's training metrics; every ``every`` steps, check the candidates."""
        if not self.enabled:
            return
        for index, model in enumerate(record.models):
            if math.isfinite(model.metric):
                self._best[index] = max(self._best[index], model.metric)
        if (record.step + 1) % self.every:
            return
        seen = (record.step + 1) * self.batch
        for index, learner in enumerate(learners):
            candidate = self._best[index] >= GATE_METRIC
            self._best[index] = 0.0
            if not candidate or learner.diverged or not math.isnan(self.solved_at[index]):
                continue
            batches = held_out_batches(self.task, self.device, learner.model.config.hidden)
            if count_outside_tolerance(learner.model, self.task, batches) == 0:
                self.solved_at[index] = float(seen)



def solved_lines(tracker: SolvedTracker, labels: list[str], steps: int) -> list[str]:
    """What ``gradviz train`` prints: each model's solved_at_sequences and how it was checked."""
    if not tracker.enabled:
        return []
    sequences = steps * tracker.batch
    said = [f"{label} {int(solved):,}" if math.isfinite(solved) else f"{label} NaN (not within {sequences:,})"
            for label, solved in zip(labels, tracker.solved_at, strict=True)]
    return [f"solved_at_sequences: {'; '.join(said)} (every one of {HELD_OUT_SEQUENCES} held-out sequences "
            f"within {tracker.task.tolerance:g}; checked every {tracker.every} steps, so at most "  # type: ignore[attr-defined]
            f"{tracker.every * tracker.batch:,} sequences late)"]
