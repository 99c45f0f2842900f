"""The lesson in the window: scenes set up through the window's public parts, keys for a room.

Keys while the lesson runs (an application event filter sees them before the window's own
shortcuts, so that a clicker never trains, resets or plays anything by accident):

    PageDown, Right, Down, Space, Enter   next: reveal the answer if a question waits, else the next scene
    PageUp, Left, Up, Backspace           the scene before
    Home / End                            the first / last scene
    digits, then Enter                    jump to that scene
    B or "."                              a black screen (clickers' "blank" key); any key brings the scene back
    Esc                                   leave the lesson: the normal window in this scene's state
    F5                                    presentation mode, as always

Every other key without Ctrl or Alt is swallowed (at the desk, except what is typed into a
settings field). Out of the lesson, L (an action of the
window, so it never fires while a settings field is typed in) returns to the same scene: as
it was left if its settings were not changed, else set up again.
"""

from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit, QPlainTextEdit, QTextEdit

from gradviz.gui.lesson.panel import BlankScreen, LessonPanel
from gradviz.lesson.scene import Lesson, Scene
from gradviz.presets import load_preset

NEXT = {Qt.Key.Key_PageDown, Qt.Key.Key_Right, Qt.Key.Key_Down, Qt.Key.Key_Space, Qt.Key.Key_Return,
        Qt.Key.Key_Enter}
PREVIOUS = {Qt.Key.Key_PageUp, Qt.Key.Key_Left, Qt.Key.Key_Up, Qt.Key.Key_Backspace}
BLANK = {Qt.Key.Key_B, Qt.Key.Key_Period}
PASS = {Qt.Key.Key_F5, Qt.Key.Key_F1, Qt.Key.Key_F11}  # the window's own, harmless in a room
TABS = {"training": 0, "words": 1, "sweep": 2}  # main_window's TRAINING_TAB, WORDS_TAB, SWEEP_TAB
TICK_MS = 50


class LessonController(QObject):
    """Runs ``lesson`` in ``window`` (a MainWindow), starting at scene ``number`` (1-based)."""

    def __init__(self, window, lesson: Lesson, number: int = 1):
        super().__init__(window)
        self.window, self.lesson = window, lesson
        self.index = number - 1
        self.active = False
        self.revealed = False
        self.typed = ""  # digits typed for a jump
        self.pending: str | None = None  # "build", then "train" until the scene's step
        self.shown_config = None  # the run the scene set up (L re-runs it only if it changed)
        self._styled_for: tuple | None = None  # (presentation, height, font, theme) the panel was styled for
        self.panel = LessonPanel()
        self.panel.answer_button.clicked.connect(self.reveal)
        window.centralWidget().layout().insertWidget(1, self.panel)  # under the description row
        self.blank = BlankScreen(window)
        self.back_action = QAction("Back to the lesson", window)
        self.back_action.setShortcut(QKeySequence("L"))
        self.back_action.setToolTip("Return to the lesson's scene (L)")
        self.back_action.triggered.connect(lambda checked=False: self.resume())
        window.addAction(self.back_action)
        window.ask_before_discard = False  # a scene replaces the run without a question
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        QApplication.instance().installEventFilter(self)
        window.destroyed.connect(lambda *_: QApplication.instance().removeEventFilter(self))
        self.enter(number)

    @property
    def scene(self) -> Scene:
        return self.lesson.scenes[self.index]

    @property
    def number(self) -> int:
        return self.index + 1

    # ---- moving through the lesson -------------------------------------------------------------

    def enter(self, number: int) -> None:
        """Show scene ``number`` (clamped to the lesson) and set its run up."""
        self.index = min(max(number, 1), len(self.lesson.scenes)) - 1
        self.active, self.revealed, self.typed = True, False, ""
        self.blank.hide()
        self._set_up(self.scene)
        self.refresh_panel()

    def next(self) -> None:
        if self.scene.question and not self.revealed:
            self.reveal()
        elif self.number < len(self.lesson.scenes):
            self.enter(self.number + 1)

    def previous(self) -> None:
        if self.number > 1:
            self.enter(self.number - 1)

    def reveal(self) -> None:
        self.revealed = True
        self.refresh_panel()

    def leave(self) -> None:
        """Esc: the normal window, in the scene's state; L comes back."""
        self.active = False
        self.blank.hide()
        self.panel.hide()
        self.window.board.featured = None  # the lecturer's own layout again
        self.window.board.arrange()
        self.window.statusBar().showMessage(f"Left the lesson at scene {self.number}: L returns to it", 6000)

    def resume(self) -> None:
        """L: back to the scene left; set up again only if its run was changed meanwhile."""
        if self.active:
            return
        if self.window.session.shown != self.shown_config:
            self.enter(self.number)
        else:
            self.active = True
            self._highlight(self.scene.highlight)
            self.refresh_panel()

    def refresh_panel(self) -> None:
        window = self.window
        # The readable floor (a 50th of the screen) is for the room; at the desk the counter is smaller.
        self.panel.set_font_px(window.board.style.font_px, window.height() if window.presentation else 0)
        self._styled_for = self._style_key()
        self.panel.show_scene(self.scene, self.number, len(self.lesson.scenes), window.presentation, self.revealed)
        self.panel.setVisible(self.active)
        window.board.arrange()

    def _style_key(self) -> tuple:
        window = self.window
        return window.presentation, window.height(), window.board.style.font_px, window.theme_name

    # ---- setting a scene up ----------------------------------------------------------------

    def _set_up(self, scene: Scene) -> None:
        window = self.window
        config = scene.config()
        preset = load_preset(scene.preset) if scene.preset else None
        window.wave_animation.stop()
        # Its story above the plots (", changed" when settings differ), the title, a saved file's name.
        window.set_preset(preset, config)
        window.controls.set_config(config)
        window.session.reset(config, start=False)
        self.shown_config = config
        self.pending = "build"
        window.extra_box.setCurrentIndex(window.extra_box.findData(scene.third_plot))
        if scene.view == "sweep" and scene.sweep:
            window.sweep.open_file(Path(str(self.lesson.folder / scene.sweep)))
        window.views.setCurrentIndex(TABS[scene.view] if scene.view != "words" or window.session.text_mode else 0)
        self._highlight(scene.highlight)

    def _highlight(self, name: str) -> None:
        """Outline the scene's plot in every column (the others lose theirs)."""
        colour = "#f0b000"
        board = self.window.board
        if board.featured != name:
            board.featured = name
            board.arrange()
        for column in board.columns:
            for kind, panel in column.panels.items():
                panel.plot.vb.setBorder(pg.mkPen(colour, width=3) if kind == name else None)

    def _tick(self) -> None:
        """Drive the scene's run: one step (or the backward pass) once built, or train to its step;
        keep the panel sized for the mode and screen."""
        window = self.window
        if self.active:
            # The badge says "Space starts": in the lesson Space goes on to the next scene.
            window.pause_badge.setVisible(False)
            if self._styled_for != self._style_key():
                self.refresh_panel()
        session = window.session
        if self.pending is None or session.building_since is not None or not session.has_run:
            return
        scene = self.scene
        if self.pending == "build":
            self._highlight(scene.highlight)  # the columns were rebuilt for the run
            if scene.view == "words" and session.text_mode:
                self.window.views.setCurrentIndex(TABS["words"])
            if scene.run_to > 0:
                session.start(until=scene.run_to)  # the trainer pauses there, to the step
                self.pending = "train"
                return
            self._finish(scene)
        elif self.pending == "train" and session.steps_done >= scene.run_to:
            self._finish(scene)

    def _finish(self, scene: Scene) -> None:
        self.pending = None
        if scene.backward:
            self.window.animate_backward_pass()  # trains one step, pauses, plays its backward pass
        elif scene.run_to == 0:
            self.window.session.step()  # the gradient at initialisation, shown, paused

    @property
    def ready(self) -> bool:
        """The scene's run is where the scene wants it (for screenshots and tests)."""
        frame = self.window.session.frame  # None from a reset until the new run's first frame
        return self.pending is None and frame is not None and frame.steps_done >= self.scene.steps

    # ---- keys ---------------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        kind = event.type()
        if not self.active or kind not in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            return False
        if not self._ours(event):
            return False
        if kind == QEvent.Type.ShortcutOverride:
            event.accept()  # no shortcut of the window fires; the key press comes to us
            return True
        if not event.isAutoRepeat():
            self._key(event.key(), event.text())
        return True

    def _ours(self, event) -> bool:
        """Every key of the lesson's, or any plain key: not F5 and the like, nor Ctrl/Alt
        combinations, nor (at the desk) what is typed into a settings field."""
        if event.key() in PASS:
            return False
        typing = isinstance(QApplication.focusWidget(), (QAbstractSpinBox, QLineEdit, QTextEdit, QPlainTextEdit))
        if typing and not self.window.presentation:
            return False
        modifiers = event.modifiers() & ~(Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier)
        return modifiers == Qt.KeyboardModifier.NoModifier

    def _key(self, key: int, text: str) -> None:
        if self.blank.isVisible():
            self.blank.hide()  # any key brings the scene back, and does nothing else
            return
        if text.isdigit() and len(text) == 1:
            self.typed = (self.typed + text)[-3:]
            self.panel.counter.setText(f"go to scene {self.typed}… (Enter)")
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.typed:
            number, self.typed = int(self.typed), ""
            if 1 <= number <= len(self.lesson.scenes):
                self.enter(number)
            else:
                self.refresh_panel()
            return
        if self.typed:
            self.typed = ""
            self.refresh_panel()
        if key in NEXT:
            self.next()
        elif key in PREVIOUS:
            self.previous()
        elif key == Qt.Key.Key_Home:
            self.enter(1)
        elif key == Qt.Key.Key_End:
            self.enter(len(self.lesson.scenes))
        elif key in BLANK:
            self.blank.cover()
        elif key == Qt.Key.Key_Escape:
            self.leave()
