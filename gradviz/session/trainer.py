"""The trainer process: the only place where the window's runs train.

``serve`` is the child process's main function. ``TrainerLoop`` owns a ``Run`` and its
``RunHistory``, applies the typed commands of ``gradviz.session.protocol`` between steps,
answers with events, and, when the window asks for one, writes the latest ``Frame`` to shared
memory. Frames are latest-only: if painting is slower than training, intermediate steps are
simply not drawn (the history keeps them), and nothing queues up. A failure inside a step is
reported as an event and the process lives on; if the process itself dies, the window sees
it end (``gradviz.session.process``).
"""

from __future__ import annotations

import gc
import queue
import time
import traceback

import numpy as np

from gradviz.allocator import release_freed_memory
from gradviz.boundary import release_cached_memory
from gradviz.budget import MemoryRefused
from gradviz.config import RunConfig
from gradviz.engine import Run, describe_device
from gradviz.engine.device import DeviceFault
from gradviz.engine.reports import evaluation_report, example_count, is_text_task, word_report
from gradviz.io.checkpoint import CheckpointError, history_from_arrays, restore_run, state_arrays
from gradviz.io.runfile import SavedRun, run_arrays, save_arrays
from gradviz.probes.history import RunHistory
from gradviz.probes.records import StepRecord
from gradviz.session import protocol as p
from gradviz.session.framebuf import FrameWriter
from gradviz.session.frames import frame_from_history, frame_from_saved
from gradviz.tasks.textdata import TextDataError
from gradviz.threads import apply_threads, torch_threads

IDLE_POLL_S = 0.02  # how often an idle trainer looks for a frame request or a dead window


def serve(config: RunConfig, commands, events, frame_wanted, threads: int | None, parent_gone) -> None:
    """The trainer process's main function (``gradviz.session.process`` set the child up):
    ``threads`` torch threads, or None to choose them for each run by ``gradviz.threads``'
    policy, leaving the window a core; ``parent_gone()`` says the window has ended, and the
    loop then stops at the next step boundary (the parent watch ends a long step)."""
    if threads is not None:
        apply_threads(threads)
    loop = TrainerLoop(config, commands, events.put, frame_wanted, parent_gone=parent_gone, threads=threads)
    try:
        loop.run()
    finally:
        loop.frames.close()


class TrainerLoop:
    """Trains one run at a time, driven by commands; talks back through ``emit``."""

    def __init__(self, config: RunConfig, commands, emit, frame_wanted, parent_gone=None, threads: int | None = 0):
        """``parent_gone()`` says the window has ended (None: never asked); ``threads``: torch's
        threads for every run, None to choose them per run, 0 to leave them as they are (a
        loop run in a thread of a test)."""
        self.commands = commands
        self.emit = emit
        self.frame_wanted = frame_wanted
        self.parent_gone = parent_gone or (lambda: False)
        self.threads = threads
        self.frames = FrameWriter()
        self._pending_config: RunConfig | None = config
        self.state = p.IDLE
        self._delay = 0.0
        self._version = 0
        self._sent_version = -1
        self._rate = 0.0
        self._last_step_at = time.perf_counter()  # when the last step ended (the rate's clock)
        self._quit = False
        self._stepping = 0  # single steps asked for and not yet trained
        self._extras: set[str] = set()  # what the next step measures beyond its probes (B, C)
        self._start_after_reset = False
        self._until = 0  # pause once the run has this many steps (0: train on)
        self.run_: Run | None = None
        self.history: RunHistory | None = None
        self.baseline = None

    # ---- the loop ------------------------------------------------------------------------

    def run(self) -> None:
        self._last_step_at = time.perf_counter()
        while not self._quit:
            try:
                training = self.run_ is not None and (self.state == p.RUNNING or self._stepping) and (
                    self.state in (p.RUNNING, p.PAUSED, p.IDLE))
                self._take_commands(0.0 if training else IDLE_POLL_S)
                if self._quit or self.parent_gone():  # no trainer outlives its window
                    return
                if self._pending_config is not None:
                    self._build(self._pending_config)
                runnable = self.run_ is not None and self.state in (p.RUNNING, p.PAUSED, p.IDLE)
                if runnable and (self.state == p.RUNNING or self._stepping):
                    record = self._train_step(force_record=bool(self._stepping))
                    self._stepping = max(0, self._stepping - 1)
                    now = time.perf_counter()
                    rate = 1.0 / max(now - self._last_step_at, 1e-6)
                    # A smoothed rate: steps/s jitters too much step to step to read.
                    self._rate = 0.9 * self._rate + 0.1 * rate if self._rate else rate
                    self._last_step_at = now
                    if record.newly_diverged:
                        self._on_diverged(record)
                    if self._until and self.state == p.RUNNING and self.run_.step >= self._until:
                        self._set_state(p.PAUSED)
                    self._offer_frame()
                    if self.state == p.RUNNING and self._delay:
                        self._take_commands(self._delay)
                else:
                    self._last_step_at = time.perf_counter()
                    if self._rate:
                        self._rate = 0.0
                        self._version += 1
                    self._offer_frame()
            except Exception as exc:  # noqa: BLE001 - any failure must reach the user, not end the process
                self._fail(exc)
                time.sleep(IDLE_POLL_S)  # a failure that repeats must not spin the loop

    def _take_commands(self, wait_s: float) -> None:
        """Apply every waiting command; wait up to ``wait_s`` for the first."""
        try:
            command = self.commands.get(timeout=wait_s) if wait_s > 0 else self.commands.get_nowait()
        except queue.Empty:
            return
        while True:
            if isinstance(command, p.Quit):
                self._quit = True
                return
            self._apply(command)
            try:
                command = self.commands.get_nowait()
            except queue.Empty:
                return

    def _apply(self, command) -> None:
        match command:
            case p.Start(until=until) if self.state in (p.IDLE, p.PAUSED, p.RUNNING):
                if not until or self.run_ is None or self.run_.step < until:
                    self._set_state(p.RUNNING)
                    self._until = until
                elif self.state == p.RUNNING:  # already there
                    self._set_state(p.PAUSED)
            case p.Pause() if self.state == p.RUNNING:
                self._set_state(p.PAUSED)
            case p.Step() if self.state in (p.IDLE, p.PAUSED, p.RUNNING):
                if self.state == p.RUNNING:
                    self._set_state(p.PAUSED)
                self._stepping += 1
            case p.Reset(config=config, start=start):
                # Built at once, so that a start queued right behind it finds the new run.
                self._start_after_reset = start
                self._until = 0  # a new run: no old run's "train to N" (it may stay RUNNING)
                self._build(config)
            case p.Restore(config=config, arrays=arrays):
                self._pending_config = None
                self._restored(config, arrays)
            case p.Save(path=path, force=force, preset=preset):
                self._save(path, force, preset)
            case p.Measure(what=what) if self.state in (p.IDLE, p.PAUSED, p.RUNNING):
                # As a single step: the run pauses on the step that is measured, so the plots
                # beside the measurement are that step's and hold still.
                self._extras.add(what)
                if self.state == p.RUNNING:
                    self._set_state(p.PAUSED)
                self._stepping += 1
            case p.AskArrays():
                self.emit(p.Arrays(self.arrays()))
            case p.AskWords(example=example):
                self._report("words", example)
            case p.Evaluate():
                self._report("evaluate")
            case p.SetTrain(index=index, train=train) if self.run_ is not None:
                if index < len(self.run_.learners):
                    self.run_.set_train(index, train)
                    learner = self.run_.learners[index]
                    self.emit(p.TrainApplied(index, learner.train, learner.optimizer.param_groups[0]["lr"]))
            case p.SetDelay(seconds=seconds):
                self._delay = max(0.0, seconds)

    # ---- frames --------------------------------------------------------------------------

    def _offer_frame(self) -> None:
        """Write the newest frame to shared memory if the window asked for one and it is new."""
        if self._version == self._sent_version or self.history is None or not self.frame_wanted.is_set():
            return
        self.frame_wanted.clear()
        latest = [self.history.latest_probed(index) for index in range(self.history.models)]
        frame = frame_from_history(self.history, self.run_.config, latest, self._version, self.run_.step,
                                   self.state, self._rate, self.run_.solved.solved_at)
        name, size = self.frames.write(frame)
        self._sent_version = self._version
        self.emit(p.FrameReady(name, size, self._version))

    def arrays(self) -> dict | None:
        """The run file's arrays of the history so far (no model state)."""
        if self.run_ is None or self.history is None or self.baseline is None:
            return None
        return run_arrays(self.run_.config, self.history, (self.baseline.loss, self.baseline.metric),
                          self.run_.solved.reported())

    # ---- building, saving, reports -------------------------------------------------------

    def _load_progress(self, done: int, total: int) -> None:
        self.emit(p.LoadProgress(min(1000, 1000 * done // max(total, 1)), 1000))

    def _report(self, name: str, *args) -> None:
        """Answer a words or evaluate question; a failure is reported, training goes on."""
        if self.run_ is None or not is_text_task(self.run_.task):
            self.emit(p.ReportFailed(name, "there is no run over words to measure"))
            return
        try:
            if name == "words":
                self.emit(p.WordsReady(word_report(self.run_, *args)))
            else:
                self.emit(p.Evaluated(evaluation_report(self.run_)))
        except Exception as exc:  # noqa: BLE001 - a failed measurement must not stop training
            traceback.print_exc()
            self.emit(p.ReportFailed(name, str(exc) or type(exc).__name__))

    def _choose_threads(self, config: RunConfig) -> None:
        """Threads by the run's size (gradviz.threads), leaving the window a core. The window
        already read any GRADVIZ_TRAINER_THREADS (``self.threads``), so the environment, which
        is the fork server's, is not asked again."""
        if self.threads is None:
            apply_threads(torch_threads(config, reserve=1, environ={}))

    def _build(self, config: RunConfig) -> None:
        self._pending_config = None
        start, self._start_after_reset = self._start_after_reset, False
        # A start sent before the first build (the window autostarts) must survive it.
        start = start or (self.history is None and self.state == p.RUNNING)
        if self.run_ is not None:  # GPU memory (issue 20): the old run's freed activations, before the new run's check
            release_cached_memory(self.run_.device)
        self._choose_threads(config)
        try:
            run = Run(config, self._load_progress)
        except TextDataError as exc:
            self.emit(p.BuildRefused(f"Cannot use this text file: {exc}. Nothing was changed."))
            return
        except MemoryRefused as exc:
            self.emit(p.BuildRefused(f"Cannot reset: {exc}. Nothing was changed."))
            return
        finally:
            self.emit(p.LoadProgress(1, 1))  # read, or refused: the progress bar goes either way
        self._adopt(run, RunHistory(len(config.models)))
        self._set_state(p.RUNNING if start else p.IDLE)
        self.emit(self._reset_event(restored=False))

    def _restored(self, config: RunConfig, arrays: dict) -> None:
        # Everything is built before anything is adopted: a file that fails restoring leaves
        # the running training as it was.
        self._choose_threads(config)
        try:
            run = restore_run(config, arrays, self._load_progress)
            history = history_from_arrays(config, arrays)
            if "solved_at_sequences" in arrays:  # issue 23: a solved model stays solved
                run.solved.restore(arrays["solved_at_sequences"])
            # The plots of "now" show the last recorded step until training makes a newer one.
            latest = [None] * len(config.models)
            if "step" in arrays:
                latest = [view.latest for view in frame_from_saved(SavedRun(config, arrays)).models]
        except (TextDataError, CheckpointError, MemoryRefused) as exc:  # its text file is gone or has changed
            self.emit(p.BuildRefused(f"Cannot continue this run: {exc}. Nothing was changed."))
            return
        except (ValueError, KeyError, IndexError, TypeError) as exc:  # a file that passed its checks, still wrong
            self.emit(p.BuildRefused(f"Cannot continue this run: the file is inconsistent ({exc!s:.200}). "
                                     "Nothing was changed."))
            return
        finally:
            self.emit(p.LoadProgress(1, 1))
        self._adopt(run, history, latest)
        self._set_state(p.PAUSED)
        self.emit(self._reset_event(restored=True))

    def _adopt(self, run: Run, history: RunHistory, latest: list | None = None) -> None:
        if latest is not None:
            history.start_latest_from(latest)
        old, self.run_, self.history = self.run_, run, history
        self._rate = 0.0  # the new run's rate is its own, from its first step
        if old is not None:
            # The old run's weights, optimiser state and history stay until the new run is built
            # (a refused Reset changes nothing), then go back: to the GPU (issue 20), and on the
            # CPU to the system (the allocator keeps what a run frees: gradviz/allocator.py).
            device = old.device
            del old
            gc.collect()
            if device.type == "cpu":
                release_freed_memory()
            else:
                release_cached_memory(device)
        self.baseline = run.task.baseline()
        # Timed from here: not a first step that took the build's (or the collection's) time.
        self._last_step_at = time.perf_counter()
        self._version += 1

    def _reset_event(self, restored: bool) -> p.RunReset:
        run = self.run_
        count = example_count(run.task) if is_text_task(run.task) else 1
        return p.RunReset(run.config, describe_device(run.device), self.baseline, count, run.step, restored)

    def _save(self, path, force: bool, preset: str = "") -> None:
        if self.run_ is None or self.history is None or self.baseline is None:
            self.emit(p.SaveFailed("There is no run to save yet."))
            return
        try:
            arrays = self.arrays()
            arrays.update(state_arrays(self.run_))
            if preset:  # an opened file says which preset it came from, changed or not
                arrays["preset"] = np.array(preset)
            save_arrays(path, arrays, force=force)
        except (OSError, ValueError) as exc:
            self.emit(p.SaveFailed(f"Could not save {path}: {exc}"))
            return
        self.emit(p.RunSaved(str(path), self.run_.step))

    # ---- training ------------------------------------------------------------------------

    def _train_step(self, force_record: bool) -> StepRecord:
        extras, self._extras = frozenset(self._extras), set()
        record = self.run_.train_step(record=True if force_record else None, extras=extras)
        for what in extras:
            self.emit(p.Measured(what, record.step, tuple(learner.measured[what] for learner in self.run_.learners)))
        self.history.add(record)
        self._version += 1
        return record

    def _on_diverged(self, record: StepRecord) -> None:
        # Only the diverged model stops; the run stops when none is left to train.
        message = self.run_.divergence_message(record) or ""
        if self.run_.all_diverged:
            self._set_state(p.DIVERGED)
        self.emit(p.RunDiverged(record.step, message))

    def _fail(self, exc: Exception) -> None:
        traceback.print_exc()
        self._set_state(p.FAILED)
        self.emit(p.RunFailed(readable(exc)))

    def _set_state(self, state: str) -> None:
        if state != p.RUNNING:
            self._until = 0  # a "train to N" ends with the running that it bounds
        if state != self.state:
            self.state = state
            self._version += 1
            self.emit(p.StateChanged(state))


def readable(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, DeviceFault):  # names the device and the operation, suggests the CPU
        return f"Training stopped: {text}. The run so far is kept; change the device and press Reset."
    if "out of memory" in text.lower():
        return (
            "The device ran out of memory. Use a smaller batch, a shorter sequence (T) or fewer "
            "hidden units, or switch the device to CPU, then press Reset."
        )
    return f"Training stopped with an error: {text}. Change the settings and press Reset."
