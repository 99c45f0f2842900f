"""The Session: the application's state without Qt, and the one owner of the trainer process.

It holds what the window shows and what the user asked for: the mode (live, replay, opening),
the run file's path, the settings edited but not applied, the step looked back at, the words
questions of the text tasks, and the trainer's state as its events report it. Views connect
to its callbacks (``Callbacks``, named in the past tense like Qt signals) and read its
properties; they never ask a widget or the trainer what state the application is in. The
window calls ``poll()`` on its paint timer; tests call it in a loop, with no window at all.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gradviz.config import RunConfig, TrainConfig
from gradviz.io.background import BackgroundWrite
from gradviz.io.runfile import SavedRun, has_state
from gradviz.session import protocol as p
from gradviz.session.frames import Frame, frame_from_saved
from gradviz.session.process import TrainerProcess
from gradviz.tasks import WORD_TASKS

LIVE, REPLAY, OPENING = "live", "replay", "opening"
WORDS_TIMEOUT_S = 30.0  # ask again if the trainer has not answered a words question by then
WORDS_EVERY_S = 1.0  # words are measured between training steps: at most this often
# A run of a preset's own settings is worth a question before it is thrown away once it has
# trained this long: a lecturer re-runs a preset in seconds, not 500 steps or a minute.
KEEP_STEPS = 500
KEEP_SECONDS = 60.0
ANSWER_S = 2.0  # an export waits this long for the trainer's arrays, then uses what the window holds
SILENT_S = 5.0  # a running trainer silent this long is said to be not answering (and is not asked)
HOLD_EVERY_S = 10.0  # a running run's arrays are copied into the window this often (kept if the trainer dies)


@dataclass(frozen=True)
class ArraysAnswer:
    """The answer to ``Session.request_arrays``: the run's recorded arrays to export, or why not."""

    arrays: dict | None  # None: nothing to export (``error`` says why)
    note: str = ""  # what was used instead of the trainer's own answer ("" when it answered)
    error: str | None = None


class Callbacks:
    """A list of functions to call: a Qt-free signal."""

    def __init__(self) -> None:
        self._slots: list[Callable] = []

    def connect(self, slot: Callable) -> None:
        self._slots.append(slot)

    def emit(self, *args) -> None:
        for slot in list(self._slots):
            slot(*args)


class Session:
    """One window's run: its trainer process, its mode and what it shows."""

    def __init__(self, config: RunConfig, autostart: bool = True, trainer_factory=TrainerProcess):
        self._factory = trainer_factory
        self.shown = config  # the run the plots are set up for
        self.active: RunConfig | None = None  # the trainer's run, once it exists
        self.mode = LIVE
        self.run_path: Path | None = None
        self.opening: Path | None = None  # a run file being restored (it becomes run_path once restored)
        self.replay: SavedRun | None = None  # the recording the history slider looks at
        self.replay_step = -1  # recorded step index looked at (-1: none)
        self.replay_only = False  # an opened run with no model state: nothing to continue
        self._replay_wanted: int | None = None  # asked the trainer for its arrays to look back
        self._resume_on_live = False  # looking back paused a running trainer: Live resumes it
        self.pending = False  # the settings differ from the run's
        self.trainer_state = p.IDLE
        self.steps_done = 0
        self.saved_at_step: int | None = None
        self.stock: RunConfig | None = None  # a preset's settings, as shipped (set by the window)
        self.stock_name = ""  # that preset's name, written into a saved run file
        self._edited_live = False  # a live setting (lr, clip...) changed during this run
        self._trained_s = 0.0  # seconds this run has trained, besides the stretch now running
        self._running_since: float | None = None
        self.building_since: float | None = None  # a reset or an opened run in the making
        self._frame_before_build: Frame | None = None  # shown again if the build is refused
        self._awaiting_first_step = False  # a new run whose first step has not come yet
        self._first_step_since = 0.0  # since when it has been training towards that step
        self.baseline = None
        self.device_name = ""
        self.example_count = 1
        self.train_applied: dict[int, p.TrainApplied] = {}  # the last live edit each model took
        self.banner: str | None = None  # the message the window shows in red (None: none)
        self.frame: Frame | None = None  # the newest live frame
        self.arrays: dict | None = None  # the last arrays the trainer sent (AskArrays)
        # The newest arrays of this run that the window holds, whoever asked: what can still be
        # exported or saved when the trainer hangs or dies (recorded history, no model state).
        self.held: dict | None = None
        self.saving: Path | None = None  # a Save sent and not yet answered (written or failed)
        # A dead trainer's run, as the window held it, being written by a thread of this process.
        self._held_write: BackgroundWrite | None = None
        self._held_write_of: tuple[object, int] = (None, 0)  # its trainer (a Reset starts another) and steps
        self.last_heard = time.perf_counter()  # when the trainer last sent anything
        self._held_asked = time.perf_counter()
        self.silent_s = SILENT_S
        self._arrays_wanted: list[tuple[float, Callable[[ArraysAnswer], None]]] = []  # (deadline, reply)
        # Text tasks: one words question open at a time, at most one a second.
        self.words_visible = False
        self.words_example = 0
        self._words_asked = -math.inf
        self._words_open = False
        self._words_version = -1

        self.stateChanged = Callbacks()  # (state)
        self.runReset = Callbacks()  # (config): a new run: set up plots and settings for it
        self.shownChanged = Callbacks()  # (config): the plots must show another configuration
        self.buildStarted = Callbacks()  # (config): the plots only (not the settings) show this run
        self.bannerChanged = Callbacks()  # (text or None)
        self.modeChanged = Callbacks()  # (mode)
        self.replayChanged = Callbacks()  # (frame): the frame at the step looked back at
        self.loadProgressed = Callbacks()  # (done, total)
        self.wordsReady = Callbacks()  # (WordReport)
        self.evaluated = Callbacks()  # (EvaluationReport)
        self.reportFailed = Callbacks()  # (name, message)
        self.runSaved = Callbacks()  # (path)
        self.saveStarted = Callbacks()  # (path): this process writes it (``save_progress`` says how far)
        self.pendingChanged = Callbacks()  # (pending)
        self.waveReady = Callbacks()  # (step, waves): every model's backward pass of one step
        self.connectivityReady = Callbacks()  # (step, matrices): which output step teaches which
        self.last_wave: p.Measured | None = None

        self._start_trainer(config, autostart)

    # ---- the trainer process -------------------------------------------------------------

    def _start_trainer(self, config: RunConfig, start: bool) -> None:
        self.trainer = self._factory(config)
        self.building_since = time.monotonic()
        self.trainer.start()
        self._closing = False
        self._was_running = False
        if start:
            self.trainer.send(p.Start())

    @property
    def trainer_alive(self) -> bool:
        return self.trainer_state != p.DEAD

    @property
    def has_run(self) -> bool:
        return self.active is not None and self.trainer_alive

    def poll(self) -> Frame | None:
        """Handle what the trainer sent; returns a new live frame, if one came."""
        new_frame = None
        for event in self.trainer.events():
            self.last_heard = time.perf_counter()
            frame = self._handle(event)
            if frame is not None:
                new_frame = frame
        if not self._closing and self.trainer_state != p.DEAD and not self.trainer.alive:
            self._died()
        self._refresh_held()
        self._finish_held_save()
        self._answer_late()
        return new_frame

    def _refresh_held(self) -> None:
        """Every HOLD_EVERY_S of a running run, ask for its arrays (answered between two steps;
        kept in ``held``), so the run on screen stays exportable and savable if the trainer dies."""
        now = time.perf_counter()
        if self.trainer_state == p.RUNNING and self.has_run and now - self._held_asked > HOLD_EVERY_S:
            self._held_asked = now
            self.trainer.send(p.AskArrays())

    def silent_for(self) -> float:
        """Seconds a running trainer has sent nothing (0 unless running): a stopped or hung
        process, or one step that takes that long."""
        if self.trainer_state != p.RUNNING or self.progress() is not None:
            return 0.0  # a build or a first step says what it does (progress) and how long it takes
        return time.perf_counter() - self.last_heard

    @property
    def held_steps(self) -> int:
        """Recorded steps in ``held`` (0: none)."""
        return len(self.held["step"]) if self.held is not None and "step" in self.held else 0

    def _handle(self, event: p.Event) -> Frame | None:
        match event:
            case p.FrameReady():
                frame = self.trainer.read_frame(event)
                if self.building_since is not None:
                    return None  # the old run's last steps: what shows now is the run being built
                if frame is not None and self.active is not None and len(frame.models) == len(self.active.models):
                    if frame.steps_done > self.steps_done:
                        self._awaiting_first_step = False
                    self.frame, self.steps_done = frame, frame.steps_done
                    return frame
            case p.StateChanged(state=state):
                self._set_state(state)
            case p.RunReset():
                self._on_reset(event)
            case p.BuildRefused(message=message):
                self._on_refused(message)
            case p.LoadProgress(done=done, total=total):
                self.loadProgressed.emit(done, total)
            case p.SaveFailed(message=message):
                self.saving = None
                self.show_banner(message)
            case p.RunFailed(message=message):
                self.show_banner(message)
            case p.RunDiverged(message=message):
                self.show_banner(f"Training {message}. Plots keep the last finite data; "
                                 "press Reset (R) to start again.")
            case p.RunSaved(path=path, step=step):
                self.saving = None
                self.saved_at_step, self.run_path = step, Path(path)
                self.runSaved.emit(path)
            case p.TrainApplied(index=index):
                self.train_applied[index] = event
            case p.Arrays(arrays=arrays):
                self.arrays = arrays
                if arrays is not None:
                    self.held = arrays
                self._look_back_with(arrays)
                self._answer_arrays(arrays)
            case p.WordsReady(report=report):
                self._words_open = False
                self.wordsReady.emit(report)
            case p.Measured(what=p.WAVE, step=step, per_model=waves):
                self.last_wave = event
                self.waveReady.emit(step, list(waves))
            case p.Measured(what=p.CONNECTIVITY, step=step, per_model=matrices):
                self.connectivityReady.emit(step, list(matrices))
            case p.Evaluated(report=report):
                self.evaluated.emit(report)
            case p.ReportFailed(name=name, message=message):
                self._words_open = False
                self.reportFailed.emit(name, message)
        return None

    def _died(self) -> None:
        """The trainer process ended by itself: keep the last frame and history, say why."""
        cause = self.trainer.cause_of_death()
        self.trainer.stop(0.1)
        self.saving = None  # whatever it was writing is not coming
        self._was_running = self.trainer_state == p.RUNNING
        self.building_since, self._awaiting_first_step = None, False
        self._set_state(p.DEAD)
        self._answer_arrays(None)  # a death is an answer too: what the window holds
        self.show_banner(f"Training stopped: {cause}. The plots keep the last frame; press Reset (R) to "
                         "start a new trainer.")

    def _set_state(self, state: str) -> None:
        if state != self.trainer_state:
            self._count_training(state)
            if state == p.RUNNING:
                self._first_step_since = time.monotonic()
            self.trainer_state = state
            if state == p.RUNNING:
                self.show_banner(None)
            self.stateChanged.emit(state)

    def _on_reset(self, event: p.RunReset) -> None:
        if self.opening is not None and event.restored:  # restored: Save now writes there
            self.run_path, self.opening = self.opening, None
        self.active = self.shown = event.config
        self.baseline, self.device_name, self.example_count = event.baseline, event.device_name, event.example_count
        self.steps_done = event.steps_done
        self.saved_at_step = event.steps_done if event.restored else None
        self.frame = None
        self.held = None  # another run: what the window held was the last one's
        self.train_applied = {}
        self.building_since, self._awaiting_first_step = None, True
        self._first_step_since = time.monotonic()
        self._edited_live, self._trained_s = False, 0.0
        self._running_since = time.monotonic() if self.trainer_state == p.RUNNING else None
        self._words_asked, self._words_open, self._words_version = -math.inf, False, -1
        self.show_banner(None)
        self._set_mode(LIVE)
        self.runReset.emit(event.config)

    def _on_refused(self, message: str) -> None:
        """A reset or an opened run the trainer could not build: say why, and go back to the
        run that goes on (an opened run had already set up the plots for itself)."""
        self.building_since = None
        self.show_banner(message)
        opening = self.mode == OPENING
        if opening:
            self.opening = None
            self._set_mode(LIVE)
        if self.active is not None and self.shown != self.active:
            self.shown = self.active
            if self.frame is None:
                self.frame = self._frame_before_build  # the run that goes on, as it was
            # An opened file's settings leave the form too; a refused reset's stay there to be fixed.
            (self.shownChanged if opening else self.buildStarted).emit(self.active)

    def show_banner(self, text: str | None) -> None:
        if text != self.banner:
            self.banner = text
            self.bannerChanged.emit(text)

    def _set_mode(self, mode: str) -> None:
        if mode != self.mode:
            self.mode = mode
            if mode != REPLAY:
                self.replay, self.replay_step, self._replay_wanted = None, -1, None
                self.replay_only, self._resume_on_live = False, False
            self.modeChanged.emit(mode)

    # ---- transport -----------------------------------------------------------------------

    def toggle_running(self) -> None:
        if self.replay_only:
            self.show_banner("This run file has no model state to continue from: press Reset to train anew.")
            return
        if not self.has_run:
            return  # nothing was built, or the trainer died (the banner says why): Reset first
        self.follow_live()
        self.trainer.send(p.Pause() if self.trainer_state == p.RUNNING else p.Start())

    def start(self, until: int = 0) -> None:
        """Train on; with ``until``, pause at exactly that many steps (a lesson's scene)."""
        self.trainer.send(p.Start(until))

    def pause(self) -> None:
        self.trainer.send(p.Pause())

    def step(self) -> None:
        if not self.replay_only and self.has_run:
            self.follow_live()
            self.trainer.send(p.Step())

    def reset(self, config: RunConfig, start: bool | None = None) -> None:
        """A new run from ``config`` (``start``: train at once; default: if it was training).
        A dead trainer is replaced by a fresh process."""
        if start is None:  # as it was; a trainer that died while training trains again
            was = self._was_running if self.trainer_state == p.DEAD else self.trainer_state == p.RUNNING
            start = was
        self.follow_live(force=True)
        self.shown = config
        self.building_since = time.monotonic()
        # Nothing of the old run stays on show while the new one is built (seconds, for a long T).
        self._frame_before_build, self.frame = self.frame, None
        self.buildStarted.emit(config)
        if self.trainer_state == p.DEAD:
            self.trainer_state = p.IDLE
            self.active = None
            self._start_trainer(config, start)
            self.show_banner(None)
            self.stateChanged.emit(p.IDLE)
        else:
            self.trainer.send(p.Reset(config, start))

    def set_train(self, index: int, train: TrainConfig) -> None:
        self._edited_live = True
        self.trainer.send(p.SetTrain(index, train))

    def set_delay(self, seconds: float) -> None:
        self.trainer.send(p.SetDelay(seconds))

    def set_pending(self, pending: bool) -> None:
        if pending != self.pending:
            self.pending = pending
            self.pendingChanged.emit(pending)

    def save(self, path: Path, force: bool = False) -> None:
        if not self.has_run:
            if self.trainer_state == p.DEAD and self.held_steps:
                self._save_held(Path(path), force)
                return
            self.show_banner("There is no run to save: press Reset (R) to start one." if self.trainer_alive else
                             "The trainer stopped before the window held any recorded step of its run: nothing "
                             "to save. Press Reset (R) to start a new trainer.")
            return
        self.saving = Path(path)
        self.trainer.send(p.Save(Path(path), force, self.stock_name))

    def wait_for_save(self, timeout_s: float, tick: Callable[[float], None] | None = None) -> bool:
        """Before the trainer is ended: wait until the save in progress is written (or failed, or
        the trainer died), at most ``timeout_s``, calling ``tick(seconds waited)`` as it waits (a
        window says so and repaints). True when no save is left in progress."""
        started = time.perf_counter()
        while self.saving is not None and (self.trainer_alive or self._held_write is not None):
            waited = time.perf_counter() - started
            if waited > timeout_s:
                return False
            if tick is not None:
                tick(waited)
            self.poll()
            time.sleep(0.05)
        return self.saving is None

    def _save_held(self, path: Path, force: bool) -> None:
        """The trainer died: write the recorded history the window holds (it replays; the
        model's weights died with the trainer, so it cannot train on), in a thread: a large run
        takes seconds, which froze the window on its own thread. ``poll`` reports the end."""
        from gradviz.io.runfile import save_arrays_kept

        if self._held_write is not None:
            return  # one at a time; the status bar says it is being written
        held = {**self.held, "preset": self.stock_name} if self.stock_name else self.held  # its preset's name
        self.saving = Path(path)
        self._held_write_of = (self.trainer, int(held["step"][-1]) + 1)
        self._held_write = BackgroundWrite(path, lambda: save_arrays_kept(path, held, force=force))
        self.saveStarted.emit(str(path))

    def save_progress(self) -> str | None:
        """The save this process is writing, with its seconds so far; None when none is."""
        job = self._held_write
        if job is None:
            return None
        return f"Saving {job.path.name} (the run as the window holds it) · {job.seconds:.0f} s"

    def _finish_held_save(self) -> None:
        job = self._held_write
        if job is None or not job.done:
            return
        self._held_write = None
        if self.saving == job.path:
            self.saving = None
        trainer, steps = self._held_write_of
        same_run = trainer is self.trainer  # not reset since: the banner is this run's
        if job.error is not None:  # said even after a Reset: the user must learn the file is not there
            self.show_banner(f"Could not save {job.path}: {job.error}")
            return
        if same_run:
            self.run_path = job.written
            note = job.note
            self.show_banner(f"Saved the run as the window held it (recorded up to step {steps}; its weights "
                             f"ended with the trainer, so the file replays but cannot train on)"
                             f"{'. ' + note if note else ''}.")
        self.runSaved.emit(str(job.written))

    def ask_wave(self) -> bool:
        """Ask for every model's backward pass on the next step (the trainer trains that step
        and pauses); it arrives through ``waveReady``. False (nothing asked) without a live run."""
        return self._ask(p.Measure(p.WAVE))

    def ask_connectivity(self) -> bool:
        """The same for the connectivity matrices; they arrive through ``connectivityReady``."""
        return self._ask(p.Measure(p.CONNECTIVITY))

    def _ask(self, command: p.Command) -> bool:
        if not self.has_run or self.mode != LIVE:
            return False
        self.trainer.send(command)
        return True

    def ask_arrays(self) -> None:
        """Ask for the run file's arrays of the history so far (they arrive in ``arrays``)."""
        self.arrays = None
        self.trainer.send(p.AskArrays())

    def request_arrays(self, reply: Callable[[ArraysAnswer], None], timeout_s: float = ANSWER_S) -> None:
        """The run's recorded arrays for an export, answered by an event, never waited for:
        ``reply(ArraysAnswer)`` is called once, from ``poll`` when the trainer's arrays arrive,
        or, when it has not answered within ``timeout_s`` (stopped, or busy in a long step) or has
        died, with what the window holds (``held``) and a note saying so. With no live trainer
        to ask, or one known silent (``is_silent``), it is called at once."""
        if not self.has_run or self.is_silent():
            reply(self._arrays_answer(None))
            return
        if not self._arrays_wanted:
            self.ask_arrays()
        self._arrays_wanted.append((time.perf_counter() + timeout_s, reply))

    def is_silent(self) -> bool:
        """A running trainer that has sent nothing for ``silent_s``: stopped, hung or in a long step."""
        return self.silent_for() > self.silent_s

    def _answer_arrays(self, arrays: dict | None) -> None:
        """Every open request, answered with ``arrays`` (None: the trainer did not or cannot answer)."""
        wanted, self._arrays_wanted = self._arrays_wanted, []
        for _, reply in wanted:
            reply(self._arrays_answer(arrays))

    def _answer_late(self) -> None:
        """Requests the trainer has not answered in time get what the window holds."""
        now = time.perf_counter()
        late = [reply for deadline, reply in self._arrays_wanted if deadline <= now]
        if late:
            self._arrays_wanted = [(d, r) for d, r in self._arrays_wanted if d > now]
            for reply in late:
                reply(self._arrays_answer(None))

    def _arrays_answer(self, arrays: dict | None) -> ArraysAnswer:
        """The trainer's ``arrays`` when they hold a recorded step; without them (None) the run
        as the window holds it, said as such; else why there is nothing to export."""
        if arrays is not None and "step" in arrays:
            return ArraysAnswer(arrays)
        if arrays is None and self.held_steps:
            why = "the trainer is not answering" if self.trainer_alive else "the trainer has stopped"
            return ArraysAnswer(self.held, f"{why}: exported the run as the window holds it, recorded up to "
                                           f"step {int(self.held['step'][-1]) + 1}")
        if self.active is not None and arrays is None:
            if self.trainer_alive:
                return ArraysAnswer(None, error="the trainer is not answering (stopped, or busy with a long step), "
                                                "and the window holds no recorded step of this run yet")
            return ArraysAnswer(None, error="the trainer has stopped, and the window held no recorded step of its run")
        return ArraysAnswer(None, error="nothing to export yet: train a step first")

    def has_unsaved_run(self) -> bool:
        return self.has_run and self.steps_done > 0 and self.saved_at_step != self.steps_done

    def progress(self) -> str | None:
        """What a slow start is doing, with the seconds it has taken (None when nothing is):
        a reset or an opened run being built, then a training run's first step."""
        now = time.monotonic()
        if self.building_since is not None:
            return f"building the run · {now - self.building_since:.0f} s"
        if self._awaiting_first_step and self.trainer_state == p.RUNNING:
            return f"first step in progress · {now - self._first_step_since:.0f} s"
        return None

    def _count_training(self, state: str) -> None:
        now = time.monotonic()
        if self._running_since is not None:
            self._trained_s += now - self._running_since
        self._running_since = now if state == p.RUNNING else None

    @property
    def trained_seconds(self) -> float:
        """Seconds this run has spent training (running, not paused), since its reset."""
        running = time.monotonic() - self._running_since if self._running_since is not None else 0.0
        return self._trained_s + running

    def work_to_keep(self) -> str | None:
        """Why discarding the run (quit, a preset, another file) should be asked first, said as
        the question's reason; None when nothing would be lost that is not quickly made again:
        an unsaved run that was opened or saved and trained on since, that the user changed
        (settings not a preset's own, or a live edit), or that trained long (``KEEP_STEPS``
        steps or ``KEEP_SECONDS`` s)."""
        if not self.has_unsaved_run():
            return None
        steps = f"{self.steps_done} step{'s' if self.steps_done != 1 else ''}"
        if self.run_path is not None:
            return f"It has trained on since it was saved to {self.run_path.name} ({steps} now)."
        if self._edited_live or self.stock is None or self.active != self.stock:
            return f"It trained {steps} with settings you chose."
        if self.steps_done >= KEEP_STEPS or self.trained_seconds >= KEEP_SECONDS:
            return f"It trained {steps} ({self.trained_seconds:.0f} s)."
        return None

    # ---- looking back and saved runs -----------------------------------------------------

    def look_back(self, index: int) -> None:
        """Show recorded step ``index``: a live run pauses and its arrays are fetched first."""
        if self.replay is not None:
            self.replay_step = index
            self.replayChanged.emit(frame_from_saved(self.replay, index))
            return
        if not self.has_run:
            return
        if self.mode == LIVE:
            self._resume_on_live = self.trainer_state == p.RUNNING
        self.trainer.send(p.Pause())
        self._set_mode(REPLAY)
        self._replay_wanted = index
        self.ask_arrays()

    def _look_back_with(self, arrays: dict | None) -> None:
        if self.mode != REPLAY or self._replay_wanted is None or self.replay is not None:
            return
        if arrays is None or "step" not in arrays:
            self._set_mode(LIVE)
            return
        self.replay = SavedRun(self.shown, arrays)
        index, self._replay_wanted = self._replay_wanted, None
        self.look_back(min(index, len(arrays["step"]) - 1))

    def follow_live(self, force: bool = False) -> None:
        """Leave the history view: the plots follow training again (not for a replay-only file
        unless ``force``: a reset or a preset)."""
        if self.mode == REPLAY and (force or not self.replay_only):
            self._set_mode(LIVE)

    def go_live(self) -> None:
        """The Live button: the plots follow training again, and training that was running
        before looking back runs again (paused before, it stays paused)."""
        resume = self._resume_on_live and self.mode == REPLAY and not self.replay_only and self.has_run
        self.follow_live()
        if resume:
            self.trainer.send(p.Start())

    def open_run(self, saved: SavedRun, path: Path) -> None:
        """An opened run file: restored to train on if it has model state, else only replayed."""
        self.shown = saved.config
        self.shownChanged.emit(saved.config)
        if has_state(saved.arrays):
            self._set_mode(OPENING)
            self.building_since = time.monotonic()
            self._frame_before_build, self.frame = self.frame, None
            self.opening = Path(path)
            self.trainer.send(p.Restore(saved.config, saved.arrays))
            return
        self.run_path = Path(path)
        self.trainer.send(p.Pause())
        self._set_mode(REPLAY)
        self.replay_only = True
        self.replay = saved
        self.show_banner("This run file has no model state: you can replay it; Reset trains anew."
                         if "step" in saved.arrays else
                         "This run file has no model state and no recorded steps: there is nothing to "
                         "replay; Reset trains anew.")
        if len(saved.arrays.get("step", ())):
            self.look_back(len(saved.arrays["step"]) - 1)

    # ---- text tasks: words questions -----------------------------------------------------

    @property
    def text_mode(self) -> bool:
        return self.shown.task.name in WORD_TASKS

    def ask_words(self, force: bool = False) -> None:
        """Ask for the words of the chosen review when they are shown and the models trained
        since: one question open at a time, at most one a second (``force``: now)."""
        if not self.words_visible or not self.text_mode or not self.has_run:
            return
        now = time.perf_counter()
        if not force:
            if self._words_open and now - self._words_asked < WORDS_TIMEOUT_S:
                return  # the last question is still open
            if self.steps_done == self._words_version or now - self._words_asked < WORDS_EVERY_S:
                return  # the models have not changed, or were asked about a moment ago
            self._words_version = self.steps_done
        self._words_asked, self._words_open = now, True
        self.trainer.send(p.AskWords(self.words_example))

    def evaluate(self) -> bool:
        if not self.text_mode or not self.has_run:
            return False
        self.trainer.send(p.Evaluate())
        return True

    # ---- the end -------------------------------------------------------------------------

    def close(self, timeout_s: float = 2.0) -> bool:
        """End the trainer process within ``timeout_s``; True if it has ended."""
        self._closing = True
        return self.trainer.stop(timeout_s)
