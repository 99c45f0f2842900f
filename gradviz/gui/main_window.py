"""The main window: puts the rooms together and binds them to the Qt-free ``Session``.

The rooms, each a module of its own:

- ``commands``      every command as data; menus, toolbar buttons, shortcuts and F1 from it
- ``transport_bar`` the toolbar's boxes: preset, third plot, speed, gate
- ``central``       description, banner, tabs (training / words / how far back?), history slider
- ``status``        the status bar's state, step, rate and device
- ``presentation``  presentation mode (F5) and the style
- ``runfiles``      open / save runs and configurations, recent runs, the discard question
- ``exporting``     the Export dialog, figures and data, the backward pass's GIF, copy plot

Training lives in a process of its own, owned by the ``Session``, which also holds the
application's state (mode, run path, replay step, trainer state) and makes its decisions
(what a reset rebuilds, what is worth keeping). The window binds its widgets to the session's
callbacks; a QTimer at ~33 fps polls the session for the latest frame and hands the arrays to
the plots, so painting never waits for training and training never waits for painting.
"""

from __future__ import annotations

import gc
import time
from pathlib import Path

from pyqtgraph.util.garbage_collector import GarbageCollector
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox

from gradviz.budget import check_run
from gradviz.config import ConfigError, RunConfig
from gradviz.gui import lifecycle
from gradviz.gui.central import Central, build_settings_dock, describe_run
from gradviz.gui.commands import CommandSet
from gradviz.gui.environment import sweep_folder, user_settings
from gradviz.gui.exporting import Exporter
from gradviz.gui.panels.controls import ControlPanel
from gradviz.gui.panels.explanation import ExplanationPanel
from gradviz.gui.panels.memory import MemoryEstimate
from gradviz.gui.panels.reviews import ReviewsPanel
from gradviz.gui.panels.sweep import SweepPanel
from gradviz.gui.plots.board import PlotBoard
from gradviz.gui.presentation import Presentation
from gradviz.gui.runfiles import RunFiles
from gradviz.gui.settings import AppSettings
from gradviz.gui.status import StatusRoom
from gradviz.gui.step_views import StepViews
from gradviz.gui.tabs import Tabs
from gradviz.gui.transport_bar import TransportBar
from gradviz.presets import Preset, load_preset
from gradviz.session.frames import Frame
from gradviz.session.protocol import RUNNING
from gradviz.session.state import LIVE, REPLAY, Session

FRAME_INTERVAL_MS = 30
DESCRIPTION_OPEN_MIN_HEIGHT = 900  # shorter windows show the description's first line only
ABOUT = ("gradviz trains recurrent networks live and shows how much gradient reaches each timestep.\n\n"
         "1982 Hopfield networks; 1986 back-propagation through time; 1991/1994 the vanishing-gradient "
         "analyses (Hochreiter; Bengio, Simard and Frasconi); 1997 LSTM; 2000 forget gate; 2013 gradient "
         "clipping; 2014 GRU; 2015 IRNN and forget bias 1; 2016 unitary RNNs and the copy task.")


class MainWindow(QMainWindow):
    """gradviz's window: a view over ``session``, whose trainer process trains."""

    def __init__(self, config: RunConfig, preset: Preset | None = None, autostart: bool = True,
                 settings: QSettings | None = None):
        super().__init__()
        self.fit_to_screen(1600, 950)
        # Every stored value is read typed (gui/settings.py): a wrong type never reaches Qt.
        self.settings = AppSettings(settings if settings is not None else user_settings())
        self.preset = preset
        self.theme_name = str(self.settings.value("theme", "dark"))
        self.frame_version = -1
        self.last_frame: Frame | None = None
        self.frames_painted = 0
        self._fps_clock = time.perf_counter()
        self.ask_before_discard = True  # off for --screenshot, which closes by itself
        self._waiting_for_save = False  # closing, and finishing a save first
        self.presentation_room = Presentation(self)
        self.files = RunFiles(self)
        self.exporter = Exporter(self)
        self.step_views = StepViews(self)
        self.tabs = Tabs(self)
        self._build_rooms(config)
        self.session = session = Session(config, autostart=autostart)
        session.stock = preset.config if preset is not None else None
        session.stock_name = preset.name if preset is not None else ""
        self._connect(session)
        # reliab: a dead trainer's run is written in a thread; the status bar says so meanwhile.
        from gradviz.gui.saving import SaveProgress

        self.save_progress = SaveProgress(self)
        # (end reliab)
        self.commands.refresh_enabled()
        self.tabs.set_text_mode(config)
        self.memory_estimate = MemoryEstimate(self.controls)
        self.board.set_config(config)
        self._show_description(preset, config)
        lifecycle.restore_window_state(self)
        lifecycle.say_dropped_settings(self)
        self.description.set_open(self.height() >= DESCRIPTION_OPEN_MIN_HEIGHT)
        self.presentation_room.desk_description_open = self.description.open
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

    # ---- construction ---------------------------------------------------------------------

    def _build_rooms(self, config: RunConfig) -> None:
        """The widgets, each room's; the window keeps the names its callers (and tests) use."""
        self.controls = ControlPanel(config)
        self.explanation = ExplanationPanel()
        self.board = PlotBoard()
        self.reviews = ReviewsPanel()
        self.sweep = SweepPanel(sweep_folder(self.settings), self.settings)
        self.central = central = Central(self.board, self.reviews, self.sweep, lambda: self.session)
        self.setCentralWidget(central)
        self.description, self.pause_badge, self.banner = central.description, central.pause_badge, central.banner
        self.views, self.history_label = central.views, central.history_label
        self.history_slider, self.live_button = central.history_slider, central.live_button
        self.commands = CommandSet(self)
        self.toolbar = bar = TransportBar(self.commands.toolbar_actions())
        self.addToolBar(bar)
        self.preset_box, self.extra_box, self.speed, self.gate_box = (bar.preset_box, bar.extra_box, bar.speed,
                                                                      bar.gate_box)
        self.settings_dock = build_settings_dock(self, self.controls, self.explanation)
        self.status = StatusRoom(self.statusBar(), lambda: self.session)
        self.state_label, self.step_label = self.status.state_label, self.status.step_label
        self.rate_label, self.device_label, self.load_bar = (self.status.rate_label, self.status.device_label,
                                                             self.status.load_bar)

    def _connect(self, session: Session) -> None:
        """Widgets to the session, the session's callbacks to the window."""
        for callbacks, slot in (
            (session.stateChanged, self._on_state), (session.runReset, self._on_reset),
            (session.waveReady, self.step_views.wave_ready),
            (session.connectivityReady, self.step_views.connectivity_ready),
            (session.shownChanged, self._show_config), (session.buildStarted, self._show_plots_for),
            (session.bannerChanged, self._on_banner), (session.modeChanged, self._on_mode),
            (session.replayChanged, self._on_replay_frame), (session.loadProgressed, self.status.show_load),
            (session.wordsReady, self.reviews.show_words), (session.evaluated, self.reviews.show_evaluation),
            (session.reportFailed, self.tabs.report_failed), (session.runSaved, self._on_saved),
            (session.pendingChanged, self._on_pending),
        ):
            callbacks.connect(slot)
        self.sweep.started.connect(self.tabs.sweep_started)
        self.reviews.exampleChanged.connect(self.tabs.example_changed)
        self.reviews.evaluateRequested.connect(session.evaluate)
        self.controls.trainChanged.connect(session.set_train)
        self.controls.pendingChanged.connect(session.set_pending)
        self.controls.field_keys.spacePressed.connect(self.toggle_running)
        self.views.currentChanged.connect(self.tabs.view_changed)
        self.history_slider.valueChanged.connect(self._slider_moved)
        self.live_button.clicked.connect(self.follow_live)
        self.toolbar.presetChosen.connect(self.load_preset)
        self.toolbar.extraChosen.connect(self._extra_changed)
        self.toolbar.gateChosen.connect(self._gate_changed)
        self.toolbar.delayChosen.connect(session.set_delay)

    # The rooms own these; the window's names for them stay for its callers.
    @property
    def columns(self):
        return self.board.columns

    @property
    def run_path(self) -> Path | None:
        return self.session.run_path

    @property
    def replay(self):
        return self.session.replay

    @property
    def replay_only(self) -> bool:
        return self.session.replay_only

    @property
    def presentation(self) -> bool:
        return self.presentation_room.on

    @property
    def full_screen(self) -> bool:
        return self.presentation_room.full_screen

    @full_screen.setter
    def full_screen(self, value: bool) -> None:
        self.presentation_room.full_screen = value

    @property
    def fps(self) -> float:
        return self.status.fps

    @property
    def sweep_seen(self) -> bool:
        return self.central.sweep_seen

    @property
    def export_note(self) -> str:
        return self.exporter.note

    @property
    def wave_export(self):
        return self.exporter.wave_export

    @property
    def wave_animation(self):
        return self.step_views.animation

    @property
    def connectivity(self):
        return self.step_views.connectivity

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
        if not self.files.confirm_discard():  # as a preset or quitting would: a run worth keeping
            return
        self.session.reset(config)
        self.controls.set_config(config)
        self.settings.setValue("last_config", config.to_json())

    def load_preset(self, name: str) -> None:
        if not self.files.confirm_discard():
            self.toolbar.show_preset(self.preset.name if self.preset else None)
            return
        preset = load_preset(name)
        self.set_preset(preset, preset.config)
        self.controls.set_config(preset.config)
        self.session.reset(preset.config, start=True)

    def set_preset(self, preset: Preset | None, config: RunConfig) -> None:
        """The run is ``preset``'s (None: a custom run), now with ``config``."""
        self.preset = preset
        self.session.stock = preset.config if preset is not None else None
        self.session.stock_name = preset.name if preset is not None else ""
        self._show_description(preset, config)

    def _gate_changed(self, gate: str) -> None:
        self.board.set_gate(gate)
        self.paint_now()

    def _extra_changed(self, view: str) -> None:
        self.board.set_extra(view)
        self.paint_now()

    def next_extra_view(self) -> None:
        """H: the next choice of third plot (history and gates only, in presentation mode)."""
        self.tabs.show_training_tab()
        self.toolbar.next_extra(self.board.extra, self.presentation)

    def toggle_description(self) -> None:
        self.description.toggle()

    def toggle_equations(self) -> None:
        """Q: the equations beside the plots (the dock's are hidden in presentation mode, and at
        the desk while the pane shows them: the same equations once)."""
        shown = self.central.equations.toggle()
        self.equations_action.setChecked(shown)
        self.explanation.setVisible(not shown)
        self.paint_now()

    # ---- style and presentation -------------------------------------------------------------

    def apply_style(self) -> None:
        self.presentation_room.apply_style()

    def toggle_presentation(self) -> None:
        self.presentation_room.toggle()

    def set_theme(self, name: str) -> None:
        self.presentation_room.set_theme(name)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self.presentation_room.resized()

    def fit_to_screen(self, width: int, height: int) -> None:
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

    # ---- session events ---------------------------------------------------------------------

    def _on_state(self, state: str) -> None:
        self.start_action.setText("Pause" if state == RUNNING else "Start")
        self.status.show_state(state)
        self.presentation_room.show_pause_badge()
        self.commands.refresh_enabled()

    def _on_reset(self, config: RunConfig) -> None:
        """A new run in the trainer (built, or restored from a file): plots and settings for it."""
        if self.session.run_path is not None and self.session.saved_at_step is not None:
            self.files.add_recent(str(self.session.run_path))
        self.wave_animation.stop()  # its overlays belong to the old columns
        self._show_config(config)
        self.device_label.setText(f"  {self.session.device_name}  ")
        self.commands.refresh_enabled()

    def _show_config(self, config: RunConfig) -> None:
        """Set the plots up for ``config`` (a reset, an opened run, or back after a refusal)."""
        self._show_plots_for(config)
        self.controls.set_config(config)

    def _show_plots_for(self, config: RunConfig) -> None:
        """Plots, description and equations emptied for ``config`` (a run being built, or back
        to the run that goes on); the settings form is left as it is."""
        self.board.set_config(config)
        self._show_description(self.preset, config)
        self.tabs.set_text_mode(config)
        self.explanation.clear()  # its numbers were the old run's; the next frame brings the new
        self.explanation.html = ""
        self.central.equations.clear()
        self.frame_version = -1

    def _on_banner(self, text: str | None) -> None:
        self.banner.setText(text or "")
        self.banner.setVisible(text is not None)

    def _on_mode(self, mode: str) -> None:
        if mode == LIVE:
            self.frame_version = -1
            self.history_label.setText("Live")

    def _on_pending(self, pending: bool) -> None:
        self.reset_action.setText("Reset*" if pending else "Reset")

    def _on_saved(self, path: str) -> None:
        self.files.add_recent(path)
        self.statusBar().showMessage(f"Saved {path}", 5000)

    def _show_description(self, preset: Preset | None, config: RunConfig | None = None) -> None:
        """What is training above the plots; the window's title and the preset box name the preset."""
        title, text = describe_run(preset, config or (preset.config if preset else None))
        self.setWindowTitle(title)  # the taskbar and the window switcher say which run
        self.description.set_html(text)
        self.toolbar.show_preset(preset.name if preset else None)

    # ---- the tabs (tabs.py) ------------------------------------------------------------------

    def show_words_tab(self) -> None:
        self.tabs.show_words_tab()

    def show_sweep_tab(self) -> None:
        self.tabs.show_sweep_tab()

    # ---- painting ---------------------------------------------------------------------------

    def refresh(self) -> bool:
        """Timer slot: take what the trainer sent, and paint the newest frame if there is one
        (not while looking back), else what an earlier frame left to draw; True if it painted."""
        self._count_fps()
        self.session.poll()
        self._show_progress()
        self.status.say_if_silent(self.session.silent_s)
        frame = self.session.frame
        if self.session.mode != LIVE:
            return False
        if frame is None or frame.version == self.frame_version or len(frame.models) != len(self.board.columns):
            return self.board.draw_pending()
        self.frame_version = frame.version
        self._paint(frame, spread=True)
        self.central.set_replay_range(len(frame.models[0].history.get("step", ())) if frame.models else 0)
        self.history_label.setText("Live")
        self.status.show_frame(frame.steps_done, frame.steps_per_second)
        self.frames_painted += 1
        self.session.ask_words()
        return True

    def _show_progress(self) -> None:
        """A slow reset or first step: said in the status bar, and on the badge in presentation."""
        if self.status.show_progress():
            self.presentation_room.show_pause_badge()

    def _paint(self, frame: Frame, spread: bool = False) -> None:
        self.last_frame = frame
        config = self.board.config
        self.board.show_frame(frame, self.session.baseline, spread)
        self.explanation.show_frame(frame, config)  # panels: the equations of the run on show
        self.central.equations.show_frame(frame, config)

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
            self.status.fps = self.frames_painted / (now - self._fps_clock)
            self.frames_painted = 0
            self._fps_clock = now

    # ---- history slider ---------------------------------------------------------------------

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

    # ---- what callers ask of the rooms by the window's name ---------------------------------

    def open_run(self, path: str | Path) -> bool:
        return self.files.open_run(path)

    def save_run(self, ask: bool = False) -> None:
        self.files.save_run(ask)

    def has_unsaved_run(self) -> bool:
        return self.session.has_unsaved_run()

    def export(self, target: str, path: str | Path, scale: int = 1, figure_format: str = "screen",
               theme: str = "light") -> Path:
        return self.exporter.export(target, path, scale, figure_format, theme)

    def start_export(self, target: str, path: str | Path, scale: int = 1, figure_format: str = "screen",
                     theme: str = "light") -> None:
        self.exporter.start(target, path, scale, figure_format, theme)

    def export_backward_pass(self, path: str | Path | None = None) -> None:
        self.exporter.export_backward_pass(path)

    def copy_plot(self) -> None:
        self.exporter.copy_plot()

    def animate_backward_pass(self) -> None:
        self.step_views.animate_backward_pass()

    def show_connectivity(self) -> None:
        self.step_views.show_connectivity()

    # ---- help, settings and closing ---------------------------------------------------------

    def show_shortcuts(self) -> None:
        self.commands.show_shortcuts()

    def show_about(self) -> None:
        QMessageBox.about(self, "About gradviz", ABOUT)


    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        if self._waiting_for_save:  # closed again (Ctrl-C) while waiting for a save: this close goes on
            event.ignore()
            return
        if not lifecycle.may_close(self):
            event.ignore()
            return
        self._waiting_for_save = True
        try:
            lifecycle.end(self)
        finally:
            self._waiting_for_save = False
        self._collector.timer.stop()
        gc.enable()
        super().closeEvent(event)
