"""One run of a reproduction: train one RunConfig with the ordinary engine, score it.

Every run is a plain one-model ``RunConfig`` (what ``gradviz train`` would train), so a number
here can be checked with ``gradviz train``. A run ends after its steps, once its model is
solved (for a "solved" score: nothing more to learn), or when it diverges.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from gradviz.config import RunConfig
from gradviz.sweep.job import final_steps

# How a reproduction scores a run (``Arm.score``).
SOLVED = "solved"  # training sequences until every held-out sequence is within tolerance
FINAL_LOSS = "final_loss"  # the mean loss of the last 5% of steps, over the baseline


@dataclass(frozen=True)
class RunScore:
    """What one run measured. ``value`` is the score (sequences, or final loss / baseline):
    NaN when never solved, inf when diverged."""

    value: float
    final_loss: float
    baseline: float
    diverged: bool
    steps: int
    sequences: int
    seconds: float

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def train_and_score(config: RunConfig, steps: int, score: str,
                    progress: Callable[[int, int], None] | None = None) -> RunScore:
    """Train ``config``'s one model up to ``steps`` steps and score it; ``progress(done,
    steps)`` is called now and then (a progress line)."""
    from gradviz.engine import Run

    run = Run(config)
    baseline = run.task.baseline().loss
    keep = final_steps(steps)
    losses: list[float] = []
    started = time.perf_counter()
    done, diverged = 0, False
    for done in range(1, steps + 1):
        model = run.train_step(record=False).models[0]
        if model.diverged or not math.isfinite(model.loss):
            diverged = True
            break
        losses.append(model.loss)
        del losses[:-keep]
        if score == SOLVED and math.isfinite(run.solved.solved_at[0]):
            break
        if progress is not None and done % 50 == 0:
            progress(done, steps)
    final = math.inf if diverged else sum(losses) / max(len(losses), 1)
    if score == SOLVED:
        value = run.solved.solved_at[0]
    else:
        value = math.inf if diverged else final / baseline
    return RunScore(value, final, baseline, diverged, done, done * config.task.batch,
                    time.perf_counter() - started)
