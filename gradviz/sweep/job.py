"""One run of a sweep, as its child process trains it: steps of the ordinary engine, no probes.

Only plain values cross the process boundary (the run's config as JSON in, two floats out),
so a child needs nothing from its parent but the gradviz package.
"""

from __future__ import annotations

import math
import time

from gradviz.config import RunConfig
from gradviz.sweep.grid import FINAL_FRACTION


def final_steps(steps: int) -> int:
    """How many of the last steps the final loss averages: 5%, at least one."""
    return max(1, round(FINAL_FRACTION * steps))


def train_one(config_json: str, steps: int) -> tuple[float, float]:
    """Train the one-model run ``config_json`` for ``steps`` steps: (final loss, seconds).

    The final loss is the mean training loss of the last 5% of steps; a run that diverges
    returns inf (it did not learn). No step records probes: every step takes the fused kernel.
    """
    from gradviz.engine import Run

    run = Run(RunConfig.from_json(config_json))
    keep = final_steps(steps)
    started = time.perf_counter()
    last: list[float] = []
    for _ in range(steps):
        record = run.train_step(record=False)
        model = record.models[0]
        if model.diverged or not math.isfinite(model.loss):
            return math.inf, time.perf_counter() - started
        last.append(model.loss)
        del last[:-keep]
    return sum(last) / len(last), time.perf_counter() - started
