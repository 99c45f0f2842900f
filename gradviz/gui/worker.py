"""The training thread: the only threading code in gradviz.

``TrainingWorker`` owns a ``Run`` and its ``RunHistory`` and trains in its own QThread. The GUI
never touches the model: it sends commands (start, pause, step, reset, live settings), which
the loop applies between steps, and on its paint timer it asks for the latest ``Frame``, a
copy of what the plots need. Frames are latest-only: if painting is slower than training,
intermediate steps are simply not drawn (the history keeps them), and nothing queues up.
"""

from __future__ import annotations

import queue
import threading
import time
import traceback
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal

from gradviz.config import RunConfig, TrainConfig
from gradviz.engine import Run, describe_device
from gradviz.probes.history import RunHistory
from gradviz.probes.records import ModelRecord, StepRecord
from gradviz.tasks import Baseline

IDLE, RUNNING, PAUSED, DIVERGED, FAILED = "idle", "running", "paused", "diverged", "failed"
PROBE_COLUMNS = ("step", "grad_h", "half_life", "spectral_radius", "param_grad_norms", "underflow_steps")


@dataclass(frozen=True)
class ModelView:
    """One model's data for one frame: its latest measured record and its probe history."""

    label: str
    kind: str
    latest: ModelRecord | None  # the last record that carries Probes
    history: dict[str, np.ndarray]  # PROBE_COLUMNS -> (N, ...)
    param_names: list[str]


@dataclass(frozen=True)
class Frame:
    """Everything the window paints, as copies: safe to keep while training goes on."""

    version: int
    steps_done: int
    state: str
    steps_per_second: float
    scalars: dict[str, np.ndarray]  # step (S,), loss / metric / grad_norm (S, M)
    models: tuple[ModelView, ...] = field(default_factory=tuple)


class TrainingWorker(QObject):
    """Trains a Run in a QThread; controlled by thread-safe commands."""

    stateChanged = Signal(str)
    runReset = Signal(object)  # the new RunConfig, once its Run exists
    runFailed = Signal(str)  # a readable message
    runDiverged = Signal(int, str)  # step, message

    def __init__(self, config: RunConfig):
        super().__init__()
        self._commands: queue.Queue = queue.Queue()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._pending_config: RunConfig | None = config
        self._state = IDLE
        self._delay = 0.0
        self._version = 0
        self._rate = 0.0
        self.run: Run | None = None
        self.history: RunHistory | None = None
        self.device_name = ""
        self.baseline: Baseline | None = None
        self._latest: list[ModelRecord | None] = []
        self._start_after_reset = False
        self._thread = QThread()
        self._thread.setObjectName("gradviz-training")
        self.moveToThread(self._thread)
        self._thread.started.connect(self._loop)

    # ---- commands (any thread) -------------------------------------------------------------

    def launch(self) -> None:
        self._thread.start()

    def start(self) -> None:
        self._send("start")

    def pause(self) -> None:
        self._send("pause")

    def step_once(self) -> None:
        self._send("step")

    def reset(self, config: RunConfig, start: bool = False) -> None:
        self._send("reset", config, start)

    def set_train(self, index: int, train: TrainConfig) -> None:
        self._send("train", index, train)

    def set_delay(self, seconds: float) -> None:
        """Pause between steps: 0 for full speed, up to a second for slow motion."""
        self._delay = max(0.0, seconds)
        self._wake.set()

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Stop the loop after the current step and wait for the thread; True if it ended."""
        self._send("quit")
        self._thread.quit()
        return self._thread.wait(timeout_ms)

    @property
    def state(self) -> str:
        return self._state

    @property
    def thread(self) -> QThread:
        return self._thread

    def _send(self, *command) -> None:
        self._commands.put(command)
        self._wake.set()

    # ---- frames (GUI thread) ---------------------------------------------------------------

    def frame(self, newer_than: int = -1) -> Frame | None:
        """A copy of the current data, or None if nothing changed since ``newer_than``."""
        with self._lock:
            if self._version == newer_than or self.history is None or self.run is None:
                return None
            history = self.history
            scalars = {name: history.scalars.column(name) for name in history.scalars.names()}
            models = []
            for index, setup in enumerate(self.run.config.models):
                columns = {name: history.probe_column(index, name) for name in PROBE_COLUMNS}
                for name in history.gate_names[index]:
                    columns[f"mean/{name}"] = history.probe_column(index, f"mean/{name}")
                models.append(
                    ModelView(
                        setup.label, setup.model.kind, self._latest[index], columns, list(history.param_names[index])
                    )
                )
            return Frame(
                self._version, self.run.step, self._state, self._rate, scalars, tuple(models)
            )

    # ---- the loop (worker thread) ----------------------------------------------------------

    def _loop(self) -> None:
        stepping = 0
        last_time = time.perf_counter()
        while True:
            try:
                while True:
                    try:
                        command = self._commands.get_nowait()
                    except queue.Empty:
                        break
                    if command[0] == "quit":
                        return
                    stepping += self._apply(command)
                if self._pending_config is not None:
                    self._build(self._pending_config)
                runnable = self.run is not None and self._state in (RUNNING, PAUSED, IDLE)
                if runnable and (self._state == RUNNING or stepping):
                    record = self._train_step(force_record=bool(stepping))
                    stepping = max(0, stepping - 1)
                    now = time.perf_counter()
                    rate = 1.0 / max(now - last_time, 1e-6)
                    # A smoothed rate: steps/s jitters too much step to step to read.
                    self._rate = 0.9 * self._rate + 0.1 * rate if self._rate else rate
                    last_time = now
                    if record.diverged:
                        self._on_diverged(record)
                    if self._state == RUNNING and self._delay:
                        self._wake.wait(self._delay)
                        self._wake.clear()
                else:
                    last_time = time.perf_counter()
                    self._rate = 0.0
                    self._wake.wait(0.5)
                    self._wake.clear()
            except Exception as exc:  # noqa: BLE001 - any failure must reach the user, not kill the thread
                self._fail(exc)

    def _apply(self, command: tuple) -> int:
        """Apply one command; returns how many single steps it asks for."""
        name = command[0]
        if name == "start" and self._state in (IDLE, PAUSED):
            self._set_state(RUNNING)
        elif name == "pause" and self._state == RUNNING:
            self._set_state(PAUSED)
        elif name == "step" and self._state in (IDLE, PAUSED, RUNNING):
            if self._state == RUNNING:
                self._set_state(PAUSED)
            return 1
        elif name == "reset":
            self._pending_config = command[1]
            self._start_after_reset = command[2]
        elif name == "train" and self.run is not None:
            index, train = command[1], command[2]
            if index < len(self.run.trainers):
                self.run.set_train(index, train)
        return 0

    def _build(self, config: RunConfig) -> None:
        self._pending_config = None
        start, self._start_after_reset = self._start_after_reset, False
        # A start sent before the first build (the window autostarts) must survive it.
        start = start or (self.history is None and self._state == RUNNING)
        run = Run(config)
        with self._lock:
            self.run = run
            self.history = RunHistory(len(config.models))
            self._latest = [None] * len(config.models)
            self.device_name = describe_device(run.device)
            self.baseline = run.task.baseline()
            self._version += 1
        self._set_state(RUNNING if start else IDLE)
        self.runReset.emit(config)

    def _train_step(self, force_record: bool) -> StepRecord:
        assert self.run is not None and self.history is not None
        record = self.run.train_step(record=True if force_record else None)
        with self._lock:
            self.history.add(record)
            for index, model in enumerate(record.models):
                if model.probes is not None:
                    self._latest[index] = model
            self._version += 1
        return record

    def _on_diverged(self, record: StepRecord) -> None:
        names = [
            f"{label} (gradient norm {m.grad_norm:.3g})"
            for label, m in zip(self.run.labels, record.models, strict=True)
            if m.diverged
        ]
        message = f"diverged at step {record.step}: {', '.join(names)}"
        if all(trainer.diverged for trainer in self.run.trainers):
            self._set_state(DIVERGED)
        else:
            self._set_state(PAUSED)
        self.runDiverged.emit(record.step, message)

    def _fail(self, exc: Exception) -> None:
        message = _readable(exc)
        traceback.print_exc()
        self._set_state(FAILED)
        self.runFailed.emit(message)

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            with self._lock:
                self._version += 1
            self.stateChanged.emit(state)


def _readable(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    if "out of memory" in text.lower():
        return (
            "The device ran out of memory. Use a smaller batch, a shorter sequence (T) or fewer "
            "hidden units, or switch the device to CPU, then press Reset."
        )
    return f"Training stopped with an error: {text}. Change the settings and press Reset."
