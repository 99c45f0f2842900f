"""The window's middle: the description and the pause badge above, the red banner, the tabs
(training plots, a text task's words, the trainability map) and the history slider below.

``Central`` builds the widgets and decides which tab and which rows show; it reads the
run's facts (a text task or not) from the session and never trains or asks the trainer.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gradviz.config import RunConfig
from gradviz.gui.panels.equations_pane import EquationsPane
from gradviz.gui.panels.explanation import DescriptionBar
from gradviz.gui.panels.settings_layout import SettingsLayout  # polish
from gradviz.presets import Preset
from gradviz.session.description import description_html

TRAINING_TAB, WORDS_TAB, SWEEP_TAB = 0, 1, 2
PRESENTATION_SIDE_MARGIN = 10  # px left and right of the plots in presentation mode
BANNER_STYLE = "QLabel { background: #a01818; color: white; padding: 6px; font-weight: bold; }"


class Central(QWidget):
    """The central widget; ``session`` answers whether the run is a text task."""

    def __init__(self, board: QWidget, reviews: QWidget, sweep: QWidget, session_of):
        super().__init__()
        self._session_of = session_of  # the session exists after the widgets: ask it when needed
        self.sweep_seen = False  # the tab bar shows once the sweep's tab has been opened
        layout = QVBoxLayout(self)
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
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.setVisible(False)
        layout.addWidget(self.banner)
        middle = QHBoxLayout()
        middle.addWidget(self._build_views(board, reviews, sweep), 1)
        self.equations = EquationsPane()  # Q: the equations beside the plots, where the room sees them
        middle.addWidget(self.equations)
        layout.addLayout(middle, 1)
        layout.addLayout(self._build_history_row())

    def _build_views(self, board: QWidget, reviews: QWidget, sweep: QWidget) -> QTabWidget:
        """Training plots, and for a text task the words of one review (Words tab)."""
        self.views = QTabWidget()
        self.views.setDocumentMode(True)
        self.views.addTab(board, "Training")
        self.views.addTab(reviews, "Words")
        self.views.setTabToolTip(WORDS_TAB, "Text tasks: how much gradient reaches each word of a held-out review (W)")
        self.views.addTab(sweep, "How far back?")
        self.views.setTabToolTip(SWEEP_TAB, "The trainability map: how often each cell learns against the length T "
                                            "it spans, from a sweep of runs in processes of their own (T)")
        self.views.currentChanged.connect(lambda _: self.size_views())
        self.size_views()
        return self.views

    def _build_history_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.history_label = QLabel("History")
        self.history_slider = QSlider(Qt.Orientation.Horizontal)
        self.history_slider.setToolTip("Move every plot to any recorded step (pauses training; Live resumes it)")
        self.history_slider.setRange(0, 0)
        self.live_button = QPushButton("Live")
        self.live_button.setToolTip("Back to the newest step, training again if it was before")
        row.addWidget(self.history_label)
        row.addWidget(self.history_slider, 1)
        row.addWidget(self.live_button)
        return row

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self.equations.fit(self.width())

    def size_views(self) -> None:
        """Only the tab on show sets the window's minimum size: the Words tab's table, sized
        for a projector's font, must not hold the training plots wider than the screen."""
        for index in range(self.views.count()):
            policy = QSizePolicy.Policy.Preferred if index == self.views.currentIndex() else QSizePolicy.Policy.Ignored
            self.views.widget(index).setSizePolicy(policy, policy)
        self.views.updateGeometry()

    def set_presentation(self, presentation: bool) -> None:
        # Full screen, text flush against the screen's edge is cut by some projectors: a side margin.
        sides, ends = (PRESENTATION_SIDE_MARGIN, 0) if presentation else (4, 4)
        self.layout().setContentsMargins(sides, ends, sides, ends)
        self.show_history_row(presentation)

    def show_history_row(self, presentation: bool) -> None:
        """The training's history slider, at the desk, under the training's views (not the sweep's)."""
        shown = not presentation and self.views.currentIndex() != SWEEP_TAB
        for widget in (self.history_label, self.history_slider, self.live_button):
            widget.setVisible(shown)

    def set_replay_range(self, recorded: int) -> None:
        """The slider over ``recorded`` steps, at the newest, without moving any plot."""
        self.history_slider.blockSignals(True)
        self.history_slider.setRange(0, max(recorded - 1, 0))
        self.history_slider.setValue(max(recorded - 1, 0))
        self.history_slider.blockSignals(False)

    # ---- which tab -------------------------------------------------------------------------

    def set_text_mode(self, text: bool) -> None:
        """The Words tab exists for a task over words only."""
        if not text and self.views.currentIndex() == WORDS_TAB:
            # Before the tab goes: Qt would move to the next tab (the sweep's), not back to training.
            self.views.setCurrentIndex(TRAINING_TAB)
        self.views.setTabEnabled(WORDS_TAB, text)
        self.views.setTabVisible(WORDS_TAB, text)
        self.show_tab_bar()

    def show_tab_bar(self) -> None:
        """One tab needs no tab bar (its height goes to the plots): it shows for a text task's
        Words, and once the sweep's tab has been opened."""
        self.views.tabBar().setVisible(self._session_of().text_mode or self.sweep_seen)

    def toggle_tab(self, tab: int) -> None:
        """Between the training plots and ``tab``."""
        self.views.setCurrentIndex(TRAINING_TAB if self.views.currentIndex() == tab else tab)

    def saw_tab(self, index: int) -> None:
        if index == SWEEP_TAB and not self.sweep_seen:
            self.sweep_seen = True
            self.show_tab_bar()


def build_settings_dock(window: QMainWindow, controls: QWidget, explanation: QWidget) -> QDockWidget:
    """The settings form (scrolled) over the equations, docked at the left; presentation hides it."""
    scroll = QScrollArea()
    scroll.setWidget(controls)
    scroll.setWidgetResizable(True)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    splitter = QSplitter(Qt.Orientation.Vertical)
    splitter.addWidget(scroll)
    splitter.addWidget(explanation)
    splitter.setStretchFactor(0, 1)  # panels: the equations get as much room as the form
    splitter.setStretchFactor(1, 1)
    splitter.setSizes([1, 1])
    # -- polish: the form keeps its layout after presentation, its model rows in view --
    window._settings_layout = SettingsLayout(splitter, scroll, controls)
    # -- end polish --
    dock = QDockWidget("Settings", window)
    dock.setObjectName("settings")
    dock.setWidget(splitter)
    features = QDockWidget.DockWidgetFeature
    dock.setFeatures(features.DockWidgetMovable | features.DockWidgetFloatable)
    dock.setMinimumWidth(300)
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
    window.resizeDocks([dock], [330], Qt.Orientation.Horizontal)
    return dock


def describe_run(preset: Preset | None, config: RunConfig | None) -> tuple[str, str]:
    """The window's title and the description's HTML for ``config`` of ``preset`` (None: a
    custom run): the preset's story too while its settings are the preset's own (after T is
    changed they no longer are, and both say "changed")."""
    name = preset.title if preset is not None else "custom run"
    if preset is not None and config is not None and config != preset.config:
        name += ", changed"
    if config is None:
        return f"gradviz - {name}", ""
    # panels: every setting changed from the preset is named (session/description.py)
    story = (preset.title, preset.description, preset.config) if preset is not None else ()
    return f"gradviz - {name}", description_html(config, *story)
