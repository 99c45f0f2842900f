"""What the user sees while gradviz starts, so that a launch never looks like nothing happened.

On a busy machine importing pyqtgraph and the window's modules and building the window take
seconds (8-20 s were seen beside other work), and the trainer's first frame comes later still
(its process imports torch). So the start shows, in order:

1. a splash, within a second of launch: only Qt's widgets are imported before it, never
   pyqtgraph, torch or the window's modules (``StartSplash``);
2. the window, whose empty plots say "starting the trainer… N s" (seconds since launch) until
   its first frame is painted, or the trainer fails and the window's banner says why
   (``TrainerStartNote``).

This module imports no pyqtgraph and no torch: it is shown before either is loaded.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QRect, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QLabel, QSplashScreen

from gradviz.session.protocol import PAUSED

SPLASH_SIZE = (460, 150)
NOTE_EVERY_MS = 250  # the note's seconds count up at least this often
STARTING_TRAINER = "starting the trainer…"


def _font(pixels: int, bold: bool = False) -> QFont:
    font = QFont()
    font.setPixelSize(pixels)
    font.setBold(bold)
    return font


class StartSplash(QSplashScreen):
    """gradviz's name and what the start is doing, shown before the heavy imports."""

    def __init__(self, icon: QIcon):
        super().__init__(_splash_pixmap(icon))
        self.setWindowTitle("gradviz")
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, False)  # never over the user's other work
        self.painted_at: float | None = None  # when it was first painted (time.monotonic)

    def say(self, text: str) -> None:
        """Show ``text`` under the name, painted now (the event loop is not running yet)."""
        self.showMessage(text, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom), QColor("#cfd3da"))
        QApplication.processEvents()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().paintEvent(event)
        if self.painted_at is None:
            self.painted_at = time.monotonic()

    def drawContents(self, painter: QPainter) -> None:  # noqa: N802 - Qt's name
        painter.setFont(_font(15))
        painter.setPen(QColor("#cfd3da"))
        margin = 18
        painter.drawText(QRect(margin, 0, self.width() - 2 * margin, self.height() - 14),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom), self.message())


def _splash_pixmap(icon: QIcon) -> QPixmap:
    width, height = SPLASH_SIZE
    pixmap = QPixmap(width, height)
    pixmap.fill(QColor("#16181d"))
    painter = QPainter(pixmap)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QColor("#3a3f4b"))
        painter.drawRect(0, 0, width - 1, height - 1)
        icon.paint(painter, QRect(18, 18, 72, 72))
        painter.setPen(QColor("#e8e8e8"))
        painter.setFont(_font(30, bold=True))
        painter.drawText(QRect(106, 22, width - 124, 40), int(Qt.AlignmentFlag.AlignLeft), "gradviz")
        painter.setFont(_font(15))
        painter.setPen(QColor("#aaaaaa"))
        painter.drawText(QRect(106, 64, width - 124, 24), int(Qt.AlignmentFlag.AlignLeft),
                         "the vanishing gradient, live")
    finally:
        painter.end()
    return pixmap


class TrainerStartNote(QObject):
    """Over the window's empty plots until its first frame: "starting the trainer… N s".

    Gone once a frame of a trained step is painted (the trainer's first frame, of its built
    run, has none), when the window's banner says the trainer failed, or when the user paused
    it: the note must not outlive what it describes.
    """

    def __init__(self, window, since: float):
        super().__init__(window)
        self.window, self.since = window, since
        self.label = QLabel(window.board)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.label.setObjectName("trainerStartNote")
        self._timer = QTimer(self)
        self._timer.setInterval(NOTE_EVERY_MS)
        self._timer.timeout.connect(self.update)
        self._timer.start()
        self.update()

    @property
    def shown(self) -> bool:
        return self.label.isVisible()

    def text(self) -> str:
        return self.label.text() if self.shown else ""

    def update(self) -> None:
        window = self.window
        frame, session = window.last_frame, window.session
        trained = frame is not None and frame.steps_done > 0
        if trained or session.banner is not None or session.trainer_state == PAUSED:
            self.finish()
            return
        style = window.board.style
        self.label.setFont(_font(round(style.font_px * 1.5), bold=True))
        self.label.setStyleSheet(f"QLabel {{ color: {style.theme.foreground}; background: {style.theme.background}; "
                                 "padding: 10px 18px; border-radius: 6px; }")
        self.label.setText(f"{STARTING_TRAINER} {time.monotonic() - self.since:.0f} s")
        self.label.adjustSize()
        board = window.board
        self.label.move(max(0, (board.width() - self.label.width()) // 2),
                        max(0, (board.height() - self.label.height()) // 3))
        self.label.setVisible(True)
        self.label.raise_()

    def finish(self) -> None:
        self._timer.stop()
        self.label.setVisible(False)

