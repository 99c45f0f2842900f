"""The equations beside the plots (Q): the settings dock's equations with their live values,
where the room sees them. Presentation mode hides the dock, and with it the only place the
equations were; this pane sits at the right of the plots, at the style's text size (a
projector's in presentation mode), at the desk and in presentation alike, until Q closes it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gradviz.config import RunConfig
from gradviz.gui.panels.explanation import ExplanationPanel
from gradviz.session.frames import Frame

CHARACTERS = 26  # the pane is this many text heights wide at least: an equation and its value fit
SHARE = (0.30, 0.42)  # of the window's width: at least the first, at most the second


def pane_width(window_width: int, font_px: int) -> int:
    """The pane's width in a window ``window_width`` wide with text ``font_px`` high: room for
    an equation and its value on one line, within a share of the window (the plots keep most)."""
    low, high = SHARE
    return int(min(max(CHARACTERS * font_px, low * window_width), high * window_width))


class EquationsPane(QWidget):
    """A heading and the equations panel (``ExplanationPanel``), hidden until toggled."""

    def __init__(self):
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 0, 0, 0)
        self.heading = QLabel("<b>Equations</b> &nbsp;<span style='color:#787878'>(Q hides)</span>")
        self.heading.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.heading)
        self.panel = ExplanationPanel()
        self.panel.setMinimumHeight(0)
        layout.addWidget(self.panel, 1)
        self.font_px = 12
        self.setVisible(False)

    def toggle(self) -> bool:
        """Show or hide the pane; True if it shows now."""
        self.setVisible(not self.is_open)
        return self.is_open

    @property
    def is_open(self) -> bool:
        return self.isVisibleTo(self.parentWidget()) if self.parentWidget() else self.isVisible()

    def set_font_size(self, pixels: int) -> None:
        self.font_px = pixels
        self.panel.set_font_size(pixels)
        self.heading.setStyleSheet(f"QLabel {{ font-size: {pixels}px; }}")

    def fit(self, window_width: int) -> None:
        self.setFixedWidth(pane_width(window_width, self.font_px))

    def show_frame(self, frame: Frame, config: RunConfig) -> None:
        if self.is_open:  # a closed pane builds no text on every paint
            self.panel.show_frame(frame, config)

    def clear(self) -> None:
        self.panel.clear()
        self.panel.html = ""
