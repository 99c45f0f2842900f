"""What a sweep trains: the grid of (model, T, seed), the settings every run shares, and the
threshold that calls a run a success.

Every run is an ordinary one-model ``RunConfig`` built from gradviz's defaults, with only the
settings named here changed, so a sweep's cell is exactly what ``gradviz train`` would train.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from dataclasses import dataclass
from typing import Any

from gradviz.config import (
    MODEL_KINDS,
    TASK_NAMES,
    ConfigError,
    ModelConfig,
    ModelSetup,
    RunConfig,
    TaskConfig,
    TrainConfig,
    default_label,
    parse_json,
    show,
)

FORMAT = "gradviz-sweep/1"
FINAL_FRACTION = 0.05
"""A run's final loss is the mean of its last 5% of training steps (at least one step)."""
# Upper limits, the same for the command line, the tab and a sweep file, each with its reason.
MAX_SEEDS = 1000
MAX_STEPS = 1_000_000
"""Steps per run: a million steps of the smallest run already take hours, and a sweep trains many."""
MAX_LENGTHS = 64
"""Lengths T per sweep: more do not fit on the figure's axis or in the tab's table."""
MAX_RUNS = 10_000
"""Runs per sweep (models x lengths x seeds): at a few seconds a run, 10,000 runs are a day of
training; a larger grid is better split into several sweeps (files) than held in one window."""
MAX_JOBS = 256
"""Runs training at a time: each is a process of its own (about 35 MB, and a core to be worth it)."""
JOB_BYTES = 40 * 2**20
"""What one run's process holds at the least (measured: 16 jobs held 555 MB), for the memory check."""
COST = {"rnn": 1, "gru": 3, "lstm": 4}  # matrix products per step: the order a T's runs start in
SWEEP_TASKS = tuple(name for name in TASK_NAMES if name != "text")  # every task with a length T to sweep


def _whole(name: str, value: Any) -> None:
    """ConfigError unless ``value`` is a whole number (not a bool, not 2.5, not text)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be a whole number, got {show(value)}")


def check_jobs(jobs: int, available: int | None, name: str = "jobs") -> None:
    """ConfigError unless ``jobs`` runs can train at once: 1 to MAX_JOBS, and their processes
    fit in ``available`` bytes of memory (None: unknown, not checked)."""
    if not 1 <= jobs <= MAX_JOBS:
        raise ConfigError(f"{name} must be between 1 and {MAX_JOBS} (each run is a process of its own), got {jobs}")
    if available is not None and jobs * JOB_BYTES > available:
        raise ConfigError(f"{jobs} jobs need about {jobs * JOB_BYTES / 2**30:.1f} GB ({JOB_BYTES // 2**20} MB "
                          f"each); {available / 2**30:.1f} GB is available: use at most "
                          f"{max(1, available // JOB_BYTES)}")


def parse_lengths(flag: str, text: str) -> tuple[int, ...]:
    """'10, 20,5' -> (5, 10, 20): the lengths T of a sweep, ascending; ConfigError naming ``flag``."""
    try:
        return tuple(sorted(int(part) for part in text.split(",") if part.strip()))
    except ValueError:
        raise ConfigError(f"{flag} must be comma-separated whole numbers, got {text!r}") from None


@dataclass(frozen=True)
class Threshold:
    """The loss below which a run counts as a success: ``value`` times the task's memoryless
    baseline at that T when ``relative``, else ``value`` itself."""

    value: float = 0.1
    relative: bool = True

    @classmethod
    def parse(cls, text: str) -> Threshold:
        """'0.1x' is a tenth of the baseline; '0.02' is a loss of 0.02 at every T."""
        raw = text.strip().lower()
        relative = raw.endswith("x")
        try:
            value = float(raw[:-1] if relative else raw)
        except ValueError:
            raise ConfigError(f"threshold must be a loss such as 0.02 or a multiple of the baseline such as 0.1x, "
                              f"got {text!r}") from None
        if not (math.isfinite(value) and value > 0):
            raise ConfigError(f"threshold must be positive, got {text!r}")
        return cls(value, relative)

    def loss(self, baseline: float) -> float:
        return self.value * baseline if self.relative else self.value

    def __str__(self) -> str:
        return f"{self.value:g}x baseline" if self.relative else f"loss {self.value:g}"

    def describe(self) -> str:
        """In a figure's words: '0.1× the memoryless loss', 'loss 0.02'."""
        return f"{self.value:g}× the memoryless loss" if self.relative else f"loss {self.value:g}"


@dataclass(frozen=True)
class SweepConfig:
    """A sweep: which cells, lengths and seeds, for how long, and what counts as learned.

    ``jobs`` and the device are not part of it: they change how fast a sweep runs, not what
    it measures, so a sweep can be resumed with other values.
    """

    task: str = "adding"
    models: tuple[str, ...] = ("rnn", "lstm", "gru")
    seq_lens: tuple[int, ...] = (5, 10, 20, 50, 100)
    seeds: int = 3
    steps: int = 1000
    threshold: Threshold = Threshold()
    hidden: int = 64
    batch: int = 64
    lr: float = 0.01
    clip: float = 1.0
    distance: int = 10
    """names and reviews tasks: the distance they span (must be below every T)."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ConfigError naming the first bad setting; checks every run of the grid."""
        if not isinstance(self.task, str):
            raise ConfigError(f"task must be text, got {show(self.task)}")
        if not isinstance(self.models, tuple) or not self.models:
            raise ConfigError("models must name at least one of " + ", ".join(MODEL_KINDS))
        for kind in self.models:
            if kind not in MODEL_KINDS:
                raise ConfigError(f"models must be among {', '.join(MODEL_KINDS)}, got {show(kind)}")
        if len(set(self.models)) != len(self.models):
            raise ConfigError(f"models lists a model twice: {','.join(self.models)}")
        if not isinstance(self.seq_lens, tuple) or not self.seq_lens:
            raise ConfigError("seq_lens must list at least one sequence length")
        if len(self.seq_lens) > MAX_LENGTHS:
            raise ConfigError(f"seq_lens lists {len(self.seq_lens)} lengths; at most {MAX_LENGTHS} fit the "
                              "figure and the table (split the sweep in two)")
        for name in ("seeds", "steps", "hidden", "batch", "distance"):
            _whole(name, getattr(self, name))
        for seq_len in self.seq_lens:
            _whole("seq_lens", seq_len)
        if len(set(self.seq_lens)) != len(self.seq_lens):
            raise ConfigError(f"seq_lens lists a length twice: {','.join(map(str, self.seq_lens))}")
        if not 1 <= self.seeds <= MAX_SEEDS:
            raise ConfigError(f"seeds must be between 1 and {MAX_SEEDS}, got {self.seeds}")
        if not 1 <= self.steps <= MAX_STEPS:
            raise ConfigError(f"steps must be between 1 and {MAX_STEPS:,} (a million steps of the smallest run "
                              f"already take hours), got {show(self.steps)}")
        runs = len(self.models) * len(self.seq_lens) * self.seeds
        if runs > MAX_RUNS:
            raise ConfigError(f"the grid has {runs:,} runs ({len(self.models)} models x {len(self.seq_lens)} lengths "
                              f"x {self.seeds} seeds); at most {MAX_RUNS:,} in one sweep (a day of training: "
                              "split it into several sweeps)")
        if not isinstance(self.threshold, Threshold):
            raise ConfigError(f"threshold must be a Threshold, got {show(self.threshold)}")
        if self.task == "text":
            raise ConfigError("the text task has no sequence length to sweep (its T is the file's max_len)")
        for kind in self.models:
            for seq_len in self.seq_lens:
                try:
                    self.run_config(kind, seq_len, 0)
                except ConfigError as exc:
                    raise ConfigError(f"T={seq_len}: {exc}") from None

    # ---- the runs ------------------------------------------------------------------------

    @property
    def labels(self) -> list[str]:
        return [default_label(ModelConfig(kind=kind)) for kind in self.models]

    @property
    def shape(self) -> tuple[int, int, int]:
        """(models, seq_lens, seeds)."""
        return len(self.models), len(self.seq_lens), self.seeds

    def cells(self) -> list[tuple[int, int, int]]:
        """Every (model index, T index, seed) of the grid; short sequences first, so that a
        sweep stopped early has the cheap end of every model's curve. Within one T the slower
        cells go first (LSTM, GRU, then the RNN): J processes then end a T nearly together
        instead of waiting on one LSTM started last (a 2-job sweep finished about 10% sooner)."""
        grid = itertools.product(range(len(self.models)), range(len(self.seq_lens)), range(self.seeds))
        return sorted(grid, key=lambda cell: (self.seq_lens[cell[1]], -COST[self.models[cell[0]]], cell[2], cell[0]))

    def run_config(self, kind: str, seq_len: int, seed: int, device: str = "auto") -> RunConfig:
        """The one-model run of cell (kind, T, seed): gradviz's defaults and this sweep's settings."""
        model = ModelConfig(kind=kind, hidden=self.hidden)
        setup = ModelSetup(label=default_label(model), model=model, train=TrainConfig(lr=self.lr, clip=self.clip))
        task = TaskConfig(name=self.task, seq_len=seq_len, batch=self.batch, distance=self.distance)
        data = RunConfig(task=task, models=(setup,), seed=seed, device=device)
        return RunConfig.from_dict(data.to_dict())  # validated like any config file

    # ---- the file's config_json ----------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["threshold"] = str(self.threshold.value) + ("x" if self.threshold.relative else "")
        data["models"], data["seq_lens"] = list(self.models), list(self.seq_lens)
        return {"format": FORMAT, **data}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_json(cls, text: str) -> SweepConfig:
        """The config a sweep file holds; ConfigError naming the first value of the wrong type or
        out of range (parsed with a bounded depth and number size, like a run's config)."""
        data = parse_json(text)
        if not isinstance(data, dict) or data.pop("format", None) != FORMAT:
            raise ConfigError("not a gradviz sweep config")
        known = {f.name for f in dataclasses.fields(cls)}
        if set(data) != known:
            raise ConfigError(f"sweep config keys must be {', '.join(sorted(known))}")
        for name in ("models", "seq_lens"):
            if not isinstance(data[name], list):
                raise ConfigError(f"{name} must be a list, got {show(data[name])}")
        for name in ("lr", "clip"):
            if isinstance(data[name], bool) or not isinstance(data[name], (int, float)):
                raise ConfigError(f"{name} must be a number, got {show(data[name])}")
        if not isinstance(data["threshold"], str):
            raise ConfigError(f"threshold must be text such as '0.1x', got {show(data['threshold'])}")
        data["threshold"] = Threshold.parse(data["threshold"])
        data["models"], data["seq_lens"] = tuple(data["models"]), tuple(data["seq_lens"])
        try:
            return cls(**data)
        except ConfigError:
            raise
        except (TypeError, ValueError, OverflowError) as exc:
            raise ConfigError(f"bad sweep config: {exc}") from None

    def difference(self, other: SweepConfig) -> str | None:
        """The first setting in which two sweeps differ, said in words; None when equal."""
        mine, theirs = self.to_dict(), other.to_dict()
        for key in mine:
            if mine[key] != theirs[key]:
                return f"{key} is {theirs[key]!r} there, {mine[key]!r} here"
        return None
