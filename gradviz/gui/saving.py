"""The status bar's line while the window's own process writes a run (a dead trainer's run, as
the window holds it): the file name and the seconds so far, until it is written or fails.

The write itself runs in a thread (``io.background``), so the window keeps painting; this only
reads ``Session.save_progress`` on a timer while there is something to say.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

TICK_MS = 250


class SaveProgress(QObject):
    """Shows ``session.save_progress()`` in ``window``'s status bar while a save is written."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.shown = ""  # the line on show (cleared once the save is over, unless replaced)
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self.tick)
        window.session.saveStarted.connect(lambda path: self.start())

    def start(self) -> None:
        self._timer.start()
        self.tick()

    def tick(self) -> None:
        bar = self.window.statusBar()
        text = self.window.session.save_progress()
        if text is None:
            self._timer.stop()
            if bar.currentMessage() == self.shown:
                bar.clearMessage()
            self.shown = ""
            return
        self.shown = text
        bar.showMessage(text)
