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

from PySide6.QtCore import QObject, QThread, Signal

from gradviz.budget import MemoryRefused
from gradviz.config import RunConfig, TrainConfig
from gradviz.engine import Run, describe_device
from gradviz.engine.reports import evaluation_report, is_text_task, word_report
from gradviz.gui.frames import Frame, frame_from_history, frame_from_saved
from gradviz.io.checkpoint import CheckpointError, history_from_arrays, restore_run, state_arrays
from gradviz.io.runfile import SavedRun, run_arrays, save_arrays
from gradviz.io.textdata import TextDataError
from gradviz.probes.history import RunHistory
from gradviz.probes.records import ModelRecord, StepRecord
from gradviz.tasks import Baseline

IDLE, RUNNING, PAUSED, DIVERGED, FAILED = "idle", "running", "paused", "diverged", "failed"


class TrainingWorker(QObject):
    """Trains a Run in a QThread; controlled by thread-safe commands."""

    stateChanged = Signal(str)
    runReset = Signal(object)  # the new RunConfig, once its Run exists
    runFailed = Signal(str)  # a readable message
    runDiverged = Signal(int, str)  # step, message
    runSaved = Signal(str)  # path
    saveFailed = Signal(str)  # a readable message
    loadProgress = Signal(int, int)  # per mille of a text file read for a reset, 1000
    buildRefused = Signal(str)  # a bad text file: nothing changed, the run that was there goes on
    wordsReady = Signal(object)  # WordReport: one review through every model
    evaluated = Signal(object)  # EvaluationReport: every model on the held-out set
    reportFailed = Signal(str, str)  # "words" or "evaluate", why: the run goes on

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
        self.saved_at_step: int | None = None  # steps done when last saved (None: never)
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

    def restore(self, config: RunConfig, arrays: dict) -> None:
        """Continue a saved run (its weights, optimiser, batches and history); stays paused."""
        self._send("restore", config, arrays)

    def save(self, path, force: bool = False) -> None:
        """Write the run file between two steps; answers with runSaved or saveFailed."""
        self._send("save", path, force)

    def arrays(self) -> dict | None:
        """The run file's arrays of the history so far (no model state): for the slider."""
        with self._lock:
            if self.run is None or self.history is None or self.baseline is None:
                return None
            return run_arrays(self.run.config, self.history, (self.baseline.loss, self.baseline.metric))

    def words(self, example: int) -> None:
        """Measure held-out review ``example`` on every model (text tasks); answers wordsReady."""
        self._send("words", example)

    def evaluate(self) -> None:
        """Score every model on the held-out set (text tasks); answers evaluated."""
        self._send("evaluate")

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
            return frame_from_history(
                self.history, self.run.config, self._latest, self._version, self.run.step, self._state, self._rate
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
                    if record.newly_diverged:
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
            # Built at once, so that a start queued right behind it finds the new run.
            self._start_after_reset = command[2]
            self._build(command[1])
        elif name == "restore":
            self._pending_config = None
            self._restored(command[1], command[2])
        elif name == "save":
            self._save(command[1], command[2])
        elif name in ("words", "evaluate"):
            self._report(name, *command[1:])
        elif name == "train" and self.run is not None:
            index, train = command[1], command[2]
            if index < len(self.run.trainers):
                self.run.set_train(index, train)
        return 0

    def _load_progress(self, done: int, total: int) -> None:
        # Per mille, not bytes: a Qt int is 32 bits, and files can pass 2 GB.
        self.loadProgress.emit(min(1000, 1000 * done // max(total, 1)), 1000)

    def _report(self, name: str, *args) -> None:
        """Answer a words or evaluate question; a failure is reported, training goes on."""
        if self.run is None or not is_text_task(self.run.task):
            self.reportFailed.emit(name, "there is no run over words to measure")
            return
        try:
            if name == "words":
                self.wordsReady.emit(word_report(self.run, *args))
            else:
                self.evaluated.emit(evaluation_report(self.run))
        except Exception as exc:  # noqa: BLE001 - a failed measurement must not stop training
            traceback.print_exc()
            self.reportFailed.emit(name, str(exc) or type(exc).__name__)

    def _build(self, config: RunConfig) -> None:
        self._pending_config = None
        start, self._start_after_reset = self._start_after_reset, False
        # A start sent before the first build (the window autostarts) must survive it.
        start = start or (self.history is None and self._state == RUNNING)
        try:
            run = Run(config, self._load_progress)
        except TextDataError as exc:
            self.buildRefused.emit(f"Cannot use this text file: {exc}. Nothing was changed.")
            return
        except MemoryRefused as exc:
            self.buildRefused.emit(f"Cannot reset: {exc}. Nothing was changed.")
            return
        finally:
            self.loadProgress.emit(1, 1)  # read, or refused: the progress bar goes either way
        with self._lock:
            self.run = run
            self.history = RunHistory(len(config.models))
            self._latest = [None] * len(config.models)
            self.device_name = describe_device(run.device)
            self.baseline = run.task.baseline()
            self.saved_at_step = None
            self._version += 1
        self._set_state(RUNNING if start else IDLE)
        self.runReset.emit(config)

    def _restored(self, config: RunConfig, arrays: dict) -> None:
        try:
            run = restore_run(config, arrays, self._load_progress)
            history = history_from_arrays(config, arrays)
            # The plots of "now" show the last recorded step until training makes a newer one.
            latest = None
            if "step" in arrays:
                latest = [view.latest for view in frame_from_saved(SavedRun(config, arrays)).models]
        except (TextDataError, CheckpointError, MemoryRefused) as exc:  # its text file is gone or has changed
            self.buildRefused.emit(f"Cannot continue this run: {exc}. Nothing was changed.")
            return
        except (ValueError, KeyError, IndexError, TypeError) as exc:  # a file that passed its checks, still wrong
            self.buildRefused.emit(f"Cannot continue this run: the file is inconsistent ({exc!s:.200}). "
                                   "Nothing was changed.")
            return
        finally:
            self.loadProgress.emit(1, 1)
        with self._lock:
            self.run, self.history = run, history
            self._latest = latest or [None] * len(config.models)
            self.device_name = describe_device(run.device)
            self.baseline = run.task.baseline()
            self.saved_at_step = run.step
            self._version += 1
        self._set_state(PAUSED)
        self.runReset.emit(config)

    def _save(self, path, force: bool) -> None:
        if self.run is None or self.history is None or self.baseline is None:
            self.saveFailed.emit("There is no run to save yet.")
            return
        try:
            with self._lock:
                arrays = run_arrays(self.run.config, self.history, (self.baseline.loss, self.baseline.metric))
            arrays.update(state_arrays(self.run))
            save_arrays(path, arrays, force=force)
        except (OSError, ValueError) as exc:
            self.saveFailed.emit(f"Could not save {path}: {exc}")
            return
        self.saved_at_step = self.run.step
        self.runSaved.emit(str(path))

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
        # Only the diverged model stops; the run stops when none is left to train.
        message = self.run.divergence_message(record) or ""
        if self.run.all_diverged:
            self._set_state(DIVERGED)
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
