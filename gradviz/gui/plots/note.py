"""A note written in a plot beside the data it explains: a diverged model's gradient plot draws
one dot (its last finite record, every other step saturated), and the note beside the dot says
when the model diverged and why the rest is empty. Wrapped to the plot's width, kept inside it."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor

from gradviz.gui.plots.base import pixel_font
from gradviz.gui.theme import PlotStyle

DIVERGED_COLOUR = "#ff5555"  # the header's DIVERGED
MARGIN_PX = 8


class PlotNote:
    """A text item in ``plot`` placed beside a data point (``show``), on a backing of the plot's
    colour, re-placed when the plot is resized or its range changes."""

    def __init__(self, plot: pg.PlotItem):
        self.plot = plot
        self.item = pg.TextItem(anchor=(1.0, 0.5))
        self.item.setZValue(40)
        self.item.setVisible(False)
        self.point: tuple[float, float] | None = None
        plot.addItem(self.item, ignoreBounds=True)
        plot.vb.sigResized.connect(self.place)
        plot.vb.sigRangeChanged.connect(self.place)

    def apply_style(self, style: PlotStyle) -> None:
        self.item.setFont(pixel_font(style.font_px))
        self.item.setColor(DIVERGED_COLOUR)
        backing = QColor(style.theme.background)
        backing.setAlpha(220)
        self.item.fill = pg.mkBrush(backing)
        self.place()

    def show(self, text: str, point: tuple[float, float]) -> None:
        if text != self.item.textItem.toPlainText():
            self.item.setText(text)
        self.point = point
        self.item.setVisible(True)
        self.place()

    def hide(self) -> None:
        self.point = None
        self.item.setVisible(False)

    def text(self) -> str:
        return self.item.textItem.toPlainText() if self.item.isVisible() else ""

    def place(self, *_args) -> None:
        """Left of the point, vertically centred on it, wrapped to the plot's width; above or
        below the point where it is near the top or bottom, so that it stays in the plot."""
        if self.point is None:
            return
        vb = self.plot.vb
        (left, right), (low, high) = vb.viewRange()
        width = vb.width()
        if width <= 0 or right <= left:
            return
        text = self.item.textItem
        text.setTextWidth(-1)
        text.setTextWidth(min(text.boundingRect().width(), max(width - 2 * MARGIN_PX, 40.0)))
        x, y = self.point
        px_per_x = width / (right - left)
        room_left = (x - left) * px_per_x - MARGIN_PX
        beside = room_left >= text.boundingRect().width()
        # Beside the point when the plot has room left of it, else at the plot's left edge.
        anchor_x, at_x = (1.0, x - MARGIN_PX / px_per_x) if beside else (0.0, left + MARGIN_PX / px_per_x)
        height = vb.height()
        fraction = (y - low) / (high - low) if high > low and height > 0 else 0.5
        anchor_y = 1.0 if fraction < 0.35 else (0.0 if fraction > 0.65 else 0.5)
        if not beside:  # under (or over) the point, not on it
            anchor_y = 0.0 if fraction > 0.5 else 1.0
            y = y - (high - low) * 0.04 if fraction > 0.5 else y + (high - low) * 0.04
        self.item.setAnchor((anchor_x, anchor_y))
        self.item.setPos(at_x, y)
