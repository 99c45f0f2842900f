"""The two one-step measurements the window shows on request: the backward pass (B), animated
over the gradient plots, and which step teaches which (C), in a window of its own.

Both ask the session (the trainer trains that step and pauses) and draw what arrives through
``Session.waveReady`` and ``Session.connectivityReady``.
"""

from __future__ import annotations

from PySide6.QtGui import QActionGroup
from PySide6.QtWidgets import QMenu

from gradviz.gui.panels.connectivity import ConnectivityDialog, copy_landmarks
from gradviz.gui.plots.wave import SPEEDS_S, BackwardAnimation, WaveOverlay


def wave_seconds(value) -> float:
    """The saved length of the backward-pass animation, or 3 s if it is not one of the choices."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return 3.0
    return seconds if seconds in SPEEDS_S else 3.0


class StepViews:
    """B and C for ``window`` (a MainWindow)."""

    def __init__(self, window):
        self.window = window
        self.seconds = wave_seconds(window.settings.value("wave_seconds", 3.0))
        self.animation = BackwardAnimation(window)
        self.connectivity: ConnectivityDialog | None = None  # made the first time C is pressed

    def animate_backward_pass(self) -> None:
        """Ask the trainer for the next step's backward pass (it trains that step and pauses)."""
        window = self.window
        if not window.session.ask_wave():
            window.statusBar().showMessage("The backward pass is shown for a live run, not a replay", 4000)
            return
        window.tabs.show_training_tab()  # the pass is drawn over the gradient plots
        window.statusBar().showMessage("Measuring the backward pass of one step...", 3000)

    def wave_ready(self, step: int, waves: list) -> None:
        board = self.window.board
        self.window.commands.refresh_enabled()  # the pass can be exported now
        if board.config is None or len(waves) != len(board.columns):
            return
        overlays = [WaveOverlay(column.gradient, column.colour) for column in board.columns]
        for overlay in overlays:
            overlay.apply_style(board.style)
        self.animation.play(overlays, waves, step, self.seconds)

    def fill_speed_menu(self, menu: QMenu) -> None:
        """View > Backward pass length: one checkable choice per animation length."""
        group = QActionGroup(menu)
        for seconds in SPEEDS_S:
            action = menu.addAction(f"{seconds:g} s")
            action.setCheckable(True)
            action.setChecked(seconds == self.seconds)
            action.triggered.connect(lambda checked=False, s=seconds: self.set_seconds(s))
            group.addAction(action)

    def set_seconds(self, seconds: float) -> None:
        self.seconds = seconds
        self.window.settings.setValue("wave_seconds", seconds)

    def show_connectivity(self) -> None:
        """Open the connectivity window and measure the next step (it trains and pauses)."""
        window = self.window
        if self.connectivity is None:
            self.connectivity = ConnectivityDialog(window)
            self.connectivity.again.connect(self.show_connectivity)
            # A window of its own takes the keyboard: without the window's actions, Space, 1-8,
            # R or Ctrl+E would do nothing while it has the focus.
            self.connectivity.addActions(list(window.commands.actions.values()))
        if not window.session.ask_connectivity():
            window.statusBar().showMessage("Which step teaches which is measured on a live run, not a replay", 4000)
            return
        self.connectivity.summary.setText("Measuring one step...")
        self.connectivity.show()
        self.connectivity.raise_()

    def connectivity_ready(self, step: int, matrices: list) -> None:
        config = self.window.board.config
        if self.connectivity is None or config is None or len(matrices) != len(config.models):
            return
        labels = [setup.label for setup in config.models]
        self.connectivity.show_matrices(step, labels, matrices, self.window.board.style, copy_landmarks(config.task))
