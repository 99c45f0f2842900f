"""The main window: transport controls, the settings panel, one column of plots per model.

The window only paints. Training lives in ``TrainingWorker``; a QTimer at ~33 fps asks it for
the latest frame and hands the arrays to the plots, so painting never waits for training and
training never waits for painting.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSlider,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from gradviz.config import ConfigError, RunConfig
from gradviz.engine.run import build_task
from gradviz.gui.panels.controls import ControlPanel
from gradviz.gui.panels.explanation import ExplanationPanel
from gradviz.gui.plots.column import GATE_TITLES, ModelColumn
from gradviz.gui.plots.ranges import shared_ranges
from gradviz.gui.worker import RUNNING, Frame, TrainingWorker
from gradviz.presets import PRESET_ORDER, Preset, load_preset, preset_names

FRAME_INTERVAL_MS = 30
SLOWEST_DELAY_S = 1.0
GATE_CHOICES = ("forget", "input", "output", "cell", "cell_state", "update", "reset", "new", "hidden")


class MainWindow(QMainWindow):
    """gradviz's window; ``worker`` trains, the window shows."""

    def __init__(self, config: RunConfig, preset: Preset | None = None, autostart: bool = True):
        super().__init__()
        self.setWindowTitle("gradviz: vanishing gradients, live")
        self.resize(1600, 950)
        self.preset = preset
        self.frame_version = -1
        self.last_frame: Frame | None = None
        self.frames_painted = 0
        self.fps = 0.0
        self._fps_clock = time.perf_counter()
        self.columns: list[ModelColumn] = []

        self.controls = ControlPanel(config)
        self.explanation = ExplanationPanel()
        self._build_central()
        self._build_actions()
        self._build_docks()
        self._build_status()

        self.worker = TrainingWorker(config)
        self.worker.stateChanged.connect(self._on_state)
        self.worker.runReset.connect(self._on_reset)
        self.worker.runFailed.connect(self._on_failed)
        self.worker.runDiverged.connect(self._on_diverged)
        # Through a lambda, not the worker's method: a slot of an object living in the worker
        # thread would be queued to that thread's event loop, which the training loop never runs.
        self.controls.trainChanged.connect(lambda index, train: self.worker.set_train(index, train))
        self.controls.pendingChanged.connect(self._on_pending)
        self._rebuild_columns(config)
        self._show_description(preset)
        if autostart:
            self.worker.start()
        self.worker.launch()

        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_INTERVAL_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    # ---- construction ---------------------------------------------------------------------

    def _build_central(self) -> None:
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 4)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.description)
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("QLabel { background: #a01818; color: white; padding: 6px; font-weight: bold; }")
        self.banner.setVisible(False)
        layout.addWidget(self.banner)
        self.plots = QWidget()
        self.plots_layout = QHBoxLayout(self.plots)
        self.plots_layout.setContentsMargins(0, 0, 0, 0)
        self.plots_layout.setSpacing(6)
        layout.addWidget(self.plots, 1)
        self.setCentralWidget(central)

    def _action(self, text: str, shortcut: str | None, slot, tip: str) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(f"{tip} ({shortcut})" if shortcut else tip)
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.start_action = self._action("Start", "Space", self.toggle_running, "Start or pause training")
        self.step_action = self._action("Step", "Right", self.step_once, "Train exactly one step and show it")
        self.reset_action = self._action("Reset", "R", self.reset, "Rebuild the models from the settings")
        quit_action = self._action("Quit", "Ctrl+Q", self.close, "Close gradviz")

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(quit_action)
        run_menu = menu.addMenu("&Run")
        for action in (self.start_action, self.step_action, self.reset_action):
            run_menu.addAction(action)
        self.preset_menu = menu.addMenu("&Presets")
        self.preset_actions: dict[str, QAction] = {}
        for number, name in enumerate(preset_names(), start=1):
            preset = load_preset(name)
            shortcut = str(number) if number <= len(PRESET_ORDER) else None
            action = self._action(f"{preset.title}", shortcut, lambda checked=False, n=name: self.load_preset(n),
                                  preset.description)
            self.preset_menu.addAction(action)
            self.preset_actions[name] = action
        help_menu = menu.addMenu("&Help")
        help_menu.addAction(self._action("Keyboard shortcuts", "F1", self.show_shortcuts, "List the shortcuts"))
        help_menu.addAction(self._action("About gradviz", None, self.show_about, "What gradviz is"))

        toolbar = QToolBar("Transport")
        toolbar.setObjectName("transport")
        toolbar.setMovable(False)
        toolbar.addAction(self.start_action)
        toolbar.addAction(self.step_action)
        toolbar.addAction(self.reset_action)
        toolbar.addSeparator()
        toolbar.addWidget(QLabel(" Speed "))
        self.speed = QSlider(Qt.Orientation.Horizontal)
        self.speed.setRange(0, 100)
        self.speed.setValue(100)
        self.speed.setFixedWidth(140)
        self.speed.setToolTip("Training speed: full speed at the right, slow motion (one step a second) at the left")
        self.speed.valueChanged.connect(self._speed_changed)
        toolbar.addWidget(self.speed)
        toolbar.addSeparator()
        toolbar.addWidget(QLabel(" Gate shown "))
        self.gate_box = QComboBox()
        for name in GATE_CHOICES:
            self.gate_box.addItem(GATE_TITLES[name], name)
        self.gate_box.setToolTip("Which gate (or state) the gate heatmaps show, for the models that have it")
        self.gate_box.currentIndexChanged.connect(self._gate_changed)
        toolbar.addWidget(self.gate_box)
        toolbar.addSeparator()
        toolbar.addWidget(QLabel(" Preset "))
        self.preset_box = QComboBox()
        for name in preset_names():
            self.preset_box.addItem(load_preset(name).title, name)
        self.preset_box.setToolTip("Load a preset: it resets and starts training")
        self.preset_box.activated.connect(lambda index: self.load_preset(self.preset_box.itemData(index)))
        toolbar.addWidget(self.preset_box)
        self.addToolBar(toolbar)
        self.toolbar = toolbar

    def _build_docks(self) -> None:
        scroll = QScrollArea()
        scroll.setWidget(self.controls)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(scroll)
        splitter.addWidget(self.explanation)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        dock = QDockWidget("Settings", self)
        dock.setObjectName("settings")
        dock.setWidget(splitter)
        features = QDockWidget.DockWidgetFeature
        dock.setFeatures(features.DockWidgetMovable | features.DockWidgetFloatable)
        dock.setMinimumWidth(300)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.resizeDocks([dock], [330], Qt.Orientation.Horizontal)
        self.settings_dock = dock

    def _build_status(self) -> None:
        status = self.statusBar()
        self.device_label = QLabel()
        self.rate_label = QLabel()
        self.step_label = QLabel()
        self.state_label = QLabel()
        for label in (self.state_label, self.step_label, self.rate_label, self.device_label):
            status.addPermanentWidget(label)

    # ---- transport ------------------------------------------------------------------------

    def toggle_running(self) -> None:
        if self.worker.state == RUNNING:
            self.worker.pause()
        else:
            self.worker.start()

    def step_once(self) -> None:
        self.worker.step_once()

    def reset(self) -> None:
        try:
            config = self.controls.config()
        except ConfigError as exc:
            self._show_banner(f"Cannot reset: {exc}. Nothing was changed.")
            return
        self.worker.reset(config, start=self.worker.state == RUNNING)
        self.controls.set_config(config)

    def load_preset(self, name: str) -> None:
        preset = load_preset(name)
        self.preset = preset
        self.controls.set_config(preset.config)
        self._show_description(preset)
        index = self.preset_box.findData(name)
        self.preset_box.setCurrentIndex(index)
        self.worker.reset(preset.config, start=True)

    def _speed_changed(self, value: int) -> None:
        # Exponential between full speed and one step a second: slow motion where it matters.
        delay = 0.0 if value >= 100 else SLOWEST_DELAY_S * (0.002 / SLOWEST_DELAY_S) ** (value / 100)
        self.worker.set_delay(delay)

    def _gate_changed(self) -> None:
        for column in self.columns:
            column.gate = self.gate_box.currentData()
            column.redraw_probes()
        self.frame_version = -1  # repaint with the new gate

    # ---- worker events ----------------------------------------------------------------------

    def _on_state(self, state: str) -> None:
        self.start_action.setText("Pause" if state == RUNNING else "Start")
        self.state_label.setText(f"  {state}  ")
        if state in (RUNNING,):
            self.banner.setVisible(False)

    def _on_reset(self, config: RunConfig) -> None:
        self.banner.setVisible(False)
        self._rebuild_columns(config)
        self.frame_version = -1
        self.device_label.setText(f"  {self.worker.device_name}  ")

    def _on_failed(self, message: str) -> None:
        self._show_banner(message)

    def _on_diverged(self, step: int, message: str) -> None:
        self._show_banner(f"Training {message}. Plots keep the last finite data; press Reset (R) to start again.")

    def _on_pending(self, pending: bool) -> None:
        self.reset_action.setText("Reset*" if pending else "Reset")

    def _show_banner(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.setVisible(True)

    def _show_description(self, preset: Preset | None) -> None:
        if preset is None:
            self.description.setText("")
            return
        self.description.setText(f"<b>{preset.title}.</b> {preset.description}")

    # ---- painting ---------------------------------------------------------------------------

    def _rebuild_columns(self, config: RunConfig) -> None:
        while len(self.columns) > len(config.models):
            column = self.columns.pop()
            self.plots_layout.removeWidget(column)
            column.deleteLater()
        while len(self.columns) < len(config.models):
            column = ModelColumn(len(self.columns))
            column.gate = self.gate_box.currentData()
            self.columns.append(column)
            self.plots_layout.addWidget(column)
        for column in self.columns:
            column.reset_plots()
            column.set_timesteps(build_task(config).total_steps)

    def refresh(self) -> None:
        """Timer slot: paint the newest frame if there is one."""
        frame = self.worker.frame(self.frame_version)
        self._count_fps()
        if frame is None or self.worker.baseline is None or len(frame.models) != len(self.columns):
            return
        self.frame_version = frame.version
        self.last_frame = frame
        ranges = shared_ranges(frame, self.worker.baseline.loss)
        config = self.controls.active
        for index, (column, view) in enumerate(zip(self.columns, frame.models, strict=True)):
            clip = config.models[index].train.clip if index < len(config.models) else 0.0
            column.show_frame(view, frame.scalars, self.worker.baseline, clip, ranges)
        self.explanation.show_frame(
            frame,
            [setup.model.nonlinearity for setup in config.models],
            [setup.model.kind == "lstm" and not setup.model.forget_gate for setup in config.models],
        )
        self.step_label.setText(f"  step {frame.steps_done}  ")
        self.rate_label.setText(f"  {frame.steps_per_second:.0f} steps/s · {self.fps:.0f} fps  ")
        self.frames_painted += 1

    def _count_fps(self) -> None:
        now = time.perf_counter()
        if now - self._fps_clock >= 1.0:
            self.fps = self.frames_painted / (now - self._fps_clock)
            self.frames_painted = 0
            self._fps_clock = now

    # ---- help and closing -------------------------------------------------------------------

    def show_shortcuts(self) -> None:
        lines = [
            "Space: start / pause",
            "Right: one training step",
            "R: reset (apply the settings)",
            *(f"{i}: preset '{name}'" for i, name in enumerate(preset_names(), start=1) if i <= len(PRESET_ORDER)),
            "F1: this list",
            "Ctrl+Q: quit",
        ]
        QMessageBox.information(self, "Keyboard shortcuts", "\n".join(lines))

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            "About gradviz",
            "gradviz trains recurrent networks live and shows how much gradient reaches each timestep.\n\n"
            "1986 back-propagation through time; 1991/1994 the vanishing-gradient analyses (Hochreiter; "
            "Bengio, Simard and Frasconi); 1997 LSTM; 2000 forget gate; 2013 gradient clipping; 2014 GRU; "
            "2015 IRNN and forget bias 1; 2016 unitary RNNs and the copy task.",
        )

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self.timer.stop()
        self.worker.shutdown()
        super().closeEvent(event)
