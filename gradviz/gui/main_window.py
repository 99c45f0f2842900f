"""The main window: transport controls, the settings panel, the plot board, and the menus for
presets, presentation mode, themes, export and saved runs.

The window only paints. Training lives in a process of its own, owned by the Qt-free
``Session`` that also holds the application's state (mode, run path, replay step, trainer
state); the window binds its widgets to the session's callbacks. A QTimer at ~33 fps polls the
session for the latest frame and hands the arrays to the plots, so painting never waits for
training and training never waits for painting.
"""

from __future__ import annotations

import gc
import time
from pathlib import Path

from pyqtgraph.util.garbage_collector import GarbageCollector
from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QSplitter,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from gradviz.budget import check_run
from gradviz.config import ConfigError, RunConfig
from gradviz.gui.environment import sweep_folder, user_settings
from gradviz.gui.export import ExportError, export_widget, panel_image
from gradviz.gui.export_dialog import ExportDialog
from gradviz.gui.panels.connectivity import ConnectivityDialog, copy_landmarks
from gradviz.gui.panels.controls import ControlPanel
from gradviz.gui.panels.explanation import DescriptionBar, ExplanationPanel
from gradviz.gui.panels.memory import MemoryEstimate
from gradviz.gui.panels.reviews import ReviewsPanel
from gradviz.gui.panels.settings_layout import SettingsLayout  # polish
from gradviz.gui.panels.sweep import SweepPanel
from gradviz.gui.plots.base import Panel
from gradviz.gui.plots.board import PlotBoard
from gradviz.gui.plots.column import GATE_TITLES
from gradviz.gui.plots.rows import EXTRA_VIEWS, LECTURE_EXTRAS
from gradviz.gui.plots.wave import SPEEDS_S, BackwardAnimation, WaveExport, WaveOverlay
from gradviz.gui.settings import AppSettings
from gradviz.gui.theme import apply_theme, apply_widget_palette, style_for
from gradviz.io.configfile import ConfigFileError, read_config_file
from gradviz.io.runfile import RunFileError, SavedRun, has_state, load_run
from gradviz.presets import Preset, load_preset, preset_names, preset_of
from gradviz.session.description import description_html
from gradviz.session.frames import Frame
from gradviz.session.protocol import DEAD, IDLE, PAUSED, RUNNING
from gradviz.session.state import LIVE, REPLAY, Session

FRAME_INTERVAL_MS = 30
SLOWEST_DELAY_S = 1.0
GATE_CHOICES = ("forget", "input", "output", "cell", "cell_state", "update", "reset", "new", "hidden")
MAX_RECENT = 8
PRESENTATION_SIDE_MARGIN = 10  # px left and right of the plots in presentation mode
DESCRIPTION_OPEN_MIN_HEIGHT = 900  # shorter windows show the description's first line only
TRAINING_TAB, WORDS_TAB, SWEEP_TAB = 0, 1, 2
EXTRA_TITLES = {"history": "history heatmap", "gates": "gates", "gate_means": "gate means",
                "diagnostics": "norms, radius, half-life"}
SHORTCUTS = [
    ("Space", "start / pause"),
    ("Right", "train exactly one step"),
    ("R", "reset: apply the settings"),
    ("1-8", "presets"),
    ("F5", "presentation mode (F5 or Esc leaves)"),
    ("H", "third plot: history heatmap / gates (/ gate means / norms at the desk)"),
    ("D", "open or close the description"),
    ("B", "the backward pass of one step, animated: the gradient travelling back from the loss"),
    ("C", "which step teaches which: each output step's gradient reaching each timestep"),
    ("T", "how far back? the trainability map: success rate against T, filled in as a sweep's runs finish"),
    ("W / E", "text tasks: words of a review / evaluate on the held-out set"),
    ("Ctrl+E", "export a figure or data"),
    ("Ctrl+Shift+C", "copy the current plot"),
    ("Ctrl+S / Ctrl+O", "save / open a run"),
    ("F1", "this list"),
    ("Ctrl+Q", "quit"),
]


SILENT_S = 5.0  # a running trainer silent this long is said to be not answering
SAVE_WAIT_S = 300.0  # closing waits this long at most for a save in progress (a large run takes seconds)


class MainWindow(QMainWindow):
    """gradviz's window: a view over ``session``, whose trainer process trains."""

    def __init__(self, config: RunConfig, preset: Preset | None = None, autostart: bool = True,
                 settings: QSettings | None = None):
        super().__init__()
        self._fit_to_screen(1600, 950)
        # Every stored value is read typed (gui/settings.py): a wrong type never reaches Qt.
        self.settings = AppSettings(settings if settings is not None else user_settings())
        self.preset = preset
        self.theme_name = str(self.settings.value("theme", "dark"))
        self.presentation = False
        self.full_screen = True  # presentation fills the screen (a --screenshot stays at its --size)
        self.frame_version = -1
        self.last_frame: Frame | None = None
        self.frames_painted = 0
        self.fps = 0.0
        self._progress_shown: str | None = None  # the slow-start note on show (Session.progress)
        self._fps_clock = time.perf_counter()
        self.ask_before_discard = True  # off for --screenshot, which closes by itself
        self.wave_seconds = _wave_seconds(self.settings.value("wave_seconds", 3.0))
        self.wave_animation = BackwardAnimation(self)
        self.wave_export: WaveExport | None = None
        self.connectivity: ConnectivityDialog | None = None  # made the first time C is pressed
        self.export_note = ""  # what the last export used instead of the trainer's answer
        self._waiting_for_save = False  # closing, and finishing a save first
        self._said_silent = False  # the status bar says the trainer is not answering

        self.controls = ControlPanel(config)
        self.explanation = ExplanationPanel()
        self.board = PlotBoard()
        self.reviews = ReviewsPanel()
        self.sweep = SweepPanel(sweep_folder(self.settings), self.settings)
        self.sweep_seen = False  # the tab bar shows once the sweep's tab has been opened
        self._build_central()
        self._build_actions()
        self._build_docks()
        self._build_status()

        self.session = session = Session(config, autostart=autostart)
        session.stock = preset.config if preset is not None else None
        session.stateChanged.connect(self._on_state)
        session.runReset.connect(self._on_reset)
        session.waveReady.connect(self._wave_ready)
        session.connectivityReady.connect(self._connectivity_ready)
        session.shownChanged.connect(self._show_config)
        session.buildStarted.connect(self._show_plots_for)
        session.bannerChanged.connect(self._on_banner)
        session.modeChanged.connect(self._on_mode)
        session.replayChanged.connect(self._on_replay_frame)
        session.loadProgressed.connect(self._on_load_progress)
        session.wordsReady.connect(self._on_words)
        session.evaluated.connect(self.reviews.show_evaluation)
        session.reportFailed.connect(self._on_report_failed)
        session.runSaved.connect(self._on_saved)
        session.pendingChanged.connect(self._on_pending)
        # reliab: a dead trainer's run is written in a thread; the status bar says so meanwhile.
        from gradviz.gui.saving import SaveProgress

        self.save_progress = SaveProgress(self)
        # (end reliab)
        self.sweep.started.connect(self._sweep_started)
        self.reviews.exampleChanged.connect(self._on_example)
        self.reviews.evaluateRequested.connect(session.evaluate)
        self.controls.trainChanged.connect(session.set_train)
        self.controls.pendingChanged.connect(session.set_pending)
        self._set_text_mode(config)
        self.controls.field_keys.spacePressed.connect(self.toggle_running)
        self.memory_estimate = MemoryEstimate(self.controls)
        self.board.set_config(config)
        self._show_description(preset, config)
        self._restore_window_state()
        self._say_dropped_settings()
        self.description.set_open(self.height() >= DESCRIPTION_OPEN_MIN_HEIGHT)
        self._desk_description_open = self.description.open
        self.apply_style()

        # Python's cycle collector runs in whichever thread allocates, and this process has
        # threads besides the GUI's (the one that starts the trainer, exports): collecting there
        # destroyed Qt objects outside the GUI thread (a deadlock in QObject::disconnect, a
        # half-cleared LabelItem asked for its size). Collect on a timer in the GUI thread only,
        # as pyqtgraph advises.
        self._collector = GarbageCollector(interval=1.0)
        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_INTERVAL_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    @property
    def columns(self):
        return self.board.columns

    # The session owns these; the window's names for them stay for its callers.
    @property
    def run_path(self) -> Path | None:
        return self.session.run_path

    @property
    def replay(self) -> SavedRun | None:
        return self.session.replay

    @property
    def replay_only(self) -> bool:
        return self.session.replay_only

    # ---- construction ---------------------------------------------------------------------

    def _build_central(self) -> None:
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 4)
        self.description = DescriptionBar()
        top = QHBoxLayout()
        top.addWidget(self.description, 1)
        # Presentation mode has no status bar: a paused run (after B, C or Space) says so here,
        # at the top of the screen, where the room looks.
        self.pause_badge = QLabel()
        self.pause_badge.setVisible(False)
        top.addWidget(self.pause_badge, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(top)
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("QLabel { background: #a01818; color: white; padding: 6px; font-weight: bold; }")
        self.banner.setVisible(False)
        layout.addWidget(self.banner)
        # Training plots, and for a text task the words of one review (Words tab).
        self.views = QTabWidget()
        self.views.setDocumentMode(True)
        self.views.addTab(self.board, "Training")
        self.views.addTab(self.reviews, "Words")
        self.views.setTabToolTip(WORDS_TAB, "Text tasks: how much gradient reaches each word of a held-out review (W)")
        self.views.addTab(self.sweep, "How far back?")
        self.views.setTabToolTip(SWEEP_TAB, "The trainability map: how often each cell learns against the length T "
                                            "it spans, from a sweep of runs in processes of their own (T)")
        self.views.currentChanged.connect(self._on_view_changed)
        self.views.currentChanged.connect(lambda _: self._size_views())
        self._size_views()
        layout.addWidget(self.views, 1)

        replay = QHBoxLayout()
        self.history_label = QLabel("History")
        self.history_slider = QSlider(Qt.Orientation.Horizontal)
        self.history_slider.setToolTip("Move every plot to any recorded step (pauses training; Live resumes it)")
        self.history_slider.setRange(0, 0)
        self.history_slider.valueChanged.connect(self._slider_moved)
        self.live_button = QPushButton("Live")
        self.live_button.setToolTip("Back to the newest step, training again if it was before")
        self.live_button.clicked.connect(self.follow_live)
        replay.addWidget(self.history_label)
        replay.addWidget(self.history_slider, 1)
        replay.addWidget(self.live_button)
        layout.addLayout(replay)
        self.setCentralWidget(central)

    def _size_views(self) -> None:
        """Only the tab on show sets the window's minimum size: the Words tab's table, sized
        for a projector's font, must not hold the training plots wider than the screen."""
        for index in range(self.views.count()):
            policy = QSizePolicy.Policy.Preferred if index == self.views.currentIndex() else QSizePolicy.Policy.Ignored
            self.views.widget(index).setSizePolicy(policy, policy)
        self.views.updateGeometry()

    def _action(self, text: str, shortcut: str | None, slot, tip: str) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(f"{tip} ({shortcut})" if shortcut else tip)
        action.setStatusTip(tip)
        # triggered(checked) would hand its flag to a slot's first optional argument (the
        # path of export_backward_pass, ask of save_run): every action calls its slot bare.
        action.triggered.connect(lambda checked=False: slot())
        self.addAction(action)  # shortcuts work with the menu bar hidden (presentation mode)
        return action

    def _build_actions(self) -> None:
        self.start_action = self._action("Start", "Space", self.toggle_running, "Start or pause training")
        self.step_action = self._action("Step", "Right", self.step_once, "Train exactly one step and show it")
        self.reset_action = self._action("Reset", "R", self.reset, "Rebuild the models from the settings")
        self.presentation_action = self._action("Presentation mode", "F5", self.toggle_presentation,
                                                "Full screen, large fonts, thick lines, high contrast")
        self.presentation_action.setCheckable(True)
        self.export_action = self._action("Export...", "Ctrl+E", self.export_dialog,
                                          "Export the window or a plot to PNG/SVG, or its data to CSV/NPZ")
        copy_action = self._action("Copy plot", "Ctrl+Shift+C", self.copy_plot,
                                   "Copy the last clicked plot to the clipboard")
        save_action = self._action("Save run", "Ctrl+S", self.save_run, "Save the run: settings, history and model")
        save_as_action = self._action("Save run as...", "Ctrl+Shift+S", lambda: self.save_run(ask=True),
                                      "Save the run under a new name")
        open_action = self._action("Open run...", "Ctrl+O", self.open_run_dialog, "Open a saved run and replay it")
        open_config = self._action("Open configuration...", None, self.open_config_dialog,
                                   "Load settings from a JSON or TOML file")
        save_config = self._action("Save configuration...", None, self.save_config_dialog,
                                   "Save the settings as an editable JSON file")
        last_config = self._action("Last configuration", None, self.load_last_config,
                                   "The settings of the last Reset, from the previous session too")
        quit_action = self._action("Quit", "Ctrl+Q", self.close, "Close gradviz")
        self.extra_action = self._action("Next third plot", "H", self.next_extra_view,
                                         "Third plot under the gradient profile and the loss: history heatmap, "
                                         "gates (at the desk also gate means, norms)")
        self.description_action = self._action("Description", "D", lambda: self.description.toggle(),
                                               "Open or close the description above the plots")
        self.wave_action = self._action(
            "Backward pass", "B", self.animate_backward_pass,
            "Train one step, pause, and animate its backward pass: the gradient travelling back from the "
            "loss to t = 1 in every model at once, with what multiplies it at each step")
        self.connectivity_action = self._action(
            "Which step teaches which", "C", self.show_connectivity,
            "Train one step, pause, and show for each model how much gradient the loss at each output "
            "step sends back to each earlier timestep (itemized gradients)")
        self.wave_action.setIconText("Backward")  # the toolbar's label: room for the rest at 1024 px
        export_wave = self._action("Export backward pass...", None, self.export_backward_pass,
                                   "The last backward pass (B) as an animated GIF or a PNG sequence, for slides")
        escape = QShortcut(QKeySequence("Esc"), self)
        escape.activated.connect(lambda: self.presentation and self.toggle_presentation())

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        for action in (open_action, save_action, save_as_action):
            file_menu.addAction(action)
        self.recent_menu = file_menu.addMenu("Recent runs")
        file_menu.addSeparator()
        file_menu.addAction(open_config)
        file_menu.addAction(save_config)
        file_menu.addAction(last_config)
        file_menu.addSeparator()
        file_menu.addAction(self.export_action)
        file_menu.addAction(export_wave)
        file_menu.addAction(copy_action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        run_menu = menu.addMenu("&Run")
        for action in (self.start_action, self.step_action, self.reset_action, self.wave_action):
            run_menu.addAction(action)
        view_menu = menu.addMenu("&View")
        view_menu.addAction(self.presentation_action)
        view_menu.addAction(self.extra_action)
        view_menu.addAction(self.description_action)
        view_menu.addAction(self.connectivity_action)
        self.sweep_action = self._action(
            "How far back? (trainability map)", "T", self.show_sweep_tab,
            "Switch between the training plots and the trainability map: success rate against sequence length, "
            "from a sweep of runs")
        view_menu.addAction(self.sweep_action)
        self.words_action = self._action("Words of a review", "W", self.show_words_tab,
                                         "Text tasks: switch between the training plots and a review's words")
        view_menu.addAction(self.words_action)
        evaluate_action = self._action("Evaluate on the held-out set", "E", self._evaluate,
                                       "Text tasks: accuracy, precision, recall, F1 and confusion matrix")
        run_menu.addAction(evaluate_action)
        speed_menu = view_menu.addMenu("Backward pass length")
        speed_group = QActionGroup(self)
        for seconds in SPEEDS_S:
            action = QAction(f"{seconds:g} s", self, checkable=True)
            action.setChecked(seconds == self.wave_seconds)
            action.triggered.connect(lambda checked=False, s=seconds: self._set_wave_seconds(s))
            speed_group.addAction(action)
            speed_menu.addAction(action)
        theme_menu = view_menu.addMenu("Theme")
        group = QActionGroup(self)
        self.theme_actions = {}
        for name in ("dark", "light"):
            action = QAction(name.capitalize(), self, checkable=True)
            action.setChecked(name == self.theme_name)
            action.triggered.connect(lambda checked=False, n=name: self.set_theme(n))
            group.addAction(action)
            theme_menu.addAction(action)
            self.theme_actions[name] = action
        self.preset_menu = menu.addMenu("&Presets")
        for number, name in enumerate(preset_names(), start=1):
            preset = load_preset(name)
            shortcut = str(number) if number <= 9 else None
            action = self._action(preset.title, shortcut, lambda checked=False, n=name: self.load_preset(n),
                                  preset.description)
            self.preset_menu.addAction(action)
        help_menu = menu.addMenu("&Help")
        help_menu.addAction(self._action("Keyboard shortcuts", "F1", self.show_shortcuts, "List the shortcuts"))
        help_menu.addAction(self._action("About gradviz", None, self.show_about, "What gradviz is"))
        self._refresh_recent()

        toolbar = QToolBar("Transport")
        toolbar.setObjectName("transport")
        toolbar.setMovable(False)
        for action in (self.start_action, self.step_action, self.reset_action, self.wave_action):
            toolbar.addAction(action)
        toolbar.addSeparator()
        self.preset_box = QComboBox()
        for name in preset_names():
            self.preset_box.addItem(load_preset(name).title, name)
        self.preset_box.setToolTip("Load a preset: it resets and starts training")
        self.preset_box.activated.connect(lambda index: self.load_preset(self.preset_box.itemData(index)))
        toolbar.addWidget(self.preset_box)
        # Long preset titles would push the rest of the bar off a 1024-pixel screen (whose window
        # is 1008 px wide: at 18 characters "Gate shown" went into the bar's overflow menu).
        self.preset_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.preset_box.setMinimumContentsLength(14)
        toolbar.addWidget(QLabel(" Third plot "))
        self.extra_box = QComboBox()
        for name in EXTRA_VIEWS:
            self.extra_box.addItem(EXTRA_TITLES[name], name)
        self.extra_box.setToolTip("The plot under the gradient profile and the loss (H)")
        self.extra_box.currentIndexChanged.connect(lambda _: self._extra_changed())
        toolbar.addWidget(self.extra_box)
        # What presentation mode hides: the transport bar keeps start/pause, step, reset, preset.
        self.desk_only: list[QAction] = [toolbar.addSeparator(), toolbar.addWidget(QLabel(" Speed "))]
        self.speed = QSlider(Qt.Orientation.Horizontal)
        self.speed.setRange(0, 100)
        self.speed.setValue(100)
        self.speed.setFixedWidth(90)
        self.speed.setToolTip("Training speed: full speed at the right, slow motion (one step a second) at the left")
        self.speed.valueChanged.connect(self._speed_changed)
        self.desk_only.append(toolbar.addWidget(self.speed))
        self.desk_only.append(toolbar.addWidget(QLabel(" Gate shown ")))
        self.gate_box = QComboBox()
        for name in GATE_CHOICES:
            self.gate_box.addItem(GATE_TITLES[name], name)
        self.gate_box.setToolTip("Which gate (or state) the gate heatmaps show, for the models that have it")
        self.gate_box.currentIndexChanged.connect(self._gate_changed)
        self.desk_only.append(toolbar.addWidget(self.gate_box))
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
        splitter.setStretchFactor(0, 1)  # panels: the equations get as much room as the form
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([1, 1])
        # -- polish: the form keeps its layout after presentation, its model rows in view --
        self._settings_layout = SettingsLayout(splitter, scroll, self.controls)
        # -- end polish --
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
        self.load_bar = QProgressBar()
        self.load_bar.setMaximumWidth(220)
        self.load_bar.setFormat("reading file %p%")
        self.load_bar.setVisible(False)
        status.addPermanentWidget(self.load_bar)
        for label in (self.state_label, self.step_label, self.rate_label, self.device_label):
            status.addPermanentWidget(label)

    # ---- transport ------------------------------------------------------------------------

    def toggle_running(self) -> None:
        self.session.toggle_running()

    def step_once(self) -> None:
        self.session.step()

    def reset(self) -> None:
        try:
            config = self.controls.config()
            check_run(config)  # MemoryRefused (a ConfigError) before anything is allocated
        except ConfigError as exc:
            self.session.show_banner(f"Cannot reset: {exc}. Nothing was changed.")
            return
        self.session.reset(config)
        self.controls.set_config(config)
        self.settings.setValue("last_config", config.to_json())

    def load_preset(self, name: str) -> None:
        if not self._confirm_discard():
            self.preset_box.setCurrentIndex(self.preset_box.findData(self.preset.name) if self.preset else -1)
            return
        preset = load_preset(name)
        self.preset = preset
        self.session.stock = preset.config
        self.controls.set_config(preset.config)
        self._show_description(preset, preset.config)
        self.session.reset(preset.config, start=True)

    def _speed_changed(self, value: int) -> None:
        # Exponential between full speed and one step a second: slow motion where it matters.
        delay = 0.0 if value >= 100 else SLOWEST_DELAY_S * (0.002 / SLOWEST_DELAY_S) ** (value / 100)
        self.session.set_delay(delay)

    def _gate_changed(self) -> None:
        self.board.set_gate(self.gate_box.currentData())
        self.paint_now()

    # ---- style ------------------------------------------------------------------------------

    def apply_style(self) -> None:
        self._styled_height = self.height()
        style = style_for(self.theme_name, self.presentation, self.height())
        apply_theme(style.theme)
        app = QApplication.instance()
        apply_widget_palette(app, style.theme, style.font_px)
        # Widgets with a style sheet keep the font they were polished with: set theirs too.
        self.banner.setStyleSheet("QLabel { background: #a01818; color: white; padding: 6px; font-weight: bold; "
                                  f"font-size: {style.font_px}px; }}")
        self.description.setStyleSheet(f"QLabel, QToolButton {{ font-size: {style.font_px}px; }}")
        self.pause_badge.setStyleSheet("QLabel { background: #f0b000; color: black; padding: 0px 8px; "
                                       f"font-weight: bold; font-size: {style.font_px}px; }}")
        # Widgets hidden while the font changed (the toolbar in presentation mode) keep their
        # old size hints: hand them the font again.
        for widget in self.toolbar.findChildren(QWidget):
            widget.setFont(app.font())
            widget.updateGeometry()
        self.board.screen_height = self.height()
        self.board.apply_style(style)
        self.sweep.apply_style(style)
        self.explanation.set_font_size(style.font_px)
        self.reviews.apply_style(style)  # panels: the word views follow the style too
        self.paint_now()
        self.board.arrange()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        # Presentation text is a fraction of the screen's height: restyle when it changes
        # (full screen arrives after the toggle, as a resize).
        if self.presentation and abs(self.height() - getattr(self, "_styled_height", 0)) > 1:
            self.apply_style()

    def next_extra_view(self) -> None:
        """H: the next choice of third plot (history and gates only, in presentation mode)."""
        choices = LECTURE_EXTRAS if self.presentation else EXTRA_VIEWS
        current = self.board.extra
        following = choices[(choices.index(current) + 1) % len(choices)] if current in choices else choices[0]
        self.extra_box.setCurrentIndex(self.extra_box.findData(following))

    def _extra_changed(self) -> None:
        self.board.set_extra(self.extra_box.currentData())
        self.paint_now()

    def _fit_to_screen(self, width: int, height: int) -> None:
        """Open at ``width`` x ``height`` or smaller: always inside the screen's free area."""
        screen = self.screen() or QApplication.primaryScreen()
        if screen is None:
            self.resize(width, height)
            return
        area = screen.availableGeometry()
        frame = 40  # the window manager's title bar and borders, not part of our geometry
        size = (min(width, area.width() - 16), min(height, area.height() - frame))
        self.resize(*size)
        self.move(area.x() + (area.width() - size[0]) // 2, area.y() + max(0, (area.height() - size[1] - frame) // 2))

    def set_theme(self, name: str) -> None:
        self.theme_name = name
        self.theme_actions[name].setChecked(True)
        self.settings.setValue("theme", name)
        self.apply_style()

    def toggle_presentation(self) -> None:
        self.presentation = not self.presentation
        self.presentation_action.setChecked(self.presentation)
        if not self.presentation:  # before the dock is back: the table's projector width must not widen the window
            self.reviews.set_font_size(style_for(self.theme_name).font_px)
        self.settings_dock.setVisible(not self.presentation)
        self.menuBar().setVisible(not self.presentation)
        self.toolbar.setVisible(not self.presentation)  # its height goes to the plots; the keys stay
        # Full screen, text flush against the screen's edge is cut by some projectors: a side margin.
        sides, ends = (PRESENTATION_SIDE_MARGIN, 0) if self.presentation else (4, 4)
        self.centralWidget().layout().setContentsMargins(sides, ends, sides, ends)
        for action in self.desk_only:
            action.setVisible(not self.presentation)
        self.statusBar().setVisible(not self.presentation)
        self._show_pause_badge()
        self._show_history_row()
        self.sweep.set_lecture(self.presentation)
        if self.presentation:
            self._desk_description_open = self.description.open
        self.description.set_open(False if self.presentation else self._desk_description_open)
        if self.presentation:
            self.board.hide_readouts()
            if self.full_screen:
                self.showFullScreen()
        elif self.full_screen:
            self.showNormal()
        self.apply_style()

    # ---- session events ---------------------------------------------------------------------

    def _say_if_silent(self) -> None:
        """A running trainer that has sent nothing for SILENT_S is not shown as running at its
        last rate: the status bar says it is not answering (stopped, hung or in a long step)."""
        silent = self.session.silent_for()
        if silent > SILENT_S:
            self.state_label.setText(f"  running? no answer for {silent:.0f} s  ")
            self.rate_label.setText(f"  ? steps/s · {self.fps:.0f} fps  ")
            self._said_silent = True
        elif self._said_silent:
            self._said_silent = False
            self.state_label.setText(f"  {self.session.trainer_state}  ")

    def _on_state(self, state: str) -> None:
        self.start_action.setText("Pause" if state == RUNNING else "Start")
        self.state_label.setText(f"  {state}  ")
        self._show_pause_badge()
        if state == DEAD:  # no frame will say so: the last one still has the old rate
            self.rate_label.setText(f"  0 steps/s · {self.fps:.0f} fps  ")

    def _on_reset(self, config: RunConfig) -> None:
        """A new run in the trainer (built, or restored from a file): plots and settings for it."""
        if self.session.run_path is not None and self.session.saved_at_step is not None:
            self._add_recent(str(self.session.run_path))
        self.wave_animation.stop()  # its overlays belong to the old columns
        self._show_config(config)
        self.device_label.setText(f"  {self.session.device_name}  ")

    def _show_config(self, config: RunConfig) -> None:
        """Set the plots up for ``config`` (a reset, an opened run, or back after a refusal)."""
        self._show_plots_for(config)
        self.controls.set_config(config)

    def _show_plots_for(self, config: RunConfig) -> None:
        """Plots, description and equations emptied for ``config`` (a run being built, or back
        to the run that goes on); the settings form is left as it is."""
        self.board.set_config(config)
        self._show_description(self.preset, config)
        self._set_text_mode(config)
        self.explanation.clear()  # its numbers were the old run's; the next frame brings the new
        self.explanation.html = ""
        self.frame_version = -1

    def _show_pause_badge(self) -> None:
        """In presentation mode, a run that is not training says so, and which key trains on;
        a slow start says what it is doing (the status bar does at the desk)."""
        state, note = self.session.trainer_state, self.session.progress()
        text = note or ("paused · Space trains on" if state == PAUSED else "not training · Space starts")
        if text != self.pause_badge.text():
            self.pause_badge.setText(text)
        self.pause_badge.setVisible(self.presentation and (note is not None or state in (PAUSED, IDLE)))

    def _show_progress(self) -> None:
        """A reset or a first step that takes seconds: say so, with the time, in place of the
        old run's step and rate (which belong to a run that is gone)."""
        note = self.session.progress()
        if note is None and self._progress_shown is None:
            return
        if note is not None:
            self.step_label.setText(f"  {note}  ")
            self.rate_label.setText(f"  – steps/s · {self.fps:.0f} fps  ")
        else:  # built (and not training, or its first step came): the new run's own numbers
            self.step_label.setText(f"  step {self.session.steps_done}  ")
            self.rate_label.setText(f"  0 steps/s · {self.fps:.0f} fps  ")
        self._progress_shown = note
        self._show_pause_badge()

    def _on_banner(self, text: str | None) -> None:
        self.banner.setText(text or "")
        self.banner.setVisible(text is not None)

    def _on_mode(self, mode: str) -> None:
        if mode == LIVE:
            self.frame_version = -1
            self.history_label.setText("Live")

    # ---- text tasks: the Words tab --------------------------------------------------------

    def _set_text_mode(self, config: RunConfig) -> None:
        """Enable the Words tab for a task over words, with a view per model."""
        text = self.session.text_mode
        if not text and self.views.currentIndex() == WORDS_TAB:
            # Before the tab goes: Qt would move to the next tab (the sweep's), not back to training.
            self.views.setCurrentIndex(TRAINING_TAB)
        self.views.setTabEnabled(WORDS_TAB, text)
        self.views.setTabVisible(WORDS_TAB, text)
        self._show_tab_bar()
        if text:
            self.reviews.set_models(len(config.models), self.session.example_count)
        self.session.words_visible = text and self.views.currentIndex() == WORDS_TAB

    def _show_history_row(self) -> None:
        """The training's history slider, at the desk, under the training's views (not the sweep's)."""
        shown = not self.presentation and self.views.currentIndex() != SWEEP_TAB
        for widget in (self.history_label, self.history_slider, self.live_button):
            widget.setVisible(shown)

    def _show_tab_bar(self) -> None:
        """One tab needs no tab bar (its height goes to the plots): it shows for a text task's
        Words, and once the sweep's tab has been opened."""
        self.views.tabBar().setVisible(self.session.text_mode or self.sweep_seen)

    def show_words_tab(self) -> None:
        """W: between the training plots and the words of a review (text tasks)."""
        if not self.session.text_mode:
            self.statusBar().showMessage("Words are shown for the text tasks (reviews, text file)", 4000)
            return
        self.views.setCurrentIndex(TRAINING_TAB if self.views.currentIndex() == WORDS_TAB else WORDS_TAB)

    def _on_view_changed(self, index: int) -> None:
        if index == SWEEP_TAB and not self.sweep_seen:
            self.sweep_seen = True
            self._show_tab_bar()
        self._show_history_row()
        self.session.words_visible = index == WORDS_TAB and self.session.text_mode
        self.session.ask_words()

    # ---- how far back? the sweep's tab -----------------------------------------------------

    def show_sweep_tab(self) -> None:
        """T: between the training plots and the trainability map."""
        self.views.setCurrentIndex(TRAINING_TAB if self.views.currentIndex() == SWEEP_TAB else SWEEP_TAB)

    def _sweep_started(self) -> None:
        """The sweep's runs want every core: the window's own training pauses (Space resumes it)."""
        if self.session.trainer_state == RUNNING:
            self.session.pause()
            self.statusBar().showMessage("Training paused while the sweep runs (Space trains on, sharing the cores)",
                                         8000)

    def _on_example(self, example: int) -> None:
        self.session.words_example = example
        self.session.ask_words(force=True)

    def _evaluate(self) -> None:
        if not self.session.text_mode or not self.session.has_run:
            self.statusBar().showMessage("Evaluation tables are for the text tasks (reviews, text file)", 4000)
            return
        self.views.setCurrentIndex(WORDS_TAB)
        self.reviews.request_evaluation()

    def _on_words(self, report) -> None:
        self.reviews.show_words(report)

    def _on_report_failed(self, name: str, message: str) -> None:
        what = "measure the words of the review" if name == "words" else "evaluate the models"
        self.reviews.show_failure(f"Could not {what}: {message}")

    def _on_load_progress(self, done: int, total: int) -> None:
        self.load_bar.setRange(0, total)
        self.load_bar.setValue(done)
        self.load_bar.setVisible(done < total)

    def _on_pending(self, pending: bool) -> None:
        self.reset_action.setText("Reset*" if pending else "Reset")

    def _on_saved(self, path: str) -> None:
        self._add_recent(path)
        self.statusBar().showMessage(f"Saved {path}", 5000)

    def _show_banner(self, text: str) -> None:
        self.session.show_banner(text)

    def _show_description(self, preset: Preset | None, config: RunConfig | None = None) -> None:
        """What is training, from its settings, above the plots; a preset's story too while
        its settings are the preset's own (after T is changed it no longer is). The preset's
        name goes in the preset box (none: a custom run)."""
        config = config or (preset.config if preset else None)
        title = preset.title if preset is not None else "custom run"
        if preset is not None and config is not None and config != preset.config:
            title += ", changed"
        self.setWindowTitle(f"gradviz: {title}")  # the taskbar and the window switcher say which run
        if config is None:
            self.description.set_html("")
        else:
            # panels: every setting changed from the preset is named (session/description.py)
            self.description.set_html(description_html(config, *((preset.title, preset.description, preset.config)
                                                                 if preset is not None else ())))
        self.preset_box.setCurrentIndex(self.preset_box.findData(preset.name) if preset else -1)

    # ---- painting ---------------------------------------------------------------------------

    def refresh(self) -> bool:
        """Timer slot: take what the trainer sent, and paint the newest frame if there is one
        (not while looking back), else what an earlier frame left to draw; True if it painted."""
        self._count_fps()
        self.session.poll()
        self._show_progress()
        self._say_if_silent()
        frame = self.session.frame
        if self.session.mode != LIVE:
            return False
        if frame is None or frame.version == self.frame_version or len(frame.models) != len(self.board.columns):
            return self.board.draw_pending()
        self.frame_version = frame.version
        self._paint(frame, spread=True)
        recorded = len(frame.models[0].history.get("step", ())) if frame.models else 0
        self.history_slider.blockSignals(True)
        self.history_slider.setRange(0, max(recorded - 1, 0))
        self.history_slider.setValue(max(recorded - 1, 0))
        self.history_slider.blockSignals(False)
        self.history_label.setText("Live")
        self.step_label.setText(f"  step {frame.steps_done}  ")
        self.rate_label.setText(f"  {frame.steps_per_second:.0f} steps/s · {self.fps:.0f} fps  ")
        self.frames_painted += 1
        self.session.ask_words()
        return True

    def _paint(self, frame: Frame, spread: bool = False) -> None:
        self.last_frame = frame
        config = self.board.config
        self.board.show_frame(frame, self.session.baseline, spread)
        self.explanation.show_frame(frame, config)  # panels: the equations of the run on show

    def paint_now(self) -> None:
        """Paint everything at once: the newest frame (all columns), or the step looked back at."""
        if self.session.mode == REPLAY:
            self._slider_moved(self.history_slider.value())
        else:
            self.frame_version = -1
            self.refresh()
            self.board.draw_all_pending()

    def _count_fps(self) -> None:
        now = time.perf_counter()
        if now - self._fps_clock >= 1.0:
            self.fps = self.frames_painted / (now - self._fps_clock)
            self.frames_painted = 0
            self._fps_clock = now

    # ---- history slider and saved runs ------------------------------------------------------

    def _slider_moved(self, index: int) -> None:
        if self.session.mode == LIVE and index >= self.history_slider.maximum():
            return
        self.session.look_back(index)

    def _on_replay_frame(self, frame: Frame) -> None:
        self._paint(frame)
        self.history_label.setText(f"Step {frame.steps_done - 1}")

    def follow_live(self) -> None:
        """Leave the history view: the plots follow training again, and training resumes if
        looking back paused it."""
        self.session.go_live()

    def open_run(self, path: str | Path) -> bool:
        """Open a run file: replay its history, ready to continue training if it can."""
        try:
            saved = load_run(path)
        except RunFileError as exc:
            QMessageBox.warning(self, "Cannot open run", str(exc))
            return False
        data = saved.config.task.data
        if saved.config.task.name == "text" and has_state(saved.arrays) and not Path(data).expanduser().is_file():
            QMessageBox.warning(self, "Cannot open run", f"This run trained on {data}, which does not exist here: "
                                "put the file back at that path to continue the run.")
            return False
        # A run of a preset's own settings keeps the preset's name and story; others are custom.
        self.preset = preset_of(saved.config)
        self.session.stock = self.preset.config if self.preset is not None else None
        self._show_description(self.preset, saved.config)
        steps = saved.arrays.get("step", ())
        if not len(steps) and has_state(saved.arrays):
            self.statusBar().showMessage(f"Opened {Path(path).name}, saved at step "
                                         f"{int(saved.arrays['state/step'])}: nothing recorded to replay yet; "
                                         "Start trains on", 10000)
        self.history_slider.blockSignals(True)
        self.history_slider.setRange(0, max(len(steps) - 1, 0))
        self.history_slider.setValue(max(len(steps) - 1, 0))
        self.history_slider.blockSignals(False)
        self.session.open_run(saved, Path(path))
        if self.session.replay_only:
            self._add_recent(str(path))
        return True

    def open_run_dialog(self) -> None:
        if not self._confirm_discard():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open run", str(self._folder()), "gradviz runs (*.npz)")
        if path:
            self.open_run(path)

    def save_run(self, ask: bool = False) -> None:
        path = self.run_path
        # A dead trainer's run is saved without its weights: never over the file that has them.
        if ask or path is None or not self.session.trainer_alive:
            chosen, _ = QFileDialog.getSaveFileName(self, "Save run", str(self._folder() / "run.npz"),
                                                    "gradviz runs (*.npz)")
            if not chosen:
                return
            path = Path(chosen if chosen.endswith(".npz") else chosen + ".npz")
        # The file dialog asked before overwriting; saving again to the run's own file is expected.
        self.session.save(path, force=True)

    def open_config_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open configuration", str(self._folder()),
                                              "Configurations (*.json *.toml)")
        if not path:
            return
        try:
            config = read_config_file(Path(path))
        except ConfigFileError as exc:
            QMessageBox.warning(self, "Cannot open configuration", str(exc))
            return
        self.controls.set_config(config, active=False)
        self._show_banner("Configuration loaded into the settings: press Reset (R) to apply it.")

    def load_last_config(self) -> None:
        text = self.settings.value("last_config")
        try:
            config = RunConfig.from_json(str(text)) if text else None
        except ConfigError:
            config = None  # written by another version: not worth an error
        if config is None:
            self.statusBar().showMessage("No last configuration saved yet", 4000)
            return
        self.controls.set_config(config, active=False)
        self._show_banner("Last configuration loaded into the settings: press Reset (R) to apply it.")

    def save_config_dialog(self) -> None:
        from gradviz.io.atomic import atomic_write

        try:
            config = self.controls.config()
        except ConfigError as exc:
            QMessageBox.warning(self, "Cannot save configuration", str(exc))
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save configuration", str(self._folder() / "gradviz.json"),
                                              "JSON (*.json)")
        if path:
            try:
                atomic_write(path, lambda stream: stream.write(config.to_json().encode()), force=True)
            except OSError as exc:
                QMessageBox.warning(self, "Cannot save configuration", str(exc))

    def _folder(self) -> Path:
        return Path(str(self.settings.value("folder", str(Path.home()))))

    def _add_recent(self, path: str) -> None:
        recent = [p for p in self._recent() if p != path]
        self.settings.setValue("recent", [path, *recent][:MAX_RECENT])
        self.settings.setValue("folder", str(Path(path).parent))
        self._refresh_recent()

    def _recent(self) -> list[str]:
        return self.settings.value("recent", [])

    def _refresh_recent(self) -> None:
        self.recent_menu.clear()
        for path in self._recent():
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda checked=False, p=path: self._confirm_discard() and self.open_run(p))
        self.recent_menu.setEnabled(bool(self._recent()))

    def has_unsaved_run(self) -> bool:
        return self.session.has_unsaved_run()

    def _confirm_discard(self) -> bool:
        """Ask before the run is thrown away, when the session says it holds work worth keeping."""
        if not self.ask_before_discard or self.session.saving is not None:
            return True  # (a save in progress is finished before the window closes)
        reason = self.session.work_to_keep()
        if reason is None:
            return True
        answer = QMessageBox.question(
            self, "Unsaved run", f"The current run has not been saved. {reason} Discard it?",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Discard

    # ---- export -----------------------------------------------------------------------------

    def panel_at_last_click(self) -> Panel:
        return self.board.current_panel or self.board.columns[0].panels["gradient"]

    def copy_plot(self) -> None:
        self.board.draw_all_pending()
        self.board.hide_readouts()  # the cursor's read-out is not part of the plot
        QApplication.clipboard().setImage(panel_image(self.panel_at_last_click()))
        self.statusBar().showMessage("Plot copied to the clipboard", 3000)

    # ---- the backward pass (B) --------------------------------------------------------------

    def animate_backward_pass(self) -> None:
        """Ask the trainer for the next step's backward pass (it trains that step and pauses)."""
        if not self.session.ask_wave():
            self.statusBar().showMessage("The backward pass is shown for a live run, not a replay", 4000)
            return
        self.statusBar().showMessage("Measuring the backward pass of one step...", 3000)

    def _wave_ready(self, step: int, waves: list) -> None:
        if self.board.config is None or len(waves) != len(self.board.columns):
            return
        overlays = [WaveOverlay(column.gradient, column.colour) for column in self.board.columns]
        for overlay in overlays:
            overlay.apply_style(self.board.style)
        self.wave_animation.play(overlays, waves, step, self.wave_seconds)

    def show_connectivity(self) -> None:
        """Open the connectivity window and measure the next step (it trains and pauses)."""
        if self.connectivity is None:
            self.connectivity = ConnectivityDialog(self)
            self.connectivity.again.connect(self.show_connectivity)
        if not self.session.ask_connectivity():
            self.statusBar().showMessage("Which step teaches which is measured on a live run, not a replay", 4000)
            return
        self.connectivity.summary.setText("Measuring one step...")
        self.connectivity.show()
        self.connectivity.raise_()

    def _connectivity_ready(self, step: int, matrices: list) -> None:
        if self.connectivity is None or self.board.config is None or len(matrices) != len(self.board.config.models):
            return
        labels = [setup.label for setup in self.board.config.models]
        self.connectivity.show_matrices(step, labels, matrices, self.board.style,
                                        copy_landmarks(self.board.config.task))

    def _set_wave_seconds(self, seconds: float) -> None:
        self.wave_seconds = seconds
        self.settings.setValue("wave_seconds", seconds)

    def export_backward_pass(self, path: str | Path | None = None) -> None:
        """Write the last backward pass (B) as a GIF or PNG sequence, off the GUI thread."""
        wave = self.session.last_wave
        if wave is None:
            QMessageBox.information(self, "Export backward pass",
                                    "Press B first: the backward pass of one step is exported as it was shown.")
            return
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export the backward pass",
                                                  str(self._folder() / f"backward-step{wave.step}.gif"),
                                                  "Animated GIF (*.gif);;PNG sequence (*.png)")
            if not path:
                return
        labels = [setup.label for setup in self.board.config.models]
        waves = [(label, w) for label, w in zip(labels, wave.per_model, strict=False) if w is not None]
        self.wave_export = WaveExport(waves, Path(path), self.wave_seconds, self)
        self.wave_export.done.connect(lambda message: self.statusBar().showMessage(message, 6000))
        self.wave_export.failed.connect(lambda message: QMessageBox.warning(self, "Export backward pass", message))
        self.wave_export.start()
        self.statusBar().showMessage(f"Writing {Path(path).name}...", 3000)

    def export_dialog(self) -> None:
        self.board.draw_all_pending()
        self.board.hide_readouts()
        dialog = ExportDialog(self, self.board, str(self._folder()), self.settings)
        dialog.exec()

    def export(self, target: str, path: str | Path, scale: int = 1, figure_format: str = "screen",
               theme: str = "light") -> Path:
        """Export ``target``: 'window' (a PNG of the window as on screen), 'board' (a figure of
        every plot), '<plot>' (that plot of every model) or '<m>:<plot>' (of model m). Figures
        and data come from the recorded run at the step shown, drawn by gradviz.figures, the
        code ``gradviz export`` uses."""
        from gradviz.figures import run_view, write_figure

        self.board.draw_all_pending()
        self.board.hide_readouts()
        if target == "window":
            return export_widget(self, path, scale)
        if self.replay is not None:
            saved, index = self.replay, self.history_slider.value()
        else:
            saved, index = SavedRun(self.board.config, self._arrays_to_export()), -1
        model, _, plot = target.rpartition(":")
        return write_figure(run_view(saved, index), path, plot=None if plot == "board" else plot, theme=theme,
                            fmt=figure_format, scale=scale, models=[int(model)] if model else None, force=True)

    def _arrays_to_export(self) -> dict:
        """The live run's arrays: asked of the trainer for at most a moment (never 30 s of a frozen
        window); a trainer that died or does not answer leaves what the window holds, said in
        ``export_note``. ExportError naming why when there is nothing."""
        session = self.session
        self.export_note = ""
        # Known silent (stopped, hung): not even the short wait.
        arrays = session.fetch_arrays() if session.silent_for() <= SILENT_S else None
        if arrays is not None and "step" in arrays:
            return arrays
        if arrays is None and session.held_steps:
            why = "the trainer is not answering" if session.trainer_alive else "the trainer has stopped"
            self.export_note = (f"{why}: exported the run as the window holds it, recorded up to step "
                                f"{int(session.held['step'][-1]) + 1}")
            return session.held
        if session.active is not None and arrays is None:
            if session.trainer_alive:
                raise ExportError("the trainer is not answering (stopped, or busy with a long step), and the "
                                  "window holds no recorded step of this run yet")
            raise ExportError("the trainer has stopped, and the window held no recorded step of its run")
        raise ExportError("nothing to export yet: train a step first")

    # ---- help, settings and closing ---------------------------------------------------------

    def show_shortcuts(self) -> None:
        names = [f"{i}: {load_preset(name).title}" for i, name in enumerate(preset_names(), start=1) if i <= 9]
        lines = [f"{key}: {what}" for key, what in SHORTCUTS] + ["", "Presets:"] + names
        QMessageBox.information(self, "Keyboard shortcuts", "\n".join(lines))

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            "About gradviz",
            "gradviz trains recurrent networks live and shows how much gradient reaches each timestep.\n\n"
            "1982 Hopfield networks; 1986 back-propagation through time; 1991/1994 the vanishing-gradient "
            "analyses (Hochreiter; Bengio, Simard and Frasconi); 1997 LSTM; 2000 forget gate; 2013 gradient "
            "clipping; 2014 GRU; 2015 IRNN and forget bias 1; 2016 unitary RNNs and the copy task.",
        )

    def _say_dropped_settings(self) -> None:
        """Once, in the status bar: stored values of the wrong type that were ignored, and a last
        sweep that no longer opens (both already removed from the settings)."""
        notes = [note for note in (self.settings.take_dropped(), self.sweep.startup_note) if note]
        if notes:
            self.statusBar().showMessage(". ".join(notes), 20000)
            self.statusBar().setToolTip(". ".join(notes))  # the whole of it, where the bar cuts it

    def _restore_window_state(self) -> None:
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
            # Saved on a larger screen (or by an older gradviz at 1600x950): back inside this one.
            if not self.isMaximized():
                self._fit_to_screen(self.width(), self.height())
        state = self.settings.value("window_state")
        if state is not None:
            self.restoreState(state)

    def _confirm_stop_sweep(self) -> bool:
        if not self.ask_before_discard or not self.sweep.running:
            return True
        results = self.sweep.results
        answer = QMessageBox.question(
            self, "Sweep running",
            f"The sweep is still running: {int(results.done.sum())} of {results.done.size} runs finished, and they "
            f"are kept in {self.sweep.path} (Open it in 'How far back?' to resume). Discard the runs in progress?",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Discard

    def _finish_save(self) -> None:
        """A save the trainer is writing is finished before the trainer is ended (ending it
        mid-write lost the file and left a .part): the status bar says so while it waits."""
        saving = self.session.saving
        if saving is None:
            return

        def tick(waited: float) -> None:
            self.statusBar().showMessage(f"Closing once {saving.name} is written ({waited:.0f} s)...")
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)

        self.session.wait_for_save(SAVE_WAIT_S, tick)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        if self._waiting_for_save:  # closed again (Ctrl-C) while waiting for a save: this close goes on
            event.ignore()
            return
        if not self._confirm_discard() or not self._confirm_stop_sweep():
            event.ignore()
            return
        self.sweep.stop()  # its processes end with the window
        self._waiting_for_save = True
        try:
            self._finish_save()
        finally:
            self._waiting_for_save = False
        if not self.presentation:
            self.settings.setValue("geometry", self.saveGeometry())
            self.settings.setValue("window_state", self.saveState())
        self.timer.stop()
        self.session.close()
        self._collector.timer.stop()
        gc.enable()
        super().closeEvent(event)


def _wave_seconds(value) -> float:
    """The saved length of the backward-pass animation, or 3 s if it is not one of the choices."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return 3.0
    return seconds if seconds in SPEEDS_S else 3.0
