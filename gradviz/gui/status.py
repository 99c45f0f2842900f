"""The status bar at the desk: the trainer's state, the step, steps/s and frames/s, the
device, and a progress bar while a run file is read.

What it says comes from the Qt-free session: a slow start's progress, a trainer that has
gone silent, the state its events reported. Presentation mode hides the bar; the pause badge
(presentation.py) says the same there.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

from gradviz.session.protocol import RUNNING

SILENT_S = 5.0  # a running trainer silent this long is said to be not answering


class StatusRoom:
    """The permanent labels of ``bar``, kept up to date from ``session``."""

    def __init__(self, bar: QStatusBar, session_of):
        self._session_of = session_of
        self.device_label = QLabel()
        self.rate_label = QLabel()
        self.step_label = QLabel()
        self.state_label = QLabel()
        self.load_bar = QProgressBar()
        self.load_bar.setMaximumWidth(220)
        self.load_bar.setFormat("reading file %p%")
        self.load_bar.setVisible(False)
        bar.addPermanentWidget(self.load_bar)
        for label in (self.state_label, self.step_label, self.rate_label, self.device_label):
            bar.addPermanentWidget(label)
        self.fps = 0.0
        self.said_silent = False  # the bar says the trainer is not answering
        self.progress_shown: str | None = None  # the slow-start note on show (Session.progress)

    def show_state(self, state: str) -> None:
        self.state_label.setText(f"  {state}  ")
        if state != RUNNING:  # paused, idle or dead: no frame may come (looking back shows none) to say so
            self.rate_label.setText(f"  0 steps/s · {self.fps:.0f} fps  ")

    def show_frame(self, steps_done: int, steps_per_second: float) -> None:
        # A frame painted while not running (the paused step, a dead trainer's last frame) may
        # carry the rate of the steps before it: a trainer that is not training has no rate.
        if self._session_of().trainer_state != RUNNING:
            steps_per_second = 0.0
        self.step_label.setText(f"  step {steps_done}  ")
        self.rate_label.setText(f"  {steps_per_second:.0f} steps/s · {self.fps:.0f} fps  ")

    def say_if_silent(self, silent_s: float = SILENT_S) -> None:
        """A running trainer that has sent nothing for ``silent_s`` is not shown as running at
        its last rate: the bar says it is not answering (stopped, hung or in a long step)."""
        session = self._session_of()
        silent = session.silent_for()
        if silent > silent_s:
            self.state_label.setText(f"  running? no answer for {silent:.0f} s  ")
            self.rate_label.setText(f"  ? steps/s · {self.fps:.0f} fps  ")
            self.said_silent = True
        elif self.said_silent:
            self.said_silent = False
            self.state_label.setText(f"  {session.trainer_state}  ")

    def show_progress(self) -> bool:
        """A reset or a first step that takes seconds: say so, with the time, in place of the
        old run's step and rate (which belong to a run that is gone). True if it changed."""
        session = self._session_of()
        note = session.progress()
        if note is None and self.progress_shown is None:
            return False
        if note is not None:
            self.step_label.setText(f"  {note}  ")
            self.rate_label.setText(f"  – steps/s · {self.fps:.0f} fps  ")
        else:  # built (and not training, or its first step came): the new run's own numbers
            self.step_label.setText(f"  step {session.steps_done}  ")
            self.rate_label.setText(f"  0 steps/s · {self.fps:.0f} fps  ")
        self.progress_shown = note
        return True

    def show_load(self, done: int, total: int) -> None:
        self.load_bar.setRange(0, total)
        self.load_bar.setValue(done)
        self.load_bar.setVisible(done < total)
