"""The typed protocol between the window's process and the trainer process.

Commands go to the trainer, events come back; each is a small frozen dataclass, pickled on a
multiprocessing queue. Frames (the large arrays) do not travel here: they go through shared
memory (``gradviz.session.framebuf``), and only a small ``FrameReady`` note says one is there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gradviz.config import RunConfig, TrainConfig

# The trainer's states (``StateChanged.state``); "dead" is the window's name for a trainer
# process that ended without being asked to.
IDLE, RUNNING, PAUSED, DIVERGED, FAILED, DEAD = "idle", "running", "paused", "diverged", "failed", "dead"


# ---- commands (window -> trainer) ---------------------------------------------------------


@dataclass(frozen=True)
class Start:
    """Train continuously; with ``until`` > 0, pause once ``until`` steps are done (in the
    trainer, exactly: the window's view of the step count lags by a frame or more)."""

    until: int = 0


@dataclass(frozen=True)
class Pause:
    """Stop after the current step."""


@dataclass(frozen=True)
class Step:
    """Train exactly one step, recorded (pauses a running trainer)."""


@dataclass(frozen=True)
class Reset:
    """Build a new run from ``config``; ``start``: train at once."""

    config: RunConfig
    start: bool = False


@dataclass(frozen=True)
class Restore:
    """Continue a saved run from its arrays (weights, optimiser, batches, history); stays paused."""

    config: RunConfig
    arrays: dict


@dataclass(frozen=True)
class SetTrain:
    """A live edit: learning rate / clipping / optimiser of model ``index``, between steps."""

    index: int
    train: TrainConfig


@dataclass(frozen=True)
class SetDelay:
    """Seconds to wait between steps: 0 for full speed, up to a second for slow motion."""

    seconds: float


@dataclass(frozen=True)
class Save:
    """Write the run file between two steps (answered by RunSaved or SaveFailed)."""

    path: Path
    force: bool = False
    preset: str = ""  # the preset the run started from ("": none), written into the file


@dataclass(frozen=True)
class AskArrays:
    """The run file's arrays of the history so far, no model state (answered by Arrays)."""


@dataclass(frozen=True)
class AskWords:
    """Measure held-out review ``example`` on every model (answered by WordsReady)."""

    example: int


@dataclass(frozen=True)
class Evaluate:
    """Score every model on the held-out set (answered by Evaluated)."""


# What ``Measure`` can ask of one step beyond its probes (``engine.learner.Learner.step``):
# the backward pass (``probes.backward_wave``) and which output step teaches which timestep
# (``probes.connectivity``).
WAVE, CONNECTIVITY = "wave", "connectivity"


@dataclass(frozen=True)
class Measure:
    """Train one recorded step (pausing a running trainer, as ``Step``) and measure ``what``
    (WAVE or CONNECTIVITY) of every model on it, before its update."""

    what: str


@dataclass(frozen=True)
class Quit:
    """End the trainer process."""


Command = (Start | Pause | Step | Reset | Restore | SetTrain | SetDelay | Save | AskArrays | AskWords | Evaluate
           | Measure | Quit)


# ---- events (trainer -> window) -----------------------------------------------------------


@dataclass(frozen=True)
class StateChanged:
    state: str


@dataclass(frozen=True)
class RunReset:
    """A new run exists (built, or restored from a file): what the window needs to show it."""

    config: RunConfig
    device_name: str
    baseline: object  # gradviz.tasks.Baseline
    example_count: int  # held-out reviews of a text task (1 for the others)
    steps_done: int
    restored: bool = False


@dataclass(frozen=True)
class BuildRefused:
    """A reset or restore the trainer could not build; the run that was there goes on."""

    message: str


@dataclass(frozen=True)
class LoadProgress:
    """Per mille of a text file read for a reset."""

    done: int
    total: int


@dataclass(frozen=True)
class RunFailed:
    message: str


@dataclass(frozen=True)
class RunDiverged:
    step: int
    message: str


@dataclass(frozen=True)
class RunSaved:
    path: str
    step: int


@dataclass(frozen=True)
class SaveFailed:
    message: str


@dataclass(frozen=True)
class TrainApplied:
    """A live edit reached model ``index``: its training settings and optimiser's rate now."""

    index: int
    train: TrainConfig
    lr: float


@dataclass(frozen=True)
class Arrays:
    arrays: dict | None


@dataclass(frozen=True)
class WordsReady:
    report: object  # gradviz.engine.reports.WordReport


@dataclass(frozen=True)
class Evaluated:
    report: object  # gradviz.engine.reports.EvaluationReport


@dataclass(frozen=True)
class ReportFailed:
    name: str  # "words" or "evaluate"
    message: str


@dataclass(frozen=True)
class Measured:
    """What ``Measure`` asked, at recorded step ``step``: per model a ``BackwardWave`` or a
    ``Connectivity`` (None for a diverged model)."""

    what: str
    step: int
    per_model: tuple


@dataclass(frozen=True)
class FrameReady:
    """A frame waits in shared memory block ``block`` (``size`` bytes of it are used)."""

    block: str
    size: int
    version: int


Event = (StateChanged | RunReset | BuildRefused | LoadProgress | RunFailed | RunDiverged | RunSaved | SaveFailed
         | TrainApplied | Arrays | WordsReady | Evaluated | ReportFailed | Measured | FrameReady)
