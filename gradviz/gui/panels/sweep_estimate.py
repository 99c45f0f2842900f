"""How long a sweep will take on this machine, measured before it starts.

A constant would be false somewhere (the default sweep took 30 s alone on 2 cores and 230 s
beside other work). So the "How far back?" tab trains a few steps of each cell at the
shortest and the longest T of its form, the way the sweep trains them (``SweepPool``: a
process per run, the same threads per run for the same jobs), and scales those per-step times
to the grid: each run costs ``steps`` times its cell's time per step (straight between the two
lengths measured) plus the time a run takes to start, and J runs train at a time.

``estimate_seconds`` is plain arithmetic; ``SweepTimer`` runs the measurement in the background
(its own tiny sweep into a temporary file) and says when it has one.
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from gradviz.sweep.grid import SweepConfig
from gradviz.sweep.results import SweepResults

MEASURED_STEPS = 20  # steps per cell measured: enough to pass the first, slower steps' share
POLL_MS = 200


@dataclasses.dataclass(frozen=True)
class Timing:
    """Seconds per training step of each (model kind, T) measured, and per run started."""

    per_step: dict[tuple[str, int], float]
    start_s: float
    jobs: int  # runs at a time when it was measured (threads per run follow from it)


def measured_grid(config: SweepConfig) -> SweepConfig:
    """The cells to time: every model at the shortest and the longest T, one seed, a few steps."""
    lengths = tuple(sorted({min(config.seq_lens), max(config.seq_lens)}))
    return dataclasses.replace(config, seq_lens=lengths, seeds=1, steps=min(MEASURED_STEPS, config.steps))


def step_seconds(timing: Timing, kind: str, seq_len: int) -> float:
    """Seconds per step of ``kind`` at ``seq_len``: straight between the lengths measured (a
    step's cost is a fixed part plus a part per timestep)."""
    lengths = sorted(length for (known, length) in timing.per_step if known == kind)
    low, high = lengths[0], lengths[-1]
    if low == high:
        return timing.per_step[(kind, low)] * seq_len / low
    slope = (timing.per_step[(kind, high)] - timing.per_step[(kind, low)]) / (high - low)
    return max(0.0, timing.per_step[(kind, low)] + slope * (seq_len - low))


def estimate_seconds(config: SweepConfig, timing: Timing, jobs: int,
                     cells: list[tuple[int, int, int]] | None = None) -> float:
    """Seconds the runs ``cells`` (default: all) of ``config`` take, ``jobs`` at a time."""
    cells = config.cells() if cells is None else cells
    if not cells:
        return 0.0
    work = sum(config.steps * step_seconds(timing, config.models[model], config.seq_lens[length]) + timing.start_s
               for model, length, _ in cells)
    return work / max(1, min(jobs, len(cells)))


def say_duration(seconds: float) -> str:
    """'about 40 s', 'about 4 min', 'about 2.5 h': as a person says it."""
    if seconds < 90:
        return f"about {max(1, round(seconds / 5) * 5 if seconds >= 10 else round(seconds))} s"
    if seconds < 90 * 60:
        return f"about {round(seconds / 60)} min"
    return f"about {seconds / 3600:.1f} h"


class SweepTimer(QObject):
    """Measures ``Timing`` for a sweep's form in the background: ``measured(key)`` when done."""

    measured = Signal(object)  # the key (measured_grid, jobs) now in ``timings``

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.timings: dict[tuple, Timing] = {}
        self.pool = None
        self._key: tuple | None = None
        self._folder: tempfile.TemporaryDirectory | None = None
        self._started = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    @staticmethod
    def key(config: SweepConfig, jobs: int) -> tuple:
        return (measured_grid(config), jobs)

    def timing(self, config: SweepConfig, jobs: int) -> Timing | None:
        return self.timings.get(self.key(config, jobs))

    @property
    def measuring(self) -> bool:
        return self.pool is not None

    def measure(self, config: SweepConfig, jobs: int) -> None:
        """Time ``config``'s cells now, unless known or being timed; stops a timing of another form."""
        key = self.key(config, jobs)
        if key in self.timings or key == self._key:
            return
        self.stop()
        from gradviz.sweep.runner import SweepPool

        self._folder = tempfile.TemporaryDirectory(prefix="gradviz-timing-")
        results = SweepResults(key[0])
        try:
            self.pool = SweepPool(results, Path(self._folder.name) / "timing.npz", jobs)
        except Exception:  # noqa: BLE001 - no estimate then; the sweep itself says what is wrong
            self.stop()
            return
        self._key, self._started = key, time.perf_counter()
        self._timer.start()

    def _poll(self) -> None:
        try:
            self.pool.collect(timeout=0)
        except Exception:  # noqa: BLE001 - a failed timing run: no estimate, the sweep reports its own errors
            self.stop()
            return
        if self.pool.running:
            return
        results, key, wall = self.pool.results, self._key, time.perf_counter() - self._started
        grid, jobs = key
        per_step = {(kind, length): float(results.seconds[model, index, 0]) / grid.steps
                    for model, kind in enumerate(grid.models) for index, length in enumerate(grid.seq_lens)}
        runs = results.done.size
        at_once = max(1, min(jobs, runs))
        stepping = sum(per_step.values()) * grid.steps
        # What the wall clock took beyond training: processes starting, models built.
        start_s = max(0.0, (wall * at_once - stepping) / runs)
        self.stop()
        if all(math.isfinite(value) and value > 0 for value in per_step.values()):
            self.timings[key] = Timing(per_step, start_s, jobs)
            self.measured.emit(key)

    def stop(self) -> None:
        """End a timing under way (its processes too)."""
        self._timer.stop()
        if self.pool is not None:
            self.pool.stop()
        self.pool, self._key = None, None
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None

    def describe(self, config: SweepConfig, jobs: int, cells: list[tuple[int, int, int]] | None = None) -> str:
        """How long the runs ``cells`` (default: all) of ``config`` take on this machine, or that
        they are being timed; empty when neither."""
        timing = self.timing(config, jobs)
        if timing is None:
            return "Timing a few steps of each cell on this machine…" if self.measuring else ""
        seconds = estimate_seconds(config, timing, jobs, cells)
        runs = len(cells) if cells is not None else len(config.cells())
        return (f"{runs} run{'s' if runs != 1 else ''}, {say_duration(seconds)} on this machine "
                f"(timed here, {jobs} at a time).")

    def time_left(self, config: SweepConfig, jobs: int, cells: list[tuple[int, int, int]], elapsed: float) -> str:
        """Before a sweep's first run finishes: ", about N s left" from the timing measured before
        Start, ``elapsed`` seconds in; empty if there is none."""
        timing = self.timing(config, jobs)
        if timing is None:
            return ""
        left = estimate_seconds(config, timing, jobs, cells) - elapsed
        return f", {say_duration(left)} left" if left > 0 else ""
